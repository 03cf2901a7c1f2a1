// The mean of a large tensor: a parallel reduction with one partial sum per thread on the CPU
// (grain size 32768), so the result changes with the thread count; block reductions on CUDA.
#include <ATen/ops/mean.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

[[maybe_unused]] const bool kRegistered = register_op_probe(
    {"mean_large",
     "mean of 4M floats: one partial sum per thread, so it moves with the thread count",
     {"ops"},
     true,
     true,
     [] {
       return OpSpec{[](ProbeContext& ctx) { return Tensors{normal_input(ctx, {1 << 22}, 1)}; },
                     [](ProbeContext&, const Tensors& in) {
                       return NamedTensors{{"out", at::mean(in[0])}};
                     }};
     }});

}  // namespace
}  // namespace flakescope::probes
