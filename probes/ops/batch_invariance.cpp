// Batch invariance: one sample's result computed inside batches of different sizes
// (f(x)[:1] vs f(x[:1])). Kernels choose their blocking and reduction strategy by the problem
// size, so the sample's bits can depend on what else is in the batch. The batch knob varies the
// batch; the output is row 0 only.
#include <ATen/ops/linear.h>
#include <ATen/ops/matmul.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

constexpr std::int64_t kNominalBatch = 32;
constexpr std::int64_t kFeatures = 512;

// Inputs: row 0, filler rows, then the op's own parameters.
Tensors batch_inputs(ProbeContext& ctx) {
  return Tensors{normal_input(ctx, {1, kFeatures}, 1), normal_input(ctx, {255, kFeatures}, 2),
                 normal_input(ctx, {kFeatures, kFeatures}, 3), normal_input(ctx, {kFeatures}, 4)};
}

at::Tensor batch_for_run(ProbeContext& ctx, const Tensors& in) {
  return batch_with_row0(in[0], in[1], ctx.batch_size(kNominalBatch));
}

[[maybe_unused]] const bool kMatmul = register_op_probe(
    {"batch_invariance_matmul",
     "row 0 of matmul(x, W) with x of 1..N rows: the BLAS kernel depends on the batch size",
     {"default", "ops"},
     true,
     false,
     [] {
       return OpSpec{batch_inputs, [](ProbeContext& ctx, const Tensors& in) {
                       at::Tensor out = at::matmul(batch_for_run(ctx, in), in[2]);
                       return NamedTensors{{"row0", out.narrow(0, 0, 1)}};
                     }};
     }});

[[maybe_unused]] const bool kLinear = register_op_probe(
    {"batch_invariance_linear",
     "row 0 of linear(x) with x of 1..N rows: the BLAS kernel depends on the batch size",
     {"ops"},
     true,
     false,
     [] {
       return OpSpec{batch_inputs, [](ProbeContext& ctx, const Tensors& in) {
                       at::Tensor out = at::linear(batch_for_run(ctx, in), in[2], in[3]);
                       return NamedTensors{{"row0", out.narrow(0, 0, 1)}};
                     }};
     }});

}  // namespace
}  // namespace flakescope::probes
