// Cumulative sum along long rows. Sequential per row on the CPU; a parallel scan on CUDA, which
// PyTorch documents as nondeterministic for floating types (it raises in deterministic mode on the
// versions that have no deterministic kernel).
#include <ATen/ops/cumsum.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

[[maybe_unused]] const bool kRegistered = register_op_probe(
    {"cumsum",
     "cumsum along 16 rows of 65536: sequential on the CPU, a parallel scan on CUDA",
     {"default", "ops"},
     true,
     true,
     [] {
       return OpSpec{[](ProbeContext& ctx) {
                       return Tensors{normal_input(ctx, {16, 65536}, 1)};
                     },
                     [](ProbeContext&, const Tensors& in) {
                       return NamedTensors{{"out", at::cumsum(in[0], 1)}};
                     }};
     }});

}  // namespace
}  // namespace flakescope::probes
