// Softmax over rows: a max and a sum per row, vectorized; rows are split among threads but each
// row's reduction stays in one thread, so the CPU result should be bitwise stable.
#include <ATen/ops/softmax.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

[[maybe_unused]] const bool kRegistered = register_op_probe(
    {"softmax",
     "softmax over 64 rows of 1000: per-row reductions, expected stable on the CPU",
     {"default", "ops"},
     true,
     true,
     [] {
       return OpSpec{[](ProbeContext& ctx) {
                       return Tensors{normal_input(ctx, {64, 1000}, 1)};
                     },
                     [](ProbeContext&, const Tensors& in) {
                       return NamedTensors{{"out", at::softmax(in[0], 1)}};
                     }};
     }});

}  // namespace
}  // namespace flakescope::probes
