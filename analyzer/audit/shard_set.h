#pragma once
// Before `merge` combines run logs, they must be the shards of one audit: the same experiment
// settings, the same shard count N, and together all N shards, each complete. A merge of 2 of 3
// shards would otherwise report a smaller audit as if it were the whole one.
#include <string>
#include <vector>

#include "audit/run_log.h"

namespace flakescope::audit {

struct ShardCoverage {
  std::size_t shard_count = 1;
  std::vector<std::string> missing;     // "1/3": shards no log was given for
  std::vector<std::string> incomplete;  // "path: 12 of 34 runs": interrupted shards
  bool complete() const { return missing.empty() && incomplete.empty(); }
};

// The config keys whose values must agree between shards (they change what the runs measure).
const std::vector<std::string>& shard_config_keys();

// Throws InputError naming both files when two logs differ in a shard_config_keys() value or in
// their shard count, or when one shard is given twice.
void check_same_audit(const std::vector<RunLog>& logs);

// Which shards and runs are missing from `logs` (already checked with check_same_audit).
ShardCoverage shard_coverage(const std::vector<RunLog>& logs);

// One line: "missing shards 1/3, 2/3; log b.jsonl: 10 of 34 runs".
std::string describe_gaps(const ShardCoverage& coverage);

}  // namespace flakescope::audit
