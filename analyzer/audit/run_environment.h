#pragma once
// How a setting (an assignment of the determinism knobs) and a seed reach a test command that
// flakescope does not control from the inside: through environment variables set per run.
//
//   knob              controlled                                free
//   generator         FLAKESCOPE_SEED=<seed>,                   both unset (the test's own
//                     PYTHONHASHSEED=<seed mod 2^32>            default seeding, hash
//                     randomization)
//   threads           OMP_NUM_THREADS=MKL_NUM_THREADS=1         1..4, varied across runs by seed
//   deterministic     MKL_CBWR=COMPATIBLE, CUDA_LAUNCH_BLOCKING=1,
//                     FLASH_ATTENTION_DETERMINISTIC=1           unset
//   cublas_workspace  CUBLAS_WORKSPACE_CONFIG=:4096:8           unset
//   tf32              NVIDIA_TF32_OVERRIDE=0                    unset
// Every run also gets FLAKESCOPE_SETTING=<setting name>, so a cooperating test or the pytest plugin
// can apply the knobs that have no environment variable (cuDNN, batch, uninitialized memory).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flakescope/knobs.h"

namespace flakescope::audit {

using EnvChanges = std::vector<std::pair<std::string, std::optional<std::string>>>;

EnvChanges run_environment(const Setting& setting, std::uint64_t seed);

// The OMP_NUM_THREADS a run gets when the threads knob is free: 1..4 from a hash of the seed, so
// the thread count varies across runs but a run is replayed with the same count.
int free_thread_count(std::uint64_t seed);

// Whether freeing the knob changes anything for an external command (it has an environment
// variable above). Knobs without one are only announced through FLAKESCOPE_SETTING.
bool knob_reaches_command(Knob knob);

// The knobs `--ablation` frees one at a time by default: those that reach the command, without
// the CUDA-only ones when the machine has no NVIDIA device.
std::vector<Knob> default_ablation_knobs(bool cuda_device_present);
bool nvidia_device_present();

// "A=1 B='x y' cmd 'a;b'": a line a POSIX shell runs as exactly this argv and environment.
std::string shell_quote(const std::string& word);
std::string replay_line(const EnvChanges& env, const std::vector<std::string>& argv);

}  // namespace flakescope::audit
