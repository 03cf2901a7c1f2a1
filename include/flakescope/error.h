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

}  // namespace flakescope
