// Dropout in training mode. at::dropout takes no generator: it draws its mask from the default
// generator, so it repeats only when that generator is reseeded before each run (generator knob).
#include <ATen/ops/dropout.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

[[maybe_unused]] const bool kRegistered = register_op_probe(
    {"dropout_train",
     "dropout(p=0.5) in training mode: the mask comes from the default generator",
     {"default", "ops"},
     true,
     false,
     [] {
       return OpSpec{[](ProbeContext& ctx) {
                       return Tensors{normal_input(ctx, {256, 256}, 1)};
                     },
                     [](ProbeContext&, const Tensors& in) {
                       return NamedTensors{{"out", at::dropout(in[0], 0.5, /*train=*/true)}};
                     }};
     }});

}  // namespace
}  // namespace flakescope::probes
