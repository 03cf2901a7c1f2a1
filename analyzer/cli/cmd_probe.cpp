// `flakescope probe`: parses and validates the options, builds the runner (worker processes or
// this process) and hands the probes to the engine's scheduler (engine/scheduling), then writes
// the JSON report with its recommendations and summary and prints it.
#include <boost/program_options.hpp>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/probe_options.h"
#include "cli/probe_resolution.h"
#include "cli/progress.h"
#include "cli/step_summary.h"
#include "core/diagnosis.h"
#include "core/report.h"
#include "core/subprocess.h"
#include "engine/scheduling/probe_scheduler.h"
#include "engine/scoped_setting.h"
#include "engine/torch_save_reader.h"
#include "flakescope/error.h"
#include "flakescope/report_model.h"
#include "report/reporters.h"
#include "stats/recommend.h"

namespace po = boost::program_options;

namespace flakescope::cli {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
}

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
  ProbeTargetOptions target_options;  // also what the workers get (--runs, --target, ...)
};

const char* kProbeHelp =
    "usage: flakescope probe [NAME|PATTERN|MODEL.pt ...] [--suite NAME] [options]\n\n"
    "Runs each probe --runs times under each setting (default: the ablation - all knobs\n"
    "controlled, each knob freed alone, all free), measures how its outputs move, and names the\n"
    "knobs that move them.\n";

std::string probe_epilog() {
  ExitCodes codes;
  codes.ok = "done (nondeterminism is reported, not an error, without --expect-deterministic)";
  codes.finding =
      "--expect-deterministic and a probe is not bitwise deterministic with every knob controlled";
  codes.interruptible = true;
  return help_epilog({"flakescope probe --suite default",
                      "flakescope probe ops/sum_large --runs 50 --settings "
                      "controlled,free:threads --threads 1,2",
                      "flakescope probe 'models/*' --runs auto",
                      "flakescope probe model.pt --input-shape 4,3,32,32",
                      "flakescope probe --suite cuda --device cuda --jobs 8"},
                     codes);
}

// --isolation none: every setting in this process, one after the other.
class InProcessRunner : public SettingRunner {
 public:
  explicit InProcessRunner(ProbeRunOptions options) : options_(std::move(options)) {}
  std::vector<nlohmann::json> run(const ProbeJob& job,
                                  const std::vector<Setting>& settings) override {
    ProbeRunOptions r = options_;
    if (job.torchscript) r.probe.model_path = job.name;
    const ProbeFactory factory = factory_for({job.name, job.description, job.torchscript, false});
    ControlledReference reference;
    std::vector<nlohmann::json> entries;
    for (const auto& s : settings) {
      if (g_interrupted.load()) break;
      entries.push_back(run_probe_setting(job.name, factory, s, r, {}, &reference));
    }
    return entries;
  }

 private:
  ProbeRunOptions options_;
};

// Parses and validates; false when --help was printed.
bool parse_probe_options(const CommandArgs& a, ProbeCommandOptions& o) {
  po::options_description desc("options", kHelpColumns, kHelpColumns / 2);
  desc.add_options()("help,h", "show this help")(
      "suite", po::value(&o.suites)->composing(),
      "run the probes of a suite (default, ops, models, calibration, cuda); repeatable")(
      "settings", defaulted(&o.settings),
      "ablation, controlled, free, or a comma list such as controlled,free:threads+generator")(
      "out,o", defaulted(&o.out), "write the JSON report here")(
      "json", po::bool_switch(&o.json), "print the JSON report on stdout instead of the table")(
      "expect-deterministic", po::bool_switch(&o.expect_deterministic),
      "exit 1 when a probe is not bitwise deterministic under the all-controlled setting")(
      "isolation", defaulted(&o.isolation),
      "process (a fresh worker per probe: crash isolation, process-level knobs) or none")(
      "timeout", defaulted(&o.timeout), "seconds before a probe's worker is killed")(
      "jobs,j", defaulted(&o.jobs),
      "probes run at a time, each in its own worker (a GPU study: several CUDA inits overlap)");
  add_target_options(desc, o.target_options);
  if (!parse_command_line(a.args, desc, "probe", po::value(&o.probes)->composing(), -1, a.out,
                          kProbeHelp, probe_epilog()))
    return false;
  if (o.isolation != "process" && o.isolation != "none")
    throw InputError("unknown --isolation '" + o.isolation + "' (process or none)");
  if (!(o.timeout > 0)) throw InputError("--timeout must be positive");
  if (o.jobs < 1 || o.jobs > 256) throw InputError("--jobs must be in 1..256");
  if (o.jobs > 1 && o.isolation != "process")
    throw InputError("--jobs needs --isolation process (probes in one process share global state)");
  if (o.probes.empty() && o.suites.empty()) {
    o.suites.push_back("default");
    a.err << "flakescope probe: no probe named; running the default suite\n";
  }
  return true;
}

nlohmann::json probe_config(const ProbeCommandOptions& o, const ProbeRunOptions& run,
                            const std::vector<Setting>& settings, bool cpu) {
  nlohmann::json names = nlohmann::json::array();
  for (const auto& s : settings) names.push_back(s.name);
  nlohmann::json config = {
      {"runs", run.count.text()},
      {"max_runs", run.count.max_runs},
      {"settings", o.settings},
      {"setting_names", names},
      {"threads", run.threads.empty() ? default_thread_counts() : run.threads},
      {"dtype", o.target_options.dtype},
      {"device", o.target_options.device},
      {"seed", o.target_options.seed},
      {"isolation", o.isolation},
      {"jobs", o.jobs},
      {"target", run.target},
      {"confidence", run.confidence},
      {"expected",
       run.expected_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.expected_path)}};
  if (cpu && o.settings == "ablation")
    config["skipped_knobs"] = {"cudnn", "tf32", "cublas_workspace"};
  return config;
}

std::unique_ptr<SettingRunner> make_runner(const ProbeCommandOptions& o,
                                           const ProbeRunOptions& run) {
  if (o.isolation == "none") return std::make_unique<InProcessRunner>(run);
  WorkerConfig w;
  w.executable = self_executable_path();
  w.options_argv = to_worker_args(o.target_options);
  w.result_prefix = o.out + ".worker";
  w.timeout_seconds = o.timeout;
  w.cancel = &g_interrupted;
  w.environment = worker_environment;
  return std::make_unique<WorkerProcessRunner>(std::move(w));
}

// The failures so far, for the progress line: "2 findings, 5 move under a knob".
std::string probe_tally(const nlohmann::json& summary) {
  const auto count = [&](const char* key) { return summary.value(key, std::size_t{0}); };
  const std::size_t findings = count("nondeterministic_when_controlled") + count("with_errors");
  return std::to_string(findings) + (findings == 1 ? " finding, " : " findings, ") +
         std::to_string(count("nondeterministic_under_some_setting")) + " move under a knob";
}

// The table (or the JSON) and the exit code.
int finish_probe(const ProbeCommandOptions& o, const model::Report& report,
                 const nlohmann::json& summary, const CommandArgs& a) {
  if (o.json) {
    a.out << model::to_json(report).dump(2) << "\n";
  } else {
    RenderOptions ro;
    ro.color = isatty(STDOUT_FILENO) == 1;
    a.out << render_report(report, ReportFormat::kTerminal, ro);
    a.out << "report: " << o.out << "\n";
  }
  if (report.header.partial) {
    a.err << "flakescope probe: interrupted; the report is partial\n";
    return kExitInterrupted;
  }
  const bool nondet = summary["nondeterministic_when_controlled"].get<std::size_t>() > 0;
  return o.expect_deterministic && nondet ? kExitFinding : kExitOk;
}

// The report being written: the header of this build, the options as given, no probes yet.
model::Report new_probe_report(const ProbeCommandOptions& o, const ProbeRunOptions& run,
                               const std::vector<Setting>& settings, const CommandArgs& a) {
  model::Report report;
  report.header = model::header_from_json(new_cli_report("probe", a.argv));
  report.header.config = probe_config(o, run, settings, !run.probe.device.is_cuda());
  report.header.partial = true;
  return report;
}

}  // namespace

int cmd_probe(const CommandArgs& a) {
  ProbeCommandOptions o;
  if (!parse_probe_options(a, o)) return kExitOk;
  const ProbeRunOptions run = to_run_options(o.target_options);
  const bool cpu = !run.probe.device.is_cuda();
  const std::vector<Setting> settings = parse_settings(o.settings, /*skip_cuda_only=*/cpu);
  const std::vector<ProbeTarget> targets = resolve_targets(o.probes, o.suites);
  for (const auto& t : targets) validate_torchscript(t, run);
  if (!run.expected_path.empty()) (void)read_expected_tensors(run.expected_path);  // fail early

  model::Report report = new_probe_report(o, run, settings, a);

  std::vector<ProbeJob> jobs;
  for (const auto& t : targets) jobs.push_back({t.name, t.description, t.torchscript, jobs.size()});
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  const bool terminal = stderr_is_terminal();
  Progress progress(a.err, targets.size(), terminal, "probes");
  // A suite in CI: a line every 10 s with the probes done and the findings so far.
  if (!terminal) progress.lines_every(10.0, "flakescope probe");
  std::string tally;
  ScheduleHooks hooks;
  hooks.on_start = [&](std::size_t done, const ProbeJob& job) {
    progress.update(done, "running " + job.name, tally);
  };
  hooks.on_finish = [&](std::size_t done, const ProbeJob& job,
                        const std::vector<model::ProbeResult>& finished) {
    report.probes = finished;
    write_file_atomic(o.out,
                      model::to_json(report).dump(1));  // partial results survive an interruption
    tally = probe_tally(probe_summary(finished));
    progress.update(done, job.name + " done", tally);
  };
  ScheduleOptions schedule;
  schedule.jobs = o.jobs;
  schedule.cancel = &g_interrupted;
  schedule.device = o.target_options.device;
  const auto runner = make_runner(o, run);
  report.probes = schedule_probes(jobs, group_by_environment(settings, cpu, worker_environment),
                                  *runner, schedule, hooks);
  progress.finish();

  // The path of --runs and --target: parsed into ProbeRunOptions, run by the runner, bounded by
  // the statistics engine here, written and rendered from the one model.
  report.header.partial = g_interrupted.load();
  stats::ToleranceOptions tol;
  tol.target = run.target;
  tol.confidence = run.confidence;
  stats::attach_recommendations(report.probes, tol);
  const nlohmann::json summary = probe_summary(report.probes);
  report.extra["summary"] = summary;
  write_file_atomic(o.out, model::to_json(report).dump(1));
  append_step_summary("probe", render_report(report, ReportFormat::kMarkdown), a.err);
  return finish_probe(o, report, summary, a);
}

}  // namespace flakescope::cli
