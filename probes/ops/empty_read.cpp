// A read of torch::empty: the values are whatever the allocator hands back (recycled memory), so
// a result that depends on them is as stable as the allocation history. Filled (NaN) when the
// uninitialized-memory knob is controlled.
#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

[[maybe_unused]] const bool kRegistered =
    register_op_probe({"empty_read",
                       "reads 65536 elements of an uninitialized tensor: recycled allocator memory",
                       {"default", "ops"},
                       true,
                       false,
                       [] {
                         return OpSpec{[](ProbeContext&) { return Tensors{}; },
                                       [](ProbeContext& ctx, const Tensors&) {
                                         at::Tensor buffer =
                                             ctx.empty({65536}, ctx.tensor_options());
                                         // clone: the buffer itself goes back to the allocator when
                                         // this run ends.
                                         return NamedTensors{{"out", buffer.clone()}};
                                       }};
                       }});

}  // namespace
}  // namespace flakescope::probes
