#pragma once
// Applies a Setting's in-process knobs to LibTorch's global state for the lifetime of the object
// and restores the previous state afterwards, so settings run one after another in one worker
// never leak into each other. Process-level knobs (CUBLAS_WORKSPACE_CONFIG) are applied through the
// worker's environment instead (see worker_environment).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flakescope/knobs.h"

namespace flakescope {

struct GlobalTorchState {
  bool deterministic = false;
  bool deterministic_warn_only = false;
  bool cudnn_deterministic = false;
  bool cudnn_benchmark = false;
  bool tf32_cublas = false;
  bool tf32_cudnn = false;
  bool fill_uninitialized = false;  // 2.2+ only; false elsewhere
  int threads = 1;

  static GlobalTorchState capture();
  void apply() const;
  bool operator==(const GlobalTorchState& o) const;
};

class ScopedSetting {
 public:
  // `threads`: the intra-op thread counts; the first is used when the knob is controlled, all of
  // them in turn across runs when it is free.
  ScopedSetting(const Setting& setting, std::vector<int> threads);
  ~ScopedSetting();
  ScopedSetting(const ScopedSetting&) = delete;
  ScopedSetting& operator=(const ScopedSetting&) = delete;

  // Called before each run: varies the thread count when the threads knob is free.
  void begin_run(int index);
  int threads_for_run(int index) const;

 private:
  Setting setting_;
  std::vector<int> threads_;
  GlobalTorchState saved_;
};

// Environment changes a worker process needs for `setting` (value nullopt = unset).
std::vector<std::pair<std::string, std::optional<std::string>>> worker_environment(
    const Setting& setting);

// The thread counts to use when the user gave none: the current count first (controlled), then 1
// and the other counts up to the hardware's, so the free knob actually varies.
std::vector<int> default_thread_counts();

}  // namespace flakescope
