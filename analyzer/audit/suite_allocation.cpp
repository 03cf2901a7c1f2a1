#include "audit/suite_allocation.h"

#include <algorithm>
#include <boost/math/distributions/chi_squared.hpp>
#include <cmath>
#include <exception>
#include <mutex>

#include "audit/pytest_outcomes.h"
#include "core/parallel_for.h"
#include "flakescope/error.h"
#include "stats/rates.h"
#include "stats/tail_bound.h"

namespace flakescope::audit {
namespace {

// What must be identical across seeds for determinism: the outcome, its message and the captured
// values (the capture lines without the fields that name the repetition).
std::string fingerprint(const RepetitionObservation& o) {
  nlohmann::json captures = nlohmann::json::array();
  for (nlohmann::json c : o.captures) {
    for (const char* key : {"seed", "repeat", "test"}) c.erase(key);
    captures.push_back(std::move(c));
  }
  return std::string(outcome_name(o.outcome)) + "\n" + o.message + "\n" + captures.dump();
}

double number_or(const nlohmann::json& j, const char* key, double fallback) {
  if (!j.contains(key)) return fallback;
  if (j[key].is_number()) return j[key].get<double>();
  if (j[key].is_string() && j[key].get<std::string>() == "inf") return INFINITY;
  return fallback;
}

// The run's margin ratio: max over its assertion calls of (atol needed / atol allowed), or of
// (max rel / rtol) for a relative-only check, where a value above 1 fails the call; nullopt when
// a call cannot be put on that scale (an exact comparison, a capture error).
std::optional<double> margin_ratio(const std::vector<nlohmann::json>& captures) {
  if (captures.empty()) return std::nullopt;
  double worst = 0;
  for (const auto& c : captures) {
    if (c.contains("error") || c.contains("exception")) return std::nullopt;
    const double atol = number_or(c, "atol", NAN), needed = number_or(c, "atol_needed", NAN);
    const double rtol = number_or(c, "rtol", NAN), max_rel = number_or(c, "max_rel", NAN);
    if (atol > 0 && !std::isnan(needed)) {
      worst = std::max(worst, needed / atol);  // passes iff atol_needed <= atol
    } else if (atol == 0 && rtol > 0 && !std::isnan(max_rel)) {
      worst = std::max(worst, max_rel / rtol);  // relative only: passes iff max_rel <= rtol
    } else {
      return std::nullopt;
    }
  }
  return worst;
}

// When the GPD fit is refused for a light or bounded tail (Anderson-Darling rejects it, as for
// uniform margins), an exponential tail is heavier than the truth, so its bound is conservative:
// excesses over the median with the mean's upper confidence bound 2k*mean / chi2_{alpha, 2k},
// and the (1 - p) quantile u + sigma_U * ln(k / (n * p)). Used only for samples whose largest
// value is below a quarter of the limit, where a heavy tail would already have shown.
std::optional<double> exponential_tail_bound(std::vector<double> r, double p, double confidence) {
  if (r.size() < 20) return std::nullopt;
  std::sort(r.begin(), r.end());
  if (r.back() >= 0.25) return std::nullopt;
  const std::size_t n = r.size(), k = n / 2;
  const double u = r[n - k - 1];
  double mean = 0;
  for (std::size_t i = n - k; i < n; ++i) mean += (r[i] - u) / double(k);
  const boost::math::chi_squared_distribution<double> chi(2.0 * double(k));
  const double sigma_upper = 2.0 * double(k) * mean / boost::math::quantile(chi, 1 - confidence);
  return u + sigma_upper * std::log(double(k) / (double(n) * p));
}

}  // namespace

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kUndecided:
      return "undecided";
    case Verdict::kStablePass:
      return "stable-pass";
    case Verdict::kFlaky:
      return "flaky";
    case Verdict::kStableFail:
      return "stable-fail";
    case Verdict::kEnvironment:
      return "environment";
    case Verdict::kSkipped:
      return "skipped";
  }
  return "undecided";
}

SuiteAllocator::SuiteAllocator(AllocationOptions options) : options_(options) {
  if (options_.screening_runs < 2)
    throw InputError("adaptive allocation needs at least 2 screening runs");
  if (options_.min_batch == 0 || options_.max_batch < options_.min_batch)
    throw InputError("adaptive allocation: bad batch sizes");
  if (options_.max_runs < options_.screening_runs)
    throw InputError("--max-runs must be at least the " + std::to_string(options_.screening_runs) +
                     " screening runs");
  if (!(options_.rate_floor > 0 && options_.rate_floor < 1))
    throw InputError("the rate floor must be in (0, 1)");
  if (!(options_.confidence > 0 && options_.confidence < 1))
    throw InputError("--confidence must be in (0, 1)");
}

std::size_t SuiteAllocator::count_runs() const {
  return static_cast<std::size_t>(
      std::ceil(std::log(1 - options_.confidence) / std::log1p(-options_.rate_floor)));
}

void SuiteAllocator::observe(const RepetitionObservation& o) {
  auto [it, fresh] = states_.try_emplace(o.test);
  State& s = it->second;
  if (fresh) {
    order_.push_back(o.test);
    s.a.test = o.test;
  }
  ++s.a.runs;
  if (o.outcome == Outcome::kSkip) ++s.a.skips;
  if (is_failure(o.outcome)) ++s.a.failures;
  if (!is_failure(o.outcome) && o.outcome != Outcome::kSkip) ++s.passes;
  if (o.run < options_.screening_runs) {
    s.fingerprints.push_back(fingerprint(o));
    if (o.drew_random != std::optional<bool>(false)) s.all_drew_known_false = false;
  }
  const auto r = margin_ratio(o.captures);
  if (!r || o.outcome != Outcome::kPass) s.margins_usable = false;
  if (s.margins_usable) s.margin_ratios.push_back(*r);
}

bool SuiteAllocator::try_deterministic(State& s) const {
  if (s.fingerprints.size() < options_.screening_runs || !s.all_drew_known_false) return false;
  for (const auto& f : s.fingerprints)
    if (f != s.fingerprints.front()) return false;
  s.a.evidence = "deterministic";
  const std::string same = "identical outcome, message and captured values in " +
                           std::to_string(s.fingerprints.size()) +
                           " screening runs under different seeds, and no random numbers drawn";
  if (s.a.skips == s.a.runs) {
    s.a.verdict = Verdict::kSkipped;
  } else if (s.a.failures == 0) {
    s.a.verdict = Verdict::kStablePass;
  } else {
    const bool error = s.fingerprints.front().rfind("error\n", 0) == 0;
    s.a.verdict = error ? Verdict::kEnvironment : Verdict::kStableFail;
  }
  s.a.reason = same;
  return true;
}

bool SuiteAllocator::try_margin(State& s) const {
  if (!s.margins_usable || s.margin_ratios.size() < options_.margin_runs) return false;
  stats::TailOptions tail;
  tail.target = options_.rate_floor;
  tail.confidence = options_.confidence;
  const stats::TailBound b = stats::bound_tail_quantile(s.margin_ratios, tail);
  s.a.margin_method = b.method;
  double bound = b.bound;
  if (!b.has_bound) {
    const auto fallback =
        exponential_tail_bound(s.margin_ratios, options_.rate_floor, options_.confidence);
    if (!fallback) return false;
    bound = *fallback;
    s.a.margin_method = "exponential tail (GPD refused: " + b.reason + ")";
  }
  s.a.margin_bound = bound;
  if (!(bound < 1)) return false;
  char text[640];
  std::snprintf(text, sizeof text,
                "captured assertion margins: the (1 - %g) quantile of atol needed/allowed is "
                "<= %.3g < 1 at %g%% confidence (%s), so P(fail) <= %g",
                options_.rate_floor, bound, 100 * options_.confidence, s.a.margin_method.c_str(),
                options_.rate_floor);
  s.a.verdict = Verdict::kStablePass;
  s.a.evidence = "margin";
  s.a.reason = text;
  return true;
}

void SuiteAllocator::decide_one(State& s, std::size_t runs_done) const {
  if (s.a.verdict != Verdict::kUndecided || s.a.runs < std::min(runs_done, options_.screening_runs))
    return;
  const std::size_t trials = s.a.runs - s.a.skips;
  if (s.a.failures > 0 && s.passes > 0) {
    const auto rate = stats::estimate_rate(s.a.failures, trials, options_.confidence);
    char text[640];
    std::snprintf(text, sizeof text,
                  "failed %zu of %zu runs: the %g%% interval [%.3g, %.3g] excludes 0 and 1",
                  s.a.failures, trials, 100 * options_.confidence, rate.clopper_pearson.lower,
                  rate.clopper_pearson.upper);
    s.a.verdict = Verdict::kFlaky, s.a.evidence = "count", s.a.reason = text;
    return;
  }
  if (try_deterministic(s) || try_margin(s)) return;
  const std::size_t needed = count_runs();
  if (trials >= needed || (trials == 0 && s.a.runs >= options_.screening_runs)) {
    s.a.evidence = "count";
    if (trials == 0) {
      s.a.verdict = Verdict::kSkipped;
      s.a.reason = "skipped in every run";
    } else {
      s.a.verdict = s.a.failures == 0 ? Verdict::kStablePass : Verdict::kStableFail;
      char text[200];
      std::snprintf(text, sizeof text,
                    "%s in each of %zu runs: a %s rate >= %g%% would have shown at %g%% confidence",
                    s.a.failures == 0 ? "no failure" : "a failure", trials,
                    s.a.failures == 0 ? "failure" : "pass", 100 * options_.rate_floor,
                    100 * options_.confidence);
      s.a.reason = text;
    }
    return;
  }
  if (s.a.runs >= options_.max_runs) {
    s.a.evidence = "cap";
    s.a.verdict = s.a.failures == 0 ? Verdict::kStablePass : Verdict::kStableFail;
    s.a.reason = "reached the cap of " + std::to_string(options_.max_runs) +
                 " runs before a verdict at the stated confidence";
  }
}

void SuiteAllocator::decide(std::size_t runs_done) {
  for (auto& [name, s] : states_) decide_one(s, runs_done);
}

std::vector<std::string> SuiteAllocator::undecided() const {
  std::vector<std::string> out;
  for (const auto& name : order_)
    if (states_.at(name).a.verdict == Verdict::kUndecided) out.push_back(name);
  return out;
}

std::size_t SuiteAllocator::next_target(std::size_t runs_done) const {
  std::size_t target = 0;
  for (const auto& name : undecided()) {
    const State& s = states_.at(name);
    // The next run count at which this test can be decided without a new failure.
    std::size_t point = std::max(options_.screening_runs, count_runs() + s.a.skips);
    if (s.margins_usable && s.a.runs < options_.margin_runs) point = options_.margin_runs;
    point = std::min(point, options_.max_runs);
    if (point <= runs_done) point = runs_done + options_.min_batch;  // margin refused: count on
    target = target == 0 ? point : std::min(target, point);
  }
  if (target == 0) return 0;
  target = std::clamp(target, runs_done + options_.min_batch, runs_done + options_.max_batch);
  return std::min(target, options_.max_runs);
}

std::vector<TestAllocation> SuiteAllocator::allocations() const {
  std::vector<TestAllocation> out;
  for (const auto& name : order_) out.push_back(states_.at(name).a);
  return out;
}

SuiteAuditResult run_suite_allocation(
    RepetitionSource& source, const AllocationOptions& options, std::size_t jobs,
    const std::atomic<bool>* cancel,
    const std::function<void(std::size_t, std::size_t, std::size_t)>& on_batch) {
  SuiteAllocator allocator(options);
  SuiteAuditResult result;
  auto run_batch = [&](const std::vector<std::string>& tests, std::size_t first,
                       std::size_t count) {
    if (on_batch) on_batch(tests.size(), first, count);
    // `jobs` contiguous parts of [first, first + count), each one source call.
    const std::size_t parts = std::max<std::size_t>(1, std::min(jobs, count));
    std::vector<std::vector<RepetitionObservation>> out(parts);
    // Every part runs to its end even when another fails, and the first part's error is the one
    // reported, so each part keeps its own error instead of stopping the pool.
    std::vector<std::exception_ptr> errors(parts);
    parallel_for(parts, parts, [&](std::size_t p) {
      const std::size_t lo = first + count * p / parts, hi = first + count * (p + 1) / parts;
      try {
        out[p] = source.run(tests, lo, hi - lo);
      } catch (...) {
        errors[p] = std::current_exception();
      }
    });
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    for (auto& part : out)
      for (auto& o : part) {
        allocator.observe(o);
        result.observations.push_back(std::move(o));
        ++result.executions;
      }
    ++result.batches;
  };

  run_batch(options.tests, 0, options.screening_runs);
  std::size_t done = options.screening_runs;
  allocator.decide(done);
  while (true) {
    if (cancel && cancel->load()) {
      result.interrupted = true;
      break;
    }
    const std::vector<std::string> todo = allocator.undecided();
    const std::size_t target = allocator.next_target(done);
    if (todo.empty() || target <= done) break;
    run_batch(todo, done, target - done);
    done = target;
    allocator.decide(done);
  }
  result.tests = allocator.allocations();
  return result;
}

std::vector<std::string> shard_tests(const std::vector<std::string>& collected, std::size_t index,
                                     std::size_t count) {
  std::vector<std::string> out;
  for (std::size_t i = index; count > 0 && i < collected.size(); i += count)
    out.push_back(collected[i]);
  return out;
}

std::vector<RunRecord> allocation_records(const std::vector<RepetitionObservation>& observations,
                                          const std::string& setting, std::uint64_t seed) {
  std::map<std::size_t, RunRecord> by_run;
  for (const auto& o : observations) {
    RunRecord& r = by_run[o.run];
    r.run = o.run;
    r.seed = seed + o.run;
    r.setting = setting;
    r.testcases.push_back(
        make_testcase(junit_name_of_nodeid(o.test), o.outcome, o.duration, o.message));
    r.duration += o.duration;
    if (is_failure(o.outcome)) r.outcome = Outcome::kFail;
    for (const auto& c : o.captures) r.captures.push_back(c);
  }
  std::vector<RunRecord> out;
  for (auto& [run, r] : by_run) {
    r.exit_code = r.outcome == Outcome::kFail ? 1 : 0;
    out.push_back(std::move(r));
  }
  return out;
}

model::Allocation allocation_section(const SuiteAuditResult& result,
                                     const AllocationOptions& options, std::size_t baseline_runs) {
  model::Allocation a;
  for (const auto& t : result.tests) {
    model::AllocatedTest entry;
    entry.test = t.test;
    entry.name = junit_name_of_nodeid(t.test);
    entry.verdict = std::string(verdict_name(t.verdict));
    entry.evidence = t.evidence;
    entry.reason = t.reason;
    entry.runs = static_cast<long>(t.runs);
    entry.failures = static_cast<long>(t.failures);
    entry.margin_bound = t.margin_bound;
    if (!t.margin_method.empty()) entry.margin_method = t.margin_method;
    a.tests.push_back(std::move(entry));
    model::AllocationEvidence& e = a.evidence[t.evidence];
    e.runs += static_cast<long>(t.runs);
    ++e.tests;
    ++a.verdicts[std::string(verdict_name(t.verdict))];
  }
  for (auto& [kind, e] : a.evidence)
    e.runs_saved_vs_baseline = double(e.tests) * double(baseline_runs) - double(e.runs);
  a.method =
      "screening of every test, then batches of the undecided ones; evidence: deterministic, "
      "margin (tail bound on atol needed/allowed), count";
  a.screening_runs = static_cast<long>(options.screening_runs);
  a.margin_runs = static_cast<long>(options.margin_runs);
  a.max_runs = static_cast<long>(options.max_runs);
  a.rate_floor = options.rate_floor;
  a.confidence = options.confidence;
  a.count_runs = static_cast<long>(SuiteAllocator(options).count_runs());
  a.executions = static_cast<long>(result.executions);
  a.batches = static_cast<long>(result.batches);
  a.baseline_runs_per_test = static_cast<long>(baseline_runs);
  a.baseline_executions = static_cast<long>(result.tests.size() * baseline_runs);
  return a;
}

}  // namespace flakescope::audit
