// Assertion capture analysis (see analyzer/audit/capture_analysis.h).
#include "audit/capture_analysis.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>

#include "audit/assertion_rewrite.h"
#include "audit/capture_advice.h"
#include "audit/capture_verdict.h"
#include "core/dtype.h"
#include "core/parallel_for.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "stats/failure_rate.h"
#include "stats/rates.h"
#include "stats/recommend.h"

namespace flakescope {
namespace {

namespace ci = capture_internal;
constexpr double kInf = std::numeric_limits<double>::infinity();

// The worst of one site's calls within one trial.
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct TrialSample {
  double atol_needed = 0;
  double max_abs = 0;
  double max_rel = 0;
  double value = 0;        // threshold comparisons: the compared value (lowest for "above")
  bool has_value = false;  // a threshold comparison's call carried its value
  bool measured = false;   // at least one call carried the measurements
  bool failed = false;     // a call failed by its own rule
  bool nonfinite_mismatch = false;
  // `value < bound`: the largest value / bound of the trial's calls (-1 while none; NaN when a
  // bound was not positive, and a ratio says nothing).
  double ratio = -1;
  std::set<std::string> failure_kinds;
  std::optional<bool> test_passed;  // the test's own outcome in that run, when the record says
  std::size_t calls = 0;            // calls of the site in the trial (a loop calls it again)
  bool some_call_passed = false;
};

// One (test, site, dtype, rtol, atol) group: a line called with several argument sets gets one
// entry (and one recommendation) per set.
// (A test line calling one helper that compares twice gives two groups: the via lines differ.)
struct SiteKey {
  std::string test, site, via, dtype, tolerances;
  bool operator<(const SiteKey& o) const {
    return std::tie(test, site, via, dtype, tolerances) <
           std::tie(o.test, o.site, o.via, o.dtype, o.tolerances);
  }
};

struct SiteAccumulator {
  nlohmann::json first_call;  // api, name, dtype, shape come from here
  std::size_t calls = 0;
  std::size_t unmeasured_calls = 0;  // the plugin recorded {"error": ...} instead
  std::map<std::pair<double, double>, std::size_t> arguments;     // (rtol, atol) -> calls
  std::map<std::pair<long long, long long>, TrialSample> trials;  // (run, repeat) -> worst call
  ci::SiteFacts facts;
};

// A sample value: "inf"/"-inf" strings and null (a NaN the plugin could not write) mean the run
// could not be compared, which no tolerance fixes: +inf.
double sample_value(const nlohmann::json& line, const char* key) {
  if (!line.contains(key)) return kInf;
  const double v = number_from_json(line[key]);
  if (std::isnan(v)) return kInf;
  return std::max(0.0, v);
}

long long integer_or(const nlohmann::json& j, const char* key, long long fallback) {
  if (j.is_object() && j.contains(key) && j[key].is_number_integer()) {
    return j[key].get<long long>();
  }
  return fallback;
}

std::string string_or(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

void add_facts(ci::SiteFacts& facts, const nlohmann::json& line) {
  if (facts.negated.empty()) facts.negated = string_or(line, "negated");
  facts.exact = facts.exact || line.value("exact", false);
  facts.unchecked = facts.unchecked || line.value("unchecked", false);
  facts.same_object = facts.same_object || line.value("same_object", false);
  if (facts.guarded.empty()) facts.guarded = string_or(line, "guarded");
  facts.in_loop = facts.in_loop || line.value("in_loop", false);
  if (facts.library.empty()) facts.library = string_or(line, "library");
  if (facts.definition_at.empty() && line.contains("tolerance_definition")) {
    const nlohmann::json& d = line["tolerance_definition"];
    if (d.is_object() && d.contains("value") && d["value"].is_number()) {
      facts.definition_name = string_or(d, "name");
      facts.definition_at = string_or(d, "at");
      facts.definition_value = d["value"].get<double>();
    }
  }
  facts.returned_same_object += line.value("same_object_returned", false) ? 1 : 0;
  ++facts.calls;
  if (facts.direction.empty()) facts.direction = string_or(line, "direction");
  if (facts.op.empty()) facts.op = string_or(line, "op");
  if (facts.via.empty() && line.contains("via")) {
    facts.via = string_or(line, "via");
    facts.via_function = string_or(line, "via_function");
    facts.tolerance_at = string_or(line, "tolerance_at");
    if (line.contains("via_values") && line["via_values"].is_object())
      for (const auto& [name, value] : line["via_values"].items())
        if (value.is_number()) facts.via_values[name] = value.get<double>();
    if (line.contains("via_passed") && line["via_passed"].is_object())
      for (const auto& [name, position] : line["via_passed"].items())
        if (position.is_number_integer()) facts.via_passed[name] = position.get<int>();
    if (line.contains("via_accepts") && line["via_accepts"].is_array()) {
      for (const auto& name : line["via_accepts"]) {
        if (name.is_string()) facts.via_accepts.push_back(name.get<std::string>());
      }
    }
    if (line.contains("via_chain") && line["via_chain"].is_array()) {
      for (const auto& frame : line["via_chain"]) {
        if (frame.is_string()) facts.via_chain.push_back(frame.get<std::string>());
      }
    }
  }
  const std::string kind = string_or(line, "failure_kind");
  if (!kind.empty() && !facts.failure_details.count(kind)) {
    facts.failure_details[kind] = string_or(line, "failure_detail");
  }
}

// What a run's record says of the test that made a call.
struct TestInRun {
  std::optional<bool> passed;       // unknown for skipped, xfail, crash or a name not found
  std::optional<bool> drew_random;  // the plugin's drew_random
  bool reseeded = false;            // the test seeded a global generator itself
};

void add_call(SiteAccumulator& site, const nlohmann::json& line, long long run,
              const TestInRun& test) {
  if (site.calls == 0) site.first_call = line;
  ++site.calls;
  const auto [slot, fresh] = site.trials.try_emplace({run, integer_or(line, "repeat", 0)});
  TrialSample& trial = slot->second;
  ++trial.calls;
  if (test.passed) trial.test_passed = test.passed;
  if (test.drew_random)
    site.facts.drew_random = site.facts.drew_random.value_or(false) || *test.drew_random;
  site.facts.reseeded = site.facts.reseeded || test.reseeded;
  const bool passed =
      line.contains("passed") && line["passed"].is_boolean() ? line["passed"].get<bool>() : false;
  trial.failed = trial.failed || !passed;
  trial.some_call_passed = trial.some_call_passed || passed;
  add_facts(site.facts, line);
  const std::string kind = string_or(line, "failure_kind");
  if (!passed && !kind.empty()) trial.failure_kinds.insert(kind);
  if (line.contains("value") && line["value"].is_number()) {
    const double v = line["value"].get<double>();
    trial.value = trial.has_value ? std::min(trial.value, v) : v;
    trial.has_value = true;
    const double bound = line.contains("threshold") ? number_from_json(line["threshold"]) : kNaN;
    const bool below = string_or(line, "direction") == "below";
    if (!(bound > 0) || !below || !std::isfinite(bound))
      trial.ratio = kNaN;
    else if (!std::isnan(trial.ratio))
      trial.ratio = std::max(trial.ratio, std::max(0.0, v) / bound);
  }
  const bool has_arguments = line.contains("rtol") && line.contains("atol") &&
                             line["rtol"].is_number() && line["atol"].is_number();
  // `value > threshold` carries the value and the threshold, no margin: measured by its value.
  if (has_arguments && trial.has_value && string_or(line, "direction") == "above")
    ++site.arguments[{line["rtol"].get<double>(), line["atol"].get<double>()}];
  if (line.contains("error") || !line.contains("atol_needed")) {
    if (!(trial.has_value && string_or(line, "direction") == "above")) ++site.unmeasured_calls;
    return;
  }
  if (has_arguments) ++site.arguments[{line["rtol"].get<double>(), line["atol"].get<double>()}];
  trial.measured = true;
  trial.atol_needed = std::max(trial.atol_needed, sample_value(line, "atol_needed"));
  trial.max_abs = std::max(trial.max_abs, sample_value(line, "max_abs"));
  trial.max_rel = std::max(trial.max_rel, sample_value(line, "max_rel"));
  if (line.value("nonfinite_mismatch", false)) trial.nonfinite_mismatch = true;
}

// Whether `test` passed in this run record (its testcase named so), when the record says.
TestInRun test_in_record(const nlohmann::json& record, const std::string& test) {
  TestInRun out;
  if (test.empty() || !record.contains("testcases") || !record["testcases"].is_array()) return out;
  for (const auto& tc : record["testcases"]) {
    if (!tc.is_object() || string_or(tc, "name") != test) continue;
    const std::string outcome = string_or(tc, "outcome");
    // (skipped, xfail, crash: say nothing about what the check wanted)
    if (outcome == "pass") out.passed = true;
    if (outcome == "fail" || outcome == "error") out.passed = false;
    if (tc.contains("drew_random") && tc["drew_random"].is_boolean())
      out.drew_random = tc["drew_random"].get<bool>();
    out.reseeded =
        tc.contains("reseeded") && tc["reseeded"].is_boolean() && tc["reseeded"].get<bool>();
    return out;
  }
  return out;
}

TestInRun test_in_record(const audit::RunRecord& record, const std::string& test) {
  TestInRun out;
  if (test.empty()) return out;
  for (const audit::TestcaseResult& tc : record.testcases) {
    if (tc.name != test) continue;
    if (tc.outcome == audit::Outcome::kPass) out.passed = true;
    if (tc.outcome == audit::Outcome::kFail || tc.outcome == audit::Outcome::kError)
      out.passed = false;
    out.drew_random = tc.drew_random;
    out.reseeded = tc.reseeded;
    return out;
  }
  return out;
}

// A check the source does not visibly negate, whose test passed in every run where the call said
// "not close" and failed where it said "close": the test wants the values to differ (a helper
// returning `not torch.allclose(...)`, an `assertNotAlmostEqual`-style wrapper, a caught
// AssertionError). Needs at least one such passing run and no run that contradicts it.
std::string negation_from_outcomes(const SiteAccumulator& site) {
  if (!site.facts.negated.empty() || site.facts.unchecked || !site.facts.direction.empty())
    return "";
  std::size_t wanted_difference = 0;
  for (const auto& [key, trial] : site.trials) {
    if (!trial.test_passed) continue;
    if (*trial.test_passed == !trial.failed) return "";  // the test follows the call: not negated
    // Some calls close and some not in a passing run: a search (`any(torch.equal(n, c) for c in
    // candidates)`), not a check that wants the values apart.
    if (*trial.test_passed && trial.some_call_passed) return "";
    if (*trial.test_passed) ++wanted_difference;
  }
  if (wanted_difference == 0) return "";
  return "inferred: the test passed in " + std::to_string(wanted_difference) +
         (wanted_difference == 1 ? " run" : " runs") +
         " where this call found the values not close";
}

SiteKey site_key(const std::string& test, const nlohmann::json& line) {
  // Through nested helpers, the comparison's own line keeps two comparisons of one helper call
  // apart (a state-dict check at line 201 and another at 202, both under the test's line).
  std::string via = string_or(line, "via");
  if (line.contains("via_chain") && line["via_chain"].is_array() && !line["via_chain"].empty() &&
      line["via_chain"].back().is_string())
    via += " > " + line["via_chain"].back().get<std::string>();
  SiteKey key{test, line["site"].get<std::string>(), via, string_or(line, "dtype"), ""};
  if (line.contains("rtol") && line.contains("atol") && line["rtol"].is_number() &&
      line["atol"].is_number()) {
    key.tolerances = ci::format_tolerance(line["rtol"].get<double>()) + "," +
                     ci::format_tolerance(line["atol"].get<double>());
  }
  return key;
}

std::pair<std::string, std::size_t> split_site(const std::string& site) {
  const auto colon = site.rfind(':');
  if (colon == std::string::npos || colon + 1 == site.size()) return {site, 0};
  const std::string digits = site.substr(colon + 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos) return {site, 0};
  return {site.substr(0, colon), static_cast<std::size_t>(std::stoull(digits))};
}

model::AssertionRecommendation base_recommendation(double rtol,
                                                   const stats::ToleranceOptions& options) {
  model::AssertionRecommendation rec;
  rec.rtol = rtol;
  rec.target = options.target;
  rec.confidence = options.confidence;
  return rec;
}

// The recommendation: atol from the statistics engine's pair rule at the current rtol.
// `current_rate`: the estimated failure rate of the arguments in force, when there is one.
// A threshold on a value far from 0 (normflows' normalisation integral near 1, `p <= 1.01`):
// how far the bound lies beyond the smallest run, in spreads of the runs. The engine's ratio to
// the largest value (3.44 / 1.026 = 3.4) would call a bound 44 spreads out firm; for a deviation
// near 0 the two agree.
constexpr double kThresholdExtrapolation = 10;  // as the engine's "mostly extrapolation"

double threshold_extrapolation(const std::vector<double>& values, double bound) {
  if (values.empty()) return 0;
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  if (!(*high > *low) || !(*low > 0)) return 0;
  return (bound - *low) / (*high - *low);
}

model::AssertionRecommendation recommendation(const SiteAccumulator& site,
                                              const std::vector<TrialSample>& trials,
                                              double current_rtol, double current_atol,
                                              std::optional<double> current_rate,
                                              const stats::ToleranceOptions& options) {
  stats::DeviationSeries series;
  // A threshold compares one value with a bound: it has no relative deviation to bound (its
  // zeros would read "bitwise identical" for a value that changed on every run).
  const bool threshold = site.first_call.value("api", std::string()) == "threshold";
  for (const TrialSample& t : trials) {
    if (!t.measured) continue;
    series.abs.push_back(t.max_abs);
    if (!threshold) series.rel.push_back(t.max_rel);
    series.atol_at_rtol.push_back(t.atol_needed);
  }
  series.rtol_for_margin = current_rtol;
  if (site.first_call.contains("dtype") && site.first_call["dtype"].is_string()) {
    series.dtype = parse_dtype(site.first_call["dtype"].get<std::string>());
  }
  model::AssertionRecommendation rec = base_recommendation(current_rtol, options);
  if (series.atol_at_rtol.empty()) {
    rec.method = "none";
    rec.reason = "no call at this site carried measurements";
    return rec;
  }
  try {
    const stats::Recommendation r = stats::recommend(series, options);
    rec.details = stats::to_json(r);
    const stats::TailBound& pair = *r.pair_atol;
    rec.method = pair.method;
    rec.reason = pair.reason;
    rec.runs_needed = static_cast<long>(pair.runs_needed);
    if (pair.has_bound && std::isfinite(pair.bound)) {
      rec.atol = ci::round_up_two_digits(pair.bound);
      rec.atol_bound = pair.bound;
      if (pair.mostly_extrapolation()) rec.extrapolation = pair.extrapolation;
      const double spreads =
          threshold ? threshold_extrapolation(series.atol_at_rtol, pair.bound) : 0;
      if (spreads > kThresholdExtrapolation && spreads > pair.extrapolation) {
        rec.extrapolation = spreads;
        rec.extra["extrapolation_from"] = "smallest run";
      }
      rec.action = pair.bound <= current_atol ? model::AssertionAction::kKeep
                                              : model::AssertionAction::kLoosen;
      // A 95% upper bound above the current atol says the runs cannot yet show the arguments
      // are enough, not that they are too tight: unless the current arguments' estimated failure
      // rate is itself above the target, it decides nothing (filterpy's `allclose(dx, 0,
      // atol=1e-7)`, estimated 8e-10, was told to loosen to 1.6e-7; a failed site is loosened to
      // what its failures needed anyway, see never_keep_a_failing_site).
      if (rec.action == model::AssertionAction::kLoosen && current_rate &&
          *current_rate <= options.target)
        rec.action = model::AssertionAction::kNone;
    }
  } catch (const InputError& e) {
    rec.method = "none";
    rec.reason = e.what();
  }
  return rec;
}

// A failed site never gets "keep": when the tail fit's bound is under what a failing run
// needed, the bound becomes what the worst observed run needed (plus the deterministic margin).
void never_keep_a_failing_site(model::AssertionRecommendation& rec,
                               const std::vector<TrialSample>& trials, double current_atol) {
  double worst_failing = -1;
  for (const TrialSample& t : trials) {
    if (t.failed && t.measured) worst_failing = std::max(worst_failing, t.atol_needed);
  }
  if (worst_failing < 0 || !std::isfinite(worst_failing)) return;
  const double covering = ci::round_up_two_digits(worst_failing * (1 + ci::kDeterministicMargin));
  if (!rec.atol || *rec.atol < covering) {
    rec.atol = std::max(covering, current_atol);
    rec.method = "observed maximum";
    rec.reason = "the tail bound was below what a failing run needed";
  }
  if (rec.action == model::AssertionAction::kKeep || rec.action == model::AssertionAction::kNone)
    rec.action = model::AssertionAction::kLoosen;
}

// A loop's line that failed in every run: what its failing pass needed is a lower bound of what
// the loop needs (`fix` leaves it out unless --include-weak, and says why).
void mark_loop_lower_bound(model::AssertionRecommendation& rec) {
  rec.method = "observed maximum";
  rec.extra["lower_bound"] = "loop";
}

model::AssertionRecommendation verdict_recommendation(const ci::Verdict& verdict, double rtol,
                                                      const stats::ToleranceOptions& options) {
  model::AssertionRecommendation rec = base_recommendation(rtol, options);
  rec.atol = verdict.atol;
  rec.action = verdict.action;
  rec.method = std::string(model::to_string(verdict.kind));
  rec.reason = verdict.message;
  if (verdict.seeds_unexplored) {  // `fix` leaves it out unless --include-weak
    rec.method = "observed maximum";
    rec.runs_needed = static_cast<long>(stats::runs_to_certify(options.target, options.confidence));
  }
  if (verdict.loop_lower_bound) mark_loop_lower_bound(rec);
  return rec;
}

// An exact check that failed (torch.equal, assertEqual of tensors, `==` of floats): the values
// differed, and only the maintainer knows whether they must not. The atol a tolerant check would
// need is the other way out, so it is offered beside the verdict (`extra.tolerance_method` says
// what backs it); `fix` writes nothing, as changing the kind of check is the maintainer's call.
void offer_a_tolerance(model::AssertionRecommendation& rec, const SiteAccumulator& site,
                       const std::vector<TrialSample>& trials, const ci::Verdict& verdict,
                       const stats::ToleranceOptions& options) {
  if (verdict.kind == model::AssertionClass::kDeterministic) {  // the same difference every run
    double off = 0;
    for (const TrialSample& t : trials)
      if (t.measured) off = std::max(off, t.max_abs);
    if (!(off > 0) || !std::isfinite(off)) return;
    rec.atol = ci::round_up_two_digits(off * (1 + ci::kDeterministicMargin));
    rec.extra["tolerance_method"] = "deterministic";
    return;
  }
  if (verdict.kind != model::AssertionClass::kBitwise) return;
  model::AssertionRecommendation tolerant =
      recommendation(site, trials, 0.0, 0.0, std::nullopt, options);
  never_keep_a_failing_site(tolerant, trials, 0.0);
  if (!tolerant.atol || !std::isfinite(*tolerant.atol)) return;
  rec.atol = tolerant.atol;
  rec.atol_bound = tolerant.atol_bound;
  rec.extrapolation = tolerant.extrapolation;
  rec.runs_needed = tolerant.runs_needed;
  rec.extra["tolerance_method"] = tolerant.method;
}

model::AssertionSite site_header(const std::string& test, const std::string& site_name,
                                 const SiteAccumulator& site) {
  model::AssertionSite a;
  std::tie(a.file, a.line) = split_site(site_name);
  const nlohmann::json& first = site.first_call;
  a.test = test;
  a.site = site_name;
  a.api = string_or(first, "api");
  if (first.contains("name") && first["name"].is_string()) a.name = string_or(first, "name");
  if (first.contains("dtype") && first["dtype"].is_string()) a.dtype = string_or(first, "dtype");
  if (first.contains("shape") && first["shape"].is_array()) {
    a.shape.emplace();
    for (const auto& d : first["shape"])
      if (d.is_number_integer()) a.shape->push_back(d.get<long>());
  }
  a.calls = static_cast<long>(site.calls);
  a.unmeasured_calls = static_cast<long>(site.unmeasured_calls);
  a.trials = static_cast<long>(site.trials.size());
  const ci::SiteFacts& f = site.facts;
  if (!f.via.empty())
    a.via = model::AssertionVia{f.via, f.via_function, f.tolerance_at, f.via_accepts, f.via_chain};
  if (!f.negated.empty()) a.negated = f.negated;
  a.exact = f.exact;
  a.unchecked = f.unchecked;
  if (!f.direction.empty()) a.direction = f.direction;
  if (first.contains("op") && first["op"].is_string()) a.op = string_or(first, "op");
  return a;
}

// P(this call fails) for the current atol from the per-run margins (the statistics engine's
// estimator: counts inside the observed range, the fitted tail beyond it), so that "0 of 60 runs
// failed" still says how often it will.
std::optional<model::EstimatedFailureRate> estimated_failure_rate(
    const std::vector<TrialSample>& trials, double rtol, double atol,
    const stats::ToleranceOptions& options) {
  std::vector<double> needed;
  stats::DeviationSeries deviations;  // (what a zero atol needed means: within rtol, or equal)
  for (const TrialSample& t : trials) {
    if (!t.measured) continue;
    needed.push_back(t.atol_needed);
    deviations.abs.push_back(t.max_abs);
  }
  if (needed.empty() || !std::isfinite(atol)) return std::nullopt;
  try {
    stats::FailureRateOptions rate_options;
    rate_options.confidence = options.confidence;
    rate_options.zero_sample_is = stats::zero_within_rtol(deviations, rtol);
    const stats::FailureRate r = stats::estimate_failure_rate(needed, atol, rate_options);
    model::EstimatedFailureRate e;
    e.point = r.point;
    e.lower = r.interval.lower;
    e.upper = r.interval.upper;
    e.method = r.method;
    e.reason = r.reason;
    e.text = stats::describe_failure_rate(r);
    return e;
  } catch (const InputError&) {
    return std::nullopt;  // no estimate: the counts in "failure_rate" stand alone
  }
}

// A per-run threshold's P(value / bound > 1) from the trials' ratios; none when a bound was not
// positive or a trial had no value.
std::optional<model::EstimatedFailureRate> ratio_failure_rate(
    const std::vector<double>& ratios, const stats::ToleranceOptions& options) {
  if (ratios.empty()) return std::nullopt;
  for (double r : ratios)
    if (!(r >= 0)) return std::nullopt;
  std::vector<TrialSample> as_trials(ratios.size());
  for (std::size_t i = 0; i < ratios.size(); ++i) {
    as_trials[i].measured = true;
    as_trials[i].atol_needed = ratios[i];
  }
  return estimated_failure_rate(as_trials, 0.0, 1.0, options);
}

// The trials in run order, the per-trial samples, and the facts that need every trial.
std::vector<TrialSample> collect_trials(const SiteAccumulator& site, ci::SiteFacts& facts,
                                        model::AssertionSite& a) {
  std::vector<TrialSample> trials;
  const bool negated = a.negated.has_value();
  long failures = 0;
  std::map<std::string, long> kinds;
  for (const auto& [key, trial] : site.trials) {
    trials.push_back(trial);
    // A negated check fails the test when the call passes (the values came close).
    failures += (negated ? !trial.failed : trial.failed) ? 1 : 0;
    facts.passing_trials += trial.failed ? 0 : 1;
    a.nonfinite_mismatches += trial.nonfinite_mismatch ? 1 : 0;
    for (const std::string& kind : trial.failure_kinds) ++facts.failure_kinds[kind];
    if (!facts.direction.empty() && trial.has_value) facts.values.push_back(trial.value);
    if (facts.variable_threshold && trial.has_value) facts.ratios.push_back(trial.ratio);
    if (!trial.measured) continue;
    a.samples.atol_needed.push_back(trial.atol_needed);
    a.samples.max_abs.push_back(trial.max_abs);
    a.samples.max_rel.push_back(trial.max_rel);
  }
  for (const auto& [kind, n] : facts.failure_kinds)
    a.failure_kinds.push_back({kind, {static_cast<long>(n), facts.failure_details[kind]}});
  a.failure_rate.failures = failures;
  return trials;
}

// An exact check that passed with a nonzero difference is not exact (see SiteFacts): its
// tolerance is taken as the largest difference it let pass, the only part of it the runs show.
void detect_hidden_tolerance(const std::vector<TrialSample>& trials, ci::SiteFacts& facts,
                             model::AssertionSite& a) {
  if (!facts.exact) return;
  double passed = 0, failed = std::numeric_limits<double>::infinity();
  for (const TrialSample& t : trials) {
    if (!t.measured || !std::isfinite(t.max_abs)) continue;
    if (t.failed)
      failed = std::min(failed, t.max_abs);
    else
      passed = std::max(passed, t.max_abs);
  }
  if (passed <= 0) return;
  facts.exact = false;
  facts.hidden_tolerance = true;
  facts.hidden_passed = passed;
  facts.hidden_failed = failed;
  a.exact = false;
  a.atol = passed;
  a.hidden_tolerance = true;
}

// A bound above what a hidden tolerance let pass says nothing when no run failed: the tolerance
// in force may be larger. Only failures show that it is too tight.
// A line called several times per run (a loop over methods or cases) stops at its first failing
// call: the calls after it in that run were never made, so a bound from the calls made may still
// fail them (torchdiffeq's gradcheck over its solvers). Said where the advice loosens.
bool every_run_failed(const SiteAccumulator& site) {
  if (site.trials.empty()) return false;
  for (const auto& [key, trial] : site.trials)
    if (!trial.failed) return false;
  return true;
}

// The failing runs that stopped before the line's calls of a full (passing) run: what they
// needed is a lower bound of what they would have (torchcde: 9 of 10 runs stopped early).
std::size_t stopped_before_all_calls(const SiteAccumulator& site) {
  std::size_t full = 0, stopped = 0;
  for (const auto& [key, trial] : site.trials)
    if (!trial.failed) full = std::max(full, trial.calls);
  for (const auto& [key, trial] : site.trials)
    if (trial.failed && trial.calls < full) ++stopped;
  return stopped;
}

// A line in a loop (of the test or of its helper) that failed in every run: no run measured the
// passes after the failing one.
bool loop_stopped_every_run(const model::AssertionSite& a, const SiteAccumulator& site,
                            const ci::SiteFacts& facts) {
  return facts.in_loop && a.recommendation.action == model::AssertionAction::kLoosen &&
         every_run_failed(site);
}

void note_unreached_calls(model::AssertionSite& a, const SiteAccumulator& site,
                          const ci::SiteFacts& facts) {
  if (a.recommendation.action != model::AssertionAction::kLoosen) return;
  std::size_t full = 0;
  for (const auto& [key, trial] : site.trials)
    if (!trial.failed) full = std::max(full, trial.calls);
  const std::size_t stopped = stopped_before_all_calls(site);
  if (loop_stopped_every_run(a, site, facts) &&
      a.recommendation.extra.value("lower_bound", std::string()) == "loop" &&
      a.suggestion.find("a lower bound of what the loop") == std::string::npos) {
    a.suggestion +=
        "; the line is in a loop and the test stopped at its first failing pass in every run: "
        "the passes after it and the checks after the loop went unmeasured, so this is a lower "
        "bound of what the loop needs; apply it, then audit again";
    return;
  }
  if (stopped == 0) return;
  a.suggestion += "; in " + std::to_string(stopped) + (stopped == 1 ? " run" : " runs") +
                  " the test stopped at a failing call before the rest of this line's " +
                  std::to_string(full) +
                  " calls per run, which were not measured: apply, then audit again";
}

void undecided_without_failure(model::AssertionRecommendation& rec, long failures) {
  if (failures == 0 && rec.action == model::AssertionAction::kLoosen)
    rec.action = model::AssertionAction::kNone;
}

model::AssertionSite analyze_site(const std::string& test, const std::string& site_name,
                                  const SiteAccumulator& site,
                                  const stats::ToleranceOptions& options,
                                  const CaptureAnalysisOptions& capture_options) {
  model::AssertionSite a = site_header(test, site_name, site);
  // One argument set per entry (grouped by it); lines without one leave 0.
  if (!site.arguments.empty()) std::tie(a.rtol, a.atol) = site.arguments.begin()->first;
  a.mixed_arguments = site.arguments.size() > 1;

  ci::SiteFacts facts = site.facts;
  if (facts.negated.empty()) facts.negated = negation_from_outcomes(site);
  if (!facts.negated.empty()) a.negated = facts.negated;
  const std::vector<TrialSample> trials = collect_trials(site, facts, a);
  detect_hidden_tolerance(trials, facts, a);
  a.failure_rate = stats::to_model(stats::estimate_rate(
      static_cast<std::size_t>(a.failure_rate.failures), trials.size(), options.confidence));
  const std::size_t retries = stats::retries_needed(a.failure_rate.upper_one_sided, options.target);
  if (retries != std::numeric_limits<std::size_t>::max()) a.retries = static_cast<long>(retries);
  // (Not for a hidden tolerance: at the lower bound of it the estimate would be of another check.
  // A per-run threshold: P(value / bound > 1), from the ratios, when every bound was positive.)
  if (facts.variable_threshold)
    a.estimated_failure_rate = ratio_failure_rate(facts.ratios, options);
  else if (!a.negated && facts.direction != "above" && !facts.hidden_tolerance &&
           !ci::below_zero_threshold(facts))
    a.estimated_failure_rate = estimated_failure_rate(trials, a.rtol, a.atol, options);
  const ci::Verdict verdict = ci::judge_site(facts, a);
  a.cls = verdict.kind;
  a.verdict = verdict.message;
  // A failure no tolerance fixes fails whatever the margins say: no estimate from them.
  if (verdict.kind == model::AssertionClass::kBroken) a.estimated_failure_rate.reset();
  if (!verdict.cause.empty()) a.cause = verdict.cause;
  if (verdict.kind == model::AssertionClass::kStatistical) {
    std::optional<double> current_rate;
    if (a.estimated_failure_rate) current_rate = a.estimated_failure_rate->point;
    a.recommendation = recommendation(site, trials, a.rtol, a.atol, current_rate, options);
    if (a.failure_rate.failures > 0) never_keep_a_failing_site(a.recommendation, trials, a.atol);
    // Without a failure, a bound that is mostly extrapolation decides nothing either, unless even
    // the low end of the current arguments' estimated failure rate is above the target (a tail
    // fitted to 20 runs of a bounded value told "x < 0.9" to become "< 10", at an estimated 0.7%
    // [0%, 11%]).
    const bool shown_too_tight =
        a.estimated_failure_rate && a.estimated_failure_rate->lower > options.target;
    if (facts.hidden_tolerance || (a.recommendation.extrapolation && !shown_too_tight))
      undecided_without_failure(a.recommendation, a.failure_rate.failures);
  } else {
    a.recommendation = verdict_recommendation(verdict, a.rtol, options);
    if (facts.exact && a.failure_rate.failures > 0 && !a.recommendation.atol)
      offer_a_tolerance(a.recommendation, site, trials, verdict, options);
  }
  if (!facts.library.empty()) a.extra["library"] = facts.library;  // (its tolerant form's API)
  if (loop_stopped_every_run(a, site, facts) ||
      (facts.exact && facts.in_loop && a.recommendation.atol && every_run_failed(site)))
    mark_loop_lower_bound(a.recommendation);  // (an exact check's offered atol too: torchcde)
  else if (stopped_before_all_calls(site) > 0 && a.recommendation.atol)
    a.recommendation.extra["lower_bound"] = "stopped";
  ci::suggest(a, capture_options, options, facts, verdict);
  note_unreached_calls(a, site, facts);
  if (!facts.definition_at.empty()) a.extra["tolerance_definition"] = facts.definition_at;
  // The statistics decided (or could not yet): the advice is the verdict too, so that no site
  // has an empty one.
  if (a.verdict.empty()) a.verdict = a.suggestion;
  return a;
}

// One line, several argument sets (a loop, a parametrized helper): one literal cannot be right
// for all of them, unless they differ only in dtype (a loop over float32 and float64 with the same
// literals): then each set's edit is of the same literal, and `fix` writes the loosest.
void note_argument_sets(model::AssertionSite& a, std::size_t groups, std::size_t tolerances) {
  a.argument_sets_at_site = static_cast<long>(groups);
  if (tolerances < 2 || !a.diff) return;
  // A threshold's edit replaces its own literal on the line (zuko's `(0.99 <= p) and (p <=
  // 1.01)`: two literals, one edit each); a literal not on the line gave no edit.
  if (a.api == "threshold") return;
  a.diff.reset();
  a.suggestion += a.api == "threshold"
                      ? "; this line compares with " + std::to_string(groups) +
                            " thresholds: change this one where it is defined"
                      : "; this line runs with " + std::to_string(groups) +
                            " argument sets: change the value for this set where it is defined";
}

}  // namespace

std::vector<model::AssertionSite> analyze_captures(const std::vector<nlohmann::json>& run_records,
                                                   const stats::ToleranceOptions& options) {
  return analyze_captures(run_records, options, CaptureAnalysisOptions{});
}

namespace {

// The capture lines of all runs, grouped by (test, site, via, dtype, rtol, atol); lines naming
// no site counted in `dropped`.
struct SiteTable {
  std::map<SiteKey, SiteAccumulator> sites;
  std::size_t dropped = 0;

  // One run's lines; `test_in_run(test)` is what the run's record says of that test. Kept until
  // group(): whether a threshold is a per-run value needs every run.
  template <typename TestInRunOf>
  void add_run(long long run, const std::vector<nlohmann::json>& captures,
               const TestInRunOf& test_in_run) {
    for (const nlohmann::json& line : captures) {
      if (!line.is_object() || !line.contains("site") || !line["site"].is_string()) {
        ++dropped;
        continue;
      }
      const std::string test = string_or(line, "test");
      Call call{run, &line, test_in_run(test), site_key(test, line), ""};
      if (string_or(line, "api") == "threshold" && line.contains("atol") &&
          line["atol"].is_number())
        call.threshold_line = call.key.test + "\n" + call.key.site + "\n" + call.key.via + "\n" +
                              string_or(line, "op");
      calls_.push_back(std::move(call));
    }
  }

  // The calls into their sites (one per argument set; a per-run threshold is one site).
  void group();

  std::vector<model::AssertionSite> analyze(const stats::ToleranceOptions& options,
                                            const CaptureAnalysisOptions& capture_options) const;

 private:
  struct Call {
    long long run;
    const nlohmann::json* line;
    TestInRun test;
    SiteKey key;
    std::string threshold_line;  // a threshold comparison's (test, site, via, op), else empty
  };
  std::set<std::string> variable_threshold_lines() const;
  std::vector<Call> calls_;
};

// `loss < initial_loss` with initial_loss from the run's own random data: a new threshold on
// every run. A line whose distinct thresholds outnumber its calls in any one run compares against
// per-run values, not against literals (a loop over three eps values has three in every run).
std::set<std::string> SiteTable::variable_threshold_lines() const {
  std::map<std::string, std::set<double>> thresholds;
  std::map<std::pair<std::string, std::pair<long long, long long>>, std::size_t> per_trial;
  for (const Call& c : calls_) {
    if (c.threshold_line.empty()) continue;
    thresholds[c.threshold_line].insert((*c.line)["atol"].get<double>());
    ++per_trial[{c.threshold_line, {c.run, integer_or(*c.line, "repeat", 0)}}];
  }
  std::map<std::string, std::size_t> most_per_trial;
  for (const auto& [key, n] : per_trial)
    most_per_trial[key.first] = std::max(most_per_trial[key.first], n);
  std::set<std::string> variable;
  for (const auto& [id, values] : thresholds)
    if (values.size() > most_per_trial[id]) variable.insert(id);
  return variable;
}

void SiteTable::group() {
  const std::set<std::string> variable = variable_threshold_lines();
  for (Call& c : calls_) {
    const bool per_run = !c.threshold_line.empty() && variable.count(c.threshold_line) > 0;
    if (per_run) c.key.tolerances = "per-run";
    SiteAccumulator& site = sites[c.key];
    site.facts.variable_threshold = site.facts.variable_threshold || per_run;
    add_call(site, *c.line, c.run, c.test);
  }
  calls_.clear();
}

std::vector<model::AssertionSite> SiteTable::analyze(
    const stats::ToleranceOptions& options, const CaptureAnalysisOptions& capture_options) const {
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> groups_per_site;
  std::map<std::tuple<std::string, std::string, std::string>, std::set<std::string>>
      tolerances_per_site;
  for (const auto& [key, site] : sites) {
    ++groups_per_site[{key.test, key.site, key.via}];
    tolerances_per_site[{key.test, key.site, key.via}].insert(key.tolerances);
  }
  // Each site's analysis (tail fits, profile likelihoods: ~20 ms for 1000 calls) depends on its
  // own calls only: the sites are analysed on every core, each into its own slot.
  std::vector<const std::pair<const SiteKey, SiteAccumulator>*> entries;
  for (const auto& entry : sites) entries.push_back(&entry);
  std::vector<model::AssertionSite> assertions(entries.size());
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  parallel_for(entries.size(), std::min(cores, entries.size()), [&](std::size_t i) {
    const auto& [key, site] = *entries[i];
    assertions[i] = analyze_site(key.test, key.site, site, options, capture_options);
    note_argument_sets(assertions[i], groups_per_site.at({key.test, key.site, key.via}),
                       tolerances_per_site.at({key.test, key.site, key.via}).size());
    // Lines naming no site cannot be attributed; the count goes on every entry's evidence.
    if (dropped > 0) assertions[i].dropped_captures = static_cast<long>(dropped);
  });
  std::stable_sort(assertions.begin(), assertions.end(),
                   [](const model::AssertionSite& a, const model::AssertionSite& b) {
                     return a.failure_rate.point > b.failure_rate.point;
                   });
  return assertions;
}

// Run indices restart in each setting (--ablation, --vary): a trial is a (setting, run), or the
// settings' runs of one index would merge into one trial.
struct TrialKeys {
  std::map<std::string, long long> settings;
  long long of(const std::string& setting, long long run) {
    const long long index =
        settings.emplace(setting, static_cast<long long>(settings.size())).first->second;
    return (index << 40) + run;
  }
};

}  // namespace

std::vector<model::AssertionSite> analyze_captures(const std::vector<nlohmann::json>& run_records,
                                                   const stats::ToleranceOptions& options,
                                                   const CaptureAnalysisOptions& capture_options) {
  SiteTable table;
  TrialKeys keys;
  for (std::size_t index = 0; index < run_records.size(); ++index) {
    const nlohmann::json& record = run_records[index];
    if (!record.is_object() || !record.contains("captures") || !record["captures"].is_array()) {
      continue;
    }
    const long long run = keys.of(string_or(record, "setting"),
                                  integer_or(record, "run", static_cast<long long>(index)));
    table.add_run(run, record["captures"].get_ref<const nlohmann::json::array_t&>(),
                  [&](const std::string& test) { return test_in_record(record, test); });
  }
  table.group();
  return table.analyze(options, capture_options);
}

std::vector<model::AssertionSite> analyze_record_captures(
    const std::vector<audit::RunRecord>& records, const stats::ToleranceOptions& options) {
  SiteTable table;
  TrialKeys keys;
  for (const audit::RunRecord& record : records) {
    if (record.captures.empty()) continue;
    table.add_run(keys.of(record.setting, static_cast<long long>(record.run)), record.captures,
                  [&](const std::string& test) { return test_in_record(record, test); });
  }
  table.group();
  return table.analyze(options, CaptureAnalysisOptions{});
}

CaptureFile read_capture_file(const std::string& path) {
  CaptureFile result;
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    if (errno == ENOENT) return result;  // the target made no assertion call
    throw InputError(path + ": cannot read the capture file: " + std::strerror(errno));
  }
  std::fclose(file);
  if (std::filesystem::is_directory(path)) {
    throw InputError(path + ": cannot read the capture file: it is a directory");
  }
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      result.captures.push_back(std::move(j));
    } else {
      ++result.malformed_lines;
    }
  }
  return result;
}

}  // namespace flakescope

namespace flakescope {

// "tests/test_x.py::TestA::test_b[1]" -> "tests.test_x.TestA::test_b[1]", the testcase name the
// audit's tests[] carry (pytest's JUnit classname :: name); other names are kept as they are.
static std::string junit_style(const std::string& nodeid) {
  const auto py = nodeid.find(".py::");
  if (py == std::string::npos) return nodeid;
  std::string path = nodeid.substr(0, py);
  for (char& c : path) c = c == '/' ? '.' : c;
  std::string rest = nodeid.substr(py + 5);
  const auto last =
      rest.rfind("::", rest.find('[') == std::string::npos ? std::string::npos : rest.find('['));
  if (last != std::string::npos) {
    std::string classes = rest.substr(0, last);
    for (std::size_t at; (at = classes.find("::")) != std::string::npos;)
      classes.replace(at, 2, ".");
    return path + "." + classes + "::" + rest.substr(last + 2);
  }
  return path + "::" + rest;
}

void annotate_test_causes(model::AuditBody& audit) {
  if (!audit.assertions) return;
  std::map<std::string, std::string> causes;  // test -> the first site's cause
  for (const auto& a : *audit.assertions) {
    if (!a.cause) continue;
    causes.emplace(a.test, *a.cause);
    causes.emplace(junit_style(a.test), *a.cause);
  }
  for (auto& t : audit.tests) {
    const auto found = causes.find(t.name);
    // A deterministic mismatch fails every run: broken, not flaky; the cause says why.
    if (found != causes.end() && t.classification == model::TestClass::kStableFail)
      t.cause = found->second;
  }
}

void hold_repeat_dependent_sites(model::AuditBody& audit) {
  if (!audit.assertions) return;
  std::set<std::string> repeat_dependent;
  for (const auto& t : audit.tests)
    if (t.classification == model::TestClass::kRepeatDependent) repeat_dependent.insert(t.name);
  if (repeat_dependent.empty()) return;
  for (auto& a : *audit.assertions) {
    if (!repeat_dependent.count(a.test) && !repeat_dependent.count(junit_style(a.test))) continue;
    a.recommendation.action = model::AssertionAction::kReview;
    a.recommendation.atol.reset();
    a.recommendation.reason =
        "the test passes its first repetition in a process and fails the later ones";
    a.verdict =
        "not measured: the test fails only when repeated in one process, so these values "
        "come from repetitions that started from an earlier one's leftover state; audit it with "
        "--isolation process before changing this tolerance";
    a.suggestion = "audit with --isolation process";
    a.diff.reset();
  }
}

namespace {

struct TestRuns {
  long trials = 0, failures = 0;
};

std::map<std::string, TestRuns> runs_by_test(const model::AuditBody& audit) {
  std::map<std::string, TestRuns> out;
  for (const auto& t : audit.tests) {
    const auto skipped = t.outcomes.find("skip");
    TestRuns& r = out[t.name];
    r.trials += t.runs - (skipped == t.outcomes.end() ? 0 : skipped->second);
    r.failures += t.failures;
  }
  return out;
}

std::string runs_text(long n) {
  return std::to_string(n) + (n == 1 ? " run" : " runs");
}

}  // namespace

void note_checks_a_failure_hid(model::AuditBody& audit) {
  if (!audit.assertions) return;
  const auto tests = runs_by_test(audit);
  for (auto& a : *audit.assertions) {
    auto found = tests.find(a.test);
    if (found == tests.end()) found = tests.find(junit_style(a.test));
    if (found == tests.end() || a.argument_sets_at_site > 1) continue;
    const TestRuns& test = found->second;
    const long missing = test.trials - a.trials;
    if (missing > 0 && missing <= test.failures) {
      a.suggestion += "; measured in " + std::to_string(a.trials) + " of " +
                      runs_text(test.trials) + ": in the other " + std::to_string(missing) +
                      " the test failed before reaching this line, so this rests on the runs "
                      "where the earlier checks passed: fix those, then audit again";
    }
    const long stopped = a.failure_rate.failures;
    const bool acts = a.recommendation.action == model::AssertionAction::kLoosen;
    // (A loop's own notes say it: "stopped at a failing call", "a lower bound of what the loop".)
    const bool stops_the_test =
        !a.unchecked && a.cls != model::AssertionClass::kGuarded &&
        a.suggestion.find("the test stopped at a failing call") == std::string::npos &&
        a.recommendation.extra.value("lower_bound", std::string()) != "loop";
    // (Any failing site: opt_einsum's failing exact check hid the next line's check too.)
    if (stopped > 0 && stops_the_test && a.cls != model::AssertionClass::kNegated)
      a.suggestion += "; the test stopped here in " + runs_text(stopped) +
                      ", so the checks after this line, if any, went unmeasured there" +
                      (acts ? ": apply, then audit again" : "");
  }
}

}  // namespace flakescope
