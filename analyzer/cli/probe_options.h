#pragma once
// Options shared by `probe` and its `__worker` processes: parsed once into one struct, validated at
// the edge, and serialized back to argv for the worker, so both sides agree by construction.
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <string>
#include <vector>

#include "engine/probe_runner.h"

namespace flakescope::cli {

struct ProbeTargetOptions {
  std::string runs = "20";  // N or "auto"
  std::string threads;      // comma list, empty: default
  std::string dtype = "float32";
  std::string device = "cpu";
  std::string input_shape;  // TorchScript: "4,3,32,32"
  std::string input_dtype = "float32";
  std::uint64_t seed = 20261125;
  int train_steps = 5;
  int max_runs = 500;  // cap for --runs auto
  std::string expected;  // tensor file: deviations measured against it instead of run 0
};

// Adds the shared options to `desc`, bound to `o`.
void add_target_options(boost::program_options::options_description& desc, ProbeTargetOptions& o);

// Validates and converts (throws InputError with one line).
ProbeRunOptions to_run_options(const ProbeTargetOptions& o);

// The argv fragment that reproduces `o` in a worker.
std::vector<std::string> to_worker_args(const ProbeTargetOptions& o);

// "4,3,32,32" -> {4,3,32,32}; throws InputError naming `what`.
std::vector<std::int64_t> parse_int_list(const std::string& text, const std::string& what,
                                         std::int64_t min_value);

}  // namespace flakescope::cli
