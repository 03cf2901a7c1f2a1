#pragma once
// Shared shape of the model probes. A model (MLP, CNN, transformer encoder layer, LSTM) is probed
// in three modes:
//   forward   inference (eval mode, no grad) on a batch of ctx.batch_size(nominal) samples;
//             outputs are row 0 of each output, so the batch knob shows batch dependence;
//   backward  one forward + backward in training mode on the nominal batch; the gradients of
//             every parameter are the outputs ("grad/NAME");
//   train     K = options().train_steps plain SGD steps from the same initial weights; the
//             flattened weights after every step are the outputs ("step1" ... "stepK"), so the
//             growth of run-to-run divergence over steps is visible.
// Weights are initialized from the input generator (the same in every run and setting), uniform
// within +-1/sqrt(fan-in) like PyTorch's default layer initializers (normalization scales stay one),
// so the generator knob acts only inside the computation (dropout in training mode).
#include <torch/nn/module.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "flakescope/probe.h"

namespace flakescope::probes {

class ModelCase {
 public:
  virtual ~ModelCase() = default;
  // The module, constructed on the CPU in float; the probe initializes and moves it.
  virtual std::shared_ptr<torch::nn::Module> build() = 0;
  // Shape of one input sample (without the batch dimension) and of one target.
  virtual std::vector<std::int64_t> sample_shape() const = 0;
  // Outputs of a forward pass on a batch-first input; every output has the batch in dim 0.
  virtual NamedTensors forward(const at::Tensor& input) = 0;
  // Scalar loss on a batch-first input and its targets (targets: same batch, from make_targets).
  virtual at::Tensor loss(const at::Tensor& input, const at::Tensor& targets) = 0;
  // Targets for `batch` samples drawn from `generator` on the CPU (float; cast by the probe).
  virtual at::Tensor make_targets(std::int64_t batch, at::Generator generator) const = 0;
  // Samples in the batch of the backward and train modes, and nominal batch of forward mode.
  virtual std::int64_t nominal_batch() const { return 16; }
};

enum class ModelMode { kForward, kBackward, kTrain };

// Registers "models/NAME/{forward,backward,train}" (suites: "models", plus "default" for the modes
// in `default_modes`) and "cuda/models/NAME/MODE" (suite "cuda").
bool register_model_probes(const std::string& name, const std::string& description,
                           std::vector<ModelMode> default_modes,
                           std::function<std::unique_ptr<ModelCase>()> make_case);

}  // namespace flakescope::probes
