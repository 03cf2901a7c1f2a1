// Shards of one audit: missing, interrupted, mismatched and duplicated shards.
#include "audit/shard_set.h"

#include <gtest/gtest.h>

#include "flakescope/error.h"

namespace flakescope::audit {
namespace {

// A shard log of an audit with `runs` runs in `n` shards, holding `done` of its runs.
RunLog shard(std::size_t k, std::size_t n, std::size_t runs, std::size_t done = SIZE_MAX,
             const std::string& isolation = "process") {
  RunLog log;
  log.path = "s" + std::to_string(k) + ".log";
  log.header.command = {"./t"};
  log.header.config = {{"runs", runs},
                       {"max_runs", runs},
                       {"seed", 1},
                       {"settings", {"controlled"}},
                       {"isolation", isolation}};
  if (n > 1) log.header.config["shard"] = std::to_string(k) + "/" + std::to_string(n);
  std::size_t count = 0;
  for (std::size_t run = 0; run < runs && count < done; ++run) {
    const bool mine = isolation == "inprocess" ? run * n / runs == k : run % n == k;
    if (!mine) continue;
    RunRecord r;
    r.run = run;
    r.setting = "controlled";
    log.records.push_back(r);
    ++count;
  }
  return log;
}

TEST(ShardSet, CompleteSetIsComplete) {
  const std::vector<RunLog> logs = {shard(0, 3, 400), shard(1, 3, 400), shard(2, 3, 400)};
  EXPECT_NO_THROW(check_same_audit(logs));
  const ShardCoverage c = shard_coverage(logs);
  EXPECT_TRUE(c.complete()) << describe_gaps(c);
  EXPECT_EQ(c.shard_count, 3u);
}

TEST(ShardSet, ListsMissingShards) {
  const std::vector<RunLog> logs = {shard(0, 4, 40), shard(2, 4, 40)};
  const ShardCoverage c = shard_coverage(logs);
  ASSERT_EQ(c.missing.size(), 2u);
  EXPECT_EQ(c.missing[0], "1/4");
  EXPECT_EQ(c.missing[1], "3/4");
  EXPECT_EQ(describe_gaps(c), "missing shards 1/4, 3/4");
}

TEST(ShardSet, FindsInterruptedShards) {
  const std::vector<RunLog> logs = {shard(0, 2, 30), shard(1, 2, 30, 10)};
  const ShardCoverage c = shard_coverage(logs);
  EXPECT_TRUE(c.missing.empty());
  ASSERT_EQ(c.incomplete.size(), 1u);
  EXPECT_EQ(c.incomplete[0], "s1.log: 10 of 15 runs");
  // In-process shards are contiguous blocks: 0..9, 10..19, 20..29 of 30 (here 31: 11/10/10).
  const std::vector<RunLog> blocks = {shard(0, 3, 31, SIZE_MAX, "inprocess"),
                                      shard(1, 3, 31, SIZE_MAX, "inprocess"),
                                      shard(2, 3, 31, SIZE_MAX, "inprocess")};
  EXPECT_TRUE(shard_coverage(blocks).complete()) << describe_gaps(shard_coverage(blocks));
}

TEST(ShardSet, RefusesOtherRunCountsSeedsAndShardCounts) {
  EXPECT_THROW(check_same_audit({shard(0, 2, 400), shard(1, 2, 200)}), InputError);
  RunLog other_seed = shard(1, 2, 400);
  other_seed.header.config["seed"] = 7;
  EXPECT_THROW(check_same_audit({shard(0, 2, 400), other_seed}), InputError);
  RunLog other_settings = shard(1, 2, 400);
  other_settings.header.config["settings"] = {"controlled", "threads_free"};
  EXPECT_THROW(check_same_audit({shard(0, 2, 400), other_settings}), InputError);
  EXPECT_THROW(check_same_audit({shard(0, 2, 400), shard(1, 3, 400)}), InputError);
  try {
    check_same_audit({shard(0, 2, 400), shard(0, 2, 400)});
    ADD_FAILURE() << "a shard given twice was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("overlap"), std::string::npos) << e.what();
  }
}

TEST(ShardSet, JobsMayDifferBetweenMachines) {
  RunLog other_jobs = shard(1, 2, 40);
  other_jobs.header.config["jobs"] = 16;
  EXPECT_NO_THROW(check_same_audit({shard(0, 2, 40), other_jobs}));
}

}  // namespace
}  // namespace flakescope::audit
