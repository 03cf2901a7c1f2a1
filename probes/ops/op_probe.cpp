#include "ops/op_probe.h"

#include <ATen/ops/cat.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/randn.h>

#include <algorithm>
#include <utility>

#include "cuda/agreement_probe.h"
#include "cuda/cuda_device.h"

namespace flakescope::probes {
namespace {

class OpProbe final : public Probe {
 public:
  OpProbe(OpSpec spec, bool on_cuda) : spec_(std::move(spec)), on_cuda_(on_cuda) {}

  void setup(ProbeContext& ctx) override {
    if (on_cuda_) require_cuda_device(ctx);
    inputs_ = spec_.setup(ctx);
  }

  NamedTensors run(ProbeContext& ctx) override { return spec_.run(ctx, inputs_); }

 private:
  OpSpec spec_;
  bool on_cuda_;
  Tensors inputs_;
};

}  // namespace

std::unique_ptr<Probe> make_op_probe(OpSpec spec, bool on_cuda) {
  return std::make_unique<OpProbe>(std::move(spec), on_cuda);
}

bool register_op_probe(OpProbeDefinition def) {
  auto spec = def.spec;
  ProbeRegistry::instance().add(
      {"ops/" + def.name, def.description, def.cpu_suites, false,
       [spec](const ProbeOptions&) { return make_op_probe(spec(), /*on_cuda=*/false); }});
  if (def.cuda_variant) {
    ProbeRegistry::instance().add(
        {"cuda/ops/" + def.name,
         def.description + " (on the GPU)",
         {"cuda"},
         true,
         [spec](const ProbeOptions&) { return make_op_probe(spec(), /*on_cuda=*/true); }});
  }
  if (def.cpu_gpu_agreement) {
    ProbeRegistry::instance().add({"cuda/agree/" + def.name,
                                   "GPU minus CPU result of ops/" + def.name,
                                   {"cuda"},
                                   true,
                                   [spec](const ProbeOptions&) {
                                     return make_agreement_probe(make_op_probe(spec(), true),
                                                                 make_op_probe(spec(), false));
                                   }});
  }
  return true;
}

at::Tensor batch_with_row0(const at::Tensor& row0, const at::Tensor& filler, std::int64_t batch) {
  if (batch <= 1) return row0;
  std::vector<at::Tensor> rows{row0};
  std::int64_t needed = batch - 1;
  while (needed > 0) {
    const std::int64_t take = std::min<std::int64_t>(needed, filler.size(0));
    rows.push_back(filler.narrow(0, 0, take));
    needed -= take;
  }
  return at::cat(rows, 0);
}

at::Generator cpu_input_generator(const ProbeContext& ctx, std::uint64_t salt) {
  if (ctx.device().is_cpu()) return ctx.input_generator(salt);
  ProbeOptions cpu_options = ctx.options();
  cpu_options.device = c10::Device(c10::kCPU);
  return ProbeContext(cpu_options, ctx.setting()).input_generator(salt);
}

at::Tensor normal_input(ProbeContext& ctx, at::IntArrayRef sizes, std::uint64_t salt) {
  at::Tensor cpu = at::randn(sizes, cpu_input_generator(ctx, salt), at::TensorOptions(at::kFloat));
  return cpu.to(ctx.tensor_options());
}

at::Tensor index_input(ProbeContext& ctx, at::IntArrayRef sizes, std::int64_t high,
                       std::uint64_t salt) {
  at::Tensor cpu =
      at::randint(high, sizes, cpu_input_generator(ctx, salt), at::TensorOptions(at::kLong));
  return cpu.to(ctx.device());
}

}  // namespace flakescope::probes
