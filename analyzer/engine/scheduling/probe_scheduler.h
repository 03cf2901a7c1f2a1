#pragma once
// Probe scheduling, LibTorch-free: which settings share a process, `jobs` probes at a time, each
// probe's entry (its settings, outputs and diagnosis), and the report summary. `flakescope probe`
// calls it with an in-process or a worker-process runner; the unit tests with scripted ones.
#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/scheduling/setting_runner.h"
#include "engine/scheduling/worker_process_runner.h"
#include "flakescope/report_model.h"

namespace flakescope {

// Settings grouped by the process environment their process-level knobs need: one worker per
// group. With `one_group` (the CPU, where CUBLAS_WORKSPACE_CONFIG does nothing) every setting
// shares one worker, since a worker start (loading LibTorch) costs more than most probes' runs.
std::vector<std::vector<Setting>> group_by_environment(
    const std::vector<Setting>& settings, bool one_group,
    const std::function<EnvironmentChanges(const Setting&)>& environment);

struct ScheduleOptions {
  std::size_t jobs = 1;                       // probes at a time
  const std::atomic<bool>* cancel = nullptr;  // no probe starts once set
  std::string device;                         // recorded in each probe's entry
};

struct ScheduleHooks {
  // Before probe `index` starts; `done` probes have finished.
  std::function<void(std::size_t done, const ProbeJob& job)> on_start;
  // After probe `index` finished, with its entry; `finished` lists every finished probe's entry in
  // the named order (for partial reports that survive an interruption). Called under a lock.
  std::function<void(std::size_t done, const ProbeJob& job,
                     const std::vector<model::ProbeResult>& finished)>
      on_finish;
};

// Runs each job's setting groups through `runner`, `jobs` probes at a time. Returns the entries of
// the probes that finished, in the order of `jobs_list` whatever the interleaving. An exception of
// the runner stops the launching of probes and is rethrown once all have stopped.
std::vector<model::ProbeResult> schedule_probes(const std::vector<ProbeJob>& jobs_list,
                                                const std::vector<std::vector<Setting>>& groups,
                                                SettingRunner& runner,
                                                const ScheduleOptions& options,
                                                const ScheduleHooks& hooks = {});

// One probe's report entry from its settings' entries (the runner's JSON, read into the model):
// the output names in first-seen order and the diagnosis.
model::ProbeResult probe_entry(const ProbeJob& job, const std::string& device,
                               const std::vector<nlohmann::json>& settings);

// The report's "summary" counts over its probes.
nlohmann::json probe_summary(const std::vector<model::ProbeResult>& probes);

}  // namespace flakescope
