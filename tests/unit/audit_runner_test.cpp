// The scheduler, the report and the ablation driven by a scripted executor whose outcomes are a
// known function of the seed and the environment, so every count below is exact.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>

#include "audit/ablation.h"
#include "audit/adaptive_runs.h"
#include "audit/audit_report.h"
#include "audit/audit_runner.h"
#include "audit/run_environment.h"
#include "core/report.h"
#include "flakescope/error.h"

namespace flakescope::audit {
namespace {

std::optional<std::string> env_of(const RunRequest& r, const std::string& key) {
  std::optional<std::string> value;
  for (const auto& [k, v] : r.process.env)
    if (k == key) value = v;
  return value;
}

// Like the gtest fixture: Stable.passes always; Seeded.crashy aborts the process when seed % 7 == 3
// (no XML, gtest console lines only); Seeded.seedy fails when seed % 10 == 0; Threads.sum fails
// unless OMP_NUM_THREADS is 1. The process exits 1 when a test failed.
ProcessResult fixture_script(const RunRequest& r) {
  ProcessResult pr;
  pr.duration_seconds = 0.01;
  const std::uint64_t seed = r.seed;
  if (seed % 7 == 3) {
    pr.status = ProcessStatus::kSignaled;
    pr.signal = 6;
    pr.stdout_tail =
        "[ RUN      ] Stable.passes\n[       OK ] Stable.passes (1 ms)\n"
        "[ RUN      ] Seeded.crashy\n";
    return pr;
  }
  const bool seedy_fails = seed % 10 == 0;
  const bool threads_fail = env_of(r, "OMP_NUM_THREADS") != std::optional<std::string>("1");
  std::ofstream xml(r.junit_path);
  xml << "<testsuites><testsuite name=\"x\">"
      << "<testcase classname=\"Stable\" name=\"passes\" time=\"0.001\"/>"
      << "<testcase classname=\"Seeded\" name=\"crashy\" time=\"0.001\"/>"
      << "<testcase classname=\"Seeded\" name=\"seedy\" time=\"0.002\">"
      << (seedy_fails ? "<failure message=\"seed divisible by 10\"/>" : "") << "</testcase>"
      << "<testcase classname=\"Threads\" name=\"sum\" time=\"0.001\">"
      << (threads_fail ? "<failure message=\"threads\"/>" : "") << "</testcase>"
      << "</testsuite></testsuites>";
  pr.status = ProcessStatus::kExited;
  pr.exit_code = seedy_fails || threads_fail ? 1 : 0;
  return pr;
}

AuditOptions base_options(std::size_t runs) {
  AuditOptions o;
  o.command = {"./fixture", "a;rm -rf x"};
  o.runs = runs;
  o.jobs = 3;
  o.seed = 1;
  return o;
}

AuditReportInputs report_inputs(const AuditOptions& o) {
  AuditReportInputs in;
  in.header = new_report("audit", {"flakescope", "audit"});
  in.command = o.command;
  in.config = o.to_json();
  for (const auto& s : o.settings) in.settings.push_back(s.name);
  in.ablation = o.ablation;
  return in;
}

const nlohmann::json& find_test(const nlohmann::json& report, const std::string& name,
                                const std::string& setting = "controlled") {
  for (const auto& t : report["tests"])
    if (t["name"] == name && t["setting"] == setting) return t;
  static const nlohmann::json none;
  ADD_FAILURE() << "no test " << name << " in setting " << setting;
  return none;
}

// A run that died before writing its JUnit XML is a crash (its testcases from the console), not
// "unreadable JUnit" too; a run that exited without the XML it was asked for is unreadable JUnit.
TEST(AuditRunner, AMissingJunitOfADeadRunIsNoJunitError) {
  RunRequest request;
  request.junit_path = ::testing::TempDir() + "/never-written.xml";
  std::remove(request.junit_path.c_str());
  ProcessResult died;
  died.status = ProcessStatus::kSignaled;
  died.signal = 11;
  died.stdout_tail = "[ RUN      ] Seeded.crashy\n";
  const RunRecord crash = record_from_result(request, died, /*junit_expected=*/true);
  EXPECT_EQ(crash.outcome, Outcome::kCrash);
  EXPECT_FALSE(crash.junit_error);
  ASSERT_EQ(crash.testcases.size(), 1u);
  EXPECT_EQ(crash.testcases[0].outcome, Outcome::kCrash);
  ProcessResult exited;
  exited.status = ProcessStatus::kExited;
  exited.exit_code = 1;
  EXPECT_TRUE(record_from_result(request, exited, /*junit_expected=*/true).junit_error);
}

TEST(AuditRunner, CountsFollowExactlyFromTheSeeds) {
  const AuditOptions o = base_options(30);  // seeds 1..30
  ScriptedExecutor exec(fixture_script);
  const AuditRunResult res = run_audit(o, exec, {}, nullptr, nullptr);
  EXPECT_EQ(res.executed, 30u);
  EXPECT_FALSE(res.interrupted);
  const nlohmann::json report = model::to_json(build_audit_report(report_inputs(o), res.records));

  // Crashes at seeds 3, 10, 17, 24; seedy fails at 20 and 30 (10 crashed before reaching it).
  const auto& crashy = find_test(report, "Seeded::crashy");
  EXPECT_EQ(crashy["outcomes"]["crash"], 4);
  EXPECT_EQ(crashy["outcomes"]["pass"], 26);
  EXPECT_EQ(crashy["classification"], "crashing");
  const auto& seedy = find_test(report, "Seeded::seedy");
  EXPECT_EQ(seedy["runs"], 26);
  EXPECT_EQ(seedy["outcomes"]["fail"], 2);
  EXPECT_EQ(seedy["classification"], "flaky");
  EXPECT_EQ(seedy["failing_runs"][0]["seed"], 20);
  EXPECT_EQ(seedy["failing_runs"][0]["run"], 19);
  const std::string replay = seedy["failing_runs"][0]["replay"];
  EXPECT_NE(replay.find("FLAKESCOPE_SEED=20 "), std::string::npos) << replay;
  EXPECT_NE(replay.find("./fixture 'a;rm -rf x'"), std::string::npos) << replay;
  EXPECT_EQ(seedy["timeline"].size(), 26u);
  const auto& stable = find_test(report, "Stable::passes");
  EXPECT_EQ(stable["outcomes"]["pass"], 30);
  EXPECT_EQ(stable["classification"], "stable-pass");
  EXPECT_EQ(find_test(report, "Threads::sum")["classification"], "stable-pass");
  const auto& process = report["process"][0];
  EXPECT_EQ(process["outcomes"]["crash"], 4);
  EXPECT_EQ(process["outcomes"]["fail"], 2);
  EXPECT_EQ(process["outcomes"]["pass"], 24);
  EXPECT_EQ(audit_exit_code(model::from_json(report)), 1);
  EXPECT_EQ(report["runs"], 30);
  EXPECT_EQ(report["kind"], "audit");
}

TEST(AuditRunner, FailureRateRetriesAndDurations) {
  const AuditOptions o = base_options(30);
  ScriptedExecutor exec(fixture_script);
  const auto res = run_audit(o, exec, {}, nullptr, nullptr);
  const nlohmann::json report = model::to_json(build_audit_report(report_inputs(o), res.records));
  const auto& seedy = find_test(report, "Seeded::seedy");
  const auto& fr = seedy["failure_rate"];
  EXPECT_DOUBLE_EQ(fr["point"].get<double>(), 2.0 / 26);
  EXPECT_LT(fr["clopper_pearson"][0].get<double>(), 2.0 / 26);
  EXPECT_GT(fr["clopper_pearson"][1].get<double>(), fr["upper_one_sided"].get<double>());
  const std::size_t k = seedy["retries"]["k"];
  const double upper = fr["upper_one_sided"];
  EXPECT_LE(std::pow(upper, double(k + 1)), 1e-4);
  EXPECT_GT(std::pow(upper, double(k)), 1e-4);
  EXPECT_EQ(seedy["retries"]["statement"],
            "with " + std::to_string(k) + " retries, spurious failure <= 0.0001 at 95%");
  // A test that never failed gets no retry count, and never "retrying is no fix".
  const std::string stable = find_test(report, "Stable::passes")["retries"]["statement"];
  EXPECT_EQ(stable,
            "no failure in 30 runs; showing that no retry is needed (failure rate <= 0.0001 at "
            "95%) takes about 29956 runs");
  EXPECT_DOUBLE_EQ(seedy["duration"]["mean"].get<double>(), 0.002);
  EXPECT_NEAR(seedy["duration"]["stddev"].get<double>(), 0.0, 1e-15);
}

TEST(AuditRunner, TimeoutsAndStartFailuresAreCounted) {
  AuditOptions o = base_options(20);
  ScriptedExecutor exec([](const RunRequest& r) {
    ProcessResult pr;
    if (r.seed % 5 == 0)
      pr.status = ProcessStatus::kTimedOut;
    else if (r.seed == 7)
      pr.status = ProcessStatus::kFailedToStart, pr.error = "./x: not found";
    else
      pr.status = ProcessStatus::kExited, pr.exit_code = 0;
    return pr;
  });
  o.junit = JunitMode::kNone;
  const auto res = run_audit(o, exec, {}, nullptr, nullptr);
  const nlohmann::json report = model::to_json(build_audit_report(report_inputs(o), res.records));
  ASSERT_EQ(report["tests"].size(), 1u);  // no testcases: the command itself is the test
  const auto& t = report["tests"][0];
  EXPECT_EQ(t["name"], "(command)");
  EXPECT_EQ(t["outcomes"]["timeout"], 4);
  EXPECT_EQ(t["outcomes"]["error"], 1);
  EXPECT_EQ(t["outcomes"]["pass"], 15);
  EXPECT_EQ(t["classification"], "timing-out");
}

TEST(AuditRunner, CancelStopsAndResumeReachesTheSameCounts) {
  const AuditOptions o = base_options(40);
  ScriptedExecutor exec(fixture_script);
  const auto full = run_audit(o, exec, {}, nullptr, nullptr);

  std::atomic<bool> cancel{false};
  AuditHooks hooks;
  hooks.on_run = [&](const RunRecord&, std::size_t done, std::size_t) {
    if (done == 13) cancel = true;
  };
  const auto first = run_audit(o, exec, {}, nullptr, &cancel, hooks);
  EXPECT_TRUE(first.interrupted);
  EXPECT_GE(first.records.size(), 13u);
  EXPECT_LT(first.records.size(), 40u);
  const auto resumed = run_audit(o, exec, first.records, nullptr, nullptr);
  EXPECT_EQ(resumed.records.size(), 40u);
  EXPECT_EQ(resumed.executed, 40u - first.records.size());

  auto in = report_inputs(o);
  nlohmann::json a = model::to_json(build_audit_report(in, full.records))["tests"];
  nlohmann::json b = model::to_json(build_audit_report(in, resumed.records))["tests"];
  EXPECT_EQ(a, b);
}

TEST(AuditRunner, ShardsMergeToTheSameReportAsOneRun) {
  AuditOptions o = base_options(25);
  ScriptedExecutor exec(fixture_script);
  const auto whole = run_audit(o, exec, {}, nullptr, nullptr);
  std::vector<RunRecord> merged;
  for (std::size_t k = 0; k < 3; ++k) {
    AuditOptions shard = o;
    shard.shard_index = k;
    shard.shard_count = 3;
    const auto part = run_audit(shard, exec, {}, nullptr, nullptr);
    for (const auto& r : part.records) EXPECT_EQ(r.run % 3, k);
    merged.insert(merged.end(), part.records.begin(), part.records.end());
  }
  auto in = report_inputs(o);
  EXPECT_EQ(model::to_json(build_audit_report(in, whole.records))["tests"],
            model::to_json(build_audit_report(in, merged))["tests"]);
}

TEST(AuditRunner, AblationNamesTheThreadsKnob) {
  AuditOptions o = base_options(21);
  o.settings = audit_settings({"generator", "threads", "deterministic"}, /*ablation=*/true);
  o.ablation = true;
  ASSERT_EQ(o.settings.size(), 5u);
  ScriptedExecutor exec(fixture_script);
  const auto res = run_audit(o, exec, {}, nullptr, nullptr);
  EXPECT_EQ(res.records.size(), 21u * 5);
  const nlohmann::json report = model::to_json(build_audit_report(report_inputs(o), res.records));
  const auto& diag = report["ablation"]["tests"];
  bool threads_seen = false, seedy_seen = false;
  for (const auto& d : diag) {
    if (d["name"] == "Threads::sum") {
      threads_seen = true;
      EXPECT_EQ(d["causes"], nlohmann::json::array({"threads"})) << d.dump(2);
      EXPECT_NE(d["summary"].get<std::string>().find("makes the failures disappear"),
                std::string::npos);
    }
    if (d["name"] == "Seeded::seedy") {
      seedy_seen = true;
      EXPECT_TRUE(d["causes"].empty()) << d.dump(2);  // same seeds in every setting but free
    }
  }
  EXPECT_TRUE(threads_seen);
  EXPECT_TRUE(seedy_seen);
  EXPECT_EQ(find_test(report, "Threads::sum", "controlled")["classification"], "stable-pass");
  EXPECT_EQ(find_test(report, "Threads::sum", "free:threads")["classification"], "flaky");
}

TEST(AuditRunner, AdaptiveRunsStopWhenSettledOrAtTheCap) {
  auto script_failing_when = [](std::uint64_t modulus) {
    return ScriptedExecutor([modulus](const RunRequest& r) {
      ProcessResult pr;
      pr.status = ProcessStatus::kExited;
      pr.exit_code = modulus && r.seed % modulus == 0 ? 1 : 0;
      return pr;
    });
  };
  AuditOptions o = base_options(100);
  o.runs_auto = true;
  o.junit = JunitMode::kNone;
  // Never fails: the 95% CP interval [0, 1 - 0.025^(1/n)] is narrower than 0.1 from n = 36 on,
  // so after the minimum (30) one batch of 10.
  auto stable = script_failing_when(0);
  EXPECT_EQ(run_audit(o, stable, {}, nullptr, nullptr).records.size(), 40u);
  // Fails every other run: 15 passes and 15 failures at the minimum are decisive.
  auto alternating = script_failing_when(2);
  EXPECT_EQ(run_audit(o, alternating, {}, nullptr, nullptr).records.size(), 30u);
  // Fails 1 run in 20: the interval stays wider than 0.1 and the decisive count is not reached
  // before the cap.
  o.runs = 60;
  auto rare = script_failing_when(20);
  EXPECT_EQ(run_audit(o, rare, {}, nullptr, nullptr).records.size(), 60u);
}

TEST(AuditRunner, RealProcessKeepsArgumentsLiteral) {
  AuditOptions o;
  o.command = {"/usr/bin/printf", "%s|", "a;rm -rf x", "$HOME"};
  o.runs = 2;
  o.junit = JunitMode::kNone;
  ProcessExecutor exec;
  const auto res = run_audit(o, exec, {}, nullptr, nullptr);
  ASSERT_EQ(res.records.size(), 2u);
  EXPECT_EQ(res.records[0].outcome, Outcome::kPass);
  EXPECT_EQ(res.records[0].stdout_tail, "a;rm -rf x|$HOME|");

  o.command = {"/nonexistent/flakescope-command"};
  const auto missing = run_audit(o, exec, {}, nullptr, nullptr);
  EXPECT_EQ(missing.records[0].outcome, Outcome::kError);
  EXPECT_FALSE(missing.records[0].error.empty());
}

TEST(AuditRunner, EnvironmentCarriesSeedAndSetting) {
  const EnvChanges controlled = run_environment(all_controlled(), 42);
  const EnvChanges free_gen = run_environment(free_only({Knob::kGenerator}), 42);
  auto get = [](const EnvChanges& env, const std::string& key) {
    std::optional<std::string> v = "<absent>";
    for (const auto& [k, val] : env)
      if (k == key) v = val;
    return v;
  };
  EXPECT_EQ(get(controlled, "FLAKESCOPE_SEED"), "42");
  EXPECT_EQ(get(controlled, "PYTHONHASHSEED"), "42");
  EXPECT_EQ(get(controlled, "OMP_NUM_THREADS"), "1");
  EXPECT_EQ(get(controlled, "CUBLAS_WORKSPACE_CONFIG"), ":4096:8");
  EXPECT_EQ(get(controlled, "FLAKESCOPE_SETTING"), "controlled");
  EXPECT_EQ(get(free_gen, "FLAKESCOPE_SEED"), std::nullopt);
  EXPECT_EQ(get(run_environment(all_controlled(), (1ull << 32) + 5), "PYTHONHASHSEED"), "5");
  std::set<int> counts;
  for (std::uint64_t s = 0; s < 64; ++s) counts.insert(free_thread_count(s));
  EXPECT_EQ(counts, (std::set<int>{1, 2, 3, 4}));
  EXPECT_EQ(replay_line({{"A", "x y"}, {"B", std::nullopt}}, {"cmd", "it's"}),
            "env -u B A='x y' cmd 'it'\\''s'");
}

TEST(AuditOptions, ValidationRejectsBadInput) {
  AuditOptions o;
  EXPECT_THROW(o.validate(), InputError);  // no command
  o.command = {"x"};
  EXPECT_NO_THROW(o.validate());
  o.jobs = 0;
  EXPECT_THROW(o.validate(), InputError);
  EXPECT_EQ(parse_shard("1/4"), (std::pair<std::size_t, std::size_t>{1, 4}));
  EXPECT_THROW(parse_shard("4/4"), InputError);
  EXPECT_THROW(parse_shard("x"), InputError);
  EXPECT_THROW(audit_settings({"nope"}, false), InputError);
  EXPECT_EQ(audit_settings({"threads"}, false)[0].name, "free:threads");
}

}  // namespace
}  // namespace flakescope::audit
