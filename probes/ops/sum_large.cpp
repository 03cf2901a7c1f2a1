// ops/sum_large: the sum and mean of 4M floats. ATen splits the reduction into one partial per
// thread, so the rounding (and the bits) depend on the intra-op thread count, not on the run.
#include <ATen/ops/mean.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/sum.h>

#include "flakescope/probe.h"

namespace flakescope {
namespace {

class SumLargeProbe : public Probe {
 public:
  void setup(ProbeContext& ctx) override {
    x_ = at::randn({1 << 22}, ctx.input_generator(), ctx.tensor_options());
  }
  NamedTensors run(ProbeContext&) override {
    return {{"sum", at::sum(x_)}, {"mean", at::mean(x_)}};
  }

 private:
  at::Tensor x_;
};

FLAKESCOPE_REGISTER_PROBE({"ops/sum_large",
                           "sum and mean of 4M elements: the reduction is split per thread, so the "
                           "bits depend on the thread count",
                           {"default", "ops"},
                           false,
                           [](const ProbeOptions&) { return std::make_unique<SumLargeProbe>(); }});

}  // namespace
}  // namespace flakescope
