// Rewriting the tolerance arguments of an assertion call (see assertion_rewrite.h).
#include "audit/assertion_rewrite.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace flakescope::capture_internal {
namespace {

bool is_identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

struct ApiShape {
  std::vector<std::string> callees;  // the names the call may be written with (last component)
  int rtol_position;                 // index of rtol when passed positionally (-1: keyword only)
  int atol_position;
  bool cpp;  // C++: arguments are positional, never keywords
  // The keywords the call takes its tolerances by (pytest.approx: rel= and abs=).
  std::string rtol_keyword = "rtol";
  std::string atol_keyword = "atol";
  // The value the call uses when the argument is left out (NaN: none, or both must be given, as
  // assert_close's); an argument left out that keeps its default is not written in.
  double rtol_default = std::nan("");
  double atol_default = std::nan("");
};

ApiShape with_defaults(ApiShape shape, double rtol, double atol) {
  shape.rtol_default = rtol;
  shape.atol_default = atol;
  return shape;
}

ApiShape shape_of(const std::string& api) {
  if (api == "torch.testing.assert_close") return {{"assert_close"}, -1, -1, false};
  if (api == "torch.allclose" || api == "numpy.allclose")
    return with_defaults({{"allclose"}, 2, 3, false}, 1e-5, 1e-8);
  // torch.testing.assert_allclose (deprecated, still common) takes rtol and atol third and fourth,
  // both or neither.
  if (api == "torch.testing.assert_allclose") return {{"assert_allclose"}, 2, 3, false};
  if (api == "numpy.testing.assert_allclose")
    return with_defaults({{"assert_allclose"}, 2, 3, false}, 1e-7, 0);
  if (api == "torch.isclose" || api == "numpy.isclose")
    return with_defaults({{"isclose"}, 2, 3, false}, 1e-5, 1e-8);
  // unittest's assertAlmostEqual(first, second, places=None, msg=None, delta=None): the absolute
  // tolerance is delta; there is no relative one.
  if (api == "unittest.assertAlmostEqual") {
    ApiShape shape = with_defaults({{"assertAlmostEqual"}, -1, 4, false}, 0, std::nan(""));
    shape.atol_keyword = "delta";
    shape.rtol_keyword = "(no rtol)";  // matches no argument: nothing to replace
    return shape;
  }
  // numpy's assert_array_almost_equal(x, y, decimal=6) / assert_almost_equal(a, d, decimal=7):
  // the one tolerance is `decimal`, written as the integer (the rewrite is handed d, not atol).
  if (takes_decimal(api)) {
    const bool array = api.find("array") != std::string::npos;
    ApiShape shape =
        with_defaults({{array ? "assert_array_almost_equal" : "assert_almost_equal"}, -1, 2, false},
                      0, array ? 6 : 7);
    shape.atol_keyword = "decimal";
    shape.rtol_keyword = "(no rtol)";
    return shape;
  }
  // gradcheck(func, inputs, *, eps, atol, rtol, ...): keyword-only tolerances.
  if (api == "torch.autograd.gradcheck")
    return with_defaults({{"gradcheck"}, -1, -1, false}, 1e-3, 1e-5);
  if (api == "torch.autograd.gradgradcheck")
    return with_defaults({{"gradgradcheck"}, -1, -1, false}, 1e-3, 1e-5);
  // `actual == pytest.approx(expected, rel, abs)`: the tolerances are approx's.
  if (api == "pytest.approx") return {{"approx"}, 1, 2, false, "rel", "abs"};
  // A testing helper of the suite, called at the test's line: keyword arguments only.
  if (api.rfind("helper:", 0) == 0) return {{api.substr(7)}, -1, -1, false};
  if (api == "flakescope::expect_close") {
    return {{"FLAKESCOPE_EXPECT_CLOSE", "expect_close"}, -1, -1, true};
  }
  return {{}, -1, -1, false};
}

constexpr const char* kBlank = " \t\r\n";

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(kBlank);
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(kBlank);
  return s.substr(first, last - first + 1);
}

// The span of `current` (which started at `start` in the text) without its surrounding blanks.
std::pair<std::size_t, std::size_t> trimmed_span(const std::string& current, std::size_t start) {
  const auto first = current.find_first_not_of(kBlank);
  if (first == std::string::npos) return {start, start};
  const auto last = current.find_last_not_of(kBlank);
  return {start + first, start + last + 1};
}

// Splits the text between the parentheses at top-level commas; sets *end to one past the closing
// parenthesis. False when the parenthesis does not close in the text. A `#` comment runs to the
// end of its line (in one line of text: the call continues on the next, so it does not close).
bool split_arguments(const std::string& line, std::size_t open, AssertionCall* call,
                     std::size_t* end) {
  std::vector<std::string>* args = &call->args;
  int depth = 0;
  char quote = 0;
  std::string current;
  std::size_t start = open + 1;
  auto push = [&] {
    call->spans.push_back(trimmed_span(current, start));
    args->push_back(trim(current));
  };
  for (std::size_t i = open + 1; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      current += c;
      if (c == '\\' && i + 1 < line.size()) {
        current += line[++i];
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == ']' || c == '}') {
      if (depth == 0) {
        if (c != ')') return false;
        if (!trim(current).empty() || !args->empty()) push();
        // A trailing comma (`b,\n)`) leaves an empty last argument: not an argument.
        if (!args->empty() && args->back().empty()) args->pop_back(), call->spans.pop_back();
        *end = i + 1;
        return true;
      }
      --depth;
    } else if (c == '#') {
      const std::size_t newline = line.find('\n', i);
      if (newline == std::string::npos) return false;  // one line: the call goes on below
      current.append(newline - i, ' ');  // the comment is blank to the argument's text
      i = newline - 1;
      continue;
    } else if (c == ',' && depth == 0) {
      push();
      current.clear();
      start = i + 1;
      continue;
    }
    current += c;
  }
  return false;
}

// "rtol" for "rtol=1e-5" (not for "a == b").
std::string keyword_of(const std::string& arg) {
  std::size_t i = 0;
  while (i < arg.size() && is_identifier_char(arg[i])) ++i;
  if (i == 0 || std::isdigit(static_cast<unsigned char>(arg[0]))) return "";
  std::size_t j = i;
  while (j < arg.size() && arg[j] == ' ') ++j;
  if (j < arg.size() && arg[j] == '=' && (j + 1 >= arg.size() || arg[j + 1] != '=')) {
    return arg.substr(0, i);
  }
  return "";
}

}  // namespace

std::optional<AssertionCall> find_assertion_call(const std::string& line, const std::string& api) {
  const ApiShape shape = shape_of(api);
  for (const std::string& name : shape.callees) {
    std::size_t pos = 0;
    while ((pos = line.find(name, pos)) != std::string::npos) {
      const std::size_t after = pos + name.size();
      const bool starts_word = pos == 0 || !is_identifier_char(line[pos - 1]);
      std::size_t open = after;
      while (open < line.size() && line[open] == ' ') ++open;
      if (!starts_word || open >= line.size() || line[open] != '(') {
        pos = after;
        continue;
      }
      // Take in the qualifier: "torch.testing." or "flakescope::".
      std::size_t begin = pos;
      while (begin > 0) {
        const char c = line[begin - 1];
        if (is_identifier_char(c) || c == '.' || c == ':') {
          --begin;
        } else {
          break;
        }
      }
      AssertionCall call;
      call.begin = begin;
      call.callee = line.substr(begin, after - begin);
      if (!split_arguments(line, open, &call, &call.end)) return std::nullopt;
      return call;
    }
  }
  return std::nullopt;
}

// Whether the argument (`rtol=1e-2`, ` 1e-2`) already says `value`: then its text stays as the
// author wrote it (a patch that turns 1e-2 into 0.01 changes nothing but adds noise).
bool says(const std::string& arg, double value) {
  const std::string keyword = keyword_of(arg);
  const std::string text = keyword.empty() ? arg : arg.substr(arg.find('=') + 1);
  const char* begin = text.c_str();
  char* end = nullptr;
  const double parsed = std::strtod(begin, &end);
  if (end == begin) return false;
  while (*end == ' ') ++end;
  return *end == '\0' && parsed == value;
}

std::string rewrite_call(const AssertionCall& call, const std::string& api, double rtol,
                         double atol) {
  const ApiShape shape = shape_of(api);
  int rtol_position = shape.rtol_position;
  int atol_position = shape.atol_position;
  if (shape.cpp) {
    // expect_close(name, actual, expected, rtol, atol); the macro drops the name.
    const bool macro = call.callee.find("FLAKESCOPE_EXPECT_CLOSE") != std::string::npos;
    rtol_position = macro ? 2 : 3;
    atol_position = macro ? 3 : 4;
  }
  std::vector<std::string> args = call.args;
  bool rtol_set = false;
  bool atol_set = false;
  int position = 0;
  for (std::string& arg : args) {
    const std::string keyword = keyword_of(arg);
    if (!shape.cpp && keyword == shape.rtol_keyword) {
      if (!says(arg, rtol)) arg = shape.rtol_keyword + "=" + format_tolerance(rtol);
      rtol_set = true;
    } else if (!shape.cpp && keyword == shape.atol_keyword) {
      if (!says(arg, atol)) arg = shape.atol_keyword + "=" + format_tolerance(atol);
      atol_set = true;
    } else if (keyword.empty() || shape.cpp) {
      if (position == rtol_position) {
        if (!says(arg, rtol)) arg = format_tolerance(rtol);
        rtol_set = true;
      } else if (position == atol_position) {
        if (!says(arg, atol)) arg = format_tolerance(atol);
        atol_set = true;
      }
      ++position;
    }
  }
  if (!shape.cpp) {
    if (!rtol_set && rtol != shape.rtol_default)
      args.push_back(shape.rtol_keyword + "=" + format_tolerance(rtol));
    if (!atol_set && atol != shape.atol_default)
      args.push_back(shape.atol_keyword + "=" + format_tolerance(atol));
  }
  std::string text = call.callee + "(";
  for (std::size_t i = 0; i < args.size(); ++i) text += (i ? ", " : "") + args[i];
  return text + ")";
}

namespace {

// The index in call.args of the argument that is `keyword=` or (position >= 0) the position-th
// positional one, or -1.
int argument_index(const AssertionCall& call, const std::string& keyword, int position) {
  int positional = 0;
  for (std::size_t i = 0; i < call.args.size(); ++i) {
    const std::string name = keyword_of(call.args[i]);
    if (name == keyword) return static_cast<int>(i);
    if (name.empty() && positional++ == position) return static_cast<int>(i);
  }
  return -1;
}

// The argument at `index` set to `value`, as it is written (by keyword or position).
std::string set_argument(const std::string& arg, const std::string& keyword, double value) {
  if (says(arg, value)) return arg;
  return keyword_of(arg).empty() ? format_tolerance(value)
                                 : keyword + "=" + format_tolerance(value);
}

}  // namespace

std::string rewrite_keyword(const AssertionCall& call, const std::string& keyword, double value,
                            int position) {
  std::vector<std::string> args = call.args;
  const int index = argument_index(call, keyword, position);
  if (index >= 0)
    args[index] = set_argument(args[index], keyword, value);
  else
    args.push_back(keyword + "=" + format_tolerance(value));
  std::string text = call.callee + "(";
  for (std::size_t i = 0; i < args.size(); ++i) text += (i ? ", " : "") + args[i];
  return text + ")";
}

namespace {

// Applies (span, replacement) edits, and an insertion after the last argument, to `text`.
std::string apply_edits(const std::string& text, const AssertionCall& call,
                        std::vector<std::pair<std::size_t, std::string>> replacements,
                        const std::string& appended) {
  std::string out = text;
  std::size_t insert_at = call.spans.empty() ? call.end - 1 : call.spans.back().second;
  std::string insertion = call.spans.empty() ? appended.substr(appended.empty() ? 0 : 2) : appended;
  // Back to front, so the offsets of the edits still to do stay valid.
  std::sort(replacements.begin(), replacements.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  bool inserted = insertion.empty();
  for (const auto& [index, value] : replacements) {
    const auto [from, to] = call.spans[index];
    if (!inserted && insert_at >= to) out.insert(insert_at, insertion), inserted = true;
    out.replace(from, to - from, value);
  }
  if (!inserted) out.insert(insert_at, insertion);
  return out;
}

}  // namespace

std::string rewrite_in_place(const std::string& text, const AssertionCall& call,
                             const std::string& api, double rtol, double atol) {
  const ApiShape shape = shape_of(api);
  std::vector<std::pair<std::size_t, std::string>> replacements;
  bool rtol_set = false, atol_set = false;
  int position = 0;
  for (std::size_t i = 0; i < call.args.size(); ++i) {
    const std::string keyword = keyword_of(call.args[i]);
    if (keyword == shape.rtol_keyword || keyword == shape.atol_keyword) {
      const bool is_rtol = keyword == shape.rtol_keyword;
      const double value = is_rtol ? rtol : atol;
      if (!says(call.args[i], value))
        replacements.emplace_back(i, keyword + "=" + format_tolerance(value));
      (is_rtol ? rtol_set : atol_set) = true;
    } else if (keyword.empty()) {
      if (position == shape.rtol_position) {
        if (!says(call.args[i], rtol)) replacements.emplace_back(i, format_tolerance(rtol));
        rtol_set = true;
      }
      if (position == shape.atol_position) {
        if (!says(call.args[i], atol)) replacements.emplace_back(i, format_tolerance(atol));
        atol_set = true;
      }
      ++position;
    }
  }
  std::string appended;
  if (!rtol_set && rtol != shape.rtol_default)
    appended += ", " + shape.rtol_keyword + "=" + format_tolerance(rtol);
  if (!atol_set && atol != shape.atol_default)
    appended += ", " + shape.atol_keyword + "=" + format_tolerance(atol);
  return apply_edits(text, call, std::move(replacements), appended);
}

std::string rewrite_keyword_in_place(const std::string& text, const AssertionCall& call,
                                     const std::string& keyword, double value, int position) {
  std::vector<std::pair<std::size_t, std::string>> replacements;
  const int index = argument_index(call, keyword, position);
  if (index >= 0 && !says(call.args[index], value))
    replacements.emplace_back(index, set_argument(call.args[index], keyword, value));
  const std::string appended = index < 0 ? ", " + keyword + "=" + format_tolerance(value) : "";
  return apply_edits(text, call, std::move(replacements), appended);
}

std::string lines_diff(const std::string& file, std::size_t line_number,
                       const std::vector<std::string>& before,
                       const std::vector<std::string>& after) {
  const bool absolute = !file.empty() && file[0] == '/';
  const std::string a = absolute ? file : "a/" + file;
  const std::string b = absolute ? file : "b/" + file;
  const std::string n = std::to_string(line_number);
  std::string out = "--- " + a + "\n+++ " + b + "\n@@ -" + n + "," + std::to_string(before.size()) +
                    " +" + n + "," + std::to_string(after.size()) + " @@\n";
  for (const auto& line : before) out += "-" + line + "\n";
  for (const auto& line : after) out += "+" + line + "\n";
  return out;
}

std::optional<std::string> replace_number_literal(const std::string& line, double value,
                                                  double replacement) {
  std::optional<std::pair<std::size_t, std::size_t>> found;
  for (std::size_t i = 0; i < line.size();) {
    const bool starts = (std::isdigit(static_cast<unsigned char>(line[i])) != 0 ||
                         (line[i] == '.' && i + 1 < line.size() &&
                          std::isdigit(static_cast<unsigned char>(line[i + 1])) != 0)) &&
                        (i == 0 || !is_identifier_char(line[i - 1]));
    if (line[i] == '#') break;  // a comment: not code
    if (!starts) {
      ++i;
      continue;
    }
    char* end = nullptr;
    const double number = std::strtod(line.c_str() + i, &end);
    const std::size_t length = static_cast<std::size_t>(end - (line.c_str() + i));
    if (length > 0 && number == value) {
      if (found) return std::nullopt;  // twice on the line: which one is ambiguous
      found = std::pair(i, length);
    }
    i += length > 0 ? length : 1;
  }
  if (!found) return std::nullopt;
  return line.substr(0, found->first) + format_tolerance(replacement) +
         line.substr(found->first + found->second);
}

bool takes_decimal(const std::string& api) {
  return api == "numpy.testing.assert_array_almost_equal" ||
         api == "numpy.testing.assert_almost_equal";
}

double decimal_bound(int decimal) {
  return 1.5 * std::pow(10.0, -decimal);
}

int decimal_covering(double atol) {
  if (!(atol > 0)) return 16;
  int d = static_cast<int>(std::floor(std::log10(1.5 / atol)));
  while (decimal_bound(d) < atol) --d;  // (log10's rounding)
  return d;
}

int decimal_of(double atol) {
  return atol > 0 ? static_cast<int>(std::lround(std::log10(1.5 / atol))) : 16;
}

std::string canonical_call(const std::string& api, double rtol, double atol) {
  const std::string r = format_tolerance(rtol);
  const std::string a = format_tolerance(atol);
  if (api == "flakescope::expect_close") {
    return "FLAKESCOPE_EXPECT_CLOSE(actual, expected, " + r + ", " + a + ")";
  }
  if (api == "pytest.approx")
    return "actual == pytest.approx(expected, rel=" + r + ", abs=" + a + ")";
  if (api == "unittest.assertAlmostEqual")
    return "assertAlmostEqual(first, second, delta=" + a + ")";
  if (takes_decimal(api)) return api + "(actual, desired, decimal=" + a + ")";  // a: d
  // gradcheck compares Jacobians of a function at inputs: it takes no actual/expected pair.
  if (api == "torch.autograd.gradcheck" || api == "torch.autograd.gradgradcheck")
    return api + "(func, inputs, rtol=" + r + ", atol=" + a + ")";
  const std::string callee = api.empty() ? std::string("assert_close") : api;
  return callee + "(actual, expected, rtol=" + r + ", atol=" + a + ")";
}

std::string format_tolerance(double value) {
  if (value == 0) return "0";
  char buffer[64];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

std::string readable_tolerance(double value) {
  if (value == 0 || !std::isfinite(value)) return format_tolerance(value);
  char buffer[64];
  for (int digits = 1; digits <= 12; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    if (std::strtod(buffer, nullptr) == value) return buffer;
  }
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

double round_up_two_digits(double value) {
  if (!(value > 0) || !std::isfinite(value)) return value;
  const double unit = std::pow(10.0, std::floor(std::log10(value)) - 1);
  const double mantissa = std::ceil(value / unit);
  // Printing and reading back two digits can land a hair below: take the next step then.
  for (int step = 0; step < 3; ++step) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1e", (mantissa + step) * unit);
    const double rounded = std::strtod(buffer, nullptr);
    if (rounded >= value) return rounded;
  }
  return value;
}

std::string one_line_diff(const std::string& file, std::size_t line_number,
                          const std::string& before, const std::string& after) {
  const std::string n = std::to_string(line_number);
  // git's a/ b/ prefixes for repository-relative paths; an absolute path is written as is.
  const bool absolute = !file.empty() && file[0] == '/';
  const std::string a = absolute ? file : "a/" + file;
  const std::string b = absolute ? file : "b/" + file;
  return "--- " + a + "\n+++ " + b + "\n@@ -" + n + " +" + n + " @@\n-" + before + "\n+" + after +
         "\n";
}

}  // namespace flakescope::capture_internal
