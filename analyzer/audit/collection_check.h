#pragma once
// Whether the runs of an audit collected the same tests. A suite that draws test parameters at
// collection time (from the clock, an unseeded generator, the order of a set) gives other test
// ids in every process: each id then has a handful of runs, and its "stable pass" means little.
#include <optional>
#include <string>
#include <vector>

#include "audit/run_record.h"

namespace flakescope::audit {

// A warning when two completed runs of one setting each have a test the other lacks (a run that
// stopped early, -x or a crash, has a subset: not counted), else nothing.
std::optional<std::string> collection_warning(const std::vector<RunRecord>& records);

}  // namespace flakescope::audit
