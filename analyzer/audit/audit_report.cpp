#include "audit/audit_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "audit/ablation.h"
#include "audit/pytest_plugin.h"
#include "audit/retry_verdict.h"
#include "audit/run_environment.h"
#include "audit/traceback_cost.h"
#include "core/report.h"
#include "flakescope/knobs.h"
#include "stats/rates.h"

namespace flakescope::audit {
namespace {

constexpr std::size_t kMaxSensibleRetries = 10;

std::string format_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

nlohmann::json duration_stats(const std::vector<double>& d) {
  if (d.empty())
    return {{"mean", nullptr}, {"min", nullptr}, {"max", nullptr}, {"stddev", nullptr}};
  double sum = 0;
  for (double x : d) sum += x;
  const double mean = sum / double(d.size());
  double ss = 0;
  for (double x : d) ss += (x - mean) * (x - mean);
  const double sd = d.size() > 1 ? std::sqrt(ss / double(d.size() - 1)) : 0.0;
  return {{"mean", mean},
          {"min", *std::min_element(d.begin(), d.end())},
          {"max", *std::max_element(d.begin(), d.end())},
          {"stddev", sd}};
}

nlohmann::json retries_entry(const TestTally& t, const stats::RateEstimate& rate, double target,
                             double confidence) {
  const std::string at = " at " + format_g(confidence * 100) + "%";
  if (t.trials() == 0)
    return {{"k", nullptr}, {"target", target}, {"statement", "never ran (always skipped)"}};
  if (t.failures() == t.trials())
    return {{"k", nullptr},
            {"target", target},
            {"statement", "no retry count helps: it failed every run"}};
  const std::size_t k = stats::retries_needed(rate.upper_one_sided, target);
  std::string statement = k == 0 ? "no retry needed: failure rate <= " + format_g(target) + at
                                 : "with " + std::to_string(k) + (k == 1 ? " retry" : " retries") +
                                       ", spurious failure <= " + format_g(target) + at;
  // Past a handful of attempts a retry count hides a broken test rather than a rare flake.
  if (k > kMaxSensibleRetries)
    statement += "; retrying is no fix here: it fails in up to " +
                 format_g(std::round(rate.upper_one_sided * 1000) / 10) + "% of runs";
  return {{"k", k}, {"target", target}, {"statement", statement}};
}

// What the pytest plugin adds to a test's entry: environment errors by kind and exception type,
// whether it drew from the global random generators, and the retry mechanism it carries.
void add_plugin_fields(nlohmann::json& entry, const TestTally& t) {
  if (!t.environment_errors.empty()) entry["environment_errors"] = t.environment_errors;
  if (t.drew_random_known > 0)
    entry["drew_random"] = {{"runs", t.drew_random}, {"of", t.drew_random_known}};
  if (!t.retry.is_null()) entry["retry_mark"] = t.retry;
}

}  // namespace

std::string classify(const TestTally& t) {
  if (t.trials() == 0) return "skipped";
  if (t.count(Outcome::kCrash) > 0) return "crashing";
  if (t.count(Outcome::kTimeout) > 0) return "timing-out";
  // Every failure was the machine's (no network, a missing module, no GPU, out of memory).
  if (t.failures() > 0 && t.environment_failures() == t.failures()) return "environment-error";
  if (t.failures() == 0 && t.count(Outcome::kXfail) == t.trials()) return "xfail";
  // pytest's non-strict xfail: it failed as expected in some runs and passed (xpass) in others.
  if (t.failures() == 0 && t.count(Outcome::kXfail) > 0) return "xfail-flaky";
  if (t.failures() == 0) return "stable-pass";
  if (t.failures() == t.trials()) return "stable-fail";
  return "flaky";
}

nlohmann::json test_entry(const TestTally& t, const AuditReportInputs& in) {
  nlohmann::json outcomes = nlohmann::json::object();
  for (Outcome o : kAllOutcomes) outcomes[std::string(outcome_name(o))] = t.count(o);
  const auto rate = stats::estimate_rate(t.failures(), t.trials(), in.confidence);
  nlohmann::json failure_rate = {
      {"failures", t.failures()},
      {"trials", t.trials()},
      {"confidence", in.confidence},
      {"point", rate.point},
      {"wilson", {rate.wilson.lower, rate.wilson.upper}},
      {"clopper_pearson", {rate.clopper_pearson.lower, rate.clopper_pearson.upper}},
      {"upper_one_sided", rate.upper_one_sided},
  };
  nlohmann::json failing = nlohmann::json::array();
  nlohmann::json timeline = nlohmann::json::array();
  const Setting setting = parse_setting_name(t.setting);
  for (const auto& r : t.per_run) {
    if (timeline.size() < in.max_timeline)
      timeline.push_back(std::string(1, outcome_letter(r.outcome)));
    if (is_failure(r.outcome) && failing.size() < in.max_failing_runs) {
      const EnvChanges env = run_environment(setting, r.seed);
      const std::string test_replay = pytest_replay_line(env, in.command, t.replay_id);
      failing.push_back(
          {{"run", r.run},
           {"seed", r.seed},
           {"setting", t.setting},
           {"outcome", std::string(outcome_name(r.outcome))},
           {"message", r.message},
           {"replay", test_replay.empty() ? replay_line(env, in.command) : test_replay}});
    }
  }
  nlohmann::json retries = retries_entry(t, rate, in.target, in.confidence);
  nlohmann::json entry = {{"name", t.name},
                          {"setting", t.setting},
                          {"runs", t.runs()},
                          {"failures", t.failures()},
                          {"outcomes", outcomes},
                          {"failure_rate", failure_rate},
                          {"classification", classify(t)},
                          {"retries_needed", retries["k"]},
                          {"retries", retries},
                          {"duration", duration_stats(t.durations)},
                          {"failing_runs", failing},
                          {"timeline", timeline},
                          {"timeline_truncated", t.per_run.size() > in.max_timeline}};
  add_plugin_fields(entry, t);
  return entry;
}

nlohmann::json build_audit_report(const AuditReportInputs& in,
                                  const std::vector<RunRecord>& records) {
  nlohmann::json report = in.header;
  report["kind"] = "audit";
  report["partial"] = in.partial;
  report["config"] = in.config;
  report["audited_command"] = in.command;
  report["runs"] = records.size();

  const Tallies tallies = tally_runs(records, in.settings);
  std::vector<std::string> settings = in.settings;
  for (const auto& t : tallies.command)
    if (std::find(settings.begin(), settings.end(), t.setting) == settings.end())
      settings.push_back(t.setting);
  report["settings"] = settings;

  // The environment each setting gives a run, for replaying any run by hand.
  nlohmann::json environment = nlohmann::json::object();
  const std::uint64_t seed0 = in.config.value("seed", std::uint64_t{1});
  for (const auto& s : settings) {
    nlohmann::json env = nlohmann::json::object();
    for (const auto& [key, value] : run_environment(parse_setting_name(s), seed0))
      env[key] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
    environment[s] = env;
  }
  report["environment"] = environment;
  if (in.config.value("isolation", std::string("process")) == "inprocess")
    report["environment_note"] =
        "shown for run 0; isolation inprocess: each pytest process repeats the tests for a block "
        "of consecutive runs, and the plugin gives repetition i of a block starting at run r "
        "FLAKESCOPE_SEED = seed + r + i and seeds random/numpy/torch with it; PYTHONHASHSEED and, "
        "with threads free, OMP_NUM_THREADS are the block's (set once per process), and the "
        "plugin sets each repetition's thread count and torch knobs itself; "
        "failing_runs[].replay gives the repetition's seed to a fresh process";
  else
    report["environment_note"] =
        "shown for run 0; run i has FLAKESCOPE_SEED = seed + i (PYTHONHASHSEED the same mod 2^32) "
        "and, with threads free, OMP_NUM_THREADS from the seed; failing_runs[].replay is exact";

  nlohmann::json process = nlohmann::json::array();
  for (const auto& t : tallies.command) process.push_back(test_entry(t, in));
  report["process"] = process;
  nlohmann::json tests = nlohmann::json::array();
  for (const auto& t : tallies.tests.empty() ? tallies.command : tallies.tests)
    tests.push_back(test_entry(t, in));
  report["tests"] = tests;

  nlohmann::json junit_errors = nlohmann::json::array();
  std::size_t junit_error_count = 0;
  for (const auto& r : records)
    if (r.junit_error) {
      ++junit_error_count;
      if (junit_errors.size() < 5)
        junit_errors.push_back({{"run", r.run}, {"setting", r.setting}, {"error", *r.junit_error}});
    }
  report["junit_errors"] = {{"count", junit_error_count}, {"examples", junit_errors}};
  // No readable JUnit in any run: the tests list is the command's outcome per run; say so.
  if (tallies.tests.empty() && junit_error_count > 0)
    report["junit_fallback"] =
        "no run produced readable JUnit XML: results are the command's exit status per run";

  std::map<std::string, std::size_t> by_class;
  for (const auto& t : tests) ++by_class[t["classification"].get<std::string>()];
  report["summary"] = by_class;
  if (in.ablation) report["ablation"] = diagnose_ablation(tallies, settings, in.confidence);
  const nlohmann::json traceback = to_json(traceback_cost(tallies.tests, in.command));
  if (!traceback.is_null()) report["traceback_cost"] = traceback;
  const nlohmann::json retried = retry_verdicts(tallies.tests, in.target, in.confidence);
  if (!retried.empty()) report["retries_measured"] = retried;
  // What the pytest plugin read back from torch in each setting (the first run that says).
  nlohmann::json knobs = nlohmann::json::object();
  for (const auto& r : records)
    if (!r.knobs.is_null() && !knobs.contains(r.setting)) knobs[r.setting] = r.knobs;
  if (!knobs.empty()) report["knobs_applied"] = knobs;
  return report;
}

int audit_exit_code(const nlohmann::json& report) {
  auto bad = [](const nlohmann::json& list) {
    if (!list.is_array()) return false;
    for (const auto& t : list) {
      const std::string c = t.value("classification", std::string());
      if (c == "flaky" || c == "crashing" || c == "timing-out") return true;
    }
    return false;
  };
  return bad(report.value("tests", nlohmann::json())) ||
                 bad(report.value("process", nlohmann::json()))
             ? 1
             : 0;
}

}  // namespace flakescope::audit
