// --shard auto: K/N from Slurm job arrays and Kubernetes Indexed Jobs, and bad environments as
// one-line input errors.
#include <gtest/gtest.h>

#include <map>

#include "audit/shard_source.h"
#include "flakescope/error.h"

namespace flakescope::audit {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_of(const std::string& text, std::optional<std::size_t> count,
                     std::map<std::string, std::string> vars) {
  try {
    resolve_shard(text, count, env_of(std::move(vars)));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ShardSource, ExplicitKOverN) {
  const ShardAssignment a = resolve_shard("2/5", std::nullopt, env_of({}));
  EXPECT_EQ(a.index, 2u);
  EXPECT_EQ(a.count, 5u);
  EXPECT_EQ(a.source, "explicit");
  EXPECT_NE(error_of("5/5", std::nullopt, {}), "");
  EXPECT_NE(error_of("1/4", 4, {}).find("--shard-count is only read with --shard auto"),
            std::string::npos);
}

TEST(ShardSource, SlurmArrayWithCount) {
  const ShardAssignment a = resolve_shard("auto", std::nullopt,
                                          env_of({{"SLURM_ARRAY_TASK_ID", "3"},
                                                  {"SLURM_ARRAY_TASK_COUNT", "4"},
                                                  {"SLURM_ARRAY_TASK_MIN", "0"},
                                                  {"SLURM_ARRAY_TASK_MAX", "3"},
                                                  {"SLURM_ARRAY_JOB_ID", "77"}}));
  EXPECT_EQ(a.index, 3u);
  EXPECT_EQ(a.count, 4u);
  EXPECT_EQ(a.source, "slurm array job 77");
}

TEST(ShardSource, SlurmArrayFromMinMaxAndStep) {
  // --array=1-4: task ids 1..4 are shards 0..3.
  ShardAssignment a = resolve_shard("auto", std::nullopt,
                                    env_of({{"SLURM_ARRAY_TASK_ID", "1"},
                                            {"SLURM_ARRAY_TASK_MIN", "1"},
                                            {"SLURM_ARRAY_TASK_MAX", "4"}}));
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(a.count, 4u);
  // --array=0-30:10: ids 0, 10, 20, 30.
  a = resolve_shard("auto", std::nullopt,
                    env_of({{"SLURM_ARRAY_TASK_ID", "20"},
                            {"SLURM_ARRAY_TASK_MIN", "0"},
                            {"SLURM_ARRAY_TASK_MAX", "30"},
                            {"SLURM_ARRAY_TASK_STEP", "10"},
                            {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  EXPECT_EQ(a.index, 2u);
  EXPECT_EQ(a.count, 4u);
}

TEST(ShardSource, SlurmBadEnvironmentsAreOneLineErrors) {
  EXPECT_NE(error_of("auto", std::nullopt, {{"SLURM_ARRAY_TASK_ID", "x"}})
                .find("SLURM_ARRAY_TASK_ID='x'"),
            std::string::npos);
  EXPECT_NE(error_of("auto", std::nullopt, {{"SLURM_ARRAY_TASK_ID", "1"}}).find("_MIN/_MAX"),
            std::string::npos);
  // A list with gaps (--array=1,4,9): 3 tasks but the range 1-9 holds 9.
  EXPECT_NE(error_of("auto", std::nullopt,
                     {{"SLURM_ARRAY_TASK_ID", "4"},
                      {"SLURM_ARRAY_TASK_COUNT", "3"},
                      {"SLURM_ARRAY_TASK_MIN", "1"},
                      {"SLURM_ARRAY_TASK_MAX", "9"}})
                .find("without gaps"),
            std::string::npos);
  EXPECT_NE(error_of("auto", std::nullopt,
                     {{"SLURM_ARRAY_TASK_ID", "9"},
                      {"SLURM_ARRAY_TASK_MIN", "0"},
                      {"SLURM_ARRAY_TASK_MAX", "3"}})
                .find("not in the array range"),
            std::string::npos);
  for (const std::string& e : {error_of("auto", std::nullopt, {{"SLURM_ARRAY_TASK_ID", "-1"}})})
    EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(ShardSource, KubernetesIndexedJob) {
  ShardAssignment a = resolve_shard("auto", 4, env_of({{"JOB_COMPLETION_INDEX", "2"}}));
  EXPECT_EQ(a.index, 2u);
  EXPECT_EQ(a.count, 4u);
  EXPECT_EQ(a.source, "kubernetes indexed job");
  a = resolve_shard("auto", std::nullopt,
                    env_of({{"JOB_COMPLETION_INDEX", "0"}, {"FLAKESCOPE_SHARD_COUNT", "3"}}));
  EXPECT_EQ(a.count, 3u);
  EXPECT_NE(error_of("auto", std::nullopt, {{"JOB_COMPLETION_INDEX", "0"}}).find("--shard-count"),
            std::string::npos);
  EXPECT_NE(error_of("auto", 2, {{"JOB_COMPLETION_INDEX", "2"}}).find("not below"),
            std::string::npos);
  EXPECT_NE(error_of("auto", std::nullopt,
                     {{"JOB_COMPLETION_INDEX", "0"}, {"FLAKESCOPE_SHARD_COUNT", "four"}})
                .find("FLAKESCOPE_SHARD_COUNT='four'"),
            std::string::npos);
}

TEST(ShardSource, NoClusterEnvironment) {
  EXPECT_NE(error_of("auto", std::nullopt, {}).find("neither SLURM_ARRAY_TASK_ID"),
            std::string::npos);
}

}  // namespace
}  // namespace flakescope::audit
