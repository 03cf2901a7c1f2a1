// Probe scheduling without LibTorch: the worker protocol and crash continuation with a scripted
// process launcher, --jobs ordering and error propagation with scripted runners.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/parallel_for.h"
#include "core/report.h"
#include "engine/scheduling/probe_scheduler.h"
#include "engine/scheduling/worker_process_runner.h"

namespace flakescope {
namespace {

std::vector<Setting> settings_named(const std::vector<std::string>& names) {
  std::string spec;
  for (const auto& n : names) spec += (spec.empty() ? "" : ",") + n;
  return parse_settings(spec, false);
}

nlohmann::json ok_entry(const std::string& setting) {
  return {{"setting", setting},
          {"runs", 3},
          {"verdict", "bitwise-deterministic"},
          {"metrics", {{"out", {{"distinct_outputs", 1}}}}}};
}

std::string arg_after(const std::vector<std::string>& argv, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i)
    if (argv[i] == flag) return argv[i + 1];
  return "";
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = std::min(s.find(',', start), s.size());
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// A worker that finishes each setting it is given, except that it "dies" with `status` when it
// reaches the setting named `die_in` (once: a restarted worker gets the settings after it).
struct ScriptedWorker {
  explicit ScriptedWorker(std::string die, ProcessStatus how = ProcessStatus::kSignaled)
      : die_in(std::move(die)), status(how) {}
  std::string die_in;
  ProcessStatus status;
  std::vector<std::vector<std::string>> calls;  // the settings of each start
  std::vector<EnvironmentChanges> envs;

  ProcessResult operator()(const ProcessSpec& spec) {
    const auto names = split(arg_after(spec.argv, "--settings"));
    calls.push_back(names);
    envs.push_back(spec.env);
    nlohmann::json out = {{"settings", nlohmann::json::array()}};
    ProcessResult r;
    r.status = ProcessStatus::kExited;
    r.exit_code = 0;
    for (const auto& n : names) {
      if (n == die_in) {
        r.status = status;
        r.signal = 6;
        r.exit_code = 1;
        r.stderr_tail = "something\nlast words\n";
        break;
      }
      out["settings"].push_back(ok_entry(n));
      write_file_atomic(arg_after(spec.argv, "--result"), out.dump());
    }
    return r;
  }
};

WorkerConfig config_in(const std::string& dir) {
  WorkerConfig c;
  c.executable = "/engine";
  c.options_argv = {"--runs", "3"};
  c.result_prefix = dir + "/report.json.worker";
  c.timeout_seconds = 5;
  return c;
}

class WorkerRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("flakescope-sched-" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())))
               .string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(WorkerRunnerTest, ArgvCarriesTheJobAndTheOptions) {
  const WorkerConfig c = config_in(dir_);
  const auto argv = worker_argv(c, {"model.pt", "", true, 4},
                                settings_named({"controlled", "free:threads"}), "/r.json");
  const std::vector<std::string> want = {
      "/engine",  "__worker", "--probe",       "model.pt", "--settings", "controlled,free:threads",
      "--result", "/r.json",  "--torchscript", "--runs",   "3"};
  EXPECT_EQ(argv, want);
}

TEST_F(WorkerRunnerTest, CrashIsRecordedAndTheRestRunInAFreshWorker) {
  ScriptedWorker w{"free:threads"};
  WorkerProcessRunner runner(config_in(dir_), std::ref(w));
  const auto entries =
      runner.run({"p", "", false, 0}, settings_named({"controlled", "free:threads", "free"}));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0]["verdict"], "bitwise-deterministic");
  EXPECT_EQ(entries[1]["setting"], "free:threads");
  EXPECT_EQ(entries[1]["verdict"], "error");
  EXPECT_EQ(entries[1]["error"], "the probe crashed the worker process (SIGABRT)");
  EXPECT_EQ(entries[2]["verdict"], "bitwise-deterministic");
  ASSERT_EQ(w.calls.size(), 2u);
  EXPECT_EQ(w.calls[1], std::vector<std::string>({"free"}));
  EXPECT_EQ(runner.workers_started(), 2u);
  EXPECT_TRUE(std::filesystem::is_empty(dir_));  // result files removed
}

TEST_F(WorkerRunnerTest, ExitCodeKeepsTheLastStderrLine) {
  ScriptedWorker w{"controlled", ProcessStatus::kExited};
  WorkerProcessRunner runner(config_in(dir_), std::ref(w));
  const auto entries = runner.run({"p", "", false, 0}, settings_named({"controlled"}));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["error"], "the worker process exited with code 1: last words");
}

TEST_F(WorkerRunnerTest, TimeoutMarksTheRestNotRun) {
  ScriptedWorker w{"free:threads", ProcessStatus::kTimedOut};
  WorkerProcessRunner runner(config_in(dir_), std::ref(w));
  const auto entries =
      runner.run({"p", "", false, 0}, settings_named({"controlled", "free:threads", "free"}));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1]["error"], "the worker process timed out after 5 s");
  EXPECT_EQ(entries[2]["verdict"], "error");
  EXPECT_EQ(entries[2]["error"],
            "not run: the worker ended in setting 'free:threads' (worker process timed out after "
            "5 s)");
  EXPECT_EQ(w.calls.size(), 1u);
}

TEST_F(WorkerRunnerTest, EnvironmentOfTheFirstSettingOfEachStart) {
  ScriptedWorker w("");
  WorkerConfig c = config_in(dir_);
  c.environment = [](const Setting& s) { return EnvironmentChanges{{"SETTING", s.name}}; };
  WorkerProcessRunner runner(c, std::ref(w));
  runner.run({"p", "", false, 0}, settings_named({"free"}));
  ASSERT_EQ(w.envs.size(), 1u);
  EXPECT_EQ(w.envs[0], (EnvironmentChanges{{"SETTING", "free"}}));
}

TEST(ProbeScheduling, GroupsByTheEnvironmentInFirstSeenOrder) {
  auto env = [](const Setting& s) {
    return EnvironmentChanges{{"X", s.name.find("cublas") != std::string::npos
                                        ? std::nullopt
                                        : std::optional<std::string>("1")}};
  };
  const auto all = settings_named({"controlled", "free:cublas_workspace", "free:threads"});
  const auto groups = group_by_environment(all, false, env);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].size(), 2u);
  EXPECT_EQ(groups[0][1].name, "free:threads");
  EXPECT_EQ(groups[1][0].name, "free:cublas_workspace");
  EXPECT_EQ(group_by_environment(all, true, env).size(), 1u);
}

// Finishes probes in reverse order of their names' lengths' sleep: the report keeps named order.
class SleepyRunner : public SettingRunner {
 public:
  std::vector<nlohmann::json> run(const ProbeJob& job,
                                  const std::vector<Setting>& settings) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(40 * (3 - job.index)));
    if (job.name == "boom") throw std::runtime_error("tool failure");
    std::vector<nlohmann::json> out;
    for (const auto& s : settings) out.push_back(ok_entry(s.name));
    std::lock_guard<std::mutex> lock(mutex_);
    order.push_back(job.name);
    return out;
  }
  std::vector<std::string> order;

 private:
  std::mutex mutex_;
};

std::vector<ProbeJob> jobs_named(const std::vector<std::string>& names) {
  std::vector<ProbeJob> jobs;
  for (const auto& n : names) jobs.push_back({n, "d", false, jobs.size()});
  return jobs;
}

TEST(ProbeScheduling, JobsKeepTheNamedOrder) {
  SleepyRunner runner;
  ScheduleOptions o;
  o.jobs = 3;
  o.device = "cpu";
  std::vector<std::size_t> partial_sizes;
  ScheduleHooks hooks;
  hooks.on_finish = [&](std::size_t done, const ProbeJob&,
                        const std::vector<model::ProbeResult>& finished) {
    EXPECT_EQ(finished.size(), done);
    partial_sizes.push_back(finished.size());
  };
  const auto probes = schedule_probes(jobs_named({"a", "b", "c"}), {settings_named({"controlled"})},
                                      runner, o, hooks);
  ASSERT_EQ(probes.size(), 3u);
  EXPECT_EQ(probes[0].name, "a");
  EXPECT_EQ(probes[1].name, "b");
  EXPECT_EQ(probes[2].name, "c");
  EXPECT_EQ(probes[0].extra["outputs"], nlohmann::json::array({"out"}));
  EXPECT_EQ(probes[0].extra["device"], "cpu");
  EXPECT_EQ(runner.order, std::vector<std::string>({"c", "b", "a"}));  // ran concurrently
  EXPECT_EQ(partial_sizes, std::vector<std::size_t>({1, 2, 3}));
}

TEST(ProbeScheduling, SettingGroupsConcatenateInOrder) {
  SleepyRunner runner;
  const auto probes = schedule_probes(
      jobs_named({"a"}), {settings_named({"controlled"}), settings_named({"free"})}, runner, {});
  ASSERT_EQ(probes[0].settings.size(), 2u);
  EXPECT_EQ(probes[0].settings[1].setting, "free");
}

TEST(ProbeScheduling, ToolFailureIsRethrownAfterAllStopped) {
  SleepyRunner runner;
  ScheduleOptions o;
  o.jobs = 2;
  EXPECT_THROW(schedule_probes(jobs_named({"a", "boom", "c", "d"}),
                               {settings_named({"controlled"})}, runner, o),
               std::runtime_error);
}

TEST(ProbeScheduling, CancelStopsLaunching) {
  SleepyRunner runner;
  std::atomic<bool> cancel{true};
  ScheduleOptions o;
  o.cancel = &cancel;
  EXPECT_TRUE(
      schedule_probes(jobs_named({"a", "b"}), {settings_named({"controlled"})}, runner, o).empty());
}

TEST(ProbeScheduling, SummaryCounts) {
  using model::ProbeVerdict;
  auto probe = [](ProbeVerdict v) {
    model::ProbeResult p;
    model::ProbeSetting s;
    s.setting = "controlled";
    s.verdict = v;
    p.settings.push_back(s);
    p.diagnosis = model::Diagnosis{};
    return p;
  };
  const std::vector<model::ProbeResult> probes = {probe(ProbeVerdict::kNondeterministic),
                                                  probe(ProbeVerdict::kError)};
  const auto s = probe_summary(probes);
  EXPECT_EQ(s["probes"], 2);
  EXPECT_EQ(s["nondeterministic_when_controlled"], 1);
  EXPECT_EQ(s["nondeterministic_under_some_setting"], 1);
  EXPECT_EQ(s["with_errors"], 1);
}

TEST(ParallelFor, RunsEveryIndexOnceAndKeepsTheFirstError) {
  std::vector<std::atomic<int>> hits(50);
  EXPECT_EQ(parallel_for(50, 4, [&](std::size_t i) { hits[i]++; }), 50u);
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  std::atomic<int> started{0};
  EXPECT_THROW(parallel_for(100, 3,
                            [&](std::size_t i) {
                              started++;
                              if (i == 2) throw std::invalid_argument("first");
                              std::this_thread::sleep_for(std::chrono::milliseconds(2));
                            }),
               std::invalid_argument);
  EXPECT_LT(started.load(), 100);  // launching stopped
  EXPECT_EQ(parallel_for(0, 4, [](std::size_t) { FAIL(); }), 0u);
}

}  // namespace
}  // namespace flakescope
