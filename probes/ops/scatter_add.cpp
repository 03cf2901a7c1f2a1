// scatter_add_: many source elements summed into few destinations. Parallel over rows on the CPU
// (each destination written by one thread); atomicAdd on CUDA.
#include <ATen/ops/scatter_add.h>
#include <ATen/ops/zeros.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

[[maybe_unused]] const bool kRegistered = register_op_probe(
    {"scatter_add",
     "scatter_add_ of 64x8192 into 64x128: per-row on the CPU, atomics on CUDA",
     {"default", "ops"},
     true,
     true,
     [] {
       return OpSpec{
           [](ProbeContext& ctx) {
             return Tensors{index_input(ctx, {64, 8192}, 128, 1), normal_input(ctx, {64, 8192}, 2)};
           },
           [](ProbeContext&, const Tensors& in) {
             at::Tensor out = at::zeros({64, 128}, in[1].options());
             out.scatter_add_(1, in[0], in[1]);
             return NamedTensors{{"out", out}};
           }};
     }});

}  // namespace
}  // namespace flakescope::probes
