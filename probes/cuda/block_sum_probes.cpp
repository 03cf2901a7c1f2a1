// cuda/calibration/atomic_sum and cuda/calibration/ordered_sum: the same raw-CUDA block reduction
// of 4M floats, combining the block partials with atomicAdd (varies from run to run under every
// setting, the GPU counterpart of calibration/racy_sum) or in block order (bitwise fixed). A pair
// of known answers for the GPU measurements.
#include <ATen/ops/contiguous.h>
#include <ATen/ops/exp.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/scalar_tensor.h>

#include "cuda/raw_cuda_available.h"
#include "flakescope/probe.h"
#include "ops/op_probe.h"
#ifdef FLAKESCOPE_HAVE_CUDA
#include "cuda/block_sum.h"
#endif

namespace flakescope::probes {
namespace {

#ifdef FLAKESCOPE_HAVE_CUDA
using cuda_kernels::BlockCombine;
#else
enum class BlockCombine { kAtomicAdd, kInBlockOrder };
#endif

class BlockSumProbe final : public Probe {
 public:
  explicit BlockSumProbe(BlockCombine combine) : combine_(combine) {}

  void setup(ProbeContext& ctx) override {
    require_raw_cuda();
    // Magnitudes over many orders, so the order of the float additions shows in the result.
    at::Generator gen = cpu_input_generator(ctx, 1);
    const auto opts = at::TensorOptions(at::kFloat);
    at::Tensor scale = at::exp(at::mul(at::randn({kCount}, gen, opts), 3.0));
    values_ = at::mul(at::randn({kCount}, gen, opts), scale).contiguous();
  }

  NamedTensors run(ProbeContext&) override {
#ifdef FLAKESCOPE_HAVE_CUDA
    const float sum = cuda_kernels::gpu_block_sum(values_.data_ptr<float>(), kCount, combine_);
    return {{ "out", at::scalar_tensor(sum, at::TensorOptions(at::kFloat)) }};
#else
    return {};  // unreachable: setup() threw UnavailableError
#endif
  }

 private:
  static constexpr std::int64_t kCount = 1 << 22;
  BlockCombine combine_;
  at::Tensor values_;
};

FLAKESCOPE_REGISTER_PROBE({"cuda/calibration/atomic_sum",
                           "raw CUDA sum of 4M floats, block partials combined with atomicAdd: "
                           "nondeterministic under every setting",
                           {"cuda"},
                           true,
                           [](const ProbeOptions&) {
                             return std::make_unique<BlockSumProbe>(BlockCombine::kAtomicAdd);
                           }});

FLAKESCOPE_REGISTER_PROBE({"cuda/calibration/ordered_sum",
                           "raw CUDA sum of 4M floats, block partials added in block order: "
                           "bitwise deterministic by construction",
                           {"cuda"},
                           true,
                           [](const ProbeOptions&) {
                             return std::make_unique<BlockSumProbe>(BlockCombine::kInBlockOrder);
                           }});

}  // namespace
}  // namespace flakescope::probes
