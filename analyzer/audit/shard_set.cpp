// Shards of one audit (see shard_set.h).
#include "audit/shard_set.h"

#include <map>
#include <set>
#include <utility>

#include "audit/audit_options.h"
#include "flakescope/error.h"

namespace flakescope::audit {
namespace {

// "K/N" from a log header; an unsharded log is shard 0 of 1.
std::pair<std::size_t, std::size_t> shard_of(const RunLog& log) {
  const auto it = log.header.config.find("shard");
  if (it == log.header.config.end() || !it->is_string()) return {0, 1};
  try {
    return parse_shard(it->get<std::string>());
  } catch (const InputError& e) {
    throw InputError(log.path + ": " + e.what());
  }
}

std::string shard_name(std::size_t k, std::size_t n) {
  return std::to_string(k) + "/" + std::to_string(n);
}

// The runs a complete shard holds, per setting; 0 when the log does not say (runs 'auto').
std::size_t expected_runs_per_setting(const RunLog& log) {
  const nlohmann::json& config = log.header.config;
  const auto runs = config.find("runs");
  if (runs == config.end() || !runs->is_number_unsigned()) return 0;
  AuditOptions o;
  o.runs = runs->get<std::size_t>();
  std::tie(o.shard_index, o.shard_count) = shard_of(log);
  if (config.value("isolation", std::string("process")) == "inprocess")
    o.isolation = Isolation::kInprocess;
  std::size_t count = 0;
  for (std::size_t run = 0; run < o.runs; ++run) count += o.in_shard(run) ? 1 : 0;
  return count;
}

}  // namespace

const std::vector<std::string>& shard_config_keys() {
  static const std::vector<std::string> keys = {
      "runs",     "max_runs", "settings", "seed",      "isolation", "junit", "timeout_seconds",
      "ablation", "capture",  "target",   "confidence"};
  return keys;
}

void check_same_audit(const std::vector<RunLog>& logs) {
  if (logs.empty()) return;
  const RunLog& first = logs.front();
  const std::size_t count = shard_of(first).second;
  std::map<std::size_t, std::string> seen;
  for (const RunLog& log : logs) {
    for (const std::string& key : shard_config_keys()) {
      const nlohmann::json a = first.header.config.value(key, nlohmann::json());
      const nlohmann::json b = log.header.config.value(key, nlohmann::json());
      if (a != b)
        throw InputError(log.path + ": written with " + key + " " + b.dump() + " but " +
                         first.path + " with " + a.dump() +
                         " (merge only shards of one audit, made with the same options)");
    }
    const auto [k, n] = shard_of(log);
    if (n != count)
      throw InputError(log.path + ": shard " + shard_name(k, n) + " but " + first.path +
                       " is one of " + std::to_string(count) + " shards");
    const auto [it, inserted] = seen.emplace(k, log.path);
    if (!inserted && n > 1)
      throw InputError("shard " + shard_name(k, n) + " is given twice (" + it->second + " and " +
                       log.path + "): the shards overlap");
  }
}

ShardCoverage shard_coverage(const std::vector<RunLog>& logs) {
  ShardCoverage c;
  if (logs.empty()) return c;
  c.shard_count = shard_of(logs.front()).second;
  std::set<std::size_t> present;
  for (const RunLog& log : logs) {
    present.insert(shard_of(log).first);
    const std::size_t expected = expected_runs_per_setting(log);
    if (expected == 0) continue;
    std::map<std::string, std::size_t> per_setting;
    for (const RunRecord& r : log.records) ++per_setting[r.setting];
    const auto settings = log.header.config.value("settings", nlohmann::json::array());
    const std::size_t n_settings = settings.is_array() && !settings.empty() ? settings.size() : 1;
    const std::size_t want = expected * n_settings;
    if (log.records.size() < want)
      c.incomplete.push_back(log.path + ": " + std::to_string(log.records.size()) + " of " +
                             std::to_string(want) + " runs");
  }
  if (c.shard_count > 1)
    for (std::size_t k = 0; k < c.shard_count; ++k)
      if (!present.count(k)) c.missing.push_back(shard_name(k, c.shard_count));
  return c;
}

std::string describe_gaps(const ShardCoverage& c) {
  std::string out;
  if (!c.missing.empty()) {
    out = c.missing.size() == 1 ? "missing shard " : "missing shards ";
    for (std::size_t i = 0; i < c.missing.size(); ++i) out += (i ? ", " : "") + c.missing[i];
  }
  for (const auto& gap : c.incomplete)
    out += (out.empty() ? "incomplete log " : "; incomplete log ") + gap;
  return out;
}

}  // namespace flakescope::audit
