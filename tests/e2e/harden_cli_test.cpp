// What users, their tests and their CI machines throw at flakescope (it runs as root in CI): output
// paths that are devices, FIFOs, symlinks or directories; --out equal to --log; bad paths found
// before the first run; unreadable JUnit; partial or mismatched shards; escape sequences in test
// names; oversized, binary and directory inputs; a full stdout. Devices are made with mknod in the
// test's own folder (never the real /dev); those tests skip when mknod is not allowed.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
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
using Cli = e2e::CliResult;

const std::string kGtestFixture =
    std::string(FLAKESCOPE_BINARY_DIR) + "/tests/fixtures/audit_fixture_gtest";

class HardenCli : public e2e::ScratchDirTest {
 protected:
  Cli run(std::vector<std::string> args) const {
    return e2e::run_cli(std::move(args), dir_.string(), {}, 120);
  }
  std::vector<std::string> stable_audit(std::vector<std::string> own, int runs = 2) const {
    std::vector<std::string> a = {"audit", "--runs", std::to_string(runs)};
    a.insert(a.end(), own.begin(), own.end());
    a.insert(a.end(), {"--", kGtestFixture, "--gtest_filter=Stable.*"});
    return a;
  }
  bool make_char_device(const std::string& name, unsigned minor) const {
    return ::mknod(path(name).c_str(), S_IFCHR | 0666, makedev(1, minor)) == 0;
  }
  std::string slurp(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
  }
};

std::size_t count_lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST_F(HardenCli, DevicesAreWrittenInPlaceAndAFullOneFailsInOneLine) {
  if (!make_char_device("null", 3) || !make_char_device("full", 7)) GTEST_SKIP() << "no mknod";
  const Cli to_null = run(stable_audit({"--out", "null"}));
  EXPECT_EQ(to_null.code, 0) << to_null.err;
  EXPECT_TRUE(fs::is_character_file(path("null")));

  const Cli to_full = run(stable_audit({"--out", "full"}));
  EXPECT_EQ(to_full.code, 2) << to_full.err;
  EXPECT_NE(to_full.err.find("No space left on device"), std::string::npos) << to_full.err;
  EXPECT_EQ(to_full.err.find("report written"), std::string::npos) << to_full.err;
  EXPECT_TRUE(fs::is_character_file(path("full")));

  ASSERT_EQ(run(stable_audit({"--out", "r.json", "--log", "r.log"})).code, 0);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"report", "r.json", "--format", "md", "--out", "full"},
           {"gate", "--baseline", "r.json", "--current", "r.json", "--out", "full"},
           {"merge", "r.log", "--out", "full"}}) {
    const Cli c = run(args);
    EXPECT_EQ(c.code, 2) << args[0] << ": " << c.err;
    EXPECT_EQ(count_lines(c.err), 1u) << args[0] << ": " << c.err;
    EXPECT_NE(c.err.find("No space left on device"), std::string::npos) << c.err;
    EXPECT_TRUE(fs::is_character_file(path("full")));
    std::vector<std::string> to_null_args(args.begin(), args.end() - 1);
    to_null_args.push_back("null");
    const Cli n = run(to_null_args);
    EXPECT_NE(n.code, 2) << args[0] << ": " << n.err;
    EXPECT_TRUE(fs::is_character_file(path("null")));
  }
}

TEST_F(HardenCli, FifosSymlinksAndDirectories) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0644), 0);
  std::string through_fifo;
  std::thread reader([&] { through_fifo = slurp("fifo"); });
  const Cli fifo = run(stable_audit({"--out", "fifo"}));
  reader.join();
  EXPECT_EQ(fifo.code, 0) << fifo.err;
  EXPECT_TRUE(fs::is_fifo(path("fifo")));
  EXPECT_EQ(nlohmann::json::parse(through_fifo)["kind"], "audit");

  write("target.json", "old");
  fs::create_symlink("target.json", path("link.json"));
  EXPECT_EQ(run(stable_audit({"--out", "link.json"})).code, 0);
  EXPECT_TRUE(fs::is_symlink(path("link.json")));
  EXPECT_EQ(nlohmann::json::parse(slurp("target.json"))["kind"], "audit");

  fs::create_directory(path("adir"));
  const Cli dir = run(stable_audit({"--out", "adir"}));
  EXPECT_EQ(dir.code, 2);
  EXPECT_NE(dir.err.find("is a directory"), std::string::npos) << dir.err;
  EXPECT_TRUE(fs::is_directory(path("adir")));
}

TEST_F(HardenCli, OutEqualToLogIsRefusedBeforeAnyRun) {
  const Cli same = run(stable_audit({"--out", "x.jsonl", "--log", "x.jsonl"}));
  EXPECT_EQ(same.code, 2);
  EXPECT_NE(same.err.find("same file"), std::string::npos) << same.err;
  EXPECT_FALSE(fs::exists(path("x.jsonl")));
  // Through a symlink, and for merge (its --out must not overwrite an input log).
  ASSERT_EQ(run(stable_audit({"--out", "r.json", "--log", "r.log"})).code, 0);
  fs::create_symlink("r.log", path("alias.log"));
  const Cli alias = run(stable_audit({"--resume", "--out", "alias.log", "--log", "r.log"}));
  EXPECT_EQ(alias.code, 2) << alias.err;
  const Cli merge = run({"merge", "r.log", "--out", "r.log"});
  EXPECT_EQ(merge.code, 2);
  EXPECT_NE(merge.err.find("same file"), std::string::npos) << merge.err;
  EXPECT_EQ(nlohmann::json::parse(slurp("r.log").substr(0, slurp("r.log").find('\n')))["runlog"],
            "flakescope.runlog/1");
}

TEST_F(HardenCli, BadOutputPathFailsBeforeTheFirstRun) {
  const auto t0 = std::chrono::steady_clock::now();
  const Cli c = run({"audit", "--runs", "50", "--out", "missing/dir/r.json", "--log", "a.log", "--",
                     "/bin/sleep", "1"});
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(c.code, 2);
  EXPECT_LT(wall, 5.0);
  EXPECT_NE(c.err.find("missing"), std::string::npos) << c.err;
  EXPECT_FALSE(fs::exists(path("a.log")));
}

TEST_F(HardenCli, UnreadableJunitIsACountedWarningNamingTheRun) {
  const Cli c = run({"audit", "--runs", "3", "--out", "r.json", "--", "/bin/sh", "-c",
                     "printf '<testsuite><testcase name=\"a\"' > \"$1\"", "sh", "{junit}"});
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_NE(c.out.find("JUnit of run 0"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("3 warnings"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("no run produced readable JUnit XML"), std::string::npos) << c.out;
  EXPECT_NE(c.err.find("no run produced readable JUnit XML"), std::string::npos) << c.err;
  for (const std::string format : {"md", "html"}) {
    const Cli r = run({"report", "r.json", "--format", format});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("JUnit of run 2"), std::string::npos) << format << r.out;
    EXPECT_NE(r.out.find("3 warnings"), std::string::npos) << format << r.out;
  }
}

TEST_F(HardenCli, EscapeSequencesInTestNamesNeverReachOutputsRaw) {
  // The JUnit names a test with ESC (CSI clear screen, OSC window title) and BEL in it.
  const std::string xml =
      "<testsuite><testcase classname=\"c\" name=\"t&#27;[2J&#27;]0;pwned&#7;&lt;b&gt;|x\"/>"
      "</testsuite>";
  write("ok.xml", xml);
  const Cli c =
      run({"audit", "--runs", "2", "--out", "r.json", "--", "/bin/cp", path("ok.xml"), "{junit}"});
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(c.out.find('\x07'), std::string::npos);
  // A stable-pass test is collapsed into a count in the summary; --verbose lists it, escaped.
  const Cli verbose = run({"report", "r.json", "--format", "terminal", "--verbose"});
  EXPECT_EQ(verbose.out.find('\x1b'), std::string::npos);
  EXPECT_NE(verbose.out.find("\\x1b]0;pwned\\x07"), std::string::npos) << verbose.out;
  const Cli md = run({"report", "r.json", "--format", "md"});
  EXPECT_EQ(md.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(md.out.find("<b>"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("&lt;b&gt;\\|x"), std::string::npos) << md.out;
  const Cli html = run({"report", "r.json", "--format", "html"});
  EXPECT_EQ(html.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(html.out.find('\x07'), std::string::npos);
  EXPECT_EQ(html.out.find("<b>|x"), std::string::npos);  // the report's own <b> tags are fine
  EXPECT_NE(html.out.find("&lt;b&gt;|x"), std::string::npos);
  const Cli junit = run({"report", "r.json", "--format", "junit"});
  EXPECT_EQ(junit.out.find("&#27;"), std::string::npos) << junit.out;
  EXPECT_EQ(junit.out.find("&#7;"), std::string::npos) << junit.out;
  EXPECT_EQ(junit.out.find('\x1b'), std::string::npos);
  EXPECT_NE(junit.out.find("pwned"), std::string::npos) << junit.out;
}

TEST_F(HardenCli, MergeRefusesMissingAndMismatchedShards) {
  for (int k = 0; k < 3; ++k)
    ASSERT_NE(run(stable_audit({"--shard", std::to_string(k) + "/3", "--log",
                                "s" + std::to_string(k) + ".log", "--out", "s.json"},
                               9))
                  .code,
              2);
  const Cli missing = run({"merge", "s0.log", "s2.log", "--out", "m.json"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("missing shard 1/3"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(path("m.json")));
  const Cli partial = run({"merge", "s0.log", "s2.log", "--allow-partial", "--out", "m.json"});
  EXPECT_EQ(partial.code, 0) << partial.err;
  EXPECT_NE(partial.err.find("missing shard 1/3"), std::string::npos) << partial.err;
  const auto m = nlohmann::json::parse(slurp("m.json"));
  EXPECT_EQ(m["partial"], true);
  EXPECT_EQ(m["runs"], 6);
  const Cli all = run({"merge", "s0.log", "s1.log", "s2.log", "--out", "all.json"});
  EXPECT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(nlohmann::json::parse(slurp("all.json"))["partial"], false);

  ASSERT_NE(run(stable_audit({"--shard", "1/3", "--log", "other.log", "--out", "o.json"}, 6)).code,
            2);
  const Cli runs = run({"merge", "s0.log", "other.log", "s2.log", "--out", "x.json"});
  EXPECT_EQ(runs.code, 2);
  EXPECT_NE(runs.err.find("runs"), std::string::npos) << runs.err;
  ASSERT_NE(run(stable_audit({"--shard", "1/2", "--log", "two.log", "--out", "o.json"}, 9)).code,
            2);
  const Cli count = run({"merge", "s0.log", "two.log", "--out", "x.json"});
  EXPECT_EQ(count.code, 2);
  EXPECT_NE(count.err.find("shard"), std::string::npos) << count.err;
}

TEST_F(HardenCli, ResumeChecksTheLogAndTheRunCount) {
  const Cli fresh = run(stable_audit({"--resume", "--log", "a.log", "--out", "a.json"}, 4));
  EXPECT_EQ(fresh.code, 0) << fresh.err;
  EXPECT_NE(fresh.err.find("no run log at"), std::string::npos) << fresh.err;
  const Cli fewer = run(stable_audit({"--resume", "--log", "a.log", "--out", "b.json"}, 2));
  EXPECT_EQ(fewer.code, 2);
  EXPECT_NE(fewer.err.find("already has 4 runs"), std::string::npos) << fewer.err;
}

TEST_F(HardenCli, InputsAreCheckedAndErrorLinesAreShortAndPrintable) {
  fs::create_directory(path("samples.d"));
  const Cli dir = run({"tolerance", "samples.d"});
  EXPECT_EQ(dir.code, 2);
  EXPECT_NE(dir.err.find("is a directory"), std::string::npos) << dir.err;

  std::string binary = "1e-7\n";
  for (int i = 0; i < 100000; ++i)
    binary += static_cast<char>(i * 37 % 256 == '\n' ? 1 : i * 37 % 256);
  binary += "\n";
  write("binary.txt", binary);
  const Cli bad = run({"tolerance", "binary.txt"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(count_lines(bad.err), 1u);
  EXPECT_LT(bad.err.size(), 700u) << bad.err.size();
  for (unsigned char ch : bad.err) EXPECT_TRUE(ch == '\n' || (ch >= 0x20 && ch < 0x7f)) << int(ch);
  EXPECT_NE(bad.err.find("binary.txt:2"), std::string::npos) << bad.err;
}

// Deviations near the largest double are data like any other: the same recommendation as the
// same samples scaled down, scaled up (before: "GPD fit failed: no admissible shape").
TEST_F(HardenCli, SamplesNearTheLargestDoubleGetTheScaledRecommendation) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(0, 1);
  std::ostringstream unit, huge;
  unit.precision(17);
  huge.precision(17);
  for (int i = 0; i < 200; ++i) {
    const double v = std::fabs(normal(rng));
    unit << v << "\n";
    huge << v * 0x1p1015 << "\n";  // up to ~1.3e306 * |N(0, 1)|
  }
  write("unit.txt", unit.str());
  write("huge.txt", huge.str());
  const Cli a = run({"tolerance", "unit.txt", "--json"});
  const Cli b = run({"tolerance", "huge.txt", "--json"});
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  const auto ra = nlohmann::json::parse(a.out)["series"][0]["recommendation"]["atol"];
  const auto rb = nlohmann::json::parse(b.out)["series"][0]["recommendation"]["atol"];
  ASSERT_TRUE(rb.contains("bound") && rb["bound"].is_number()) << b.out;
  EXPECT_EQ(ra["method"], rb["method"]);
  const double expected = ra["bound"].get<double>() * 0x1p1015;
  EXPECT_NEAR(rb["bound"].get<double>(), expected, 1e-5 * expected) << b.out;
}

TEST_F(HardenCli, FailedWriteToStdoutIsAnError) {
  if (!make_char_device("full", 7)) GTEST_SKIP() << "no mknod";
  ASSERT_EQ(run(stable_audit({"--out", "r.json"})).code, 0);
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "exec \"$0\" report r.json --format md > full", FLAKESCOPE_CLI};
  spec.cwd = dir_.string();
  spec.timeout_seconds = 60;
  const ProcessResult r = run_process(spec);
  EXPECT_EQ(r.exit_code, 2) << r.stderr_tail;
  EXPECT_NE(r.stderr_tail.find("cannot write to stdout"), std::string::npos) << r.stderr_tail;
}

// Processes whose command line is exactly `argv` (a marker such as "sleep 313.25").
int processes_running(const std::vector<std::string>& argv) {
  std::string want;
  for (const auto& a : argv) want += a + '\0';
  int n = 0;
  DIR* d = ::opendir("/proc");
  while (dirent* e = d ? ::readdir(d) : nullptr) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/cmdline", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::ifstream st(std::string("/proc/") + e->d_name + "/stat");
    std::string stat_line;
    std::getline(st, stat_line);
    const bool zombie = stat_line.find(") Z ") != std::string::npos;
    if (ss.str() == want && !zombie) ++n;
  }
  if (d) ::closedir(d);
  return n;
}

bool wait_until(const std::function<bool()>& done, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

std::size_t scratch_folders(const std::string& tmp) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(tmp))
    n += e.path().filename().string().rfind("flakescope-audit-", 0) == 0;
  return n;
}

TEST_F(HardenCli, SetsidDescendantsDieWithTheirRun) {
  const std::vector<std::string> marker = {"/bin/sleep", "313.25"};
  const Cli c = run({"audit", "--runs", "2", "--junit", "none", "--out", "r.json", "--", "/bin/sh",
                     "-c", "/usr/bin/setsid /bin/sleep 313.25 & exit 0"});
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_TRUE(wait_until([&] { return processes_running(marker) == 0; }, 2.0))
      << processes_running(marker) << " setsid'd sleeps outlived their run";
}

TEST_F(HardenCli, KillNineOfTheAuditKillsItsRunsAndRemovesItsScratch) {
  const std::vector<std::string> escaped = {"/bin/sleep", "317.25"},
                                 inside = {"/bin/sleep", "319.25"};
  std::vector<std::string> argv = {
      FLAKESCOPE_CLI, "audit",
      "--runs",       "1",
      "--timeout",    "120",
      "--junit",      "none",
      "--out",        path("r.json"),
      "--",           "/bin/sh",
      "-c",           "/usr/bin/setsid /bin/sleep 317.25 & /bin/sleep 319.25"};
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<std::string> env = {"TMPDIR=" + dir_.string(), "PATH=/usr/bin:/bin"};
  std::vector<char*> cenv;
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, cargv.data(), cenv.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  const bool started = wait_until(
      [&] { return processes_running(escaped) == 1 && processes_running(inside) == 1; }, 20.0);
  EXPECT_EQ(scratch_folders(dir_.string()), 1u);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(started) << "the run's processes did not start";
  EXPECT_TRUE(
      wait_until([&] { return processes_running(escaped) + processes_running(inside) == 0; }, 5.0))
      << "after kill -9: " << processes_running(escaped) << " setsid'd, "
      << processes_running(inside) << " in-group sleeps still running";
  EXPECT_TRUE(wait_until([&] { return scratch_folders(dir_.string()) == 0; }, 5.0));
}

TEST_F(HardenCli, NextAuditRemovesScratchOfDeadAuditsOnly) {
  fs::create_directory(path("flakescope-audit-dead01"));
  write("flakescope-audit-dead01/.flakescope-owner", "999999999 12345\n");  // no such pid
  fs::create_directory(path("flakescope-audit-live01"));
  write("flakescope-audit-live01/.flakescope-owner", std::to_string(getpid()) + " 1\n");
  fs::create_directory(path("flakescope-audit-nofile"));  // unknown owner: left alone
  const Cli c = e2e::run_cli(stable_audit({"--out", path("r.json")}), dir_.string(),
                             {{"TMPDIR", dir_.string()}}, 120);
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_FALSE(fs::exists(path("flakescope-audit-dead01")));
  EXPECT_TRUE(fs::exists(path("flakescope-audit-nofile")));
  // A live pid with another start time is a reused pid: its folder is stale too.
  EXPECT_FALSE(fs::exists(path("flakescope-audit-live01")));
}

}  // namespace
}  // namespace flakescope
