// `flakescope probe` as a user runs it: real LibTorch probes in real worker processes, the report
// read back from disk. Each assertion is about a property that holds with certainty (bitwise
// identity of a deterministic computation) or with a margin that makes a false failure
// astronomically unlikely (a racy float sum over 40 runs never repeating one value).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "core/report.h"
#include "core/subprocess.h"

namespace flakescope {
namespace {

namespace fs = std::filesystem;

using Cli = e2e::CliResult;

class ProbeCli : public e2e::ScratchDirTest {
 protected:
  Cli run(std::vector<std::string> args, e2e::EnvChanges env = {}) const {
    return e2e::run_cli(std::move(args), dir_.string(), std::move(env), 300);
  }

  nlohmann::json probe_report(std::vector<std::string> args) {
    args.insert(args.begin(), "probe");
    args.insert(args.end(), {"--out", path("report.json")});
    Cli c = run(args);
    EXPECT_EQ(c.code, 0) << c.err;
    return load_report(path("report.json"));
  }

  static const nlohmann::json& setting(const nlohmann::json& probe, const std::string& name) {
    for (const auto& s : probe["settings"])
      if (s["setting"] == name) return s;
    ADD_FAILURE() << "no setting " << name;
    static nlohmann::json none;
    return none;
  }
};

// Exactly one line on stderr, naming the problem.
void expect_one_line_error(const Cli& c, const std::string& needle) {
  EXPECT_EQ(c.code, 2);
  EXPECT_NE(c.err.find(needle), std::string::npos) << c.err;
  std::string trimmed = c.err;
  while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
  EXPECT_EQ(trimmed.find('\n'), std::string::npos) << "more than one line: " << c.err;
}

TEST_F(ProbeCli, ConstantIsBitwiseDeterministicUnderEverySetting) {
  auto r = probe_report({"calibration/constant", "--runs", "10"});
  ASSERT_EQ(r["probes"].size(), 1u);
  const auto& p = r["probes"][0];
  EXPECT_GE(p["settings"].size(), 7u);  // controlled, 5 CPU knobs freed alone, all free
  for (const auto& s : p["settings"]) {
    EXPECT_EQ(s["verdict"], "bitwise-deterministic") << s["setting"];
    EXPECT_EQ(s["runs"], 10);
    EXPECT_EQ(s["metrics"]["out"]["distinct_outputs"], 1);
  }
  EXPECT_TRUE(p["diagnosis"]["causes"].empty());
  EXPECT_EQ(r["schema"], "flakescope.report/1");
  EXPECT_TRUE(r["libtorch"]["version"].is_string());
  EXPECT_FALSE(r["partial"].get<bool>());
}

// A setting that kills its worker is recorded with the signal, and the settings after it still run
// in a fresh worker (the GPU study hit this: one crashing setting hid eight others).
TEST_F(ProbeCli, CrashInOneSettingIsIsolatedFromTheOthers) {
  Cli c = run({"probe", "calibration/constant", "--runs", "3", "--settings",
               "controlled,free:threads,free", "--out", path("report.json")},
              {{"FLAKESCOPE_ENGINE", FLAKESCOPE_FAULTS_ENGINE},
               {"FLAKESCOPE_TEST_INJECT", "abort:calibration/constant:free:threads"}});
  EXPECT_EQ(c.code, 0) << c.err;
  auto r = load_report(path("report.json"));
  const auto& p = r["probes"][0];
  EXPECT_EQ(setting(p, "controlled")["verdict"], "bitwise-deterministic");
  EXPECT_EQ(setting(p, "free:threads")["verdict"], "error");
  EXPECT_NE(setting(p, "free:threads")["error"].get<std::string>().find("SIGABRT"),
            std::string::npos)
      << setting(p, "free:threads")["error"];
  EXPECT_EQ(setting(p, "free")["verdict"], "bitwise-deterministic");
  EXPECT_EQ(setting(p, "free")["runs"], 3);
}

// The shipped engine has no fault injection: the variable the test engine reads changes nothing.
TEST_F(ProbeCli, ShippedEngineIgnoresTheTestFaultVariable) {
  Cli c = run({"probe", "calibration/constant", "--runs", "3", "--settings",
               "controlled,free:threads", "--out", path("report.json")},
              {{"FLAKESCOPE_TEST_INJECT", "abort:calibration/constant:free:threads"}});
  EXPECT_EQ(c.code, 0) << c.err;
  auto r = load_report(path("report.json"));
  EXPECT_EQ(setting(r["probes"][0], "free:threads")["verdict"], "bitwise-deterministic");
}

// --runs auto --target T: the worker stabilizes the bound at T (it stayed at 1e-4 before), and
// the auto schedule is the documented one: 50 runs, then batches of 50, well below the cap for a
// constant output.
TEST_F(ProbeCli, RunsAutoStabilizesTheTargetBound) {
  auto r = probe_report({"calibration/constant", "--runs", "auto", "--target", "1e-3",
                         "--confidence", "0.9", "--settings", "controlled"});
  const auto& s = setting(r["probes"][0], "controlled");
  EXPECT_DOUBLE_EQ(s["adaptive_target"].get<double>(), 1e-3);
  const int runs = s["runs"].get<int>();
  EXPECT_EQ(runs % 50, 0) << runs;
  EXPECT_GE(runs, 100);
  EXPECT_LT(runs, 500);
  EXPECT_NE(s["adaptive_stop"].get<std::string>().find("stable"), std::string::npos);
  EXPECT_EQ(r["config"]["runs"], "auto");
  EXPECT_EQ(r["config"]["max_runs"], 500);
  EXPECT_DOUBLE_EQ(r["config"]["target"].get<double>(), 1e-3);
  EXPECT_DOUBLE_EQ(r["config"]["confidence"].get<double>(), 0.9);
}

// --max-runs is the cap of auto, its own option (it shared --runs' field before).
TEST_F(ProbeCli, MaxRunsCapsRunsAuto) {
  auto r = probe_report(
      {"calibration/racy_sum", "--runs", "auto", "--max-runs", "60", "--settings", "controlled"});
  const auto& s = setting(r["probes"][0], "controlled");
  EXPECT_LE(s["runs"].get<int>(), 60);
  EXPECT_EQ(r["config"]["max_runs"], 60);
  expect_one_line_error(run({"probe", "calibration/constant", "--runs", "5", "--max-runs", "60"}),
                        "--max-runs is the cap of --runs auto");
}

// One run-count parser for probe and audit: the same bounds and the same words.
TEST_F(ProbeCli, RunCountErrorsAreOneLine) {
  for (const std::string bad : {"99999999999999999999999", "1", "-3", "10x", ""})
    expect_one_line_error(run({"probe", "calibration/constant", "--runs", bad}),
                          "--runs must be an integer in 2..10000000 or 'auto', got '" + bad + "'");
  expect_one_line_error(run({"audit", "--runs", "99999999999999999999999", "--", "true"}),
                        "--runs must be an integer in 1..10000000 or 'auto', got "
                        "'99999999999999999999999'");
  expect_one_line_error(run({"audit", "--runs", "auto", "--max-runs", "0", "--", "true"}),
                        "--max-runs must be an integer in 1..10000000, got '0'");
  expect_one_line_error(run({"audit", "--runs", "5", "--max-runs", "40", "--", "true"}),
                        "--max-runs is the cap of --runs auto");
}

// --jobs runs probes concurrently; the report still lists them in the order they were named.
TEST_F(ProbeCli, JobsKeepTheNamedOrder) {
  auto r = probe_report({"calibration/seeded_noise", "calibration/constant", "ops/softmax",
                         "--runs", "3", "--settings", "controlled", "--jobs", "3"});
  ASSERT_EQ(r["probes"].size(), 3u);
  EXPECT_EQ(r["probes"][0]["name"], "calibration/seeded_noise");
  EXPECT_EQ(r["probes"][1]["name"], "calibration/constant");
  EXPECT_EQ(r["probes"][2]["name"], "ops/softmax");
  for (const auto& p : r["probes"])
    EXPECT_EQ(setting(p, "controlled")["verdict"], "bitwise-deterministic") << p["name"];
  EXPECT_EQ(r["config"]["jobs"], 3);
  EXPECT_FALSE(r["partial"].get<bool>());
}

TEST_F(ProbeCli, ReportValidatesAgainstTheCommittedSchema) {
  probe_report({"calibration/constant", "calibration/seeded_noise", "--runs", "4", "--settings",
                "controlled,free:generator"});
  ProcessSpec spec;
  spec.argv = {"/usr/bin/python3", "-c",
               "import json,sys,jsonschema\n"
               "schema=json.load(open(sys.argv[1]))\n"
               "jsonschema.validate(json.load(open(sys.argv[2])), schema)\n"
               "print('valid')",
               std::string(FLAKESCOPE_SOURCE_DIR) + "/reports/schema/report.schema.json",
               path("report.json")};
  spec.timeout_seconds = 60;
  ProcessResult r = run_process(spec);
  EXPECT_TRUE(r.succeeded()) << r.stderr_tail;
  EXPECT_NE(r.stdout_tail.find("valid"), std::string::npos);
}

TEST_F(ProbeCli, RacySumIsNondeterministicWhenControlled) {
  auto r = probe_report({"calibration/racy_sum", "--runs", "40", "--settings", "controlled"});
  const auto& s = setting(r["probes"][0], "controlled");
  EXPECT_EQ(s["verdict"], "nondeterministic");
  EXPECT_GE(s["metrics"]["out"]["distinct_outputs"].get<int>(), 2);
  EXPECT_EQ(r["probes"][0]["diagnosis"]["controlled"], "nondeterministic");
}

TEST_F(ProbeCli, LargeSumIsDiagnosedWithThreads) {
  auto r = probe_report({"ops/sum_large", "--runs", "6", "--threads", "2,1", "--settings",
                         "controlled,free:threads,free:generator"});
  const auto& p = r["probes"][0];
  EXPECT_EQ(setting(p, "controlled")["verdict"], "bitwise-deterministic");
  EXPECT_EQ(setting(p, "free:threads")["verdict"], "nondeterministic");
  EXPECT_EQ(setting(p, "free:generator")["verdict"], "bitwise-deterministic");
  EXPECT_EQ(p["diagnosis"]["causes"], nlohmann::json::array({"threads"}));
  EXPECT_NE(p["diagnosis"]["summary"].get<std::string>().find("thread count"), std::string::npos);
}

TEST_F(ProbeCli, DropoutWithoutSeededGeneratorIsDiagnosedWithGenerator) {
  auto r = probe_report(
      {"ops/dropout_train", "--runs", "5", "--settings", "controlled,free:generator,free:threads"});
  const auto& p = r["probes"][0];
  EXPECT_EQ(setting(p, "controlled")["verdict"], "bitwise-deterministic");
  EXPECT_EQ(setting(p, "free:generator")["verdict"], "nondeterministic");
  EXPECT_EQ(p["diagnosis"]["causes"], nlohmann::json::array({"generator"}));
}

TEST_F(ProbeCli, ExpectDeterministicExitsOneOnAFinding) {
  Cli c = run({"probe", "calibration/racy_sum", "--runs", "40", "--settings", "controlled",
               "--expect-deterministic", "--out", path("r.json")});
  EXPECT_EQ(c.code, 1) << c.err;
  c = run({"probe", "calibration/constant", "--runs", "3", "--settings", "controlled",
           "--expect-deterministic", "--out", path("c.json")});
  EXPECT_EQ(c.code, 0) << c.err;
}

TEST_F(ProbeCli, TorchScriptModelProbes) {
  const std::string model = path("mlp.pt");
  ProcessSpec spec;
  spec.argv = {"/usr/bin/python3",
               std::string(FLAKESCOPE_SOURCE_DIR) + "/scripts/make_torchscript_model.py", model};
  spec.timeout_seconds = 120;
  ProcessResult made = run_process(spec);
  ASSERT_TRUE(made.succeeded()) << made.stderr_tail;
  auto r = probe_report({model, "--input-shape", "2,3,16,16", "--runs", "4", "--settings",
                         "controlled,free:threads"});
  const auto& p = r["probes"][0];
  EXPECT_EQ(p["name"], model);
  EXPECT_EQ(setting(p, "controlled")["verdict"], "bitwise-deterministic");
  EXPECT_FALSE(p["outputs"].empty());
}

TEST_F(ProbeCli, BadInputIsOneLineAndExitTwo) {
  expect_one_line_error(run({"probe", "ops/no_such_probe"}), "unknown probe 'ops/no_such_probe'");
  expect_one_line_error(run({"probe", "calibration/constant", "--runs", "many"}), "--runs");
  expect_one_line_error(run({"probe", "calibration/constant", "--settings", "free:gpu"}),
                        "unknown knob 'gpu'");
  expect_one_line_error(run({"probe", "calibration/constant", "--bogus-flag"}), "bogus-flag");
  expect_one_line_error(run({"probe", path("missing.pt"), "--input-shape", "2,3,16,16"}),
                        "missing.pt");
  {
    std::ofstream(path("corrupt.pt")) << "this is not a zip archive";
    expect_one_line_error(run({"probe", path("corrupt.pt"), "--input-shape", "2,3,16,16"}),
                          "corrupt.pt");
  }
  expect_one_line_error(run({"probe", path("corrupt.pt"), "--input-shape", "4,x"}),
                        "--input-shape");
  expect_one_line_error(run({"probe", path("corrupt.pt")}), "--input-shape");
  expect_one_line_error(run({"nonsense"}), "unknown command");
}

TEST_F(ProbeCli, ExpectedFileOfTheWrongShapeIsAVerdictMissingFileIsExitTwo) {
  expect_one_line_error(run({"probe", "calibration/constant", "--expected", path("nope.npy")}),
                        "nope.npy");
  // A valid .npy (float32, shape (3,)) that does not match the probe's (256, 64) output.
  std::string npy("\x93NUMPY\x01\x00", 8);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  header.resize(118 - 1, ' ');
  header += '\n';
  npy += std::string(1, char(header.size() & 0xff)) + std::string(1, char(header.size() >> 8));
  npy += header + std::string(12, '\0');
  std::ofstream(path("small.npy"), std::ios::binary) << npy;
  auto r = probe_report({"calibration/constant", "--runs", "2", "--settings", "controlled",
                         "--expected", path("small.npy")});
  const auto& s = setting(r["probes"][0], "controlled");
  EXPECT_EQ(s["verdict"], "error");
  EXPECT_NE(s["error"].get<std::string>().find("must match"), std::string::npos) << s["error"];
}

TEST_F(ProbeCli, ListNamesProbesKnobsAndSettings) {
  Cli c = run({"list"});
  EXPECT_EQ(c.code, 0);
  for (const char* s :
       {"calibration/racy_sum", "ops/sum_large", "threads", "generator", "free:batch"})
    EXPECT_NE(c.out.find(s), std::string::npos) << s;
  c = run({"list", "probes", "--json"});
  EXPECT_EQ(c.code, 0);
  EXPECT_TRUE(nlohmann::json::parse(c.out).is_array());
}

}  // namespace
}  // namespace flakescope
