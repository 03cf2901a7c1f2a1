#include "engine/scheduling/probe_scheduler.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "core/parallel_for.h"
#include "flakescope/diagnosis.h"

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

nlohmann::json probe_entry(const ProbeJob& job, const std::string& device,
                           std::vector<nlohmann::json> settings) {
  nlohmann::json entry = {{"name", job.name},
                          {"description", job.description},
                          {"device", device},
                          {"settings", nlohmann::json::array()}};
  nlohmann::json outputs = nlohmann::json::array();
  for (auto& s : settings) {
    for (const auto& [name, m] : s["metrics"].items())
      if (std::find(outputs.begin(), outputs.end(), name) == outputs.end()) outputs.push_back(name);
    entry["settings"].push_back(std::move(s));
  }
  entry["outputs"] = outputs;
  entry["diagnosis"] = diagnose_probe(entry);
  return entry;
}

nlohmann::json schedule_probes(const std::vector<ProbeJob>& jobs_list,
                               const std::vector<std::vector<Setting>>& groups,
                               SettingRunner& runner, const ScheduleOptions& options,
                               const ScheduleHooks& hooks) {
  std::vector<nlohmann::json> slots(jobs_list.size());
  std::vector<bool> finished(jobs_list.size(), false);
  std::size_t done = 0;
  std::mutex mutex;
  auto finished_in_order = [&] {
    nlohmann::json out = nlohmann::json::array();
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
        nlohmann::json entry = probe_entry(job, options.device, std::move(settings));
        std::lock_guard<std::mutex> lock(mutex);
        slots[i] = std::move(entry);
        finished[i] = true;
        ++done;
        if (hooks.on_finish) hooks.on_finish(done, job, finished_in_order());
      },
      options.cancel);
  return finished_in_order();
}

nlohmann::json probe_summary(const nlohmann::json& probes) {
  std::size_t nondet_controlled = 0, raising = 0, nondet_any = 0, errors = 0;
  for (const auto& p : probes) {
    const auto& d = p["diagnosis"];
    const bool raises = d.value("raises_when_controlled", false);
    if (d.value("controlled", "") == "nondeterministic") ++nondet_controlled;
    if (raises) ++raising;
    bool any = false, err = false;
    for (const auto& s : p["settings"]) {
      any = any || s.value("verdict", "") == "nondeterministic";
      err = err || (s.value("verdict", "") == "error" && !raises);
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
