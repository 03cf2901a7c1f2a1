// `flakescope probe`: runs probes under the settings matrix, one fresh worker process per probe
// (and per process-level setting), measures how the outputs move, diagnoses which knob moves them,
// and writes the JSON report.
#include <boost/program_options.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <csignal>
#include <exception>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/probe_options.h"
#include "cli/probe_resolution.h"
#include "cli/progress.h"
#include "cli/step_summary.h"
#include "engine/scoped_setting.h"
#include "flakescope/diagnosis.h"
#include "flakescope/error.h"
#include "flakescope/report.h"
#include "flakescope/reporters.h"
#include "flakescope/stats/recommend.h"
#include "flakescope/subprocess.h"
#include "flakescope/torch_save_reader.h"

namespace po = boost::program_options;

namespace flakescope::cli {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted.store(true); }

struct ProbeCommandOptions {
  std::vector<std::string> probes;
  std::vector<std::string> suites;
  std::string settings = "ablation";
  std::string out = "flakescope-report.json";
  std::string isolation = "process";
  bool json = false;
  bool expect_deterministic = false;
  double timeout = 900;
  std::size_t jobs = 1;
  double target = 1e-4;
  double confidence = 0.95;
  ProbeTargetOptions target_options;
};

const char* kProbeHelp =
    "usage: flakescope probe [NAME|PATTERN|MODEL.pt ...] [--suite NAME] [options]\n\n"
    "Runs each probe --runs times under each setting (default: the ablation - all knobs\n"
    "controlled, each knob freed alone, all free), measures how its outputs move, and names the\n"
    "knobs that move them. Examples:\n"
    "  flakescope probe --suite default\n"
    "  flakescope probe ops/sum_large --runs 50 --settings controlled,free:threads --threads 1,2\n"
    "  flakescope probe model.pt --input-shape 4,3,32,32\n"
    "  flakescope probe --suite cuda --device cuda --jobs 8\n";

// Settings grouped by the process environment they need: one worker per group. On the CPU the
// only process-level knob (CUBLAS_WORKSPACE_CONFIG) has no effect, so every setting shares one
// worker: a worker start (loading LibTorch) costs more than most probes' runs.
std::vector<std::vector<Setting>> group_by_environment(const std::vector<Setting>& settings,
                                                       bool cpu) {
  if (cpu) return {settings};
  std::map<std::string, std::vector<Setting>> groups;
  std::vector<std::string> order;
  for (const auto& s : settings) {
    std::string key;
    for (const auto& [k, v] : worker_environment(s)) key += k + "=" + v.value_or("<unset>") + ";";
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(s);
  }
  std::vector<std::vector<Setting>> out;
  for (const auto& k : order) out.push_back(groups[k]);
  return out;
}

std::string join_names(const std::vector<Setting>& settings) {
  std::string s;
  for (const auto& x : settings) s += (s.empty() ? "" : ",") + x.name;
  return s;
}

nlohmann::json failed_setting(const Setting& s, const std::string& why) {
  nlohmann::json e = setting_json(s);
  e["runs"] = 0;
  e["verdict"] = "error";
  e["error"] = why;
  e["metrics"] = nlohmann::json::object();
  return e;
}

std::string worker_failure(const ProcessResult& r, double timeout) {
  switch (r.status) {
    case ProcessStatus::kSignaled:
      return "the probe crashed the worker process (" + signal_name(r.signal) + ")";
    case ProcessStatus::kTimedOut:
      return "the worker process timed out after " + std::to_string(static_cast<int>(timeout)) + " s";
    case ProcessStatus::kCancelled: return "interrupted";
    case ProcessStatus::kFailedToStart: return "the worker process could not start: " + r.error;
    case ProcessStatus::kExited: {
      std::string tail = r.stderr_tail;
      while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
      auto nl = tail.rfind('\n');
      if (nl != std::string::npos) tail = tail.substr(nl + 1);
      return "the worker process exited with code " + std::to_string(r.exit_code) +
             (tail.empty() ? "" : ": " + tail);
    }
  }
  return "worker failed";
}

// Runs `settings` of one target in a fresh worker process. When the worker dies in a setting (a
// crash, an abort), that setting is recorded with the cause and the settings after it get a new
// worker, so one crashing setting does not hide what the others measure. After a timeout or an
// interruption the rest are marked not run instead: restarting would only repeat the wait.
std::vector<nlohmann::json> run_in_worker(const ProbeTarget& target,
                                          const std::vector<Setting>& settings,
                                          const ProbeCommandOptions& o, std::size_t slot) {
  // One result file per concurrent worker: the parent's pid and the probe's index.
  const std::string result =
      o.out + ".worker." + std::to_string(getpid()) + "." + std::to_string(slot) + ".json";
  std::vector<nlohmann::json> entries;
  while (entries.size() < settings.size()) {
    const std::vector<Setting> rest(settings.begin() + static_cast<std::ptrdiff_t>(entries.size()),
                                    settings.end());
    std::remove(result.c_str());
    ProcessSpec spec;
    spec.argv = {self_executable_path(), "__worker", "--probe", target.name, "--settings",
                 join_names(rest), "--result", result};
    if (target.torchscript) spec.argv.push_back("--torchscript");
    for (auto& a : to_worker_args(o.target_options)) spec.argv.push_back(a);
    spec.env = worker_environment(rest.front());
    spec.timeout_seconds = o.timeout;
    spec.cancel = &g_interrupted;
    const ProcessResult r = run_process(spec);

    std::size_t finished = 0;
    try {
      nlohmann::json j = nlohmann::json::parse(read_file(result));
      for (auto& e : j.at("settings")) {
        if (finished == rest.size()) break;
        entries.push_back(e);
        ++finished;
      }
    } catch (const std::exception&) {
      // Nothing finished before the worker died.
    }
    std::remove(result.c_str());
    if (finished == rest.size()) break;
    const std::string why =
        r.succeeded() ? "the worker wrote no result" : worker_failure(r, o.timeout);
    const Setting& died_in = rest[finished];
    entries.push_back(failed_setting(died_in, why));
    const bool retry = r.status == ProcessStatus::kSignaled || r.status == ProcessStatus::kExited;
    if (!retry || g_interrupted.load()) {
      for (std::size_t i = entries.size(); i < settings.size(); ++i)
        entries.push_back(failed_setting(
            settings[i], "not run: the worker ended in setting '" + died_in.name + "' (" +
                             why.substr(4) + ")"));
    }
  }
  return entries;
}

std::vector<nlohmann::json> run_in_process(const ProbeTarget& target,
                                           const std::vector<Setting>& settings,
                                           const ProbeRunOptions& run) {
  std::vector<nlohmann::json> entries;
  ProbeRunOptions r = run;
  if (target.torchscript) r.probe.model_path = target.name;
  const ProbeFactory factory = factory_for(target);
  ControlledReference reference;
  for (const auto& s : settings) {
    if (g_interrupted.load()) break;
    entries.push_back(run_probe_setting(target.name, factory, s, r, {}, &reference));
  }
  return entries;
}

}  // namespace

int cmd_probe(const CommandArgs& a) {
  ProbeCommandOptions o;
  po::options_description desc("options");
  desc.add_options()("help,h", "show this help")(
      "suite", po::value(&o.suites)->composing(),
      "run the probes of a suite (default, ops, models, calibration, cuda); repeatable")(
      "settings", po::value(&o.settings)->default_value(o.settings),
      "ablation, controlled, free, or a comma list such as controlled,free:threads+generator")(
      "out,o", po::value(&o.out)->default_value(o.out), "write the JSON report here")(
      "json", po::bool_switch(&o.json), "print the JSON report on stdout instead of the table")(
      "expect-deterministic", po::bool_switch(&o.expect_deterministic),
      "exit 1 when a probe is not bitwise deterministic under the all-controlled setting")(
      "isolation", po::value(&o.isolation)->default_value(o.isolation),
      "process (a fresh worker per probe: crash isolation, process-level knobs) or none")(
      "timeout", po::value(&o.timeout)->default_value(o.timeout),
      "seconds before a probe's worker is killed")(
      "jobs,j", po::value(&o.jobs)->default_value(o.jobs),
      "probes run at a time, each in its own worker (a GPU study: several CUDA inits overlap)")(
      "target", po::value(&o.target)->default_value(o.target),
      "per-run failure rate the recommended tolerances keep to")(
      "confidence", po::value(&o.confidence)->default_value(o.confidence),
      "confidence of the recommendations");
  add_target_options(desc, o.target_options);
  if (!parse_command_line(a.args, desc, "probe", po::value(&o.probes)->composing(), -1, a.out, kProbeHelp)) return kExitOk;

  if (o.isolation != "process" && o.isolation != "none")
    throw InputError("unknown --isolation '" + o.isolation + "' (process or none)");
  if (!(o.timeout > 0)) throw InputError("--timeout must be positive");
  if (o.jobs < 1 || o.jobs > 256) throw InputError("--jobs must be in 1..256");
  if (o.jobs > 1 && o.isolation != "process")
    throw InputError("--jobs needs --isolation process (probes in one process share global state)");
  if (!(o.target > 0 && o.target < 1)) throw InputError("--target must be in (0, 1)");
  if (!(o.confidence > 0 && o.confidence < 1)) throw InputError("--confidence must be in (0, 1)");
  if (o.probes.empty() && o.suites.empty()) {
    o.suites.push_back("default");
    a.err << "flakescope probe: no probe named; running the default suite\n";
  }
  const ProbeRunOptions run = to_run_options(o.target_options);
  const bool cpu = !run.probe.device.is_cuda();
  const std::vector<Setting> settings = parse_settings(o.settings, /*skip_cuda_only=*/cpu);
  const std::vector<ProbeTarget> targets = resolve_targets(o.probes, o.suites);
  for (const auto& t : targets) validate_torchscript(t, run);
  if (!run.expected_path.empty()) (void)read_expected_tensors(run.expected_path);  // fail early

  nlohmann::json report = new_cli_report("probe", a.argv);
  report["config"] = {{"runs", o.target_options.runs},
                      {"settings", o.settings},
                      {"setting_names", nlohmann::json::array()},
                      {"threads", run.threads.empty() ? default_thread_counts() : run.threads},
                      {"dtype", o.target_options.dtype},
                      {"device", o.target_options.device},
                      {"seed", o.target_options.seed},
                      {"isolation", o.isolation},
                      {"jobs", o.jobs},
                      {"target", o.target},
                      {"confidence", o.confidence},
                      {"expected", run.expected_path.empty() ? nlohmann::json(nullptr)
                                                             : nlohmann::json(run.expected_path)}};
  for (const auto& s : settings) report["config"]["setting_names"].push_back(s.name);
  if (cpu && o.settings == "ablation")
    report["config"]["skipped_knobs"] = {"cudnn", "tf32", "cublas_workspace"};
  report["probes"] = nlohmann::json::array();
  report["partial"] = true;

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  Progress progress(a.err, targets.size(), stderr_is_terminal());
  const auto groups = group_by_environment(settings, cpu);
  // Probes run `jobs` at a time; each result lands in its probe's slot, and the report lists the
  // finished ones in the order they were named, so it reads the same whatever the interleaving.
  std::vector<nlohmann::json> slots(targets.size());
  std::vector<bool> finished(targets.size(), false);
  std::mutex mu;
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  auto run_target = [&](std::size_t index) {
    const ProbeTarget& target = targets[index];
    nlohmann::json entry = {{"name", target.name},
                            {"description", target.description},
                            {"device", o.target_options.device},
                            {"settings", nlohmann::json::array()}};
    for (const auto& group : groups) {
      auto results = o.isolation == "process" ? run_in_worker(target, group, o, index)
                                              : run_in_process(target, group, run);
      for (auto& r : results) entry["settings"].push_back(std::move(r));
    }
    nlohmann::json outputs = nlohmann::json::array();
    for (const auto& s : entry["settings"])
      for (const auto& [name, m] : s["metrics"].items())
        if (std::find(outputs.begin(), outputs.end(), name) == outputs.end()) outputs.push_back(name);
    entry["outputs"] = outputs;
    entry["diagnosis"] = diagnose_probe(entry);
    std::lock_guard<std::mutex> lock(mu);
    slots[index] = std::move(entry);
    finished[index] = true;
    ++done;
    report["probes"] = nlohmann::json::array();
    for (std::size_t i = 0; i < slots.size(); ++i)
      if (finished[i]) report["probes"].push_back(slots[i]);
    write_file_atomic(o.out, report.dump(1));  // partial results survive an interruption
    progress.update(done, target.name);
  };
  std::exception_ptr failure;  // the first error of any thread, rethrown once all have stopped
  auto worker_loop = [&] {
    try {
      for (std::size_t i = next++; i < targets.size() && !g_interrupted.load(); i = next++) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (failure) return;
          progress.update(done, targets[i].name);
        }
        run_target(i);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!failure) failure = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < std::min(o.jobs, targets.size()); ++t) pool.emplace_back(worker_loop);
  worker_loop();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  progress.finish();

  const bool interrupted = g_interrupted.load();
  report["partial"] = interrupted;
  stats::ToleranceOptions tol;
  tol.target = o.target;
  tol.confidence = o.confidence;
  stats::attach_recommendations(report, tol);

  std::size_t nondet_controlled = 0, raising = 0, nondet_any = 0, errors = 0;
  for (const auto& p : report["probes"]) {
    const auto& d = p["diagnosis"];
    if (d.value("controlled", "") == "nondeterministic") ++nondet_controlled;
    if (d.value("raises_when_controlled", false)) ++raising;
    bool any = false, err = false;
    for (const auto& s : p["settings"]) {
      any = any || s.value("verdict", "") == "nondeterministic";
      err = err || (s.value("verdict", "") == "error" && !d.value("raises_when_controlled", false));
    }
    nondet_any += any;
    errors += err;
  }
  report["summary"] = {{"probes", report["probes"].size()},
                       {"nondeterministic_under_some_setting", nondet_any},
                       {"nondeterministic_when_controlled", nondet_controlled},
                       {"raise_when_controlled", raising},
                       {"with_errors", errors}};
  write_file_atomic(o.out, report.dump(1));
  append_step_summary("probe", render_report(report, ReportFormat::kMarkdown), a.err);

  if (o.json) {
    a.out << report.dump(2) << "\n";
  } else {
    RenderOptions ro;
    ro.color = isatty(STDOUT_FILENO) == 1;
    a.out << render_report(report, ReportFormat::kTerminal, ro);
    a.out << "report: " << o.out << "\n";
  }
  if (interrupted) {
    a.err << "flakescope probe: interrupted; the report is partial\n";
    return kExitInterrupted;
  }
  if (o.expect_deterministic && nondet_controlled > 0) return kExitFinding;
  return kExitOk;
}

}  // namespace flakescope::cli
