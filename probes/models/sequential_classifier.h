#pragma once
// A ModelCase whose network is one Sequential ending in 10-class logits, trained with cross
// entropy on uniformly drawn labels: the MLP and the CNN differ only in the layers they stack.
#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/randint.h>
#include <torch/nn/modules/container/sequential.h>

#include "models/model_probe.h"

namespace flakescope::probes {

class SequentialClassifier : public ModelCase {
 public:
  NamedTensors forward(const at::Tensor& input) override {
    return {{"logits", net_->forward(input)}};
  }
  at::Tensor loss(const at::Tensor& input, const at::Tensor& targets) override {
    return at::cross_entropy_loss(net_->forward(input), targets);
  }
  at::Tensor make_targets(std::int64_t batch, at::Generator generator) const override {
    return at::randint(kClasses, {batch}, generator, at::TensorOptions(at::kLong));
  }

 protected:
  static constexpr std::int64_t kClasses = 10;
  torch::nn::Sequential net_{nullptr};
};

}  // namespace flakescope::probes
