// One transformer encoder layer (d_model 64, 4 heads, feed-forward 128, dropout 0.1) on sequences
// of 16 tokens: attention softmax, layer norms, matmuls, and dropout in training mode, whose masks
// come from the default generator (so the generator knob matters in backward and train modes).
#include <ATen/ops/mse_loss.h>
#include <ATen/ops/randn.h>
#include <torch/nn/modules/transformerlayer.h>

#include "models/model_probe.h"

namespace flakescope::probes {
namespace {

constexpr std::int64_t kTokens = 16;
constexpr std::int64_t kModel = 64;

class TransformerEncoder final : public ModelCase {
 public:
  std::shared_ptr<torch::nn::Module> build() override {
    layer_ = torch::nn::TransformerEncoderLayer(
        torch::nn::TransformerEncoderLayerOptions(kModel, 4).dim_feedforward(128).dropout(0.1));
    return layer_.ptr();
  }
  std::vector<std::int64_t> sample_shape() const override { return {kTokens, kModel}; }
  // The C++ layer takes (sequence, batch, features); inputs and outputs here are batch first.
  NamedTensors forward(const at::Tensor& input) override { return {{"out", encode(input)}}; }
  at::Tensor loss(const at::Tensor& input, const at::Tensor& targets) override {
    return at::mse_loss(encode(input), targets);
  }
  at::Tensor make_targets(std::int64_t batch, at::Generator generator) const override {
    return at::randn({batch, kTokens, kModel}, generator, at::TensorOptions(at::kFloat));
  }

 private:
  at::Tensor encode(const at::Tensor& input) {
    return layer_->forward(input.transpose(0, 1)).transpose(0, 1);
  }
  torch::nn::TransformerEncoderLayer layer_{nullptr};
};

[[maybe_unused]] const bool kRegistered = register_model_probes(
    "transformer", "transformer encoder layer d64 h4 ff128 dropout 0.1, 16 tokens",
    {ModelMode::kBackward}, [] { return std::make_unique<TransformerEncoder>(); });

}  // namespace
}  // namespace flakescope::probes
