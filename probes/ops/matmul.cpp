// Matrix products, small and large. On the CPU the BLAS blocks K and splits the output among
// threads; the sum over K for one element stays in one thread, so the result is usually fixed for a
// given thread count and library. On CUDA, cuBLAS may pick split-K kernels and TF32.
#include <ATen/ops/matmul.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

OpSpec matmul_spec(std::int64_t n) {
  return {[n](ProbeContext& ctx) {
            return Tensors{normal_input(ctx, {n, n}, 1), normal_input(ctx, {n, n}, 2)};
          },
          [](ProbeContext&, const Tensors& in) {
            return NamedTensors{{"out", at::matmul(in[0], in[1])}};
          }};
}

[[maybe_unused]] const bool kSmall = register_op_probe(
    {"matmul_small",
     "64x64 matmul: fixed on the CPU at a fixed thread count; TF32 and cuBLAS kernels on CUDA",
     {"default", "ops"},
     true,
     true,
     [] { return matmul_spec(64); }});

[[maybe_unused]] const bool kLarge = register_op_probe(
    {"matmul_large",
     "1024x1024 matmul: BLAS blocking and threads on the CPU; split-K, workspace, TF32 on CUDA",
     {"ops"},
     true,
     true,
     [] { return matmul_spec(1024); }});

}  // namespace
}  // namespace flakescope::probes
