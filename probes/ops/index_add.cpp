// index_add_: rows of a source added into rows of a destination chosen by an index with repeats.
// Serial per destination on the CPU; atomicAdd on CUDA, so the order of the additions (and the
// rounding) changes from run to run unless deterministic algorithms are on.
#include <ATen/ops/index_add.h>
#include <ATen/ops/zeros.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

[[maybe_unused]] const bool kRegistered = register_op_probe(
    {"index_add",
     "index_add_ of 20000 rows into 500: serial on the CPU, atomics on CUDA",
     {"default", "ops"},
     true,
     true,
     [] {
       return OpSpec{
           [](ProbeContext& ctx) {
             return Tensors{index_input(ctx, {20000}, 500, 1), normal_input(ctx, {20000, 32}, 2)};
           },
           [](ProbeContext& ctx, const Tensors& in) {
             at::Tensor out = at::zeros({500, 32}, in[1].options());
             out.index_add_(0, in[0], in[1]);
             return NamedTensors{{"out", out}};
           }};
     }});

}  // namespace
}  // namespace flakescope::probes
