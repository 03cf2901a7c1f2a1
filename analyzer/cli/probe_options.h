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
  std::string runs = "20";  // N or "auto" (flakescope/run_count.h)
  std::string max_runs;     // cap for --runs auto; empty: not given (kDefaultMaxRuns)
  double target = 1e-4;     // per-run failure rate of the bounds (--runs auto stabilizes it)
  double confidence = 0.95;
  std::string threads;  // comma list, empty: default
  std::string dtype = "float32";
  std::string device = "cpu";
  std::string input_shape;  // TorchScript: "4,3,32,32"
  std::string input_dtype = "float32";
  std::uint64_t seed = 20261125;
  int train_steps = 5;
  std::string expected;  // tensor file: deviations measured against it instead of run 0
};

// Adds the shared options to `desc`, bound to `o`.
void add_target_options(boost::program_options::options_description& desc, ProbeTargetOptions& o);

// Validates and converts (throws InputError with one line).
ProbeRunOptions to_run_options(const ProbeTargetOptions& o);

// The argv fragment that reproduces `o` in a worker: parsed by add_target_options, it gives back
// `o` field for field (tests/unit_torch/probe_options_test.cpp).
std::vector<std::string> to_worker_args(const ProbeTargetOptions& o);

// Field-by-field equality, for the round trip.
bool operator==(const ProbeTargetOptions& a, const ProbeTargetOptions& b);

// "4,3,32,32" -> {4,3,32,32}; throws InputError naming `what`.
std::vector<std::int64_t> parse_int_list(const std::string& text, const std::string& what,
                                         std::int64_t min_value);

}  // namespace flakescope::cli
