#include "models/model_probe.h"

#include <ATen/ops/cat.h>
#include <ATen/ops/randn.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <utility>

#include "cuda/cuda_device.h"
#include "flakescope/error.h"
#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

constexpr double kLearningRate = 0.05;
constexpr std::int64_t kFillerSamples = 63;

const char* mode_name(ModelMode mode) {
  switch (mode) {
    case ModelMode::kForward:
      return "forward";
    case ModelMode::kBackward:
      return "backward";
    case ModelMode::kTrain:
      return "train";
  }
  return "?";
}

// Fan-in of a parameter as PyTorch's default initializers compute it; for a bias (1-D) the fan-in
// of its layer is not known here, so its own length stands in (bounds of the same order).
std::int64_t fan_in(const at::Tensor& p) {
  if (p.dim() < 2) return p.numel();
  return p.numel() / p.size(0);
}

class ModelProbe final : public Probe {
 public:
  ModelProbe(ModelMode mode, std::unique_ptr<ModelCase> model_case, bool on_cuda)
      : mode_(mode), case_(std::move(model_case)), on_cuda_(on_cuda) {}

  void setup(ProbeContext& ctx) override {
    if (on_cuda_) require_cuda_device(ctx);
    module_ = case_->build();
    initialize_weights(ctx);
    module_->to(ctx.device(), ctx.dtype());
    for (const auto& p : module_->parameters()) initial_.push_back(p.detach().clone());

    std::vector<std::int64_t> shape = case_->sample_shape();
    shape.insert(shape.begin(), 1);
    row0_ = normal_input(ctx, shape, 101);
    shape[0] = kFillerSamples;
    filler_ = normal_input(ctx, shape, 102);
    nominal_input_ = batch_with_row0(row0_, filler_, case_->nominal_batch());
    targets_ =
        case_->make_targets(case_->nominal_batch(), cpu_input_generator(ctx, 103)).to(ctx.device());
    if (targets_.is_floating_point()) targets_ = targets_.to(ctx.dtype());
  }

  NamedTensors run(ProbeContext& ctx) override {
    switch (mode_) {
      case ModelMode::kForward:
        return run_forward(ctx);
      case ModelMode::kBackward:
        return run_backward();
      case ModelMode::kTrain:
        return run_train(ctx);
    }
    return {};
  }

 private:
  void initialize_weights(ProbeContext& ctx) {
    torch::NoGradGuard no_grad;
    at::Generator generator = cpu_input_generator(ctx, 100);
    for (const auto& item : module_->named_parameters()) {
      at::Tensor p = item.value();
      const bool norm_scale = p.dim() == 1 && item.key().find("norm") != std::string::npos &&
                              item.key().find("weight") != std::string::npos;
      if (norm_scale) continue;  // normalization scales stay at their default of one
      const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in(p)));
      p.uniform_(-bound, bound, generator);
    }
  }

  void restore_initial_weights() {
    torch::NoGradGuard no_grad;
    auto params = module_->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(initial_[i]);
  }

  void zero_grads() {
    for (auto& p : module_->parameters()) {
      if (p.grad().defined()) p.mutable_grad() = at::Tensor();
    }
  }

  NamedTensors run_forward(ProbeContext& ctx) {
    torch::NoGradGuard no_grad;
    module_->eval();
    at::Tensor input = batch_with_row0(row0_, filler_, ctx.batch_size(case_->nominal_batch()));
    NamedTensors outputs = case_->forward(input);
    for (auto& named : outputs) named.second = named.second.narrow(0, 0, 1);
    return outputs;
  }

  NamedTensors run_backward() {
    module_->train();
    zero_grads();
    case_->loss(nominal_input_, targets_).backward();
    NamedTensors grads;
    for (const auto& item : module_->named_parameters()) {
      grads.emplace_back("grad/" + item.key(), item.value().grad().clone());
    }
    return grads;
  }

  NamedTensors run_train(ProbeContext& ctx) {
    module_->train();
    restore_initial_weights();
    NamedTensors steps;
    const std::int64_t k = ctx.options().train_steps;
    if (k < 1) throw InputError("--train-steps must be at least 1");
    for (std::int64_t step = 1; step <= k; ++step) {
      zero_grads();
      case_->loss(nominal_input_, targets_).backward();
      torch::NoGradGuard no_grad;
      std::vector<at::Tensor> flat;
      for (auto& p : module_->parameters()) {
        p.sub_(p.grad(), kLearningRate);
        flat.push_back(p.detach().reshape({-1}));
      }
      steps.emplace_back("step" + std::to_string(step), at::cat(flat));
    }
    return steps;
  }

  ModelMode mode_;
  std::unique_ptr<ModelCase> case_;
  bool on_cuda_;
  std::shared_ptr<torch::nn::Module> module_;
  std::vector<at::Tensor> initial_;
  at::Tensor row0_, filler_, nominal_input_, targets_;
};

}  // namespace

bool register_model_probes(const std::string& name, const std::string& description,
                           std::vector<ModelMode> default_modes,
                           std::function<std::unique_ptr<ModelCase>()> make_case) {
  for (ModelMode mode : {ModelMode::kForward, ModelMode::kBackward, ModelMode::kTrain}) {
    const std::string suffix = name + "/" + mode_name(mode);
    std::vector<std::string> suites{"models"};
    for (ModelMode d : default_modes) {
      if (d == mode) suites.insert(suites.begin(), "default");
    }
    const std::string what = description + ", " + mode_name(mode);
    ProbeRegistry::instance().add(
        {"models/" + suffix, what, suites, false, [mode, make_case](const ProbeOptions&) {
           return std::make_unique<ModelProbe>(mode, make_case(), false);
         }});
    ProbeRegistry::instance().add({"cuda/models/" + suffix,
                                   what + " (on the GPU)",
                                   {"cuda"},
                                   true,
                                   [mode, make_case](const ProbeOptions&) {
                                     return std::make_unique<ModelProbe>(mode, make_case(), true);
                                   }});
  }
  return true;
}

}  // namespace flakescope::probes
