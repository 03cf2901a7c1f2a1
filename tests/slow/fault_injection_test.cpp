// Slow tier: the run-execution core under a fault mix, as issue 15 tried it by hand. 1000 runs of a
// command that, by its seed, segfaults (5%), hangs with a child (5%), aborts (5%) or exits 1 (5%),
// --jobs 2 --timeout 1: every outcome recorded exactly, no process left behind. Then the same
// audit killed with kill -9 at three points and resumed gives the uninterrupted counts.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/report.h"
#include "core/subprocess.h"

namespace flakescope {
namespace {

namespace fs = std::filesystem;

// FLAKESCOPE_SEED = 1 + run: seed % 20 == 0 segfault, 1 hang (a child sleeping, unique marker),
// 2 abort, 3 exit 1, else pass: 50 of each fault in 1000 runs.
const char* kFaultScript =
    "s=$((FLAKESCOPE_SEED % 20)); "
    "case $s in 0) kill -SEGV $$;; 1) /bin/sleep 331.5;; 2) kill -ABRT $$;; 3) exit 1;; esac; exit "
    "0";

class FaultInjection : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flakescope-slow-fault-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& n) const { return (dir_ / n).string(); }
  std::vector<std::string> audit_args(const std::string& out, const std::string& log,
                                      bool resume) const {
    std::vector<std::string> a = {FLAKESCOPE_CLI, "audit", "--runs",  "1000", "--jobs", "2",
                                  "--timeout",    "1",     "--junit", "none", "--out",  out};
    if (!log.empty()) a.insert(a.end(), {"--log", log});
    if (resume) a.push_back("--resume");
    a.insert(a.end(), {"--", "/bin/sh", "-c", kFaultScript});
    return a;
  }
  nlohmann::json outcomes(const std::string& report) const {
    return nlohmann::json::parse(read_file(report))["process"][0]["outcomes"];
  }
  fs::path dir_;
};

int sleepers() {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), {});
    n += cmd == std::string("/bin/sleep\0331.5\0", 17);
  }
  return n;
}

TEST_F(FaultInjection, ThousandRunsOfTheFaultMixAreCountedExactly) {
  ProcessSpec spec;
  spec.argv = audit_args(path("r.json"), "", false);
  spec.timeout_seconds = 600;
  const ProcessResult r = run_process(spec);
  ASSERT_EQ(r.status, ProcessStatus::kExited) << r.stderr_tail;
  EXPECT_EQ(r.exit_code, 1) << r.stderr_tail;
  const auto o = outcomes(path("r.json"));
  EXPECT_EQ(o.value("crash", 0), 100) << o;  // 50 SIGSEGV + 50 SIGABRT
  EXPECT_EQ(o.value("timeout", 0), 50) << o;
  EXPECT_EQ(o.value("fail", 0), 50) << o;
  EXPECT_EQ(o.value("pass", 0), 800) << o;
  EXPECT_EQ(sleepers(), 0) << "hung children outlived their runs";
}

TEST_F(FaultInjection, KillNineAtThreePointsThenResumeGivesTheSameCounts) {
  for (int point : {50, 400, 800}) {
    ProcessSpec spec;
    spec.argv = audit_args(path("killed.json"), path("a.log"), point != 50);
    spec.timeout_seconds = 600;
    std::thread killer([&] {
      // Kill when the log holds `point` runs (checked every 10 ms).
      for (int i = 0; i < 60000; ++i) {
        std::ifstream in(path("a.log"));
        const auto lines = std::count(std::istreambuf_iterator<char>(in), {}, '\n');
        if (lines >= point) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      for (const auto& e : fs::directory_iterator("/proc")) {
        std::ifstream in(e.path() / "cmdline", std::ios::binary);
        std::string cmd((std::istreambuf_iterator<char>(in)), {});
        if (cmd.find(path("killed.json")) != std::string::npos)
          ::kill(std::stoi(e.path().filename().string()), SIGKILL);
      }
    });
    run_process(spec);
    killer.join();
  }
  ProcessSpec resume;
  resume.argv = audit_args(path("resumed.json"), path("a.log"), true);
  resume.timeout_seconds = 600;
  const ProcessResult r = run_process(resume);
  EXPECT_EQ(r.exit_code, 1) << r.stderr_tail;
  const auto o = outcomes(path("resumed.json"));
  EXPECT_EQ(nlohmann::json::parse(read_file(path("resumed.json")))["runs"], 1000);
  EXPECT_EQ(o.value("crash", 0), 100) << o;
  EXPECT_EQ(o.value("timeout", 0), 50) << o;
  EXPECT_EQ(o.value("fail", 0), 50) << o;
  EXPECT_EQ(o.value("pass", 0), 800) << o;
  EXPECT_TRUE([] {
    for (int i = 0; i < 100 && sleepers() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return sleepers() == 0;
  }()) << "children of the killed audits kept running";
}

}  // namespace
}  // namespace flakescope
