#pragma once
// Finding an assertion call on one source line and rewriting its rtol/atol arguments, for the
// capture analysis's suggested line and diff. Internal to flakescope_audit.
//
// A call that opens on the recorded line and closes there is rewritten as one line; a call spread
// over several lines (black's style) is edited in place, argument by argument, so its layout
// stays; a call that cannot be found whole gets placeholder arguments and no diff, never a wrong
// edit.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace flakescope::capture_internal {

struct AssertionCall {
  std::size_t begin = 0;          // offset of the callee's first character on the line
  std::size_t end = 0;            // one past the closing parenthesis
  std::string callee;             // as written: "torch.testing.assert_close", "np.allclose", ...
  std::vector<std::string> args;  // top-level arguments, trimmed
  // Where each argument's trimmed text lies in the searched text (offsets, end exclusive).
  std::vector<std::pair<std::size_t, std::size_t>> spans;
};

// The call of `api` (a capture line's "api") on `line`, or nullopt when there is none or it does
// not close on this line.
std::optional<AssertionCall> find_assertion_call(const std::string& line, const std::string& api);

// The call with rtol and atol set: replaced where given (by keyword or position), appended as
// keywords (Python) where not.
std::string rewrite_call(const AssertionCall& call, const std::string& api, double rtol,
                         double atol);

// The call with one keyword argument set (replaced where given, appended where not): a testing
// helper's per-call override (`atol=`, `delta=`). With position >= 0 the argument may also be
// given positionally, as the position-th positional argument of the call as written.
std::string rewrite_keyword(const AssertionCall& call, const std::string& keyword, double value,
                            int position = -1);

// `text` (holding `call`, found in it) with the call's rtol/atol (or, with an empty `api`, only
// the keyword `keyword`) replaced in place where given and appended after the last argument where
// not: every other character of the text, line breaks and indentation included, stays.
std::string rewrite_in_place(const std::string& text, const AssertionCall& call,
                             const std::string& api, double rtol, double atol);
std::string rewrite_keyword_in_place(const std::string& text, const AssertionCall& call,
                                     const std::string& keyword, double value, int position = -1);

// `line` with the one numeric literal equal to `value` (outside a comment) written as
// `replacement`: a threshold comparison's bound. nullopt when there is none or several.
std::optional<std::string> replace_number_literal(const std::string& line, double value,
                                                  double replacement);

// A unified diff replacing lines [line_number, line_number + before.size()) by `after`.
std::string lines_diff(const std::string& file, std::size_t line_number,
                       const std::vector<std::string>& before,
                       const std::vector<std::string>& after);

// numpy's assert_array_almost_equal / assert_almost_equal: the tolerance is `decimal=d`, an
// absolute bound of 1.5 * 10^-d (the capture records that atol).
bool takes_decimal(const std::string& api);
// The largest d whose bound 1.5 * 10^-d still covers `atol`, and the bound of a given d.
int decimal_covering(double atol);
double decimal_bound(int decimal);
// The d whose bound is `atol` (the inverse of decimal_bound, for a recorded atol).
int decimal_of(double atol);

// The call as it would read with placeholder arguments, when the source cannot be read.
std::string canonical_call(const std::string& api, double rtol, double atol);

// The shortest decimal that reads back as `value` ("1.3e-06", "0.001", "0").
std::string format_tolerance(double value);
// A tolerance the test computed (`atol=3 * 5e-6`), for sentences: the shortest of up to 12
// digits that reads back exactly, else 6 digits (1.5e-05, not 1.5000000000000002e-05).
std::string readable_tolerance(double value);

// `value` rounded up to two significant digits (4.17e-5 -> 4.2e-5), so a printed bound is never
// below the computed one.
double round_up_two_digits(double value);

// A one-line unified diff.
std::string one_line_diff(const std::string& file, std::size_t line_number,
                          const std::string& before, const std::string& after);

}  // namespace flakescope::capture_internal
