// The verdicts that come before tail statistics (see capture_verdict.h).
#include "audit/capture_verdict.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>

#include "audit/assertion_rewrite.h"
#include "core/report.h"

namespace flakescope::capture_internal {
namespace {

// Four significant digits for the sentences (the bounds to write use format_tolerance).
std::string fmt(double v) {
  if (!std::isfinite(v)) return v > 0 ? "inf" : "-inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

// `value` with at least `digits` significant digits, and more until its rounding is under a tenth
// of its distance to `other`: a computed value of 0.99999928 against a threshold of 1.000001
// prints as 0.9999993 against 1.000001, not as 1 against 1.
std::string digits_apart(double value, double other, int digits) {
  if (!std::isfinite(value) || !std::isfinite(other)) return fmt(value);
  const double gap = std::fabs(value - other);
  char text[40];
  for (int p = digits; p <= 17; ++p) {
    std::snprintf(text, sizeof text, "%.*g", p, value);
    if (gap == 0 || std::fabs(std::strtod(text, nullptr) - value) <= gap / 10) break;
  }
  return text;
}

// The one value a threshold site compared on every run, if it compared one (a seeded test).
std::optional<double> constant_value(const model::AssertionSite& site) {
  const std::vector<double>& v = site.samples.atol_needed;
  if (v.empty() || !std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; }))
    return std::nullopt;
  return v[0];
}

long changed_runs(const std::vector<double>& deviations) {
  return static_cast<long>(
      std::count_if(deviations.begin(), deviations.end(), [](double d) { return d != 0; }));
}

bool all_equal(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
}

using model::AssertionAction;
using model::AssertionClass;

std::optional<Verdict> broken(const SiteFacts& facts) {
  for (const auto& [kind, trials] : facts.failure_kinds) {
    if (!tolerance_cannot_fix(kind) || trials == 0) continue;
    Verdict v;
    v.kind = AssertionClass::kBroken;
    v.action = AssertionAction::kFix;
    const auto detail = facts.failure_details.find(kind);
    const std::string what = detail != facts.failure_details.end() && !detail->second.empty()
                                 ? detail->second
                                 : kind + " mismatch";
    const std::string runs = " (" + std::to_string(trials) + (trials == 1 ? " run)" : " runs)");
    if (kind == "reentrancy") {
      // gradcheck's own determinism check: its atol and rtol do not take part in it.
      v.message =
          "fails because the backward is nondeterministic, which no atol or rtol fixes: " + what +
          runs + "; make the backward deterministic, or accept that much with " +
          "gradcheck's nondet_tol";
      v.cause = "nondeterministic backward";
      return v;
    }
    v.message = "fails for a reason no tolerance fixes: " + what + runs;
    v.cause = kind == "exception" ? "exception in the compared code" : kind + " mismatch";
    return v;
  }
  return std::nullopt;
}

Verdict negated(const SiteFacts& facts, const model::AssertionSite& site) {
  Verdict v;
  v.kind = AssertionClass::kNegated;
  const std::vector<double>& needed = site.samples.atol_needed;
  const double atol = site.atol;
  const double closest = needed.empty() ? 0 : *std::min_element(needed.begin(), needed.end());
  const long trials = site.failure_rate.trials;
  // The check is wanted to fail: a trial where the call passed is a trial the test failed.
  const std::size_t close = facts.passing_trials;
  v.message = "negated check (" + facts.negated +
              "): the test wants the values apart; the closest run needs atol >= " + fmt(closest) +
              " to count as close, current atol=" + fmt(atol);
  if (atol > 0 && std::isfinite(closest)) {
    v.message += " (separation " + fmt(std::round(closest / atol * 10) / 10) + "x)";
  }
  v.message += "; never loosen a negated check";
  if (close > 0) {
    v.action = AssertionAction::kReview;
    v.message += "; the values came within the tolerance in " + std::to_string(close) + " of " +
                 std::to_string(trials) + " runs";
  } else {
    v.action = AssertionAction::kKeep;
  }
  return v;
}

std::optional<Verdict> deterministic(const SiteFacts& facts, const model::AssertionSite& site) {
  const std::vector<double>& needed = site.samples.atol_needed;
  const std::vector<double>& abs = site.samples.max_abs;
  const long trials = site.failure_rate.trials;
  const long failures = site.failure_rate.failures;
  if (trials < 2 || needed.size() != std::size_t(trials) || !all_equal(needed) || !all_equal(abs)) {
    return std::nullopt;
  }
  if (!std::isfinite(needed.front())) return std::nullopt;
  if (failures != 0 && failures != trials) return std::nullopt;  // same values, mixed outcomes
  Verdict v;
  const double x = needed.front();  // the atol this deviation needs at the current rtol
  const double off = abs.front();   // the deviation itself, max |a - e|
  const std::string runs = " (" + std::to_string(trials) + " runs";
  // Different seeds per run, identical values: the randomness never reached this comparison. A
  // test that draws no random numbers has nothing for a seed to change: nothing to say then.
  // The largest error landed on one value while the compared values changed (pytorch_wavelets:
  // 1.192e-07, one float32 step, on every run, its relative error 5e-05 to 4e-04): the inputs
  // did change, so neither "deterministic" nor "the seeds never reached it" holds.
  const std::vector<double>& rel = site.samples.max_rel;
  const bool inputs_changed =
      site.api != "threshold" && rel.size() == abs.size() && !all_equal(rel) && off > 0;
  std::string seeds;
  if (inputs_changed)
    seeds = "";
  else if (facts.reseeded)
    seeds =
        "; the test seeds its own generators (torch.manual_seed or the like), so the audit's "
        "per-run seeds may not reach the draws this value depends on";
  else if (facts.drew_random == true)
    seeds =
        "; the per-run seeds never changed it although the test draws random numbers: this "
        "comparison does not depend on them, or the test reseeds before it";
  else if (!facts.drew_random)
    seeds = "; the per-run seeds never changed it: the test likely fixes its own seed";
  if (!seeds.empty()) seeds += ", so seed-dependent flakiness is out of this audit's reach";
  if (off == 0) {
    v.kind = AssertionClass::kBitwise;
    v.action = failures == 0 ? AssertionAction::kKeep : AssertionAction::kFix;
    v.message = site.api == "threshold"  // `assert err < 1e-5` with err exactly 0
                    ? "the compared value was 0 on every run" + runs + ")"
                    : "bitwise equal on every run" + runs + "): the compared values never differed";
    return v;
  }
  v.kind = AssertionClass::kDeterministic;
  const bool approx = site.api == "pytest.approx";  // its tolerances are rel= and abs=
  if (site.api == "threshold")                      // the compared value itself, not an error
    v.message = "deterministic: the compared value was " + digits_apart(off, site.atol, 4) +
                " on every run" + runs + ")";
  else if (inputs_changed)
    v.message = "the largest error was " + fmt(off) + " on every run" + runs +
                ") though the compared values changed (relative error " +
                fmt(*std::min_element(rel.begin(), rel.end())) + " to " +
                fmt(*std::max_element(rel.begin(), rel.end())) +
                "): it landed on the same rounding step each time, and other inputs could land on "
                "a larger one" +
                (x < off ? " (needs " + std::string(approx ? "abs " : "atol ") + fmt(x) + " at " +
                               (approx ? "rel=" : "rtol=") + fmt(site.rtol) + ")"
                         : "");
  else
    v.message = "deterministic: off by " + fmt(off) + " on every run" + runs +
                (x < off ? ", needs " + std::string(approx ? "abs " : "atol ") + fmt(x) + " at " +
                               (approx ? "rel=" : "rtol=") + fmt(site.rtol) + ")"
                         : ")");
  if (facts.exact) {
    v.action = failures == 0 ? AssertionAction::kKeep : AssertionAction::kFix;
    v.message += " and the check is exact";
    if (failures != 0) v.cause = "deterministic mismatch";
    return v;
  }
  if (failures == 0) {
    v.action = AssertionAction::kKeep;
    // (x == 0: the relative part alone covers it, "needs atol 0 at rtol=1e-4")
    v.message += "; the current " +
                 (x == 0 && site.rtol > 0 && site.api != "threshold"
                      ? std::string(site.api == "pytest.approx" ? "rel=" : "rtol=") + fmt(site.rtol)
                      : bound_phrase(site, site.atol)) +
                 " covers it" + seeds;
    return v;
  }
  v.action = AssertionAction::kLoosen;
  v.atol = round_up_two_digits(x * (1 + kDeterministicMargin));
  // julius: `for block_ratio in [1, 5, 10, 20]: assertSimilar(..., tol=1e-5)` failing at its
  // first pass in every run; the later passes needed more than the first one's 2.2e-05.
  v.loop_lower_bound = facts.in_loop;
  v.message += "; " + bound_phrase(site, *v.atol) +
               (v.loop_lower_bound ? " covers the pass it failed on" : " covers it") + " with a " +
               fmt(kDeterministicMargin * 100) + "% margin (rounded up to two digits)";
  v.cause = "deterministic mismatch";
  if (v.loop_lower_bound) {
    v.message +=
        ", but the line is in a loop and the test stopped at that pass in every run: the "
        "passes after it and the checks after the loop went unmeasured, so this is a lower "
        "bound of what the loop needs; apply it, then audit again";
    return v;
  }
  if (inputs_changed) {
    v.seeds_unexplored = true;
    v.message += ": it covers what was seen, no more";
    return v;
  }
  if (facts.drew_random != true || facts.reseeded) {
    v.message += ", no tail fit: the error is the code's, not noise";
    return v;
  }
  v.seeds_unexplored = true;
  const double unseen =
      1 - std::pow(1 - site.failure_rate.confidence, 1.0 / static_cast<double>(trials));
  v.message += "; but the test draws random numbers, and " + std::to_string(trials) +
               " seeds landing on one value do not show that other seeds do (a value that up to " +
               fmt(std::round(1000 * unseen) / 10) +
               "% of seeds give could be missing from them): it covers what was seen, no more";
  return v;
}

// `value < bound` with a bound the test computes per run: no literal to loosen; how close the
// value came to its bound, as a share of it.
Verdict threshold_variable(const SiteFacts& facts, const model::AssertionSite& site) {
  Verdict v;
  v.kind = AssertionClass::kThresholdVariable;
  const long failures = site.failure_rate.failures, trials = site.failure_rate.trials;
  v.action = failures == 0 ? AssertionAction::kKeep : AssertionAction::kReview;
  v.message = "a threshold the test computes on every run (value " + site.op.value_or("<") +
              " a per-run bound): no fixed number to loosen";
  double closest = -1;
  bool known = !facts.ratios.empty();
  for (double r : facts.ratios) {
    if (!(r >= 0)) known = false;
    closest = std::max(closest, r);
  }
  if (known)
    v.message += "; " + std::string(failures == 0 ? "the closest" : "the worst") + " of " +
                 std::to_string(trials) + " runs reached " + fmt(closest * 100) + "% of its bound";
  if (failures > 0)
    v.message +=
        "; it failed in " + std::to_string(failures) + " of " + std::to_string(trials) + " runs";
  return v;
}

Verdict threshold_above(const SiteFacts& facts, const model::AssertionSite& site) {
  Verdict v;
  v.kind = AssertionClass::kThresholdAbove;
  const double lowest = facts.values.empty()
                            ? std::numeric_limits<double>::quiet_NaN()
                            : *std::min_element(facts.values.begin(), facts.values.end());
  v.action = site.failure_rate.failures == 0 ? AssertionAction::kKeep : AssertionAction::kReview;
  v.message = "threshold comparison (value must stay above " + fmt(site.atol) + "): ";
  if (facts.values.size() > 1 && all_equal(facts.values))  // a seeded test's one value
    v.message += "deterministic: the compared value was " + digits_apart(lowest, site.atol, 4) +
                 " on every run (" + std::to_string(facts.values.size()) + " runs)";
  else
    v.message +=
        "the lowest of " + std::to_string(site.failure_rate.trials) + " runs was " + fmt(lowest);
  return v;
}

// `value <= bound` with values below zero (PyG's `-1 <= mincut_loss <= 0`): the deviation the
// statistics bound is nonnegative, and max(0, value) would read as "bitwise identical"; the
// highest value and its headroom say what there is to say.
Verdict threshold_signed(const SiteFacts& facts, const model::AssertionSite& site) {
  Verdict v;
  v.kind = AssertionClass::kThresholdSigned;
  const double highest = *std::max_element(facts.values.begin(), facts.values.end());
  v.action = site.failure_rate.failures == 0 ? AssertionAction::kKeep : AssertionAction::kReview;
  v.message = "threshold comparison (value must stay " +
              std::string(facts.op == "<" ? "below " : "at or below ") + fmt(site.atol) + "): ";
  if (facts.values.size() > 1 && all_equal(facts.values))
    v.message += "deterministic: the compared value was " + digits_apart(highest, site.atol, 4) +
                 " on every run (" + std::to_string(facts.values.size()) + " runs)";
  else
    v.message += "the highest of " + std::to_string(site.failure_rate.trials) + " runs was " +
                 digits_apart(highest, site.atol, 4) + ", " + fmt(site.atol - highest) +
                 " from the bound; a tail bound needs a nonnegative deviation, so no threshold "
                 "is recommended from negative values";
  return v;
}

}  // namespace

std::string format_number(double v) {
  return fmt(v);
}

std::string bound_phrase(const model::AssertionSite& site, double value) {
  // A threshold is often computed (`loss_ema < loss_orig`): six digits, not seventeen.
  if (site.api == "threshold") {
    const std::optional<double> compared = constant_value(site);
    return "threshold " + site.op.value_or("<") + " " +
           digits_apart(value, compared.value_or(value), 6);
  }
  if (site.api == "pytest.approx") return "abs=" + readable_tolerance(value);
  if (takes_decimal(site.api)) {  // numpy's decimal=d: the d whose 1.5e-d covers the value
    const int d = decimal_covering(value);
    return "decimal=" + std::to_string(d) + " (atol " + readable_tolerance(decimal_bound(d)) + ")";
  }
  return "atol=" + readable_tolerance(value);
}

bool below_zero_threshold(const SiteFacts& facts) {
  return facts.direction == "below" && !facts.values.empty() &&
         *std::min_element(facts.values.begin(), facts.values.end()) < 0;
}

bool tolerance_cannot_fix(const std::string& kind) {
  return kind != "values";
}

Verdict judge_site(const SiteFacts& facts, const model::AssertionSite& site) {
  if (facts.unchecked) {
    Verdict v;
    v.kind = AssertionClass::kUnchecked;
    const long falses = site.failure_rate.failures;
    v.action = AssertionAction::kFix;
    v.message = "the result of " + site.api + (facts.via.empty() ? "" : " at " + facts.via) +
                " is discarded (a bare call, no assert), so this comparison can never fail the "
                "test; it returned False in " +
                std::to_string(falses) + " of " + std::to_string(site.failure_rate.trials) +
                " runs";
    const std::vector<double>& needed = site.samples.atol_needed;
    const double worst = needed.empty() ? 0 : *std::max_element(needed.begin(), needed.end());
    if (falses == 0 || !(worst > 0) || !std::isfinite(worst)) {
      v.message += ": assert it";
      return v;
    }
    // Asserted as written it would fail those runs (einops: numpy against torch reductions, off
    // by 1.6e-11 relative): say what it needs.
    v.message += ", so asserted as written it would fail them: the values needed atol up to " +
                 fmt(worst) + " at rtol=" + fmt(site.rtol) + "; assert it with atol >= " +
                 readable_tolerance(round_up_two_digits(worst * (1 + kDeterministicMargin))) +
                 " (or a relative tolerance that covers it)";
    return v;
  }
  if (facts.same_object) {
    Verdict v;
    v.kind = AssertionClass::kVacuous;
    v.action = AssertionAction::kReview;
    v.message = "compares one object with itself (" + site.api +
                " got the same array or tensor twice, e.g. after `b = a`): it fails only on NaN, "
                "so as a comparison of two results it checks nothing; compare against an "
                "independent expected value (or, for a NaN check, say so with isnan)";
    return v;
  }
  if (facts.calls > 0 && facts.returned_same_object == facts.calls &&
      site.failure_rate.failures == 0) {
    Verdict v;
    v.kind = AssertionClass::kVacuous;
    v.action = AssertionAction::kKeep;
    v.message =
        "passes trivially: both sides were one object on every call (the code under test "
        "handed back the object the test passed in), so only a NaN could fail it; as "
        "written the line checks identity, not values (compare with a copy, e.g. "
        "`.clone()`, to check the values)";
    return v;
  }
  if (!facts.guarded.empty()) {
    // kornia: `try: assert_close(q1, q2) except AssertionError: assert_close(q1, -q2)`. A
    // tolerance loose enough never to fail here would make the fallback dead code.
    Verdict v;
    v.kind = AssertionClass::kGuarded;
    v.action = AssertionAction::kKeep;
    const long failures = site.failure_rate.failures;
    v.message = "inside a " + facts.guarded +
                ": when it fails, the except branch runs instead of " +
                "the test failing (it failed in " + std::to_string(failures) + " of " +
                std::to_string(site.failure_rate.trials) +
                " runs); those failures are the fallback's cue, not the test's, so never loosen it";
    return v;
  }
  if (auto b = broken(facts)) return *b;
  if (!facts.negated.empty()) return negated(facts, site);
  if (facts.variable_threshold) return threshold_variable(facts, site);
  if (facts.direction == "above") return threshold_above(facts, site);
  if (below_zero_threshold(facts)) return threshold_signed(facts, site);
  if (auto d = deterministic(facts, site)) return *d;
  Verdict v;
  if (facts.exact) {
    v.kind = AssertionClass::kBitwise;
    const std::vector<double>& abs = site.samples.max_abs;
    const double worst = abs.empty() ? 0 : *std::max_element(abs.begin(), abs.end());
    v.action = site.failure_rate.failures == 0 ? AssertionAction::kKeep : AssertionAction::kReview;
    v.message = worst == 0
                    ? "bitwise equal on every run: the compared values never differed"
                    : "not bitwise equal: the compared values differed by up to " + fmt(worst) +
                          " (in " + std::to_string(changed_runs(abs)) + " of " +
                          std::to_string(abs.size()) + " runs); an exact check cannot absorb that";
  }
  return v;
}

}  // namespace flakescope::capture_internal
