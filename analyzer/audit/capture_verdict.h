#pragma once
// What one assertion site's captured calls say before any tail statistics: a failure no tolerance
// fixes (dtype, shape, device, NaN/Inf positions, an exception), a negated check (the test wants
// the values apart), a deviation that is the same on every run (deterministic), a bitwise check.
// Internal to flakescope_audit (used by capture_analysis.cpp). LibTorch-free.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flakescope/report_model.h"

namespace flakescope::capture_internal {

// Facts gathered from the capture lines of one (test, site, dtype, rtol, atol) group.
struct SiteFacts {
  std::string negated;       // how the source negates the check ("assert not", ...), or empty
  bool exact = false;        // torch.equal, assert_array_equal, assertEqual of tensors
  bool unchecked = false;    // a predicate called as a bare statement: its result is discarded
  bool same_object = false;  // the two compared arguments were one object (`Wc = Wm`)
  std::string guarded;       // "try/except AssertionError at line N": its failure runs a fallback
  bool in_loop = false;      // the test's line is in a loop body: a failing pass ends the loop
  std::string library;       // element-wise `==`: "numpy" or "torch" (its tolerant form's API)
  // The tolerance passed by name (`atol=self.ATOL`, `decimal=PREC`, `diff < TOL`) and its
  // number-literal definition: "file:line", empty when none (the plugin's tolerance_definition).
  std::string definition_name, definition_at;
  double definition_value = 0;
  // Calls whose two sides were one object that the code under test handed back (the test's line
  // names two things, as `mvn.covariance_matrix` and the `covmat` it was built from), of `calls`.
  std::size_t returned_same_object = 0;
  std::size_t calls = 0;
  std::string direction;  // threshold comparisons: "below" (`d < t`) or "above" (`s > t`)
  std::string op;         // threshold comparisons: the operator as written ("<", "<=", ...)
  std::string via;        // the helper's frame (file:line) when the call went through one
  std::string via_function;
  std::string tolerance_at;  // "site" (the test's line passes it) or "via" (the helper has it)
  std::vector<std::string> via_accepts;      // the helper's tolerance parameters
  std::map<std::string, double> via_values;  // their values inside the helper
  std::map<std::string, int> via_passed;     // those the site's call passes: position, -1 keyword
  std::vector<std::string> via_chain;        // nested helpers, down to the comparison
  std::map<std::string, std::size_t> failure_kinds;    // kind -> failing trials
  std::map<std::string, std::string> failure_details;  // kind -> its first detail
  std::size_t passing_trials = 0;  // trials where every call passed by its own rule
  std::vector<double> values;      // threshold comparisons: the compared value per trial
  // Whether the test drew from a global random generator in some run (the plugin's drew_random):
  // false only when every run that says drew nothing; unknown when none says.
  std::optional<bool> drew_random;
  // The test seeded a global generator itself in some run (`torch.manual_seed(42)`): its draws are
  // its own fixed ones, whatever the audit's seed.
  bool reseeded = false;
  // A threshold the test computes per run (SiteTable::group): `ratios` holds per trial the
  // largest value / bound of its calls (above 1: failed), when every bound was positive.
  bool variable_threshold = false;
  std::vector<double> ratios;
  // An "exact" check (assertEqual of tensors) that passed with a nonzero difference: the class
  // compares within a tolerance of its own (torchtestcase's eps, a type equality function), which
  // the capture cannot see. `hidden_passed` is the largest difference it let pass,
  // `hidden_failed` the smallest it failed (infinity: none).
  bool hidden_tolerance = false;
  double hidden_passed = 0;
  double hidden_failed = 0;
};

struct Verdict {
  // kStatistical: the tail statistics decide (and the action is decided later).
  model::AssertionClass kind = model::AssertionClass::kStatistical;
  model::AssertionAction action = model::AssertionAction::kNone;
  std::optional<double> atol;  // the bound to write, when this verdict sets one
  std::string message;         // one sentence for the maintainer
  std::string cause;           // for the test's classification ("deterministic mismatch", ...)
  // The bound covers the one value seen, though the test draws random numbers: other seeds may
  // give another (monai's focal loss: 1 ulp on 10 seeds, 1.5 ulp on another), so it is no more
  // than the worst observed run.
  bool seeds_unexplored = false;
  // The site's line is in a loop and failed in every run: the test stopped at the failing pass,
  // and the passes after it were never measured, so the bound is a lower one.
  bool loop_lower_bound = false;
};

// The relative margin a deterministic deviation gets before rounding up to two digits.
constexpr double kDeterministicMargin = 0.01;

// `site` is the site's report entry so far: samples, failure_rate, rtol, atol, api.
Verdict judge_site(const SiteFacts& facts, const model::AssertionSite& site);

// A number in a sentence: four significant digits ("0.0005403").
std::string format_number(double v);

// How a bound reads at this site: "atol=1e-05", or for a threshold comparison "threshold < 0.005"
// (its atol field holds the threshold; calling it atol would send the reader to the wrong number).
std::string bound_phrase(const model::AssertionSite& site, double value);

// True for failure kinds no tolerance fixes (everything but "values").
bool tolerance_cannot_fix(const std::string& kind);
// A `value <= bound` threshold whose value went below zero in some run (no nonnegative deviation).
bool below_zero_threshold(const SiteFacts& facts);

}  // namespace flakescope::capture_internal
