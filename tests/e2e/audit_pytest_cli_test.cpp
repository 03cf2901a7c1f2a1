// The pytest user's path through `flakescope audit`, on the project's pytest fixtures: seeds that
// give the same per-test outcomes in both isolations, replay lines that reproduce a failure,
// torch's knobs applied in the test process (the ablation names threads), retry decorators
// measured one attempt at a time, environment errors and xfail kinds, an interrupted in-process
// audit that keeps its outcomes, and `pytest --flakescope-runs` inside the user's own run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli_runner.h"
#include "core/report.h"
#include "core/subprocess.h"

extern char** environ;

namespace flakescope {
namespace {

namespace fs = std::filesystem;

const std::string kFixtures = std::string(FLAKESCOPE_TEST_FIXTURES) + "/pytest";

using Cli = e2e::CliResult;

class PytestAudit : public e2e::ScratchDirTest {
 protected:
  Cli audit(std::vector<std::string> args, const std::string& fixture,
            e2e::EnvChanges env = {}) const {
    std::vector<std::string> a = {"audit"};
    a.insert(a.end(), args.begin(), args.end());
    for (const char* w : {"--", "/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"})
      a.push_back(w);
    a.push_back(kFixtures + "/" + fixture);
    return e2e::run_cli(a, dir_.string(), std::move(env), 300);
  }
  nlohmann::json report(const std::string& name) const {
    return nlohmann::json::parse(read_file(path(name)));
  }
};

const nlohmann::json& test_named(const nlohmann::json& r, const std::string& suffix,
                                 const std::string& setting = "controlled") {
  for (const auto& t : r["tests"]) {
    const std::string name = t["name"];
    if (t["setting"] == setting && name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return t;
  }
  static const nlohmann::json none;
  ADD_FAILURE() << "no test " << suffix << " in " << r["tests"].dump();
  return none;
}

// Each test's outcome counts and timeline, by name: what must not depend on the isolation.
std::map<std::string, nlohmann::json> per_test(const nlohmann::json& r) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& t : r["tests"])
    out[t["name"].get<std::string>() + "@" + t["setting"].get<std::string>()] = {
        t["outcomes"], t["timeline"], t["classification"]};
  return out;
}

TEST_F(PytestAudit, SeedsGiveTheSameOutcomesInBothIsolationsAndTheReplayReproduces) {
  const Cli in =
      audit({"--isolation", "inprocess", "--runs", "8", "--jobs", "2", "--out", "in.json"},
            "test_seeded_draws.py");
  const Cli pr = audit({"--isolation", "process", "--runs", "8", "--jobs", "2", "--out", "pr.json"},
                       "test_seeded_draws.py");
  EXPECT_EQ(in.code, 1) << in.err;
  EXPECT_EQ(pr.code, 1) << pr.err;
  const auto ri = report("in.json"), rp = report("pr.json");
  EXPECT_EQ(per_test(ri), per_test(rp));
  // Node ids, as pytest takes them; the draws make some seeds fail and others pass.
  const auto& draw = test_named(rp, "test_seeded_draws.py::test_torch_draw");
  EXPECT_EQ(draw["name"], "test_seeded_draws.py::test_torch_draw");
  EXPECT_GT(draw["failures"].get<int>(), 0) << draw.dump();
  EXPECT_LT(draw["failures"].get<int>(), 8) << draw.dump();
  EXPECT_EQ(test_named(rp, "::test_no_draw")["drew_random"]["runs"], 0);
  EXPECT_EQ(draw["drew_random"]["runs"], 8);
  // The knobs as torch reported them inside the test process.
  for (const auto* r : {&ri, &rp}) {
    const auto& torch = (*r)["knobs_applied"]["controlled"]["torch"];
    EXPECT_EQ(torch["deterministic_algorithms"], true) << r->dump();
    EXPECT_EQ(torch["num_threads"], 1);
  }

  // The printed replay line runs that one test with the failing seed and fails again.
  const auto& failing = draw["failing_runs"][0];
  const std::string replay = failing["replay"];
  EXPECT_EQ(failing["setting"], "controlled");
  EXPECT_NE(replay.find("FLAKESCOPE_SEED=" + std::to_string(failing["seed"].get<int>()) + " "),
            std::string::npos)
      << replay;
  EXPECT_NE(replay.find("-p flakescope_pytest"), std::string::npos) << replay;
  EXPECT_NE(replay.find("::test_torch_draw'"), std::string::npos) << replay;
  ProcessSpec sh;
  sh.argv = {"/bin/sh", "-c", replay};
  sh.cwd = dir_.string();
  sh.timeout_seconds = 120;
  const ProcessResult again = run_process(sh);
  EXPECT_EQ(again.exit_code, 1) << again.stdout_tail << again.stderr_tail;
  EXPECT_NE(again.stdout_tail.find("1 failed"), std::string::npos) << again.stdout_tail;
  EXPECT_EQ(again.stdout_tail.find("passed"), std::string::npos) << again.stdout_tail;
}

// In one process the test sees what its earlier repetition left: repeat-dependent, not flaky
// (exit 0, no tolerance advice). In a process per run it passes, and the ids drawn at import are
// the same in every run, so each of them has every run.
TEST_F(PytestAudit, LeftoverStateIsRepeatDependentAndIdsDrawnAtImportAreStable) {
  const Cli in = audit({"--isolation", "inprocess", "--runs", "5", "--capture", "--out", "in.json"},
                       "test_repetition_state.py");
  EXPECT_EQ(in.code, 0) << in.err << in.out;
  const auto ri = report("in.json");
  const auto& leftover = test_named(ri, "::test_changes_its_shared_input");
  EXPECT_EQ(leftover["classification"], "repeat-dependent") << leftover.dump();
  EXPECT_NE(leftover["retries"]["statement"].get<std::string>().find("--isolation process"),
            std::string::npos)
      << leftover.dump();
  for (const auto& a : ri["assertions"])
    if (a["test"].get<std::string>().find("test_changes_its_shared_input") != std::string::npos)
      EXPECT_EQ(a["recommendation"]["action"], "review") << a.dump();
  EXPECT_NE(in.out.find("not a flake: it passed its first repetition"), std::string::npos)
      << in.out;

  const Cli pr = audit({"--isolation", "process", "--runs", "3", "--out", "pr.json"},
                       "test_repetition_state.py");
  EXPECT_EQ(pr.code, 0) << pr.err;
  const auto rp = report("pr.json");
  EXPECT_EQ(test_named(rp, "::test_changes_its_shared_input")["classification"], "stable-pass");
  EXPECT_FALSE(rp.contains("collection_warning")) << rp.dump();
  std::size_t drawn = 0;
  for (const auto& t : rp["tests"])
    if (t["name"].get<std::string>().find("test_drawn_at_import[") != std::string::npos) {
      ++drawn;
      EXPECT_EQ(t["runs"], 3) << t.dump();
    }
  EXPECT_EQ(drawn, 2u) << rp["tests"].dump();
}

TEST_F(PytestAudit, AblationOnAPytestCommandNamesTheThreadsKnob) {
  const Cli c = audit(
      {"--isolation", "inprocess", "--ablation", "--runs", "6", "--jobs", "2", "--out", "r.json"},
      "test_torch_threads.py");
  EXPECT_EQ(c.code, 1) << c.err;
  const auto r = report("r.json");
  const auto& sum = test_named(r, "::test_sum_matches_single_thread_reference", "free:threads");
  EXPECT_GT(sum["failures"].get<int>(), 0) << sum.dump();
  EXPECT_EQ(test_named(r, "::test_sum_matches_single_thread_reference")["failures"], 0);
  bool seen = false;
  for (const auto& d : r["ablation"]["tests"])
    if (d["name"].get<std::string>().find("test_sum_matches") != std::string::npos) {
      seen = true;
      EXPECT_EQ(d["causes"], nlohmann::json::array({"threads"})) << d.dump(2);
    }
  EXPECT_TRUE(seen) << r["ablation"].dump(2);
  // free:threads read back from torch: the count the plugin set (1..4, from the seed).
  EXPECT_TRUE(r["knobs_applied"]["free:threads"]["torch"]["num_threads"].is_number());
  EXPECT_EQ(r["knobs_applied"]["free:deterministic"]["torch"]["deterministic_algorithms"], false);
}

TEST_F(PytestAudit, RetryDecoratorsAreMeasuredOneAttemptAtATime) {
  const Cli c = audit({"--isolation", "inprocess", "--runs", "40", "--out", "r.json"},
                      "test_retries.py", {{"PYTHONPATH", kFixtures + "/retry_pkg"}});
  EXPECT_EQ(c.code, 1) << c.err;
  const auto r = report("r.json");
  std::map<std::string, nlohmann::json> by;
  for (const auto& e : r["retries_measured"]) {
    const std::string name = e["name"];
    by[name.substr(name.rfind("::") + 2)] = e;
  }
  ASSERT_EQ(by.size(), 5u) << r["retries_measured"].dump(2);
  const auto& hf = by["test_hf_flaky"];
  EXPECT_EQ(hf["attempts_declared"], 10);
  EXPECT_GT(hf["failures"].get<int>(), 0);
  EXPECT_LT(hf["attempts_needed"].get<int>(), 10) << hf.dump();
  EXPECT_EQ(hf["verdict"], "`@is_flaky(max_attempts=10)` -> `max_attempts=" +
                               std::to_string(hf["attempts_needed"].get<int>()) + "` suffices");
  EXPECT_EQ(
      by["test_hf_never_fails"]["verdict"].get<std::string>().rfind("not flaky in 40 runs", 0), 0u)
      << by["test_hf_never_fails"].dump();
  EXPECT_NE(by["test_hf_never_fails"]["verdict"].get<std::string>().find("remove the decorator"),
            std::string::npos);
  EXPECT_EQ(by["test_diffusers_broken"]["verdict"].get<std::string>().rfind(
                "fails more often than retrying can hide", 0),
            0u);
  EXPECT_EQ(by["test_rerun_marker"]["mechanism"], "pytest-rerunfailures");
  EXPECT_EQ(by["test_flaky_package"]["decorator"], "@flaky(max_runs=3)");
}

TEST_F(PytestAudit, EnvironmentErrorsAndXfailKindsAreTheirOwnClasses) {
  const Cli c = audit({"--runs", "4", "--jobs", "2", "--out", "r.json"}, "test_outcome_kinds.py");
  EXPECT_EQ(c.code, 0) << c.err;  // nothing flaky: the machine's errors and known bugs
  const auto r = report("r.json");
  const auto& hub = test_named(r, "::test_hub_offline");
  EXPECT_EQ(hub["classification"], "environment-error");
  EXPECT_EQ(hub["environment_errors"]["network: OSError"], 4) << hub.dump();
  EXPECT_EQ(
      test_named(
          r, "::test_missing_module")["environment_errors"]["missing-module: ModuleNotFoundError"],
      4);
  EXPECT_EQ(test_named(r, "::test_out_of_memory")["classification"], "environment-error");
  EXPECT_EQ(test_named(r, "::test_real_failure")["classification"], "stable-fail");
  EXPECT_EQ(test_named(r, "::test_xfail_strict")["classification"], "xfail");
  EXPECT_EQ(test_named(r, "::test_xpass_strict")["classification"], "stable-fail");
  EXPECT_EQ(test_named(r, "::test_xfail_sometimes")["classification"], "xfail-flaky");
  EXPECT_EQ(test_named(r, "::test_skip")["outcomes"]["skip"], 4);
  EXPECT_EQ(test_named(r, "::test_skip")["classification"], "skipped");
}

pid_t start_cli(const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> argv = {FLAKESCOPE_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& s : argv) cargv.push_back(s.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  const std::string old = fs::current_path().string();
  fs::current_path(cwd);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, cargv.data(), environ);
  fs::current_path(old);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0);
  return pid;
}

TEST_F(PytestAudit, InterruptedInprocessAuditKeepsItsOutcomesAndResumes) {
  // 30 tests; the 12th of the first repetition leaves a file behind, then the audit gets SIGINT
  // while the rest still runs (each test sleeps 0.2 s).
  std::ofstream(path("test_many.py")) << R"(import os, time, pytest

@pytest.mark.parametrize("i", range(30))
def test_step(i):
    if i == 11 and not os.path.exists("reached"):
        open("reached", "w").close()
    with open("ran.txt", "a") as f:
        f.write("%d %s\n" % (i, os.environ["FLAKESCOPE_SEED"]))
    time.sleep(0.2)
    assert int(os.environ["FLAKESCOPE_SEED"]) % 3 != 0 or i != 5
)";
  auto args = [&](const std::string& out, bool resume) {
    std::vector<std::string> a = {"audit", "--isolation", "inprocess", "--runs", "3",
                                  "--log", "a.log",       "--out",     out};
    if (resume) a.push_back("--resume");
    for (const char* w :
         {"--", "/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_many.py"})
      a.push_back(w);
    return a;
  };
  const pid_t pid = start_cli(args("partial.json", false), dir_.string());
  for (int i = 0; i < 6000 && !fs::exists(path("reached")); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(fs::exists(path("reached")));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  const auto partial = report("partial.json");
  EXPECT_EQ(partial["partial"], true);
  std::size_t recorded = 0;
  for (const auto& t : partial["tests"]) recorded += t["runs"].get<std::size_t>();
  EXPECT_GE(recorded, 11u) << partial["tests"].dump();
  EXPECT_LT(recorded, 90u);

  const Cli resumed = e2e::run_cli(args("full.json", true), dir_.string(), {}, 300);
  EXPECT_EQ(resumed.code, 1) << resumed.err;  // seed 3: test_step[5] fails
  const auto full = report("full.json");
  EXPECT_EQ(full["partial"], false);
  EXPECT_EQ(full["tests"].size(), 30u);
  for (const auto& t : full["tests"]) EXPECT_EQ(t["runs"], 3) << t["name"];
  EXPECT_EQ(test_named(full, "::test_step[5]")["failures"], 1);
  // The resumed audit ran only what had no outcome: each (test, seed) once, but for the one
  // running when SIGINT came (its outcome was never recorded).
  std::map<std::string, int> executions;
  std::ifstream ran(path("ran.txt"));
  for (std::string line; std::getline(ran, line);) ++executions[line];
  EXPECT_EQ(executions.size(), 90u);
  int again = 0;
  for (const auto& [pair, n] : executions) again += n - 1;
  EXPECT_LE(again, 1) << "tests recorded before the interrupt ran again";
  // The log holds the interrupted runs and their completions; merge counts each run once.
  const Cli merged = e2e::run_cli({"merge", "a.log", "--out", "merged.json"}, dir_.string());
  ASSERT_EQ(merged.code, 1) << merged.err;
  const auto m = report("merged.json");
  for (const auto& t : m["tests"]) EXPECT_EQ(t["runs"], 3) << t["name"];
  EXPECT_EQ(test_named(m, "::test_step[5]")["failures"], 1);
}

TEST_F(PytestAudit, FlakescopeRunsInsideTheUsersOwnPytestRun) {
  ProcessSpec spec;
  spec.argv = {"/usr/bin/python3",
               "-m",
               "pytest",
               "-q",
               "-p",
               "no:cacheprovider",
               "-p",
               "flakescope_pytest",
               "--flakescope-runs",
               "20",
               "--flakescope-out",
               "r.json",
               kFixtures + "/test_audit_fixture.py"};
  spec.cwd = dir_.string();
  spec.env = {{"PYTHONPATH", std::string(FLAKESCOPE_TEST_FIXTURES) + "/../../integrations/pytest"},
              {"FLAKESCOPE_BIN", FLAKESCOPE_CLI}};
  spec.timeout_seconds = 120;
  spec.output_tail_bytes = 1 << 20;
  const ProcessResult p = run_process(spec);
  EXPECT_EQ(p.exit_code, 1) << p.stdout_tail << p.stderr_tail;  // test_seed_flaky fails at 10, 20
  const auto r = report("r.json");
  EXPECT_EQ(r["config"]["isolation"], "inprocess");
  EXPECT_EQ(r["runs"], 20);
  const auto& seed = test_named(r, "test_audit_fixture.py::test_seed_flaky");
  EXPECT_EQ(seed["outcomes"]["fail"], 2);
  EXPECT_EQ(seed["failing_runs"][0]["seed"], 10);
  EXPECT_EQ(test_named(r, "::test_known_bug")["classification"], "xfail");
  // flakescope's summary at the end of pytest's output.
  EXPECT_NE(p.stdout_tail.find("flakescope: 20 run(s) per test"), std::string::npos)
      << p.stdout_tail;
}

// A plugin folder whose flakescope_pytest cannot be imported (a broken install, a stale copy):
// every run would fail for flakescope's reason, so the audit stops with that reason, in both
// isolations, and writes no report.
TEST_F(PytestAudit, APluginThatDoesNotLoadStopsTheAuditWithItsReason) {
  const fs::path plugin = dir_ / "broken-plugin";
  fs::create_directories(plugin);
  std::ofstream(plugin / "flakescope_pytest.py") << "import flakescope_module_that_is_missing\n";
  for (const char* isolation : {"inprocess", "process"}) {
    const std::string out = std::string(isolation) + ".json";
    const Cli r = audit({"--isolation", isolation, "--runs", "3", "--capture", "--out", out},
                        "test_seeded_draws.py", {{"FLAKESCOPE_PYTHONPATH", plugin.string()}});
    EXPECT_EQ(r.code, 2) << isolation << r.out << r.err;
    EXPECT_NE(r.err.find("flakescope's pytest plugin did not load: Error importing plugin "
                         "\"flakescope_pytest\": No module named "
                         "'flakescope_module_that_is_missing' (plugin folder: " +
                         plugin.string() + ")"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(path(out))) << isolation;
  }
}

// A path that does not exist is a usage error of pytest in every run: one line with pytest's own
// reason and exit 2, in both isolations, not a report of the command failing every run.
TEST_F(PytestAudit, AMissingTestPathIsPytestsReasonAndExitTwo) {
  for (const char* isolation : {"inprocess", "process"}) {
    const std::string out = std::string(isolation) + ".json";
    const Cli r =
        audit({"--isolation", isolation, "--runs", "3", "--out", out}, "no_such_test_file.py");
    EXPECT_EQ(r.code, 2) << isolation << r.out << r.err;
    EXPECT_NE(r.err.find("pytest exited 4 without running a test: ERROR: file or directory not "
                         "found: "),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(path(out))) << isolation;
  }
}

}  // namespace
}  // namespace flakescope
