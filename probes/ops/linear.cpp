// A fully connected layer (x W^T + b), the most common op in a model.
#include <ATen/ops/linear.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

[[maybe_unused]] const bool kRegistered = register_op_probe(
    {"linear",
     "linear 32x512 -> 256: BLAS blocking by thread count on the CPU; cuBLAS kernels, TF32 on CUDA",
     {"default", "ops"},
     true,
     true,
     [] {
       return OpSpec{[](ProbeContext& ctx) {
                       return Tensors{normal_input(ctx, {32, 512}, 1),
                                      normal_input(ctx, {256, 512}, 2),
                                      normal_input(ctx, {256}, 3)};
                     },
                     [](ProbeContext&, const Tensors& in) {
                       return NamedTensors{{"out", at::linear(in[0], in[1], in[2])}};
                     }};
     }});

}  // namespace
}  // namespace flakescope::probes
