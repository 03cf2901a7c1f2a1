// Output-kind sanitizers for untrusted text (see sanitize.h).
#include "report/sanitize.h"

#include <cstdint>
#include <cstdio>

namespace flakescope::report {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

// The code point at `i` and its length in bytes; kInvalid (length 1) for a malformed sequence,
// an overlong form, a surrogate or a value above U+10FFFF.
char32_t decode(std::string_view s, std::size_t i, std::size_t& len) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  len = 1;
  if (c < 0x80) return c;
  std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (n == 0 || c >= 0xF8 || i + n > s.size()) return kInvalid;
  char32_t cp = c & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return kInvalid;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static const char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return kInvalid;
  len = n;
  return cp;
}

bool is_control(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

// Bidirectional overrides and isolates reorder what a reader sees ("Trojan Source").
bool is_bidi_control(char32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
         cp == 0x200F || cp == 0x061C;
}

std::string hex_escape(const char* format, unsigned value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// Calls `emit(cp, bytes)` per code point; invalid bytes come as kInvalid with their one byte.
template <typename Emit>
void for_each_code_point(std::string_view s, Emit emit) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 1;
    const char32_t cp = decode(s, i, len);
    emit(cp, s.substr(i, len));
    i += len;
  }
}

const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Documents: invalid bytes become U+FFFD, controls are dropped (a newline or tab becomes a space,
// so words stay apart), bidi controls are dropped.
std::string clean_document_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for_each_code_point(s, [&](char32_t cp, std::string_view bytes) {
    if (cp == kInvalid)
      out += kReplacement;
    else if (cp == '\n' || cp == '\t' || cp == '\r')
      out += ' ';
    else if (is_control(cp) || is_bidi_control(cp))
      return;
    else
      out += bytes;
  });
  return out;
}

}  // namespace

std::string sanitize_terminal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for_each_code_point(s, [&](char32_t cp, std::string_view bytes) {
    if (cp == kInvalid)
      out += hex_escape("\\x%02x", static_cast<unsigned char>(bytes[0]));
    else if (cp == '\n')
      out += "\\n";
    else if (cp == '\t')
      out += "\\t";
    else if (cp == '\r')
      out += "\\r";
    else if (cp == '\\')
      out += "\\\\";
    else if (cp < 0x80 && is_control(cp))
      out += hex_escape("\\x%02x", static_cast<unsigned>(cp));
    else if (is_control(cp) || is_bidi_control(cp))
      out += hex_escape("\\u{%04x}", static_cast<unsigned>(cp));
    else
      out += bytes;
  });
  return out;
}

std::string sanitize_markdown(std::string_view s) {
  std::string out;
  for (char c : clean_document_text(s)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '|':
        out += "\\|";
        break;
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '#':
      case '~':
      case '!':
        out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string markdown_code(std::string_view s) {
  const std::string clean = clean_document_text(s);
  std::size_t longest = 0, run = 0;
  std::string body;
  for (char c : clean) {
    run = c == '`' ? run + 1 : 0;
    if (run > longest) longest = run;
    if (c == '|')
      body += "\\|";  // GFM splits table cells before it parses code spans
    else
      body += c;
  }
  const std::string fence(longest + 1, '`');
  // A span that starts or ends with a backtick needs a space inside its fence.
  const bool pad = !body.empty() && (body.front() == '`' || body.back() == '`');
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

std::string sanitize_html(std::string_view s) {
  std::string out;
  for (char c : clean_document_text(s)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string sanitize_xml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for_each_code_point(s, [&](char32_t cp, std::string_view bytes) {
    if (cp == kInvalid)
      out += kReplacement;
    else if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r')
      return;
    else if (cp == 0xFFFE || cp == 0xFFFF)
      return;
    else
      out += bytes;
  });
  return out;
}

}  // namespace flakescope::report
