#pragma once
// The probe interface: a target that flakescope runs repeatedly under controlled settings.
//
// A probe builds its inputs once from a seeded generator (so every run and every setting sees the
// same inputs) and returns its output tensors from `run`. Anything that should be affected by a
// knob goes through the ProbeContext: random numbers inside the computation (generator knob), the
// batch size a sample is computed in (batch knob), uninitialized buffers (uninit knob). The other
// knobs (deterministic algorithms, cuDNN, TF32, threads, cuBLAS workspace) are applied by the
// engine around the probe and need nothing from it.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <c10/core/TensorOptions.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flakescope/knobs.h"

namespace flakescope {

// Options fixed for a whole probe run (from the command line).
struct ProbeOptions {
  c10::ScalarType dtype = c10::kFloat;
  c10::Device device = c10::Device(c10::kCPU);
  std::vector<std::int64_t> input_shape;  // TorchScript probes
  c10::ScalarType input_dtype = c10::kFloat;
  std::string model_path;                 // TorchScript probes
  std::uint64_t seed = 20261125;          // inputs and the controlled generator
  std::int64_t train_steps = 5;           // models in training mode
};

class ProbeContext {
 public:
  ProbeContext(ProbeOptions options, Setting setting, std::string_view probe_name = {});

  const ProbeOptions& options() const { return options_; }
  const Setting& setting() const { return setting_; }
  c10::Device device() const { return options_.device; }
  c10::ScalarType dtype() const { return options_.dtype; }
  c10::TensorOptions tensor_options() const;  // dtype + device
  int run_index() const { return run_; }

  // A fresh generator seeded with the probe's seed (+ salt): for building fixed inputs in setup().
  // Same values in every run and under every setting.
  at::Generator input_generator(std::uint64_t salt = 0) const;

  // For random numbers drawn *inside* the computation (dropout masks, randn in a forward pass).
  // Generator knob controlled: an explicit generator reseeded with the same seed before every run
  // (and the global generator is reseeded too, for ops that take none, such as dropout).
  // Free: the process-wide default generator, never reseeded, as unseeded code gets.
  at::Generator generator() const;

  // The batch a sample is computed in. Batch knob controlled: `nominal` in every run. Free: the
  // size varies from run to run (the sample of interest stays row 0).
  std::int64_t batch_size(std::int64_t nominal) const;

  // An uninitialized buffer, as at::empty gives. Uninit knob controlled: filled (NaN for floating
  // types, the largest value for integers, as PyTorch's fill_uninitialized_memory does).
  at::Tensor empty(at::IntArrayRef sizes, c10::TensorOptions options) const;

  // Engine only: called before run `index`; reseeds per the generator knob.
  void begin_run(int index);

 private:
  ProbeOptions options_;
  Setting setting_;
  int run_ = 0;
  bool unseeded_ = false;  // fault-injection tests only (analyzer/engine/probe_faults.h)
  at::Generator explicit_generator_;
};

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

class Probe {
 public:
  virtual ~Probe() = default;
  // Builds fixed inputs, once per setting, outside the measured runs.
  virtual void setup(ProbeContext& ctx) {}
  // One run. Outputs are compared run to run by name.
  virtual NamedTensors run(ProbeContext& ctx) = 0;
};

struct ProbeInfo {
  std::string name;                 // "ops/matmul_small"
  std::string description;          // one line
  std::vector<std::string> suites;  // "default", "ops", "models", "calibration", "cuda"
  bool needs_cuda = false;          // meaningful only on a CUDA device
  std::function<std::unique_ptr<Probe>(const ProbeOptions&)> make;
};

// Registration from each probe's own file; collected in an OBJECT library so nothing is dropped.
class ProbeRegistry {
 public:
  static ProbeRegistry& instance();
  void add(ProbeInfo info);
  // Sorted by name.
  const std::vector<ProbeInfo>& all();
  const ProbeInfo* find(std::string_view name);

 private:
  std::vector<ProbeInfo> probes_;
  bool sorted_ = false;
};

struct ProbeRegistrar {
  explicit ProbeRegistrar(ProbeInfo info) { ProbeRegistry::instance().add(std::move(info)); }
};

#define FLAKESCOPE_PROBE_CONCAT_(a, b) a##b
#define FLAKESCOPE_PROBE_CONCAT(a, b) FLAKESCOPE_PROBE_CONCAT_(a, b)
// FLAKESCOPE_REGISTER_PROBE({"ops/sum_large", "sum of 4M floats", {"default", "ops"}, false,
//                            [](const ProbeOptions&) { return std::make_unique<SumLarge>(); }});
#define FLAKESCOPE_REGISTER_PROBE(...)                                                  \
  static const ::flakescope::ProbeRegistrar FLAKESCOPE_PROBE_CONCAT(flakescope_probe_, \
                                                                    __LINE__)(         \
      ::flakescope::ProbeInfo __VA_ARGS__)

// A probe for a TorchScript file: loads options.model_path with torch::jit::load and feeds one input
// of options.input_shape / input_dtype built from the input generator. Throws InputError when the
// file is missing or not a TorchScript archive, or the shape is bad.
std::unique_ptr<Probe> make_torchscript_probe(const ProbeOptions& options);

}  // namespace flakescope
