// calibration/seeded_noise: x + 1e-3 * noise drawn from the run's generator. Bitwise deterministic
// when the generator knob is controlled, nondeterministic when it is free: the probe the gate's
// regression test breaks on purpose (FLAKESCOPE_TEST_INJECT=unseeded-generator:calibration/seeded_noise).
#include <ATen/ops/add.h>
#include <ATen/ops/randn.h>

#include "flakescope/probe.h"

namespace flakescope {
namespace {

class SeededNoiseProbe : public Probe {
 public:
  void setup(ProbeContext& ctx) override {
    x_ = at::randn({64, 32}, ctx.input_generator(), ctx.tensor_options());
  }
  NamedTensors run(ProbeContext& ctx) override {
    at::Tensor noise = at::randn(x_.sizes(), ctx.generator(), ctx.tensor_options());
    return {{"out", at::add(x_, noise, 1e-3)}};
  }

 private:
  at::Tensor x_;
};

FLAKESCOPE_REGISTER_PROBE({"calibration/seeded_noise",
                           "x + 1e-3*randn from the run's generator: deterministic only when the "
                           "generator is explicit and reseeded",
                           {"default", "calibration"},
                           false,
                           [](const ProbeOptions&) { return std::make_unique<SeededNoiseProbe>(); }});

}  // namespace
}  // namespace flakescope
