#pragma once
// How the probe scheduler runs one probe's settings, whatever runs them: in this process
// (--isolation none), in worker processes (crash isolation, process-level knobs), or a scripted
// runner in the tests. LibTorch-free, like the scheduler above it.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flakescope/knobs.h"

namespace flakescope {

struct ProbeJob {
  std::string name;  // registered probe name, or a TorchScript path as typed
  std::string description;
  bool torchscript = false;
  std::size_t index = 0;  // position in the named order (a worker's result file is per index)
};

class SettingRunner {
 public:
  virtual ~SettingRunner() = default;
  // One report entry per setting of `settings`, in that order. A probe's failure (an exception, a
  // crashed worker) is an entry with verdict "error", never an exception; an exception means the
  // tool itself failed and stops the probe command.
  virtual std::vector<nlohmann::json> run(const ProbeJob& job,
                                          const std::vector<Setting>& settings) = 0;
};

// {"setting": name, "knobs": {knob: "controlled"|"free"}} for a setting.
nlohmann::json setting_json(const Setting& setting);

// {"setting", "knobs", "runs": 0, "verdict": "error", "error": why, "metrics": {}}.
nlohmann::json failed_setting_entry(const Setting& setting, const std::string& why);

}  // namespace flakescope
