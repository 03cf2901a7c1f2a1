#include "audit/shard_source.h"

#include <cstdlib>

#include "audit/audit_options.h"
#include "flakescope/error.h"

namespace flakescope::audit {
namespace {

// A non-negative decimal integer from the variable `name`, or InputError naming it.
std::size_t env_number(const std::string& name, const std::string& value) {
  if (value.empty() || value.size() > 9 ||
      value.find_first_not_of("0123456789") != std::string::npos)
    throw InputError("--shard auto: " + name + "='" + value + "' is not a non-negative integer");
  return std::stoul(value);
}

std::optional<std::size_t> env_optional(const EnvLookup& env, const std::string& name) {
  const auto value = env(name);
  if (!value) return std::nullopt;
  return env_number(name, *value);
}

ShardAssignment from_slurm(const EnvLookup& env, const std::string& task_id) {
  const std::size_t id = env_number("SLURM_ARRAY_TASK_ID", task_id);
  const auto count = env_optional(env, "SLURM_ARRAY_TASK_COUNT");
  const auto min = env_optional(env, "SLURM_ARRAY_TASK_MIN");
  const auto max = env_optional(env, "SLURM_ARRAY_TASK_MAX");
  const std::size_t step = env_optional(env, "SLURM_ARRAY_TASK_STEP").value_or(1);
  if (!min || !max)
    throw InputError(
        "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN/_MAX are not "
        "(run it as a job array: sbatch --array=0-N-1)");
  if (step == 0 || *max < *min || id < *min || id > *max || (id - *min) % step != 0)
    throw InputError("--shard auto: SLURM_ARRAY_TASK_ID=" + std::to_string(id) +
                     " is not in the array range " + std::to_string(*min) + "-" +
                     std::to_string(*max) + ":" + std::to_string(step));
  const std::size_t range_count = (*max - *min) / step + 1;
  // A list such as --array=1,4,9 has gaps: the index of a task is then not its position.
  if (count && *count != range_count)
    throw InputError("--shard auto: the Slurm array has " + std::to_string(*count) +
                     " tasks but its range " + std::to_string(*min) + "-" + std::to_string(*max) +
                     " holds " + std::to_string(range_count) +
                     " (use a range without gaps, --array=0-N-1, or --shard K/N)");
  ShardAssignment a;
  a.index = (id - *min) / step;
  a.count = range_count;
  const auto job = env("SLURM_ARRAY_JOB_ID");
  a.source = "slurm array" + (job ? " job " + *job : std::string());
  return a;
}

ShardAssignment from_kubernetes(const EnvLookup& env, const std::string& index_text,
                                std::optional<std::size_t> shard_count) {
  const std::size_t index = env_number("JOB_COMPLETION_INDEX", index_text);
  std::optional<std::size_t> count = shard_count;
  if (!count) count = env_optional(env, "FLAKESCOPE_SHARD_COUNT");
  if (!count)
    throw InputError(
        "--shard auto: JOB_COMPLETION_INDEX is set but the number of shards is not; give "
        "--shard-count N or FLAKESCOPE_SHARD_COUNT=N (the Job's completions)");
  if (*count == 0 || index >= *count)
    throw InputError("--shard auto: JOB_COMPLETION_INDEX=" + std::to_string(index) +
                     " is not below the shard count " + std::to_string(*count));
  return {index, *count, "kubernetes indexed job"};
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

ShardAssignment resolve_shard(const std::string& text, std::optional<std::size_t> shard_count,
                              const EnvLookup& env) {
  if (text != "auto") {
    if (shard_count) throw InputError("--shard-count is only read with --shard auto");
    const auto [k, n] = parse_shard(text);
    return {k, n, "explicit"};
  }
  if (const auto task = env("SLURM_ARRAY_TASK_ID")) return from_slurm(env, *task);
  if (const auto index = env("JOB_COMPLETION_INDEX"))
    return from_kubernetes(env, *index, shard_count);
  throw InputError(
      "--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX "
      "(a Kubernetes Indexed Job) is set; give --shard K/N");
}

}  // namespace flakescope::audit
