#include "engine/scheduling/probe_scheduler.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "core/diagnosis.h"
#include "core/parallel_for.h"

namespace flakescope {

std::vector<std::vector<Setting>> group_by_environment(
    const std::vector<Setting>& settings, bool one_group,
    const std::function<EnvironmentChanges(const Setting&)>& environment) {
  if (one_group || settings.empty()) return {settings};
  std::map<std::string, std::size_t> group_of;
  std::vector<std::vector<Setting>> out;
  for (const auto& s : settings) {
    std::string key;
    for (const auto& [k, v] : environment(s)) key += k + "=" + v.value_or("<unset>") + ";";
    auto [it, added] = group_of.emplace(key, out.size());
    if (added) out.emplace_back();
    out[it->second].push_back(s);
  }
  return out;
}

model::ProbeResult probe_entry(const ProbeJob& job, const std::string& device,
                               const std::vector<nlohmann::json>& settings) {
  model::ProbeResult entry;
  entry.name = job.name;
  entry.description = job.description;
  nlohmann::json outputs = nlohmann::json::array();
  for (const auto& s : settings) {
    // The runner's entries are the worker protocol's JSON: typed here, at the edge.
    entry.settings.push_back(model::probe_setting_from_json(s));
    for (const auto& m : entry.settings.back().metrics)
      if (std::find(outputs.begin(), outputs.end(), m.name) == outputs.end())
        outputs.push_back(m.name);
  }
  entry.extra = {{"device", device}, {"outputs", outputs}};
  entry.diagnosis = diagnose_probe(entry);
  return entry;
}

std::vector<model::ProbeResult> schedule_probes(const std::vector<ProbeJob>& jobs_list,
                                                const std::vector<std::vector<Setting>>& groups,
                                                SettingRunner& runner,
                                                const ScheduleOptions& options,
                                                const ScheduleHooks& hooks) {
  std::vector<model::ProbeResult> slots(jobs_list.size());
  std::vector<bool> finished(jobs_list.size(), false);
  std::size_t done = 0;
  std::mutex mutex;
  auto finished_in_order = [&] {
    std::vector<model::ProbeResult> out;
    for (std::size_t i = 0; i < slots.size(); ++i)
      if (finished[i]) out.push_back(slots[i]);
    return out;
  };
  parallel_for(
      jobs_list.size(), options.jobs,
      [&](std::size_t i) {
        const ProbeJob& job = jobs_list[i];
        if (hooks.on_start) {
          std::lock_guard<std::mutex> lock(mutex);
          hooks.on_start(done, job);
        }
        std::vector<nlohmann::json> settings;
        for (const auto& group : groups)
          for (auto& e : runner.run(job, group)) settings.push_back(std::move(e));
        model::ProbeResult entry = probe_entry(job, options.device, settings);
        std::lock_guard<std::mutex> lock(mutex);
        slots[i] = std::move(entry);
        finished[i] = true;
        ++done;
        if (hooks.on_finish) hooks.on_finish(done, job, finished_in_order());
      },
      options.cancel);
  return finished_in_order();
}

nlohmann::json probe_summary(const std::vector<model::ProbeResult>& probes) {
  using model::ProbeVerdict;
  std::size_t nondet_controlled = 0, raising = 0, nondet_any = 0, errors = 0;
  for (const auto& p : probes) {
    const bool raises = p.diagnosis && p.diagnosis->raises_when_controlled.value_or(false);
    const model::ProbeSetting* controlled = p.find_setting("controlled");
    if (controlled && controlled->verdict == ProbeVerdict::kNondeterministic) ++nondet_controlled;
    if (raises) ++raising;
    bool any = false, err = false;
    for (const auto& s : p.settings) {
      any = any || s.verdict == ProbeVerdict::kNondeterministic;
      err = err || (s.verdict == ProbeVerdict::kError && !raises);
    }
    nondet_any += any;
    errors += err;
  }
  return {{"probes", probes.size()},
          {"nondeterministic_under_some_setting", nondet_any},
          {"nondeterministic_when_controlled", nondet_controlled},
          {"raise_when_controlled", raising},
          {"with_errors", errors}};
}

}  // namespace flakescope
