#pragma once
// Runs one probe under one setting, N times, in this process, and reduces its outputs to the
// report's per-setting entry. The worker process calls this once per setting; benchmarks call it
// directly (--isolation none).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/run_count.h"
#include "engine/scheduling/setting_runner.h"  // setting_json
#include "flakescope/knobs.h"
#include "flakescope/probe.h"
#include "io/tensor_file.h"

namespace flakescope {

struct ProbeRunOptions {
  // Fixed N, or --runs auto (stats::AdaptiveStopper on each output's max |dev|, with the probe
  // schedule of flakescope/run_count.h).
  RunCount count = fixed_run_count(20);
  double target = 1e-4;  // --runs auto: the per-run failure rate of the bound being stabilized
  double confidence = 0.95;
  std::vector<int> threads;  // empty: default_thread_counts()
  ProbeOptions probe;
  bool keep_samples = true;
  std::string expected_path;  // probe --expected: read with read_expected_tensors
};

// The probe factory is separate from ProbeInfo so TorchScript files and tests run the same way.
using ProbeFactory = std::function<std::unique_ptr<Probe>(const ProbeOptions&)>;

// How far a knob moves the result, as against how much it makes runs differ: TF32 on gives
// repeatable results that are not the TF32-off ones, which run-to-run metrics cannot see. The
// settings of one worker run in sequence, so the "controlled" setting's first-run outputs are kept
// here (host copies) and every later setting's first run is measured against them; the entry gets
// metrics[output]["shift_from_controlled"] = {max_abs, max_rel, max_ulp, identical}.
struct ControlledReference {
  std::map<std::string, HostTensor> outputs;  // empty until the controlled setting has run
};

// Never throws for a probe's failure: errors become verdict "error" (or "unavailable" for
// UnavailableError) with the message. `progress(run_index)` is called after each run. With
// `reference`, a "controlled" setting fills it and any other setting is measured against it.
nlohmann::json run_probe_setting(const std::string& probe_name, const ProbeFactory& factory,
                                 const Setting& setting, const ProbeRunOptions& options,
                                 const std::function<void(int)>& progress = {},
                                 ControlledReference* reference = nullptr);

// The LibTorch version and CUDA availability of this build, for report headers.
nlohmann::json torch_build_context();

}  // namespace flakescope
