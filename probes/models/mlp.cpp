// A multilayer perceptron (3 linear layers, ReLU) classifying 64 features into 10 classes: the
// model made of nothing but matrix products, so its variance is that of the BLAS.
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

#include "models/sequential_classifier.h"

namespace flakescope::probes {
namespace {

class Mlp final : public SequentialClassifier {
 public:
  std::shared_ptr<torch::nn::Module> build() override {
    net_ = torch::nn::Sequential(torch::nn::Linear(64, 128), torch::nn::ReLU(),
                                 torch::nn::Linear(128, 128), torch::nn::ReLU(),
                                 torch::nn::Linear(128, 10));
    return net_.ptr();
  }
  std::vector<std::int64_t> sample_shape() const override { return {64}; }
};

[[maybe_unused]] const bool kRegistered = register_model_probes(
    "mlp", "MLP 64-128-128-10", {ModelMode::kTrain}, [] { return std::make_unique<Mlp>(); });

}  // namespace
}  // namespace flakescope::probes
