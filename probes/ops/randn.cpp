// Random numbers drawn inside a computation, from the global generator (as code that never thinks
// about generators does) and from an explicit generator (as careful code does). Both repeat only
// when the generator knob is controlled; the pair shows the two ways of getting there.
#include <ATen/ops/randn.h>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

Tensors no_inputs(ProbeContext&) {
  return {};
}

[[maybe_unused]] const bool kGlobal = register_op_probe(
    {"randn_global",
     "randn(4096) from the global generator: repeats only if it is reseeded",
     {"default", "ops"},
     true,
     false,
     [] {
       return OpSpec{no_inputs, [](ProbeContext& ctx, const Tensors&) {
                       return NamedTensors{{"out", at::randn({4096}, ctx.tensor_options())}};
                     }};
     }});

[[maybe_unused]] const bool kExplicit = register_op_probe(
    {"randn_explicit",
     "randn(4096) from the probe's explicit generator (reseeded per run)",
     {"default", "ops"},
     true,
     false,
     [] {
       return OpSpec{
           no_inputs, [](ProbeContext& ctx, const Tensors&) {
             return NamedTensors{{"out", at::randn({4096}, ctx.generator(), ctx.tensor_options())}};
           }};
     }});

}  // namespace
}  // namespace flakescope::probes
