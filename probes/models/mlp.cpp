// A multilayer perceptron (3 linear layers, ReLU) classifying 64 features into 10 classes: the
// model made of nothing but matrix products, so its variance is that of the BLAS.
#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/randint.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include "models/model_probe.h"

namespace flakescope::probes {
namespace {

class Mlp final : public ModelCase {
 public:
  std::shared_ptr<torch::nn::Module> build() override {
    net_ = torch::nn::Sequential(torch::nn::Linear(64, 128), torch::nn::ReLU(),
                                 torch::nn::Linear(128, 128), torch::nn::ReLU(),
                                 torch::nn::Linear(128, 10));
    return net_.ptr();
  }
  std::vector<std::int64_t> sample_shape() const override { return {64}; }
  NamedTensors forward(const at::Tensor& input) override {
    return {{"logits", net_->forward(input)}};
  }
  at::Tensor loss(const at::Tensor& input, const at::Tensor& targets) override {
    return at::cross_entropy_loss(net_->forward(input), targets);
  }
  at::Tensor make_targets(std::int64_t batch, at::Generator generator) const override {
    return at::randint(10, {batch}, generator, at::TensorOptions(at::kLong));
  }

 private:
  torch::nn::Sequential net_{nullptr};
};

[[maybe_unused]] const bool kRegistered = register_model_probes(
    "mlp", "MLP 64-128-128-10", {ModelMode::kTrain}, [] { return std::make_unique<Mlp>(); });

}  // namespace
}  // namespace flakescope::probes
