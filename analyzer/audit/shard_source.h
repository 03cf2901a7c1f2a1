#pragma once
// Where a shard's K/N comes from: `--shard K/N` given explicitly, or `--shard auto` read from the
// cluster engine that started the process, so one job script serves every task of an array:
//   Slurm job arrays      SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT, or _MIN/_MAX
//                         (and _STEP for --array=0-30:10); K = (ID - MIN) / STEP
//   Kubernetes Indexed    JOB_COMPLETION_INDEX = K, N from --shard-count or FLAKESCOPE_SHARD_COUNT
//   Jobs                  (the manifest's `completions`; Kubernetes does not put it in the pod)
// Slurm is looked at first; a process with neither is bad input.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace flakescope::audit {

struct ShardAssignment {
  std::size_t index = 0, count = 1;
  std::string source;  // "explicit", "slurm array job 42", "kubernetes indexed job", ...
};

// Looks an environment variable up; nullopt when unset. Tests pass a map, the CLI getenv.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// `text` is "K/N" or "auto"; `shard_count` is --shard-count when given. Throws InputError with
// one line naming the variable that is missing or malformed.
ShardAssignment resolve_shard(const std::string& text, std::optional<std::size_t> shard_count,
                              const EnvLookup& env);

}  // namespace flakescope::audit
