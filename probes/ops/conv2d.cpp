// 2-D convolution, forward and backward. The backward reduces over the batch and the spatial
// positions (weight gradient), which on CUDA is where cuDNN picks atomics-based algorithms, and
// where benchmark mode may pick a different algorithm per process.
#include <ATen/ops/conv2d.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/sum.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

Tensors conv_inputs(ProbeContext& ctx) {
  return Tensors{normal_input(ctx, {8, 16, 32, 32}, 1), normal_input(ctx, {32, 16, 3, 3}, 2),
                 normal_input(ctx, {32}, 3), normal_input(ctx, {8, 32, 32, 32}, 4)};
}

[[maybe_unused]] const bool kForward = register_op_probe(
    {"conv2d_forward",
     "conv2d 8x16x32x32, 32 3x3 filters: thread split on the CPU; cuDNN algorithm, TF32 on CUDA",
     {"default", "ops"},
     true,
     true,
     [] {
       return OpSpec{conv_inputs, [](ProbeContext&, const Tensors& in) {
                       return NamedTensors{{"out", at::conv2d(in[0], in[1], in[2], 1, 1)}};
                     }};
     }});

[[maybe_unused]] const bool kBackward = register_op_probe(
    {"conv2d_backward",
     "conv2d gradients (input, weight, bias): reductions over batch and pixels; cuDNN atomics on "
     "CUDA",
     {"default", "ops"},
     true,
     true,
     [] {
       return OpSpec{conv_inputs, [](ProbeContext&, const Tensors& in) {
                       at::Tensor x = in[0].detach().requires_grad_();
                       at::Tensor w = in[1].detach().requires_grad_();
                       at::Tensor b = in[2].detach().requires_grad_();
                       // A fixed upstream gradient (in[3]) instead of ones, so every output
                       // element contributes a different amount to the weight gradient.
                       at::sum(at::mul(at::conv2d(x, w, b, 1, 1), in[3])).backward();
                       return NamedTensors{{"grad_input", x.grad()},
                                           {"grad_weight", w.grad()},
                                           {"grad_bias", b.grad()}};
                     }};
     }});

}  // namespace
}  // namespace flakescope::probes
