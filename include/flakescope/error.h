#pragma once
// Errors and exit codes shared by every subcommand.
//
// Library code never exits the process: it throws. `main` maps the exception type to the exit code,
// so a bad flag deep inside a subcommand still ends as one line on stderr and exit 2.
#include <stdexcept>
#include <string>
#include <string_view>

namespace flakescope {

enum ExitCode : int {
  kExitOk = 0,
  kExitFinding = 1,    // nondeterminism found where determinism was expected, flaky, gate failed
  kExitUsage = 2,      // bad flag, bad input file, unknown probe
  kExitInternal = 3,   // a bug in flakescope
  kExitInterrupted = 130,
};

// Bad input from the user or from a file: reported as one line, exit code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A target that cannot run here (no CUDA device, built without CUDA): recorded as the verdict
// "unavailable" with this message, never an error of the tool.
class UnavailableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The first line of an error message: c10::Error and friends append a C++ backtrace after it, and
// a user gets one line.
inline std::string first_line(std::string_view message) {
  return std::string(message.substr(0, message.find('\n')));
}

// Untrusted text quoted in an error line: control characters and bytes that are not UTF-8 as
// \xNN (a binary file or an escape sequence never reaches the terminal raw), cut to about `max`
// characters.
inline std::string excerpt(std::string_view text, std::size_t max = 200) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (out.size() >= max) return out + "...";
    const auto c = static_cast<unsigned char>(text[i]);
    // A well-formed UTF-8 sequence (not a C1 control) is kept: names and messages may be Unicode.
    std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (c >= 0xF5) n = 0;
    bool ok = n > 0 && i + n <= text.size() && !(c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0);
    for (std::size_t k = 1; ok && k < n; ++k)
      ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (ok) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    ++i;
  }
  return out;
}

}  // namespace flakescope
