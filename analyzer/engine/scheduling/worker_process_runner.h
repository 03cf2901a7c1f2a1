#pragma once
// Runs a probe's settings in worker processes (`flakescope-torch __worker`). The worker writes its
// result file after each setting; when it dies in a setting (a crash, an abort, an exit), that
// setting is recorded with the cause and the settings after it get a fresh worker, so one crashing
// setting does not hide what the others measure. After a timeout or an interruption the rest are
// marked not run: restarting would only repeat the wait.
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/subprocess.h"
#include "engine/scheduling/setting_runner.h"

namespace flakescope {

using ProcessLauncher = std::function<ProcessResult(const ProcessSpec&)>;
using EnvironmentChanges = std::vector<std::pair<std::string, std::optional<std::string>>>;

struct WorkerConfig {
  std::string executable;                 // the engine binary (self_executable_path())
  std::vector<std::string> options_argv;  // to_worker_args(ProbeTargetOptions)
  std::string result_prefix;              // result files: PREFIX.<index>.json
  double timeout_seconds = 900;
  const std::atomic<bool>* cancel = nullptr;
  // The environment a setting's process-level knobs need (the settings of one call share it).
  std::function<EnvironmentChanges(const Setting&)> environment;
};

// The worker's argv for `settings` of `job` (the protocol, in one place).
std::vector<std::string> worker_argv(const WorkerConfig& config, const ProbeJob& job,
                                     const std::vector<Setting>& settings,
                                     const std::string& result_path);

// Why a worker ended without finishing: "the probe crashed the worker process (SIGABRT)", ...
std::string worker_failure(const ProcessResult& result, double timeout_seconds);

class WorkerProcessRunner : public SettingRunner {
 public:
  explicit WorkerProcessRunner(WorkerConfig config, ProcessLauncher launch = run_process);
  std::vector<nlohmann::json> run(const ProbeJob& job,
                                  const std::vector<Setting>& settings) override;
  // Worker processes started so far (crash restarts included), for the measurements.
  std::size_t workers_started() const { return started_.load(); }

 private:
  WorkerConfig config_;
  ProcessLauncher launch_;
  std::atomic<std::size_t> started_{0};
};

}  // namespace flakescope
