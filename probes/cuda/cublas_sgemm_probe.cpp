// cuda/calibration/cublas_sgemm: a 1024x1024x1024 SGEMM through cuBLAS directly (not LibTorch),
// TF32 math when the TF32 knob is free. cuBLAS documents repeatable results for a fixed GPU,
// toolkit and stream, so this is the GPU's expected-deterministic reference for ops/matmul_large.
#include <ATen/ops/empty.h>
#include <ATen/ops/randn.h>

#include "cuda/raw_cuda_available.h"
#include "flakescope/probe.h"
#include "ops/op_probe.h"
#ifdef FLAKESCOPE_HAVE_CUDA
#include "cuda/cublas_sgemm.h"
#endif

namespace flakescope::probes {
namespace {

constexpr std::int64_t kSize = 1024;

class CublasSgemmProbe final : public Probe {
 public:
  void setup(ProbeContext& ctx) override {
    require_raw_cuda();
    const auto opts = at::TensorOptions(at::kFloat);
    a_ = at::randn({kSize, kSize}, cpu_input_generator(ctx, 1), opts);
    b_ = at::randn({kSize, kSize}, cpu_input_generator(ctx, 2), opts);
  }

  NamedTensors run(ProbeContext& ctx) override {
    at::Tensor c = at::empty({kSize, kSize}, at::TensorOptions(at::kFloat));
#ifdef FLAKESCOPE_HAVE_CUDA
    cuda_kernels::gpu_sgemm(a_.data_ptr<float>(), b_.data_ptr<float>(), c.data_ptr<float>(), kSize,
                            kSize, kSize, ctx.setting().is_free(Knob::kTf32));
#endif
    return {{"out", c}};
  }

 private:
  at::Tensor a_, b_;
};

FLAKESCOPE_REGISTER_PROBE({"cuda/calibration/cublas_sgemm",
                           "raw cuBLAS SGEMM 1024^3 (TF32 math when the TF32 knob is free): "
                           "documented repeatable on one GPU",
                           {"cuda"},
                           true,
                           [](const ProbeOptions&) {
                             return std::make_unique<CublasSgemmProbe>();
                           }});

}  // namespace
}  // namespace flakescope::probes
