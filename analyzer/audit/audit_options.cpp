#include "audit/audit_options.h"

#include <cmath>

#include "audit/run_environment.h"
#include "flakescope/error.h"

namespace flakescope::audit {

std::string_view isolation_name(Isolation isolation) {
  return isolation == Isolation::kInprocess ? "inprocess" : "process";
}

Isolation parse_isolation(const std::string& text) {
  if (text == "process") return Isolation::kProcess;
  if (text == "inprocess") return Isolation::kInprocess;
  throw InputError("--isolation must be 'process' or 'inprocess', got '" + text + "'");
}

bool AuditOptions::in_shard(std::size_t run) const {
  if (shard_count <= 1) return true;
  if (isolation == Isolation::kInprocess) {
    // Run r is in block floor(r * count / runs): `count` contiguous blocks of near-equal size.
    return run < runs && run * shard_count / runs == shard_index;
  }
  return run % shard_count == shard_index;
}

void AuditOptions::validate() const {
  if (command.empty())
    throw InputError("no command to audit (write it after --: flakescope audit -- CMD ARGS...)");
  if (runs == 0) throw InputError("--runs must be at least 1");
  if (jobs == 0) throw InputError("--jobs must be at least 1");
  if (!(timeout_seconds >= 0) || !std::isfinite(timeout_seconds))
    throw InputError("--timeout must be a number of seconds >= 0 (0: no timeout)");
  if (shard_count == 0 || shard_index >= shard_count)
    throw InputError("--shard K/N needs 0 <= K < N");
  // A suite audit (--runs auto, in-process) shards its tests, each decided within its shard; the
  // stopping rule of a process-isolated --runs auto needs every run's data in one place.
  if (runs_auto && shard_count > 1 && isolation != Isolation::kInprocess)
    throw InputError(
        "--runs auto with --isolation process cannot be sharded (each shard would stop on its "
        "own data): give shards a fixed --runs, or audit a pytest suite with --isolation "
        "inprocess, whose shards split the tests");
  if (!(target > 0 && target < 1)) throw InputError("--target must be in (0, 1)");
  if (!(confidence > 0 && confidence < 1)) throw InputError("--confidence must be in (0, 1)");
  if (settings.empty()) throw InputError("no setting to run under");
  if (junit == JunitMode::kPath && junit_path.empty()) throw InputError("--junit PATH is empty");
  if (isolation == Isolation::kInprocess) {
    if (detect_junit_dialect(command) != JunitDialect::kPytest)
      throw InputError(
          "--isolation inprocess needs a pytest command (pytest, py.test, "
          "python -m pytest), not '" +
          command[0] + "'");
    if (junit == JunitMode::kPath)
      throw InputError(
          "--junit PATH is not read with --isolation inprocess (the outcomes come "
          "from the flakescope pytest plugin); leave --junit out");
  }
  if (junit == JunitMode::kPath && jobs > 1)
    throw InputError(
        "--junit PATH is one file shared by every run; with --jobs > 1 write {junit} "
        "in the command instead, or use --junit auto");
}

nlohmann::json AuditOptions::to_json() const {
  nlohmann::json settings_json = nlohmann::json::array();
  for (const auto& s : settings) settings_json.push_back(s.name);
  nlohmann::json j = {
      {"runs", runs_auto ? nlohmann::json("auto") : nlohmann::json(runs)},
      {"max_runs", runs},
      {"jobs", jobs},
      {"isolation", std::string(isolation_name(isolation))},
      {"timeout_seconds", timeout_seconds},
      {"junit", junit == JunitMode::kAuto   ? "auto"
                : junit == JunitMode::kNone ? "none"
                                            : junit_path},
      {"junit_dialect", std::string(junit_dialect_name(detect_junit_dialect(command)))},
      {"settings", settings_json},
      {"ablation", ablation},
      {"seed", seed},
      {"target", target},
      {"confidence", confidence},
      {"capture", capture},
  };
  if (shard_count > 1) j["shard"] = std::to_string(shard_index) + "/" + std::to_string(shard_count);
  return j;
}

std::pair<std::size_t, std::size_t> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  auto number = [&](const std::string& s) -> std::size_t {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
      throw InputError("--shard '" + text + "' is not K/N (e.g. 0/4)");
    return std::stoul(s);
  };
  if (slash == std::string::npos) throw InputError("--shard '" + text + "' is not K/N (e.g. 0/4)");
  const std::size_t k = number(text.substr(0, slash)), n = number(text.substr(slash + 1));
  if (n == 0 || k >= n) throw InputError("--shard '" + text + "' needs 0 <= K < N");
  return {k, n};
}

std::vector<Setting> audit_settings(const std::vector<std::string>& vary, bool ablation) {
  std::vector<Knob> knobs;
  for (const auto& name : vary) {
    auto knob = parse_knob(name);
    if (!knob) {
      std::string known;
      for (Knob k : kAllKnobs) known += (known.empty() ? "" : ", ") + std::string(knob_name(k));
      throw InputError("--vary: unknown knob '" + name + "' (knobs: " + known + ")");
    }
    bool dup = false;
    for (Knob k : knobs) dup = dup || k == *knob;
    if (!dup) knobs.push_back(*knob);
  }
  if (!ablation) return {knobs.empty() ? all_controlled() : free_only(knobs)};
  if (knobs.empty()) knobs = default_ablation_knobs(nvidia_device_present());
  std::vector<Setting> out = {all_controlled()};
  for (Knob k : knobs) out.push_back(free_only({k}));
  out.push_back(all_free());
  return out;
}

}  // namespace flakescope::audit
