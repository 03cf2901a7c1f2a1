#include "engine/scheduling/worker_process_runner.h"

#include <unistd.h>
#include <cstdio>
#include <exception>

#include "core/report.h"

namespace flakescope {
namespace {

std::string join_names(const std::vector<Setting>& settings) {
  std::string s;
  for (const auto& x : settings) s += (s.empty() ? "" : ",") + x.name;
  return s;
}

std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

// The entries a worker finished before it ended (none when the file is missing or torn).
std::vector<nlohmann::json> read_finished(const std::string& path, std::size_t at_most) {
  std::vector<nlohmann::json> out;
  try {
    const nlohmann::json j = nlohmann::json::parse(read_file(path));
    for (const auto& e : j.at("settings"))
      if (out.size() < at_most) out.push_back(e);
  } catch (const std::exception&) {
    // Nothing finished before the worker died.
  }
  return out;
}

}  // namespace

std::vector<std::string> worker_argv(const WorkerConfig& config, const ProbeJob& job,
                                     const std::vector<Setting>& settings,
                                     const std::string& result_path) {
  std::vector<std::string> argv = {config.executable, "__worker",   "--probe",
                                   job.name,          "--settings", join_names(settings),
                                   "--result",        result_path};
  if (job.torchscript) argv.push_back("--torchscript");
  argv.insert(argv.end(), config.options_argv.begin(), config.options_argv.end());
  return argv;
}

std::string worker_failure(const ProcessResult& r, double timeout) {
  switch (r.status) {
    case ProcessStatus::kSignaled:
      return "the probe crashed the worker process (" + signal_name(r.signal) + ")";
    case ProcessStatus::kTimedOut:
      return "the worker process timed out after " + std::to_string(static_cast<int>(timeout)) +
             " s";
    case ProcessStatus::kCancelled:
      return "interrupted";
    case ProcessStatus::kFailedToStart:
      return "the worker process could not start: " + r.error;
    case ProcessStatus::kExited: {
      const std::string tail = last_line(r.stderr_tail);
      return "the worker process exited with code " + std::to_string(r.exit_code) +
             (tail.empty() ? "" : ": " + tail);
    }
  }
  return "worker failed";
}

WorkerProcessRunner::WorkerProcessRunner(WorkerConfig config, ProcessLauncher launch)
    : config_(std::move(config)), launch_(std::move(launch)) {}

std::vector<nlohmann::json> WorkerProcessRunner::run(const ProbeJob& job,
                                                     const std::vector<Setting>& settings) {
  // One result file per concurrent worker: the parent's pid and the probe's index.
  const std::string result = config_.result_prefix + "." + std::to_string(getpid()) + "." +
                             std::to_string(job.index) + ".json";
  std::vector<nlohmann::json> entries;
  while (entries.size() < settings.size()) {
    const std::vector<Setting> rest(settings.begin() + static_cast<std::ptrdiff_t>(entries.size()),
                                    settings.end());
    std::remove(result.c_str());
    ProcessSpec spec;
    spec.argv = worker_argv(config_, job, rest, result);
    if (config_.environment) spec.env = config_.environment(rest.front());
    spec.timeout_seconds = config_.timeout_seconds;
    spec.cancel = config_.cancel;
    started_.fetch_add(1);
    const ProcessResult r = launch_(spec);
    std::vector<nlohmann::json> finished = read_finished(result, rest.size());
    std::remove(result.c_str());
    for (auto& e : finished) entries.push_back(std::move(e));
    if (finished.size() == rest.size()) break;

    const std::string why =
        r.succeeded() ? "the worker wrote no result" : worker_failure(r, config_.timeout_seconds);
    const Setting& died_in = rest[finished.size()];
    entries.push_back(failed_setting_entry(died_in, why));
    const bool restart = r.status == ProcessStatus::kSignaled || r.status == ProcessStatus::kExited;
    if (restart && !(config_.cancel && config_.cancel->load())) continue;
    for (std::size_t i = entries.size(); i < settings.size(); ++i)
      entries.push_back(failed_setting_entry(
          settings[i],
          "not run: the worker ended in setting '" + died_in.name + "' (" + why.substr(4) + ")"));
  }
  return entries;
}

}  // namespace flakescope
