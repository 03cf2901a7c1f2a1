// A two-layer LSTM (32 -> 64) over 20 time steps: many small matmuls in sequence, where rounding
// differences compound along time; on CUDA, cuDNN's RNN kernels.
#include <ATen/ops/mse_loss.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/select.h>
#include <torch/nn/modules/rnn.h>

#include <tuple>

#include "models/model_probe.h"

namespace flakescope::probes {
namespace {

constexpr std::int64_t kSteps = 20;
constexpr std::int64_t kHidden = 64;

class Lstm final : public ModelCase {
 public:
  std::shared_ptr<torch::nn::Module> build() override {
    lstm_ = torch::nn::LSTM(torch::nn::LSTMOptions(32, kHidden).num_layers(2).batch_first(true));
    return lstm_.ptr();
  }
  std::vector<std::int64_t> sample_shape() const override { return {kSteps, 32}; }
  NamedTensors forward(const at::Tensor& input) override {
    auto [out, state] = lstm_->forward(input);
    // h_n and c_n are (layers, batch, hidden): batch first like every output here.
    return {{"out", out},
            {"h_n", std::get<0>(state).transpose(0, 1)},
            {"c_n", std::get<1>(state).transpose(0, 1)}};
  }
  // Regression of the last time step's output.
  at::Tensor loss(const at::Tensor& input, const at::Tensor& targets) override {
    at::Tensor out = std::get<0>(lstm_->forward(input));
    return at::mse_loss(out.select(1, kSteps - 1), targets);
  }
  at::Tensor make_targets(std::int64_t batch, at::Generator generator) const override {
    return at::randn({batch, kHidden}, generator, at::TensorOptions(at::kFloat));
  }

 private:
  torch::nn::LSTM lstm_{nullptr};
};

[[maybe_unused]] const bool kRegistered =
    register_model_probes("lstm", "LSTM 2 layers 32->64 over 20 steps", {ModelMode::kForward},
                          [] { return std::make_unique<Lstm>(); });

}  // namespace
}  // namespace flakescope::probes
