// `flakescope audit` and `flakescope merge` as a user runs them, on the project's fixtures (a gtest
// binary and a pytest file whose outcomes are fixed functions of FLAKESCOPE_SEED and
// OMP_NUM_THREADS): exact counts, timeouts killed and counted, a killed audit resumed to the same
// counts, shards merged into the same report, the ablation naming the threads knob, arguments kept
// literal, and one-line errors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
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

const std::string kGtestFixture =
    std::string(FLAKESCOPE_BINARY_DIR) + "/tests/fixtures/audit_fixture_gtest";
const std::string kPytestFixture =
    std::string(FLAKESCOPE_TEST_FIXTURES) + "/pytest/test_audit_fixture.py";

using Cli = e2e::CliResult;

class AuditCli : public e2e::ScratchDirTest {
 protected:
  Cli run(std::vector<std::string> args) const {
    return e2e::run_cli(std::move(args), dir_.string(), {}, 120);
  }

  nlohmann::json report(const std::string& name) const {
    return nlohmann::json::parse(read_file(path(name)));
  }

  std::size_t log_lines(const std::string& name) const {
    std::ifstream in(path(name));
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }
};

const nlohmann::json& test_named(const nlohmann::json& report, const std::string& suffix,
                                 const std::string& setting = "controlled") {
  for (const auto& t : report["tests"]) {
    const std::string name = t["name"];
    if (t["setting"] == setting && name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return t;
  }
  static const nlohmann::json none = nlohmann::json::object();
  ADD_FAILURE() << "no test ending in " << suffix << " (" << setting << ")";
  return none;
}

// The statistics of a report's tests without what varies from run to run (durations).
nlohmann::json counts_of(const nlohmann::json& report) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : report["tests"]) {
    nlohmann::json seeds = nlohmann::json::array();
    for (const auto& f : t["failing_runs"]) seeds.push_back(f["seed"]);
    out.push_back({t["name"], t["setting"], t["runs"], t["outcomes"], t["failure_rate"],
                   t["classification"], t["retries"], seeds, t["timeline"]});
  }
  return out;
}

TEST_F(AuditCli, GtestCountsFollowFromTheSeeds) {
  // Seeds 1..20: FailsWhenSeedDivisibleBy10 fails at 10 and 20.
  const Cli c = run({"audit", "--runs", "20", "--jobs", "2", "--timeout", "20", "--out", "r.json",
                     "--", kGtestFixture, "--gtest_filter=Stable.*:Seeded.FailsWhen*"});
  EXPECT_EQ(c.code, 1) << c.err;
  const auto r = report("r.json");
  EXPECT_EQ(r["kind"], "audit");
  EXPECT_EQ(r["runs"], 20);
  EXPECT_EQ(r["config"]["junit_dialect"], "gtest");
  const auto& stable = test_named(r, "Stable::Passes");
  EXPECT_EQ(stable["outcomes"]["pass"], 20);
  EXPECT_EQ(stable["classification"], "stable-pass");
  const auto& seeded = test_named(r, "Seeded::FailsWhenSeedDivisibleBy10");
  EXPECT_EQ(seeded["outcomes"]["fail"], 2);
  EXPECT_EQ(seeded["outcomes"]["pass"], 18);
  EXPECT_EQ(seeded["classification"], "flaky");
  ASSERT_EQ(seeded["failing_runs"].size(), 2u);
  EXPECT_EQ(seeded["failing_runs"][0]["seed"], 10);
  const std::string replay = seeded["failing_runs"][0]["replay"];
  EXPECT_NE(replay.find("FLAKESCOPE_SEED=10 "), std::string::npos) << replay;
  EXPECT_NE(c.out.find("FLAKESCOPE_SEED=10"), std::string::npos) << c.out;
}

TEST_F(AuditCli, CrashesAndTimeoutsAreKilledAndCounted) {
  // Seeds 1..12: abort at 3 and 10 (seed % 7 == 3), hang at 5 (seed % 11 == 5).
  const auto t0 = std::chrono::steady_clock::now();
  const Cli c = run({"audit", "--runs", "12", "--jobs", "2", "--timeout", "1", "--out", "r.json",
                     "--", kGtestFixture, "--gtest_filter=Seeded.Aborts*:Seeded.Hangs*"});
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(c.code, 1) << c.err;
  EXPECT_LT(wall, 20.0);
  const auto r = report("r.json");
  const auto& process = r["process"][0];
  EXPECT_EQ(process["outcomes"]["crash"], 2);
  EXPECT_EQ(process["outcomes"]["timeout"], 1);
  EXPECT_EQ(process["outcomes"]["pass"], 9);
  EXPECT_LT(process["duration"]["max"].get<double>(), 1.0 + 2.0 + 1.0);  // timeout + grace
  // The crash has no XML: gtest's console output names the test that was running.
  const auto& aborts = test_named(r, "Seeded::AbortsWhenSeedMod7Is3");
  EXPECT_EQ(aborts["outcomes"]["crash"], 2);
  EXPECT_EQ(aborts["classification"], "crashing");
  const auto& hangs = test_named(r, "Seeded::HangsWhenSeedMod11Is5");
  EXPECT_EQ(hangs["outcomes"]["timeout"], 1);
  EXPECT_EQ(hangs["outcomes"]["pass"], 9);
  EXPECT_EQ(hangs["classification"], "timing-out");
}

// Starts the audit as a child we can signal, and waits until its log holds `lines` lines.
pid_t start_audit(const std::vector<std::string>& args, const std::string& cwd) {
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

TEST_F(AuditCli, KilledAuditResumesToTheSameCounts) {
  const std::vector<std::string> cmd = {"--", kGtestFixture,
                                        "--gtest_filter=Stable.*:Seeded.FailsWhen*"};
  auto args = [&](const std::string& log, const std::string& out, bool resume) {
    std::vector<std::string> a = {"audit", "--runs", "150", "--log", log, "--out", out};
    if (resume) a.push_back("--resume");
    a.insert(a.end(), cmd.begin(), cmd.end());
    return a;
  };
  auto wait_for_lines = [&](const std::string& log, std::size_t n, pid_t pid) {
    for (int i = 0; i < 2000 && log_lines(log) < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, WNOHANG), 0) << "the audit ended before it could be killed";
  };

  // SIGTERM (as Ctrl-C): stops, writes a partial report, exit 130.
  pid_t pid = start_audit(args("a.log", "partial.json", false), dir_.string());
  wait_for_lines("a.log", 6, pid);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_EQ(report("partial.json")["partial"], true);
  const std::size_t after_term = log_lines("a.log");
  EXPECT_LT(after_term, 151u);

  // SIGKILL during the resumed audit: no report, the log keeps every finished run.
  pid = start_audit(args("a.log", "killed.json", true), dir_.string());
  wait_for_lines("a.log", after_term + 10, pid);
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  EXPECT_LT(log_lines("a.log"), 151u);

  const Cli resumed = run(args("a.log", "resumed.json", true));
  EXPECT_EQ(resumed.code, 1) << resumed.err;
  const Cli whole = run(args("b.log", "whole.json", false));
  EXPECT_EQ(whole.code, 1) << whole.err;
  EXPECT_EQ(log_lines("a.log"), 151u);
  EXPECT_EQ(report("resumed.json")["runs"], 150);
  EXPECT_EQ(counts_of(report("resumed.json")), counts_of(report("whole.json")));
  EXPECT_EQ(
      test_named(report("whole.json"), "Seeded::FailsWhenSeedDivisibleBy10")["outcomes"]["fail"],
      15);
}

TEST_F(AuditCli, MergeOfShardsEqualsOneRun) {
  const std::vector<std::string> cmd = {"--", kGtestFixture,
                                        "--gtest_filter=Stable.*:Seeded.FailsWhen*"};
  auto audit = [&](std::vector<std::string> a) {
    a.insert(a.begin(), {"audit", "--runs", "30", "--jobs", "2"});
    a.insert(a.end(), cmd.begin(), cmd.end());
    return run(a);
  };
  // Shard 0 runs the even run indices (odd seeds): no failure there.
  EXPECT_EQ(audit({"--shard", "0/2", "--log", "s0.log", "--out", "s0.json"}).code, 0);
  EXPECT_EQ(audit({"--shard", "1/2", "--log", "s1.log", "--out", "s1.json"}).code, 1);
  EXPECT_EQ(audit({"--out", "whole.json"}).code, 1);
  const Cli m = run({"merge", "s0.log", "s1.log", "--out", "merged.json"});
  EXPECT_EQ(m.code, 1) << m.err;
  EXPECT_EQ(report("merged.json")["runs"], 30);
  EXPECT_EQ(counts_of(report("merged.json")), counts_of(report("whole.json")));

  const Cli overlap = run({"merge", "s0.log", "s0.log", "--out", "bad.json"});
  EXPECT_EQ(overlap.code, 2);
  EXPECT_NE(overlap.err.find("overlap"), std::string::npos) << overlap.err;
}

TEST_F(AuditCli, PytestAblationNamesTheThreadsKnob) {
  // Seeds 3..10 in each setting: test_seed_flaky fails once (seed 10) wherever the seed is set.
  // The generator stays controlled except in the all-free row (the fixture would draw a random
  // seed), so every count checked here is fixed.
  const Cli c = run({"audit",
                     "--ablation",
                     "--vary",
                     "threads,deterministic",
                     "--runs",
                     "8",
                     "--seed",
                     "3",
                     "--jobs",
                     "2",
                     "--out",
                     "r.json",
                     "--",
                     "/usr/bin/python3",
                     "-m",
                     "pytest",
                     "-q",
                     "-p",
                     "no:cacheprovider",
                     kPytestFixture});
  EXPECT_EQ(c.code, 1) << c.err;
  const auto r = report("r.json");
  EXPECT_EQ(r["config"]["junit_dialect"], "pytest");
  const auto& stable = test_named(r, "::test_stable");
  EXPECT_EQ(stable["outcomes"]["pass"], 8);
  const auto& seed = test_named(r, "::test_seed_flaky");
  EXPECT_EQ(seed["outcomes"]["fail"], 1);
  EXPECT_EQ(seed["outcomes"]["pass"], 7);
  EXPECT_EQ(test_named(r, "::test_skipped")["outcomes"]["skip"], 8);
  EXPECT_EQ(test_named(r, "::test_skipped")["classification"], "skipped");
  EXPECT_EQ(test_named(r, "::test_known_bug")["outcomes"]["xfail"], 8);
  EXPECT_EQ(test_named(r, "::test_threads_flaky")["classification"], "stable-pass");
  EXPECT_GT(test_named(r, "::test_threads_flaky", "free:threads")["failures"].get<int>(), 0);

  bool seen = false;
  for (const auto& d : r["ablation"]["tests"]) {
    const std::string name = d["name"];
    if (name.find("test_threads_flaky") != std::string::npos) {
      seen = true;
      EXPECT_EQ(d["causes"], nlohmann::json::array({"threads"})) << d.dump(2);
    }
    if (name.find("test_seed_flaky") != std::string::npos) {
      EXPECT_TRUE(d["causes"].empty()) << d.dump(2);
    }
  }
  EXPECT_TRUE(seen) << r["ablation"].dump(2);
  EXPECT_NE(c.out.find("threads"), std::string::npos);
  // One terminal reporter: `report --format terminal` prints what the audit printed.
  const Cli again = run({"report", "r.json", "--format", "terminal"});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out, c.out);
  EXPECT_NE(c.out.find("ablation"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("setting"), std::string::npos) << c.out;
}

std::vector<std::string> pytest_fixture_command() {
  return {"--", "/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", kPytestFixture};
}

TEST_F(AuditCli, PytestInprocessCountsEqualProcessIsolations) {
  // Seeds 1..20 in two pytest processes (runs 0..9 and 10..19, FLAKESCOPE_SEED 1 and 11, the
  // plugin adding i per repetition): test_seed_flaky fails at seeds 10 and 20, as in 20 processes.
  auto audit = [&](const std::string& isolation, std::vector<std::string> extra) {
    std::vector<std::string> a = {"audit", "--isolation", isolation, "--runs", "20", "--jobs", "2"};
    a.insert(a.end(), extra.begin(), extra.end());
    const auto cmd = pytest_fixture_command();
    a.insert(a.end(), cmd.begin(), cmd.end());
    return run(a);
  };
  const Cli in = audit("inprocess", {"--log", "in.log", "--out", "in.json"});
  EXPECT_EQ(in.code, 1) << in.err;
  const Cli pr = audit("process", {"--out", "pr.json"});
  EXPECT_EQ(pr.code, 1) << pr.err;
  const auto r = report("in.json");
  EXPECT_EQ(r["config"]["isolation"], "inprocess");
  EXPECT_EQ(report("pr.json")["config"]["isolation"], "process");
  EXPECT_EQ(r["runs"], 20);
  const auto& seed = test_named(r, "::test_seed_flaky");
  EXPECT_EQ(seed["outcomes"]["fail"], 2);
  EXPECT_EQ(seed["outcomes"]["pass"], 18);
  ASSERT_EQ(seed["failing_runs"].size(), 2u);
  EXPECT_EQ(seed["failing_runs"][0]["seed"], 10);
  EXPECT_EQ(seed["failing_runs"][1]["seed"], 20);
  const std::string replay = seed["failing_runs"][0]["replay"];
  EXPECT_NE(replay.find("FLAKESCOPE_SEED=10 "), std::string::npos) << replay;
  EXPECT_EQ(test_named(r, "::test_stable")["outcomes"]["pass"], 20);
  EXPECT_EQ(test_named(r, "::test_skipped")["outcomes"]["skip"], 20);
  EXPECT_EQ(test_named(r, "::test_known_bug")["outcomes"]["xfail"], 20);
  // The same testcase names, counts, seeds and timelines as one process per run.
  EXPECT_EQ(counts_of(r), counts_of(report("pr.json")));
  EXPECT_EQ(r["process"][0]["outcomes"], report("pr.json")["process"][0]["outcomes"]);
  EXPECT_NE(in.out.find("isolation: inprocess"), std::string::npos) << in.out;
  EXPECT_NE(in.out.find("FLAKESCOPE_SEED=10"), std::string::npos) << in.out;

  // A log cut after 7 runs resumes to the same report; shards merge to it.
  std::ifstream whole(path("in.log"));
  std::ofstream cut(path("cut.log"));
  std::string line;
  for (int i = 0; i < 8 && std::getline(whole, line); ++i) cut << line << "\n";
  cut.close();
  const Cli resumed = audit("inprocess", {"--log", "cut.log", "--resume", "--out", "resumed.json"});
  EXPECT_EQ(resumed.code, 1) << resumed.err;
  EXPECT_EQ(counts_of(report("resumed.json")), counts_of(r));
  const Cli mixed = audit("process", {"--log", "cut.log", "--resume", "--out", "mixed.json"});
  EXPECT_EQ(mixed.code, 2);
  EXPECT_NE(mixed.err.find("isolation"), std::string::npos) << mixed.err;
  for (const char* shard : {"0/2", "1/2"})
    audit("inprocess", {"--shard", shard, "--log", std::string("s") + shard[0] + ".log", "--out",
                        std::string("s") + shard[0] + ".json"});
  const Cli m = run({"merge", "s0.log", "s1.log", "--out", "merged.json"});
  EXPECT_EQ(m.code, 1) << m.err;
  EXPECT_EQ(counts_of(report("merged.json")), counts_of(r));
}

TEST_F(AuditCli, PytestInprocessRecordsCrashesAndHangsWhereTheyHappen) {
  // A test that aborts the interpreter (seed % 7 == 3) and one that hangs (seed % 11 == 5): the
  // repetition where it happened is a crash/timeout, the tests the dead process did not reach run
  // in a fresh one, and the command's counts are those of one process per run.
  std::ofstream(path("test_dies.py")) << R"(import os, time

def _seed():
    return int(os.environ["FLAKESCOPE_SEED"])

def test_before():
    pass

def test_aborts():
    if _seed() % 7 == 3:
        os.abort()

def test_hangs():
    if _seed() % 11 == 5:
        time.sleep(60)

def test_after():
    assert _seed() % 10 != 0
)";
  auto audit = [&](const std::string& isolation, const std::string& out) {
    return run({"audit", "--isolation", isolation, "--runs", "24", "--jobs", "2", "--timeout", "3",
                "--out", out, "--", "/usr/bin/python3", "-m", "pytest", "-q", "-p",
                "no:cacheprovider", "test_dies.py"});
  };
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(audit("inprocess", "in.json").code, 1);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(wall, 30.0);  // a hang costs its timeout, not one per repetition left
  EXPECT_EQ(audit("process", "pr.json").code, 1);
  const auto in = report("in.json"), pr = report("pr.json");
  // Seeds 1..24: aborts at 3, 10, 17, 24; hangs at 5 and 16; fails at 20 (10 aborted first).
  EXPECT_EQ(in["process"][0]["outcomes"], pr["process"][0]["outcomes"]);
  EXPECT_EQ(in["process"][0]["timeline"], pr["process"][0]["timeline"]);
  EXPECT_EQ(in["process"][0]["outcomes"]["crash"], 4);
  EXPECT_EQ(in["process"][0]["outcomes"]["timeout"], 2);
  const auto& aborts = test_named(in, "::test_aborts");
  EXPECT_EQ(aborts["outcomes"]["crash"], 4);
  EXPECT_EQ(aborts["outcomes"]["pass"], 20);
  EXPECT_EQ(aborts["failing_runs"][0]["seed"], 3);
  const auto& hangs = test_named(in, "::test_hangs");
  EXPECT_EQ(hangs["outcomes"]["timeout"], 2);
  EXPECT_EQ(hangs["runs"], 20);  // not reached where test_aborts killed the run
  const auto& after = test_named(in, "::test_after");
  EXPECT_EQ(after["runs"], 18);
  EXPECT_EQ(after["outcomes"]["fail"], 1);
  EXPECT_EQ(after["failing_runs"][0]["seed"], 20);
  EXPECT_EQ(test_named(in, "::test_before")["outcomes"]["pass"], 24);
}

TEST_F(AuditCli, InprocessNeedsPytest) {
  const Cli c = run({"audit", "--isolation", "inprocess", "--runs", "3", "--", kGtestFixture});
  EXPECT_EQ(c.code, 2);
  EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
  EXPECT_NE(c.err.find("needs a pytest command"), std::string::npos) << c.err;
  const Cli bad = run({"audit", "--isolation", "threads", "--", "/bin/true"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_FALSE(fs::exists(path("flakescope-audit.json")));
}

TEST_F(AuditCli, ArgumentsStayLiteral) {
  const Cli c = run({"audit", "--runs", "1", "--junit", "none", "--log", "l.jsonl", "--out",
                     "r.json", "--", "/usr/bin/printf", "%s|", "a;rm -rf x", "$(touch y)"});
  EXPECT_EQ(c.code, 0) << c.err;
  std::ifstream in(path("l.jsonl"));
  std::string header, line;
  std::getline(in, header);
  std::getline(in, line);
  EXPECT_EQ(nlohmann::json::parse(line)["stdout_tail"], "a;rm -rf x|$(touch y)|");
  EXPECT_FALSE(fs::exists(path("y")));
}

TEST_F(AuditCli, MissingCommandIsExitTwoAndOneLine) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"audit", "--runs", "3", "--", "/nonexistent/flakescope-cmd"},
        std::vector<std::string>{"audit", "--", "no-such-command-flakescope"},
        std::vector<std::string>{"audit", "--runs", "3"},
        std::vector<std::string>{"audit", "--runs", "zero", "--", "/bin/true"},
        std::vector<std::string>{"merge", "missing.log"}}) {
    const Cli c = run(args);
    EXPECT_EQ(c.code, 2) << args.back();
    EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
  }
  EXPECT_FALSE(fs::exists(path("flakescope-audit.json")));
}

}  // namespace
}  // namespace flakescope
