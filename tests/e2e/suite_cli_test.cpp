// Whole-suite audits from the CLI: --shard auto under a (simulated) Slurm array and Kubernetes
// Indexed Job equals one run; a test matrix merged with per-environment rates; adaptive runs per
// test on a pytest suite in-process.
#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "core/report.h"
#include "core/subprocess.h"

namespace flakescope::e2e {
namespace {

const std::string kGtestFixture =
    std::string(FLAKESCOPE_BINARY_DIR) + "/tests/fixtures/audit_fixture_gtest";
// The fixture's hanging and aborting tests are left out: seconds, not the 600 s run timeout.
const std::string kQuickFilter = "--gtest_filter=Stable.*:Seeded.FailsWhen*";
const std::string kFixtures = std::string(FLAKESCOPE_TEST_FIXTURES) + "/pytest/";

nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(read_file(path));
}

// Per test: counts and classification (what must agree between a merge and one run).
nlohmann::json statistics(const nlohmann::json& report) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : report["tests"])
    out.push_back({t["name"], t["setting"], t["runs"], t["failures"], t["classification"],
                   t["failing_runs"].size()});
  return out;
}

// The committed schema describes the sections these audits add (allocation, matrix): checked by
// an independent validator (Python's jsonschema) and by flakescope's own loader (`report`).
void expect_valid_report(const std::string& report_path) {
  ProcessSpec spec;
  spec.argv = {"/usr/bin/python3", "-c",
               "import json,sys,jsonschema\n"
               "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))",
               std::string(FLAKESCOPE_SOURCE_DIR) + "/reports/schema/report.schema.json",
               report_path};
  spec.timeout_seconds = 60;
  const ProcessResult r = run_process(spec);
  EXPECT_TRUE(r.succeeded()) << report_path << ": " << r.stderr_tail;
  const auto shown = run_cli({"report", report_path, "--format", "terminal"});
  EXPECT_EQ(shown.code, 0) << shown.err;
}

class SuiteCliTest : public ScratchDirTest {};

TEST_F(SuiteCliTest, ShardAutoFromSlurmAndKubernetesEqualsOneRun) {
  const auto single = run_cli({"audit", "--runs", "12", "--seed", "3", "--out", path("one.json"),
                               "--", kGtestFixture, kQuickFilter});
  ASSERT_LE(single.code, 1) << single.err;
  std::vector<std::string> slurm_logs, k8s_logs;
  for (int k = 0; k < 3; ++k) {
    const std::string s = path("slurm-" + std::to_string(k) + ".jsonl");
    const auto r = run_cli({"audit", "--runs", "12", "--seed", "3", "--shard", "auto", "--log", s,
                            "--out", path("s.json"), "--", kGtestFixture, kQuickFilter},
                           "",
                           {{"SLURM_ARRAY_TASK_ID", std::to_string(10 + k)},
                            {"SLURM_ARRAY_TASK_MIN", "10"},
                            {"SLURM_ARRAY_TASK_MAX", "12"},
                            {"SLURM_ARRAY_TASK_COUNT", "3"},
                            {"SLURM_ARRAY_JOB_ID", "5"},
                            {"JOB_COMPLETION_INDEX", std::nullopt}});
    ASSERT_LE(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("shard " + std::to_string(k) + "/3 (slurm array job 5)"),
              std::string::npos)
        << r.err;
    slurm_logs.push_back(s);
    const std::string p = path("k8s-" + std::to_string(k) + ".jsonl");
    const auto q = run_cli({"audit", "--runs", "12", "--seed", "3", "--shard", "auto", "--log", p,
                            "--out", path("k.json"), "--", kGtestFixture, kQuickFilter},
                           "",
                           {{"JOB_COMPLETION_INDEX", std::to_string(k)},
                            {"FLAKESCOPE_SHARD_COUNT", "3"},
                            {"SLURM_ARRAY_TASK_ID", std::nullopt}});
    ASSERT_LE(q.code, 1) << q.err;
    k8s_logs.push_back(p);
  }
  for (const auto& logs : {slurm_logs, k8s_logs}) {
    std::vector<std::string> args = {"merge"};
    args.insert(args.end(), logs.begin(), logs.end());
    args.insert(args.end(), {"--out", path("merged.json")});
    const auto m = run_cli(args);
    ASSERT_EQ(m.code, single.code) << m.err;
    EXPECT_EQ(statistics(read_json(path("merged.json"))), statistics(read_json(path("one.json"))));
  }
}

TEST_F(SuiteCliTest, ShardAutoWithoutClusterIsOneLineExitTwo) {
  const auto r = run_cli(
      {"audit", "--runs", "4", "--shard", "auto", "--out", path("x.json"), "--", kGtestFixture}, "",
      {{"SLURM_ARRAY_TASK_ID", std::nullopt}, {"JOB_COMPLETION_INDEX", std::nullopt}});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--shard auto: neither SLURM_ARRAY_TASK_ID"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  const auto k = run_cli(
      {"audit", "--runs", "4", "--shard", "auto", "--out", path("x.json"), "--", kGtestFixture}, "",
      {{"SLURM_ARRAY_TASK_ID", std::nullopt},
       {"JOB_COMPLETION_INDEX", "1"},
       {"FLAKESCOPE_SHARD_COUNT", std::nullopt}});
  EXPECT_EQ(k.code, 2);
  EXPECT_NE(k.err.find("--shard-count"), std::string::npos) << k.err;
}

TEST_F(SuiteCliTest, MatrixMergeReportsRatesPerEnvironment) {
  const std::vector<std::string> cmd = {"--",
                                        "/usr/bin/python3",
                                        "-m",
                                        "pytest",
                                        "-q",
                                        "-p",
                                        "no:cacheprovider",
                                        kFixtures + "test_matrix_fixture.py"};
  for (const std::string env : {"A", "B"}) {
    std::vector<std::string> args = {"audit",
                                     "--runs",
                                     "40",
                                     "--isolation",
                                     "inprocess",
                                     "--log",
                                     path(env + ".jsonl"),
                                     "--out",
                                     path(env + ".json")};
    args.insert(args.end(), cmd.begin(), cmd.end());
    const auto r = run_cli(args, "", {{"FLAKESCOPE_ENVIRONMENT", env}});
    ASSERT_LE(r.code, 1) << r.err;
    EXPECT_EQ(read_json(path(env + ".json"))["config"]["platform"]["label"], env);
  }
  const auto m = run_cli({"merge", path("A.jsonl"), path("B.jsonl"), "--out", path("m.json")});
  EXPECT_EQ(m.code, 1) << m.err;
  EXPECT_NE(m.out.find("DIFFERS"), std::string::npos) << m.out;
  const nlohmann::json matrix = read_json(path("m.json"))["matrix"];
  EXPECT_NE(matrix["homogeneity_test"].get<std::string>().find("Fisher"), std::string::npos);
  ASSERT_EQ(matrix["flagged"].size(), 1u);
  EXPECT_NE(matrix["flagged"][0].get<std::string>().find("test_only_on_b"), std::string::npos);
  expect_valid_report(path("m.json"));
  // A merged run log of two environments would mix their runs: refused.
  const auto l = run_cli({"merge", path("A.jsonl"), path("B.jsonl"), "--out", path("m2.json"),
                          "--log", path("m.jsonl")});
  EXPECT_EQ(l.code, 2) << l.err;
}

TEST_F(SuiteCliTest, RunsAutoAllocatesPerTest) {
  const auto r = run_cli({"audit", "--runs", "auto", "--isolation", "inprocess", "--out",
                          path("a.json"), "--", "/usr/bin/python3", "-m", "pytest", "-q", "-p",
                          "no:cacheprovider", kFixtures + "test_suite_allocation.py"});
  ASSERT_EQ(r.code, 1) << r.err << r.out;
  const nlohmann::json report = read_json(path("a.json"));
  const nlohmann::json& alloc = report["allocation"];
  expect_valid_report(path("a.json"));
  std::map<std::string, nlohmann::json> by;
  for (const auto& t : alloc["tests"])
    by[t["test"].get<std::string>().substr(t["test"].get<std::string>().rfind("::") + 2)] = t;
  EXPECT_EQ(by["test_flaky"]["verdict"], "flaky");
  EXPECT_EQ(by["test_always_fails"]["verdict"], "stable-fail");
  EXPECT_EQ(by["test_far_margin"]["verdict"], "stable-pass");
  EXPECT_EQ(by["test_far_margin"]["evidence"], "margin");
  EXPECT_NE(by["test_near_margin"]["evidence"], "deterministic");
  EXPECT_LT(by["test_far_margin"]["runs"].get<std::size_t>(),
            by["test_near_margin"]["runs"].get<std::size_t>());
  EXPECT_LT(alloc["executions"].get<std::size_t>(),
            alloc["baseline_executions"].get<std::size_t>() / 2);
  // The per-run records carry the same counts into the usual per-test section.
  for (const auto& t : report["tests"]) {
    if (t["name"].get<std::string>().find("test_flaky") != std::string::npos) {
      EXPECT_EQ(t["runs"], by["test_flaky"]["runs"]);
    }
  }
}

// `--runs auto` inside each shard: the shards split the suite's tests (every N-th collected test),
// each is allocated within its shard, and merging their logs gives the unsharded audit's counts.
TEST_F(SuiteCliTest, RunsAutoShardsSplitTheTestsAndMergeToOneRun) {
  const std::vector<std::string> cmd = {"--",
                                        "/usr/bin/python3",
                                        "-m",
                                        "pytest",
                                        "-q",
                                        "-p",
                                        "no:cacheprovider",
                                        kFixtures + "test_suite_allocation.py"};
  auto audit = [&](const std::string& name, const std::string& shard) {
    std::vector<std::string> args = {"audit",
                                     "--runs",
                                     "auto",
                                     "--isolation",
                                     "inprocess",
                                     "--log",
                                     path(name + ".jsonl"),
                                     "--out",
                                     path(name + ".json")};
    if (!shard.empty()) args.insert(args.end(), {"--shard", shard});
    args.insert(args.end(), cmd.begin(), cmd.end());
    return run_cli(args);
  };
  const auto whole = audit("whole", "");
  ASSERT_EQ(whole.code, 1) << whole.err;
  std::size_t tests = 0;
  for (const std::string k : {"0", "1"}) {
    const auto part = audit("s" + k, k + "/2");
    ASSERT_EQ(part.code, 1) << part.err;
    EXPECT_NE(part.err.find("flakescope audit: shard " + k + "/2: "), std::string::npos)
        << part.err;
    tests += read_json(path("s" + k + ".json"))["allocation"]["tests"].size();
  }
  EXPECT_EQ(tests, read_json(path("whole.json"))["allocation"]["tests"].size());
  const auto m = run_cli({"merge", path("s0.jsonl"), path("s1.jsonl"), "--out", path("m.json")});
  EXPECT_EQ(m.code, 1) << m.err;
  // The same per-test counts (listed shard by shard, not in collection order).
  auto sorted = [](nlohmann::json stats) {
    std::sort(stats.begin(), stats.end());
    return stats;
  };
  EXPECT_EQ(sorted(statistics(read_json(path("m.json")))),
            sorted(statistics(read_json(path("whole.json")))));
  // Process isolation's --runs auto stops on all runs' data: it cannot be split.
  const auto refused = run_cli({"audit", "--runs", "auto", "--shard", "0/2", "--", "true"});
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("cannot be sharded"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace flakescope::e2e
