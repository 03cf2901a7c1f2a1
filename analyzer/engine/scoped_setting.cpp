#include "engine/scoped_setting.h"

#include "engine/fp32_precision.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <algorithm>
#include <thread>

namespace flakescope {

GlobalTorchState GlobalTorchState::capture() {
  auto& ctx = at::globalContext();
  GlobalTorchState s;
  s.deterministic = ctx.deterministicAlgorithms();
  s.deterministic_warn_only = ctx.deterministicAlgorithmsWarnOnly();
  s.cudnn_deterministic = ctx.deterministicCuDNN();
  s.cudnn_benchmark = ctx.benchmarkCuDNN();
  get_cuda_tf32(&s.tf32_cublas, &s.tf32_cudnn);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
  s.fill_uninitialized = ctx.deterministicFillUninitializedMemory();
#endif
  s.threads = at::get_num_threads();
  return s;
}

void GlobalTorchState::apply() const {
  auto& ctx = at::globalContext();
  ctx.setDeterministicAlgorithms(deterministic, deterministic_warn_only);
  ctx.setDeterministicCuDNN(cudnn_deterministic);
  ctx.setBenchmarkCuDNN(cudnn_benchmark);
  set_cuda_tf32(tf32_cublas, tf32_cudnn);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
  ctx.setDeterministicFillUninitializedMemory(fill_uninitialized);
#endif
  if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

bool GlobalTorchState::operator==(const GlobalTorchState& o) const {
  return deterministic == o.deterministic && deterministic_warn_only == o.deterministic_warn_only &&
         cudnn_deterministic == o.cudnn_deterministic && cudnn_benchmark == o.cudnn_benchmark &&
         tf32_cublas == o.tf32_cublas && tf32_cudnn == o.tf32_cudnn &&
         fill_uninitialized == o.fill_uninitialized && threads == o.threads;
}

ScopedSetting::ScopedSetting(const Setting& setting, std::vector<int> threads)
    : setting_(setting), threads_(std::move(threads)), saved_(GlobalTorchState::capture()) {
  if (threads_.empty()) threads_ = default_thread_counts();
  GlobalTorchState s = saved_;
  // Controlled = deterministic algorithms on, erroring (not warning) on ops without a
  // deterministic implementation: a raise is a finding we report, not something to hide.
  s.deterministic = !setting.is_free(Knob::kDeterministic);
  s.deterministic_warn_only = false;
  s.cudnn_deterministic = !setting.is_free(Knob::kCudnn);
  s.cudnn_benchmark = setting.is_free(Knob::kCudnn);
  s.tf32_cublas = setting.is_free(Knob::kTf32);
  s.tf32_cudnn = setting.is_free(Knob::kTf32);
  s.fill_uninitialized = !setting.is_free(Knob::kUninit);
  s.threads = threads_.front();
  s.apply();
}

ScopedSetting::~ScopedSetting() { saved_.apply(); }

int ScopedSetting::threads_for_run(int index) const {
  if (!setting_.is_free(Knob::kThreads)) return threads_.front();
  return threads_[static_cast<std::size_t>(index) % threads_.size()];
}

void ScopedSetting::begin_run(int index) {
  const int want = threads_for_run(index);
  if (at::get_num_threads() != want) at::set_num_threads(want);
}

std::vector<std::pair<std::string, std::optional<std::string>>> worker_environment(
    const Setting& setting) {
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  if (setting.is_free(Knob::kCublasWorkspace)) env.emplace_back("CUBLAS_WORKSPACE_CONFIG", std::nullopt);
  else env.emplace_back("CUBLAS_WORKSPACE_CONFIG", ":4096:8");
  return env;
}

std::vector<int> default_thread_counts() {
  const int now = std::max(1, at::get_num_threads());
  const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<int> out{now};
  for (int t : {1, hw, std::max(1, hw / 2), 3})
    if (std::find(out.begin(), out.end(), t) == out.end() && t <= std::max(hw, 3)) out.push_back(t);
  return out;
}

}  // namespace flakescope
