#pragma once
// Shared shape of the op probes: fixed inputs built once in setup(), one computation per run.
//
// An op is described by two functions instead of a class per op, so each op file is only what is
// specific to the op. One definition is registered up to three times: as "ops/NAME" (the device
// from --device), as "cuda/ops/NAME" (suite "cuda", needs a CUDA device) and as "cuda/agree/NAME"
// (the GPU result minus the CPU result of the same inputs).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "flakescope/probe.h"

namespace flakescope::probes {

using Tensors = std::vector<at::Tensor>;

struct OpSpec {
  // Builds the fixed inputs from ctx.input_generator(), on ctx's device and dtype.
  std::function<Tensors(ProbeContext&)> setup;
  // One run on those inputs.
  std::function<NamedTensors(ProbeContext&, const Tensors&)> run;
};

struct OpProbeDefinition {
  std::string name;                     // "matmul_small": registered as "ops/matmul_small"
  std::string description;              // one line: what varies and why
  std::vector<std::string> cpu_suites;  // suites of the "ops/" probe
  bool cuda_variant = false;            // also register "cuda/ops/NAME"
  bool cpu_gpu_agreement = false;       // also register "cuda/agree/NAME"
  std::function<OpSpec()> spec;
};

// Registers the probes of one definition; returns true so it can initialize a static.
bool register_op_probe(OpProbeDefinition definition);

// A probe running `spec`; with `on_cuda`, setup() first requires a CUDA device.
std::unique_ptr<Probe> make_op_probe(OpSpec spec, bool on_cuda);

// A batch whose row 0 is `row0` (shape [1, ...]) and whose other `batch - 1` rows are taken from
// `filler` in order, cycling when the batch is larger than the filler. Row 0 is then the same
// sample whatever the batch size, which is what the batch knob varies.
at::Tensor batch_with_row0(const at::Tensor& row0, const at::Tensor& filler, std::int64_t batch);

// The input generator of ctx for `salt`, but always a CPU generator: inputs are drawn on the CPU
// and then moved, so a probe sees the same numbers on every device (and CPU-vs-GPU agreement
// compares like with like).
at::Generator cpu_input_generator(const ProbeContext& ctx, std::uint64_t salt);

// Standard-normal inputs of `sizes` from the input generator with `salt`, on ctx's device and
// dtype, drawn from cpu_input_generator.
at::Tensor normal_input(ProbeContext& ctx, at::IntArrayRef sizes, std::uint64_t salt);

// Integers uniform in [0, high) drawn like normal_input, as int64 on ctx's device.
at::Tensor index_input(ProbeContext& ctx, at::IntArrayRef sizes, std::int64_t high,
                       std::uint64_t salt);

}  // namespace flakescope::probes
