// calibration/constant: bitwise deterministic by construction (a fixed elementwise map of fixed
// inputs, no reduction, no randomness). Every setting must report it bitwise-deterministic; if
// not, flakescope itself is broken.
#include <ATen/ops/mul.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/sin.h>

#include "flakescope/probe.h"

namespace flakescope {
namespace {

class ConstantProbe : public Probe {
 public:
  void setup(ProbeContext& ctx) override {
    x_ = at::randn({256, 64}, ctx.input_generator(), ctx.tensor_options());
  }
  NamedTensors run(ProbeContext&) override { return {{"out", at::sin(x_).mul(3.0)}}; }

 private:
  at::Tensor x_;
};

FLAKESCOPE_REGISTER_PROBE({"calibration/constant",
                           "elementwise sin(x)*3 of fixed inputs: bitwise deterministic by "
                           "construction (checks flakescope itself)",
                           {"default", "calibration"},
                           false,
                           [](const ProbeOptions&) { return std::make_unique<ConstantProbe>(); }});

}  // namespace
}  // namespace flakescope
