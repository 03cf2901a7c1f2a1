// A small CNN (two 3x3 convolutions, max pooling, adaptive average pooling, a linear head) on
// 3x32x32 images: convolution algorithms, and on CUDA the adaptive-pool backward that PyTorch
// documents as nondeterministic.
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include "models/sequential_classifier.h"

namespace flakescope::probes {
namespace {

class SmallCnn final : public SequentialClassifier {
 public:
  std::shared_ptr<torch::nn::Module> build() override {
    using torch::nn::Conv2dOptions;
    net_ = torch::nn::Sequential(torch::nn::Conv2d(Conv2dOptions(3, 16, 3).padding(1)),
                                 torch::nn::ReLU(), torch::nn::MaxPool2d(2),
                                 torch::nn::Conv2d(Conv2dOptions(16, 32, 3).padding(1)),
                                 torch::nn::ReLU(), torch::nn::AdaptiveAvgPool2d(1),
                                 torch::nn::Flatten(), torch::nn::Linear(32, 10));
    return net_.ptr();
  }
  std::vector<std::int64_t> sample_shape() const override { return {3, 32, 32}; }
};

[[maybe_unused]] const bool kRegistered =
    register_model_probes("cnn", "CNN conv16-pool-conv32-avgpool-linear on 3x32x32",
                          {ModelMode::kBackward}, [] { return std::make_unique<SmallCnn>(); });

}  // namespace
}  // namespace flakescope::probes
