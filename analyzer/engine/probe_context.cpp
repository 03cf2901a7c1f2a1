#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <ATen/ops/empty.h>
#include <c10/util/irange.h>

#include <limits>
#include <mutex>
#include <string>

#include "engine/probe_faults.h"
#include "flakescope/probe.h"

namespace flakescope {
namespace {

// Generator is a shared handle: a copy reseeds the same underlying generator.
void reseed(at::Generator gen, std::uint64_t seed) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(seed);
}

const ProbeFaults* g_faults = nullptr;

}  // namespace

const ProbeFaults* installed_probe_faults() { return g_faults; }
void install_probe_faults(const ProbeFaults* faults) { g_faults = faults; }

ProbeContext::ProbeContext(ProbeOptions options, Setting setting, std::string_view probe_name)
    : options_(std::move(options)),
      setting_(std::move(setting)),
      unseeded_(g_faults && g_faults->unseeded_generator(probe_name)) {
  if (g_faults) g_faults->on_setting_start(probe_name, setting_.name);
  // A private generator of the device's type: clone() of the default one gives the right
  // implementation (CPU or CUDA) without naming CUDA types, so this builds without CUDA headers.
  explicit_generator_ = at::globalContext().defaultGenerator(options_.device).clone();
  reseed(explicit_generator_, options_.seed);
}

c10::TensorOptions ProbeContext::tensor_options() const {
  return c10::TensorOptions().dtype(options_.dtype).device(options_.device);
}

at::Generator ProbeContext::input_generator(std::uint64_t salt) const {
  at::Generator gen = at::globalContext().defaultGenerator(options_.device).clone();
  reseed(gen, options_.seed * 0x9e3779b97f4a7c15ULL + salt + 1);
  return gen;
}

at::Generator ProbeContext::generator() const {
  if (unseeded_ || setting_.is_free(Knob::kGenerator))
    return at::globalContext().defaultGenerator(options_.device);
  return explicit_generator_;
}

std::int64_t ProbeContext::batch_size(std::int64_t nominal) const {
  if (!setting_.is_free(Knob::kBatch)) return nominal;
  // A fixed, varied cycle: the sample is computed in batches of different sizes across runs.
  const std::int64_t sizes[] = {nominal, 1, 2 * nominal + 1, nominal / 2 + 1, 3 * nominal + 5};
  return sizes[static_cast<std::size_t>(run_) % 5];
}

at::Tensor ProbeContext::empty(at::IntArrayRef sizes, c10::TensorOptions opts) const {
  at::Tensor t = at::empty(sizes, opts);
  if (!setting_.is_free(Knob::kUninit)) {
    // Like PyTorch's fill_uninitialized_memory (2.2+), NaN for floating types so a read shows;
    // a fixed sentinel for the rest. Done here so LibTorch 1.13 behaves the same.
    if (at::isFloatingType(t.scalar_type())) t.fill_(std::numeric_limits<double>::quiet_NaN());
    else t.fill_(t.scalar_type() == at::kBool ? 1 : -1);
  }
  return t;
}

void ProbeContext::begin_run(int index) {
  run_ = index;
  if (!setting_.is_free(Knob::kGenerator) && !unseeded_) {
    reseed(explicit_generator_, options_.seed);
    // Ops that take no generator (dropout) draw from the global one: reseed it too, as
    // torch.manual_seed in a test would.
    reseed(at::globalContext().defaultGenerator(c10::Device(c10::kCPU)), options_.seed);
    if (options_.device.is_cuda())
      reseed(at::globalContext().defaultGenerator(options_.device), options_.seed);
  }
}

}  // namespace flakescope
