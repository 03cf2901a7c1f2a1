#include "cuda/agreement_probe.h"

#include <ATen/ops/sub.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace flakescope::probes {
namespace {

class AgreementProbe final : public Probe {
 public:
  AgreementProbe(std::unique_ptr<Probe> on_gpu, std::unique_ptr<Probe> on_cpu)
      : on_gpu_(std::move(on_gpu)), on_cpu_(std::move(on_cpu)) {}

  void setup(ProbeContext& ctx) override {
    on_gpu_->setup(ctx);  // throws UnavailableError first when there is no GPU
    ProbeOptions cpu_options = ctx.options();
    cpu_options.device = c10::Device(c10::kCPU);
    cpu_ctx_ = std::make_unique<ProbeContext>(cpu_options, ctx.setting());
    on_cpu_->setup(*cpu_ctx_);
  }

  NamedTensors run(ProbeContext& ctx) override {
    cpu_ctx_->begin_run(ctx.run_index());
    NamedTensors gpu = on_gpu_->run(ctx);
    NamedTensors cpu = on_cpu_->run(*cpu_ctx_);
    if (gpu.size() != cpu.size()) {
      throw std::runtime_error("agreement probe: the GPU and CPU runs gave different outputs");
    }
    NamedTensors diffs;
    for (std::size_t i = 0; i < gpu.size(); ++i) {
      // Compared in the CPU result's dtype so a GPU that silently computes in lower precision
      // (TF32) shows up as a difference instead of a cast.
      at::Tensor gpu_on_cpu = gpu[i].second.to(cpu[i].second.device(), cpu[i].second.scalar_type());
      diffs.emplace_back("gpu_minus_cpu/" + gpu[i].first, at::sub(gpu_on_cpu, cpu[i].second));
    }
    return diffs;
  }

 private:
  std::unique_ptr<Probe> on_gpu_;
  std::unique_ptr<Probe> on_cpu_;
  std::unique_ptr<ProbeContext> cpu_ctx_;
};

}  // namespace

std::unique_ptr<Probe> make_agreement_probe(std::unique_ptr<Probe> on_gpu,
                                            std::unique_ptr<Probe> on_cpu) {
  return std::make_unique<AgreementProbe>(std::move(on_gpu), std::move(on_cpu));
}

}  // namespace flakescope::probes
