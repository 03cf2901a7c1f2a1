#pragma once
// Turns what the user typed (probe names, glob patterns, suites, TorchScript paths) into the list
// of targets to run, with one clear error for anything that does not resolve.
#include <string>
#include <vector>

#include "engine/probe_runner.h"

namespace flakescope::cli {

struct ProbeTarget {
  std::string name;  // "ops/matmul_small" or the .pt path as typed
  std::string description;
  bool torchscript = false;
  bool needs_cuda = false;
};

std::vector<ProbeTarget> resolve_targets(const std::vector<std::string>& names,
                                         const std::vector<std::string>& suites);

// The factory for a resolved target (TorchScript targets read options.model_path).
ProbeFactory factory_for(const ProbeTarget& target);

// Loads a TorchScript target once in this process to fail early with a clear message.
void validate_torchscript(const ProbeTarget& target, const ProbeRunOptions& options);

}  // namespace flakescope::cli
