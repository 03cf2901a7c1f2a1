#include "audit/audit_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "audit/ablation.h"
#include "audit/collection_check.h"
#include "audit/pytest_plugin.h"
#include "audit/retry_verdict.h"
#include "audit/run_environment.h"
#include "audit/traceback_cost.h"
#include "core/report.h"
#include "flakescope/knobs.h"
#include "stats/rates.h"

namespace flakescope::audit {
namespace {

std::string format_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

model::Duration duration_stats(const std::vector<double>& d) {
  model::Duration out;
  if (d.empty()) return out;
  double sum = 0;
  for (double x : d) sum += x;
  const double mean = sum / double(d.size());
  double ss = 0;
  for (double x : d) ss += (x - mean) * (x - mean);
  out.mean = mean;
  out.min = *std::min_element(d.begin(), d.end());
  out.max = *std::max_element(d.begin(), d.end());
  out.stddev = d.size() > 1 ? std::sqrt(ss / double(d.size() - 1)) : 0.0;
  return out;
}

// Every first repetition in a process passed and every later one failed, at least three times
// (a test failing half its runs shows this pattern over 4 runs by chance 1 time in 16, over 5 in
// 32): the test is not repeatable in one process, which a fresh process per run would not show.
bool fails_only_when_repeated(const TestTally& t) {
  const auto& first = t.first_repetition;
  const auto& later = t.later_repetitions;
  return first.trials > 0 && first.failures == 0 && later.trials >= 3 &&
         later.failures == later.trials && first.trials + later.trials == t.trials();
}

std::string repeat_dependent_statement(const TestTally& t) {
  const std::size_t first = t.first_repetition.trials, later = t.later_repetitions.trials;
  const std::string pattern =
      first == 1 ? "it passed its first repetition and failed all " + std::to_string(later) +
                       " later ones in the same process"
                 : "it passed its first repetition in each of " + std::to_string(first) +
                       " processes and failed all " + std::to_string(later) + " later ones";
  return "not a flake: " + pattern +
         ", so what an earlier repetition left behind (a shared input changed in "
         "place, a used-up iterator or context manager, trained parameters) decides it; audit "
         "it with --isolation process, and make it independent of its earlier runs";
}

// The retry count that keeps spurious failures under the target, and its sentence.
void add_retries(model::AuditTest& entry, const TestTally& t, const stats::RateEstimate& rate,
                 double target, double confidence) {
  const std::string at = " at " + format_g(confidence * 100) + "%";
  entry.retries_target = target;
  if (t.trials() == 0) {
    entry.retries_statement = "never ran (always skipped)";
    return;
  }
  if (t.failures() == t.trials()) {
    entry.retries_statement = "no retry count helps: it failed every run";
    return;
  }
  if (fails_only_when_repeated(t)) {
    entry.retries_statement = repeat_dependent_statement(t);
    return;
  }
  const std::size_t k = stats::retries_needed(rate.upper_one_sided, target);
  entry.retries_k = static_cast<long>(k);
  const std::string with_k = std::to_string(k) + (k == 1 ? " retry" : " retries");
  if (k == 0) {
    entry.retries_statement = "no retry needed: failure rate <= " + format_g(target) + at;
  } else if (t.failures() == 0) {
    // Nothing failed: a retry count from the upper end of 0 of n would read as advice to retry a
    // test that never failed (or, after one run, as "retrying is no fix").
    entry.retries_statement =
        "no failure in " + std::to_string(t.trials()) + (t.trials() == 1 ? " run" : " runs") +
        "; showing that no retry is needed (failure rate <= " + format_g(target) + at +
        ") takes about " + std::to_string(stats::runs_to_certify(target, confidence)) + " runs";
  } else if (k <= stats::kMaxSensibleRetries) {
    entry.retries_statement = "with " + with_k + ", spurious failure <= " + format_g(target) + at;
  } else {  // a retry count this high hides a broken test rather than a rare flake
    entry.retries_statement = "retrying is no fix: it fails in up to " +
                              format_g(std::round(rate.upper_one_sided * 1000) / 10) +
                              "% of runs, so keeping spurious failures <= " + format_g(target) +
                              at + " would take " + with_k + " (more than " +
                              std::to_string(stats::kMaxSensibleRetries) + " hides a broken test)";
  }
}

// What the pytest plugin adds to a test's entry: environment errors by kind and exception type,
// whether it drew from the global random generators, and the retry mechanism it carries.
void add_plugin_fields(model::AuditTest& entry, const TestTally& t) {
  for (const auto& [kind, n] : t.environment_errors)
    entry.environment_errors[kind] = static_cast<long>(n);
  if (t.drew_random_known > 0)
    entry.drew_random =
        std::pair(static_cast<long>(t.drew_random), static_cast<long>(t.drew_random_known));
  if (t.retry.is_object()) {
    model::RetryMark mark;
    mark.mechanism = t.retry.value("mechanism", std::string());
    mark.decorator = t.retry.value("decorator", std::string());
    if (t.retry.contains("attempts") && t.retry["attempts"].is_number_integer())
      mark.attempts = t.retry["attempts"].get<long>();
    for (auto it = t.retry.begin(); it != t.retry.end(); ++it)
      if (it.key() != "mechanism" && it.key() != "decorator" && it.key() != "attempts")
        mark.extra[it.key()] = it.value();
    entry.retry_mark = mark;
  }
}

// The timeline (a letter per run) and a few failing runs with the line that replays each.
void add_runs(model::AuditTest& entry, const TestTally& t, const AuditReportInputs& in) {
  const Setting setting = parse_setting_name(t.setting);
  for (const auto& r : t.per_run) {
    if (entry.timeline.size() < in.max_timeline)
      entry.timeline.push_back(
          *model::parse_outcome_letter(std::string(1, outcome_letter(r.outcome))));
    if (!is_failure(r.outcome) || entry.failing_runs.size() >= in.max_failing_runs) continue;
    const EnvChanges env = run_environment(setting, r.seed);
    const std::string test_replay = pytest_replay_line(env, in.command, t.replay_id);
    model::FailingRun f;
    f.run = static_cast<long>(r.run);
    f.seed = r.seed;
    f.setting = t.setting;
    f.outcome = std::string(outcome_name(r.outcome));
    f.message = r.message;
    f.replay = test_replay.empty() ? replay_line(env, in.command) : test_replay;
    entry.failing_runs.push_back(std::move(f));
  }
  entry.timeline_truncated = t.per_run.size() > in.max_timeline;
}

}  // namespace

model::TestClass classify(const TestTally& t) {
  using model::TestClass;
  if (t.trials() == 0) return TestClass::kSkipped;
  if (t.count(Outcome::kCrash) > 0) return TestClass::kCrashing;
  if (t.count(Outcome::kTimeout) > 0) return TestClass::kTimingOut;
  // Every failure was the machine's (no network, a missing module, no GPU, out of memory).
  if (t.failures() > 0 && t.environment_failures() == t.failures())
    return TestClass::kEnvironmentError;
  if (t.failures() == 0 && t.count(Outcome::kXfail) == t.trials()) return TestClass::kXfail;
  // pytest's non-strict xfail: it failed as expected in some runs and passed (xpass) in others.
  if (t.failures() == 0 && t.count(Outcome::kXfail) > 0) return TestClass::kXfailFlaky;
  if (t.failures() == 0) return TestClass::kStablePass;
  if (t.failures() == t.trials()) return TestClass::kStableFail;
  if (fails_only_when_repeated(t)) return TestClass::kRepeatDependent;
  return TestClass::kFlaky;
}

model::AuditTest test_entry(const TestTally& t, const AuditReportInputs& in) {
  model::AuditTest entry;
  entry.name = t.name;
  entry.setting = t.setting;
  entry.runs = static_cast<long>(t.runs());
  entry.failures = static_cast<long>(t.failures());
  for (Outcome o : kAllOutcomes)
    entry.outcomes[std::string(outcome_name(o))] = static_cast<long>(t.count(o));
  const auto rate = stats::estimate_rate(t.failures(), t.trials(), in.confidence);
  entry.failure_rate = stats::to_model(rate);
  entry.classification = classify(t);
  add_retries(entry, t, rate, in.target, in.confidence);
  entry.duration = duration_stats(t.durations);
  add_runs(entry, t, in);
  add_plugin_fields(entry, t);
  return entry;
}

namespace {

// The environment each setting gives a run, for replaying any run by hand.
void add_environment(model::AuditBody& body, const AuditReportInputs& in) {
  const std::uint64_t seed0 = in.config.value("seed", std::uint64_t{1});
  body.environment.emplace();
  for (const auto& s : body.settings) {
    model::AuditBody::Environment& env = (*body.environment)[s];
    for (const auto& [key, value] : run_environment(parse_setting_name(s), seed0)) env[key] = value;
  }
  if (in.config.value("isolation", std::string("process")) == "inprocess")
    body.environment_note =
        "shown for run 0; isolation inprocess: each pytest process repeats the tests for a block "
        "of consecutive runs, and the plugin gives repetition i of a block starting at run r "
        "FLAKESCOPE_SEED = seed + r + i and seeds random/numpy/torch with it; PYTHONHASHSEED and, "
        "with threads free, OMP_NUM_THREADS are the block's (set once per process), and the "
        "plugin sets each repetition's thread count and torch knobs itself; "
        "failing_runs[].replay gives the repetition's seed to a fresh process";
  else
    body.environment_note =
        "shown for run 0; run i has FLAKESCOPE_SEED = seed + i (PYTHONHASHSEED the same mod 2^32) "
        "and, with threads free, OMP_NUM_THREADS from the seed; failing_runs[].replay is exact";
}

// In-process, a run of the command fails when any test of it failed: a repeat-dependent test
// alone makes the command look flaky. When no test of the setting is a finding and one is
// repeat-dependent, so is the command.
void explain_command_by_repeat_dependent_tests(model::AuditBody& body) {
  for (auto& command : body.process) {
    if (command.classification != model::TestClass::kFlaky) continue;
    bool finding = false, repeat_dependent = false;
    for (const auto& t : body.tests) {
      if (t.setting != command.setting) continue;
      finding = finding || model::is_finding(t.classification);
      repeat_dependent = repeat_dependent || t.classification == model::TestClass::kRepeatDependent;
    }
    if (finding || !repeat_dependent) continue;
    command.classification = model::TestClass::kRepeatDependent;
    command.retries_k.reset();
    command.retries_statement =
        "its failures are those of repeat-dependent tests: audit with --isolation process";
  }
}

void add_junit_errors(model::AuditBody& body, const std::vector<RunRecord>& records,
                      bool no_testcases) {
  model::JunitErrors errors;
  for (const auto& r : records)
    if (r.junit_error) {
      ++errors.count;
      if (errors.examples.size() < 5)
        errors.examples.push_back({static_cast<long>(r.run), r.setting, *r.junit_error});
    }
  body.junit_errors = errors;
  // No readable JUnit in any run: the tests list is the command's outcome per run; say so.
  if (no_testcases && errors.count > 0)
    body.junit_fallback =
        "no run produced readable JUnit XML: results are the command's exit status per run";
}

}  // namespace

model::Report build_audit_report(const AuditReportInputs& in,
                                 const std::vector<RunRecord>& records) {
  model::Report report;
  report.header = model::header_from_json(in.header);
  report.header.kind = model::ReportKind::kAudit;
  report.header.partial = in.partial;
  report.header.config = in.config;
  model::AuditBody& body = report.audit;
  body.audited_command = in.command;
  body.runs = static_cast<long>(records.size());

  const Tallies tallies = tally_runs(records, in.settings);
  body.settings = in.settings;
  for (const auto& t : tallies.command)
    if (std::find(body.settings.begin(), body.settings.end(), t.setting) == body.settings.end())
      body.settings.push_back(t.setting);
  add_environment(body, in);
  for (const auto& t : tallies.command) body.process.push_back(test_entry(t, in));
  for (const auto& t : tallies.tests.empty() ? tallies.command : tallies.tests)
    body.tests.push_back(test_entry(t, in));
  if (!tallies.tests.empty()) explain_command_by_repeat_dependent_tests(body);
  add_junit_errors(body, records, tallies.tests.empty());
  body.collection_warning = collection_warning(records);
  body.summary.emplace();
  for (const auto& t : body.tests) ++(*body.summary)[std::string(to_string(t.classification))];
  if (in.ablation) body.ablation = diagnose_ablation(tallies, body.settings, in.confidence);
  body.traceback_cost = to_model(traceback_cost(tallies.tests, in.command));
  body.retries_measured = retry_verdicts(tallies.tests, in.target, in.confidence);
  // What the pytest plugin read back from torch in each setting (the first run that says).
  nlohmann::json knobs = nlohmann::json::object();
  for (const auto& r : records)
    if (!r.knobs.is_null() && !knobs.contains(r.setting)) knobs[r.setting] = r.knobs;
  if (!knobs.empty()) body.knobs_applied = knobs;
  return report;
}

int audit_exit_code(const model::Report& report) {
  for (const auto* list : {&report.audit.tests, &report.audit.process})
    for (const auto& t : *list)
      if (model::is_finding(t.classification)) return 1;
  return 0;
}

}  // namespace flakescope::audit
