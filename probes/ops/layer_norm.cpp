// Layer normalization: a mean and a variance per row (Welford on the CPU, block reductions on
// CUDA).
#include <ATen/ops/layer_norm.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

[[maybe_unused]] const bool kRegistered = register_op_probe(
    {"layer_norm",
     "layer_norm over 64 rows of 512: per-row mean and variance",
     {"default", "ops"},
     true,
     true,
     [] {
       return OpSpec{[](ProbeContext& ctx) {
                       return Tensors{normal_input(ctx, {64, 512}, 1), normal_input(ctx, {512}, 2),
                                      normal_input(ctx, {512}, 3)};
                     },
                     [](ProbeContext&, const Tensors& in) {
                       return NamedTensors{{"out", at::layer_norm(in[0], {512}, in[1], in[2])}};
                     }};
     }});

}  // namespace
}  // namespace flakescope::probes
