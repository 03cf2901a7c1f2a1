#include "audit/collection_check.h"

#include <algorithm>
#include <map>
#include <set>

namespace flakescope::audit {
namespace {

using IdSet = std::set<std::string>;

bool completed(const RunRecord& r) {
  return !r.incomplete && !r.testcases.empty() &&
         (r.outcome == Outcome::kPass || r.outcome == Outcome::kFail);
}

bool has_one_the_other_lacks(const IdSet& a, const IdSet& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& id) { return !b.count(id); });
}

// The ids some completed run of the setting lacks, when two runs differ both ways.
std::size_t ids_in_some_runs(const std::vector<IdSet>& runs) {
  bool differ = false;
  for (std::size_t i = 0; i < runs.size() && !differ; ++i)
    for (std::size_t j = i + 1; j < runs.size() && !differ; ++j)
      differ =
          has_one_the_other_lacks(runs[i], runs[j]) && has_one_the_other_lacks(runs[j], runs[i]);
  if (!differ) return 0;
  IdSet all;
  for (const auto& ids : runs) all.insert(ids.begin(), ids.end());
  return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [&](const std::string& id) {
    return std::any_of(runs.begin(), runs.end(), [&](const IdSet& ids) { return !ids.count(id); });
  }));
}

}  // namespace

std::optional<std::string> collection_warning(const std::vector<RunRecord>& records) {
  std::map<std::string, std::vector<IdSet>> by_setting;
  for (const auto& r : records) {
    if (!completed(r)) continue;
    IdSet ids;
    for (const auto& tc : r.testcases) ids.insert(tc.name);
    by_setting[r.setting].push_back(std::move(ids));
  }
  std::size_t changing = 0, runs = 0;
  std::string setting;
  for (const auto& [name, sets] : by_setting) {
    const std::size_t n = ids_in_some_runs(sets);
    if (n > changing) changing = n, runs = sets.size(), setting = name;
  }
  if (changing == 0) return std::nullopt;
  return std::to_string(changing) + " test ids were collected in only some of the " +
         std::to_string(runs) + " completed runs (setting " + setting +
         "): the ids change from run to run (parameters drawn at collection time from the clock, "
         "an unseeded generator or the order of a set), so each such id's rate rests on the runs "
         "that had it; make the ids fixed to measure those tests";
}

}  // namespace flakescope::audit
