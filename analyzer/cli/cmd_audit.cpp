// `flakescope audit [options] -- CMD ARGS...`: runs a test command many times (directly from its
// argv, never through a shell), K at a time, and reports per-testcase flakiness with intervals,
// retry recommendations, replay lines and, with --ablation, the knob whose control removes the
// failures. Exit 0 nothing flaky, 1 flaky/crashing/timing out, 2 bad input, 130 interrupted.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <csignal>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>

#include "audit/audit_options.h"
#include "audit/audit_report.h"
#include "audit/audit_runner.h"
#include "audit/capture_analysis.h"
#include "audit/platform_info.h"
#include "audit/run_log.h"
#include "audit/scratch_cleanup.h"
#include "audit/shard_source.h"
#include "cli/audit_output.h"
#include "cli/audit_suite.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/report_output.h"
#include "cli/step_summary.h"
#include "core/output_file.h"
#include "core/path_lookup.h"
#include "core/report.h"
#include "core/run_count.h"
#include "core/subprocess.h"
#include "flakescope/error.h"
#include "report/reporters.h"
#include "stats/recommend.h"

namespace po = boost::program_options;

namespace flakescope::cli {
namespace {

std::atomic<bool> g_cancel{false};
extern "C" void on_audit_signal(int) {
  g_cancel.store(true);
}

// Restores the previous SIGINT/SIGTERM handlers when the audit ends (also by exception).
class SignalScope {
 public:
  SignalScope() {
    g_cancel = false;
    old_int_ = std::signal(SIGINT, on_audit_signal);
    old_term_ = std::signal(SIGTERM, on_audit_signal);
  }
  ~SignalScope() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }

 private:
  void (*old_int_)(int) = SIG_DFL;
  void (*old_term_)(int) = SIG_DFL;
};

// The command must exist before hundreds of runs each record "could not start".
void check_command_exists(const std::string& exe) {
  if (exe.find('/') != std::string::npos) {
    if (access(exe.c_str(), X_OK) != 0)
      throw InputError("command not found or not executable: " + exe);
    return;
  }
  const char* path_env = std::getenv("PATH");
  if (!find_on_path(exe, path_env ? path_env : "").empty()) return;
  throw InputError("command not found: " + exe);
}

std::vector<std::string> split_commas(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    std::size_t start = 0;
    while (start <= v.size()) {
      const std::size_t comma = std::min(v.find(',', start), v.size());
      if (comma > start) out.push_back(v.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

// Resuming a log written with other seeds or settings would mix two experiments.
void check_resumable(const audit::RunLog& log, const audit::AuditOptions& o) {
  if (log.header.command != o.command)
    throw InputError(log.path + ": the log is of another command; --resume needs the same command");
  const nlohmann::json now = o.to_json();
  // Logs written before --isolation existed are process-isolated.
  nlohmann::json config = log.header.config;
  if (!config.contains("isolation")) config["isolation"] = "process";
  std::vector<const char*> keys = {"seed", "settings", "shard", "junit", "isolation"};
  // In-process shards are blocks of [0, runs): another --runs would move their bounds.
  if (o.isolation == audit::Isolation::kInprocess && o.shard_count > 1) keys.push_back("max_runs");
  for (const char* key : keys) {
    const nlohmann::json was = config.value(key, nlohmann::json());
    if (was != now.value(key, nlohmann::json()))
      throw InputError(log.path + ": the log was written with " + key + " " + was.dump() +
                       ", this audit has " + now.value(key, nlohmann::json()).dump() +
                       "; resume with the same options");
  }
}

// A log with more runs than asked for would be reported whole: --runs 50 must not say 100 runs.
void check_resume_runs(const audit::RunLog& log, const audit::AuditOptions& o) {
  if (o.runs_auto) return;
  std::map<std::string, std::size_t> per_setting;
  for (const auto& r : log.records) ++per_setting[r.setting];
  for (const auto& [setting, count] : per_setting)
    if (count > o.runs)
      throw InputError(log.path + ": the log already has " + std::to_string(count) +
                       " runs of setting " + setting + ", more than --runs " +
                       std::to_string(o.runs) + "; resume with --runs " + std::to_string(count) +
                       " or more (or report the log with flakescope merge)");
}

std::string audit_epilog() {
  return help_epilog(
      {"flakescope audit --runs 200 --jobs 2 -- ./build/my_gtest_binary",
       "flakescope audit --runs auto --ablation -- python3 -m pytest tests/test_model.py",
       "flakescope audit --capture --runs 60 --isolation inprocess -- python3 -m pytest tests/",
       "flakescope audit --runs 100 --shard 0/4 --log shard0.jsonl -- ctest -R foo"},
      {"nothing flaky", "a flaky, crashing or timing-out test", true});
}

void apply_run_count(audit::AuditOptions& o, const std::string& runs,
                     const std::optional<std::string>& max_runs) {
  const RunCount count = parse_run_count(runs, max_runs, RunCountUse::kAudit);
  o.runs_auto = count.adaptive;
  o.runs = count.max_runs;  // the fixed count, or the cap of auto
  o.auto_min_runs = count.min_runs;
  o.auto_batch = count.batch;
}

void apply_junit(audit::AuditOptions& o, const std::string& junit) {
  if (junit == "auto")
    o.junit = audit::JunitMode::kAuto;
  else if (junit == "none")
    o.junit = audit::JunitMode::kNone;
  else
    o.junit = audit::JunitMode::kPath, o.junit_path = junit;
}

void apply_shard(audit::AuditOptions& o, const std::string& shard,
                 const std::optional<std::size_t>& shard_count, std::ostream& err) {
  if (!shard.empty()) {
    const audit::ShardAssignment assigned =
        audit::resolve_shard(shard, shard_count, audit::process_environment());
    o.shard_index = assigned.index, o.shard_count = assigned.count;
    if (shard == "auto")
      err << "flakescope audit: shard " << assigned.index << "/" << assigned.count << " ("
          << assigned.source << ")\n";
  } else if (shard_count) {
    throw InputError("--shard-count is only read with --shard auto");
  }
}

void validate_audit(const audit::AuditOptions& o, bool resume) {
  o.validate();
  check_command_exists(o.command[0]);
  if (o.runs_auto && o.isolation == audit::Isolation::kInprocess &&
      (resume || o.settings.size() > 1))
    throw InputError(
        "--runs auto --isolation inprocess allocates runs per test under one setting; "
        "--resume and --ablation need a fixed --runs");
}

// The files an audit writes: its report, and the run log it appends to (or resumes).
struct AuditFiles {
  std::string out;
  std::string log_path;
  bool resume = false;
};

// The run log opened before the first run, so a bad path fails at once instead of after hours of
// runs; a resumed log's runs are returned in `previous`.
std::optional<audit::RunLogWriter> open_run_log(const audit::AuditOptions& o,
                                                const nlohmann::json& config,
                                                const AuditFiles& files,
                                                std::vector<audit::RunRecord>& previous,
                                                std::ostream& err) {
  std::optional<audit::RunLogWriter> log;
  if (files.log_path.empty()) return log;
  const std::string& log_path = files.log_path;
  if (files.resume && !std::filesystem::exists(log_path))
    err << "flakescope audit: no run log at " << log_path << " yet; starting a new audit\n";
  if (files.resume && std::filesystem::exists(log_path)) {
    audit::RunLog existing = audit::read_run_log(log_path);
    check_resumable(existing, o);
    check_resume_runs(existing, o);
    previous = existing.records;
    log.emplace(audit::RunLogWriter::resume(existing));
    err << "flakescope audit: resuming " << log_path << " (" << previous.size() << " runs done)\n";
  } else {
    log.emplace(audit::RunLogWriter::create(
        log_path, audit::RunLogHeader{o.command, config, utc_timestamp()}));
  }
  return log;
}

// When this audit ends, even by kill -9, what its runs left behind (descendants that left their
// process group) is killed and its scratch folder removed, at once.
void clean_up_when_this_audit_ends() {
  const pid_t self = ::getpid();
  const char* tmp = std::getenv("TMPDIR");
  const std::string tmp_dir = tmp && *tmp ? tmp : "/tmp";
  start_death_watcher([self, tmp_dir] {
    kill_processes_of_runs_of(self);
    audit::remove_stale_scratch(tmp_dir);
  });
}

// Every run of the audit, with a progress line (on a terminal) or a line every 10 s (in CI).
audit::AuditRunResult run_with_progress(const CommandArgs& a, const audit::AuditOptions& o,
                                        const std::vector<audit::RunRecord>& previous,
                                        audit::RunLogWriter* log) {
  const bool terminal = stderr_is_terminal();
  Progress progress(a.err, o.runs * o.settings.size(), terminal, "runs");
  if (o.runs_auto) progress.total_is_cap();
  if (o.isolation == audit::Isolation::kInprocess) progress.without_estimate();
  // A long audit in CI: a line every 10 s with the runs done and the failures so far.
  if (!terminal) progress.lines_every(10.0, "flakescope audit");
  std::mutex mutex;  // on_test_results comes from the watchdog threads
  std::size_t failed_runs = 0, runs_done = 0, results = 0, failed_results = 0;
  audit::AuditHooks hooks;
  hooks.on_run = [&](const audit::RunRecord& r, std::size_t done, std::size_t) {
    const std::lock_guard<std::mutex> lock(mutex);
    if (audit::is_failure(r.outcome)) ++failed_runs;
    runs_done = previous.size() + done;
    progress.update(runs_done,
                    r.setting + " run " + std::to_string(r.run) + ": " +
                        std::string(audit::outcome_name(r.outcome)),
                    std::to_string(failed_runs) + " failed");
  };
  // In-process, a block's runs finish together when its pytest process exits: the test results
  // it reports on the way show how far it is.
  hooks.on_test_results = [&](std::size_t added, std::size_t failed) {
    const std::lock_guard<std::mutex> lock(mutex);
    results += added;
    failed_results += failed;
    progress.update(runs_done,
                    std::to_string(results) + " test results so far, " +
                        std::to_string(failed_results) + " failed",
                    std::to_string(failed_runs) + " failed");
  };
  audit::ProcessExecutor executor;
  audit::AuditRunResult result = audit::run_audit(o, executor, previous, log, &g_cancel, hooks);
  progress.finish();
  return result;
}

// The report of the runs, written and printed; the exit code.
int report_audit(const CommandArgs& a, const audit::AuditOptions& o, const nlohmann::json& config,
                 const audit::AuditRunResult& result, const std::string& out,
                 const audit::RunLogWriter* log) {
  audit::AuditReportInputs in;
  in.header = new_cli_report("audit", a.argv);
  in.command = o.command;
  in.config = config;
  for (const auto& s : o.settings) in.settings.push_back(s.name);
  in.target = o.target;
  in.confidence = o.confidence;
  in.partial = result.interrupted;
  in.ablation = o.ablation;
  const model::Report report = write_audit_report(in, result.records, o.capture, out, a.out);
  append_step_summary("audit", render_report(report, ReportFormat::kMarkdown), a.err);
  if (report.audit.junit_fallback)
    a.err << "flakescope audit: warning: " << *report.audit.junit_fallback << "\n";
  a.err << "flakescope audit: report written to " << out
        << (log ? ", run log " + log->path() : std::string()) << "\n";
  if (result.interrupted) {
    a.err << "flakescope audit: interrupted; the report is partial"
          << (log ? " (continue with --resume)" : "") << "\n";
    return kExitInterrupted;
  }
  return audit::audit_exit_code(report) == 1 ? kExitFinding : kExitOk;
}

// The validated audit: its environment recorded, its files checked and opened, then the runs
// (per test for a pytest suite in-process under --runs auto) and the report.
int execute_audit(const CommandArgs& a, const audit::AuditOptions& o, const AuditFiles& files) {
  nlohmann::json config = o.to_json();
  check_output_path(files.out);
  if (!files.log_path.empty()) check_distinct_outputs("--out", files.out, "--log", files.log_path);
  // Where this audit (or shard of a test matrix) runs: merge reports rates per environment. With
  // a run log it goes into the log's header, before the first run.
  if (!files.log_path.empty()) config["platform"] = audit::describe_platform(o.command);
  std::vector<audit::RunRecord> previous;
  std::optional<audit::RunLogWriter> log = open_run_log(o, config, files, previous, a.err);
  audit::RunLogWriter* log_writer = log ? &*log : nullptr;

  kill_orphans_of_dead_runs();      // what a killed earlier audit's runs left behind
  clean_up_when_this_audit_ends();  // (it forks: before any other thread of this process exists)
  // Without a log the platform is first written in the report: describing it (the command's
  // interpreter started once for its Python and torch versions, 40-60 ms) runs beside the runs.
  std::future<nlohmann::json> platform;
  if (!config.contains("platform"))
    platform = std::async(std::launch::async,
                          [command = o.command] { return audit::describe_platform(command); });
  auto platform_known = [&] {
    if (platform.valid()) config["platform"] = platform.get();
  };
  SignalScope signals;
  // A pytest suite in-process: runs are allocated per test (screening, then undecided tests only).
  if (o.runs_auto && o.isolation == audit::Isolation::kInprocess) {
    platform_known();
    return run_suite_audit(a, o, config, log_writer, files.out, &g_cancel);
  }
  const audit::AuditRunResult result = run_with_progress(a, o, previous, log_writer);
  platform_known();
  return report_audit(a, o, config, result, files.out, log_writer);
}

}  // namespace

int cmd_audit(const CommandArgs& a) {
  // Everything after the first "--" is the command, verbatim.
  std::vector<std::string> own_args, command;
  const auto dashdash = std::find(a.args.begin(), a.args.end(), "--");
  own_args.assign(a.args.begin(), dashdash);
  if (dashdash != a.args.end()) command.assign(dashdash + 1, a.args.end());

  audit::AuditOptions o;
  std::string runs = "20", max_runs, junit = "auto", log_path, out = "flakescope-audit.json", shard,
              isolation = "process";
  std::vector<std::string> vary;
  bool resume = false;
  std::optional<std::size_t> shard_count;
  po::options_description desc(
      "usage: flakescope audit [options] -- CMD ARGS...\n\n"
      "Runs a test command (pytest, ctest, a gtest binary, anything) many times, each run in its\n"
      "own process group and scratch folder with its seed and knobs in the environment\n"
      "(FLAKESCOPE_SEED=seed+i, PYTHONHASHSEED, OMP_NUM_THREADS, CUBLAS_WORKSPACE_CONFIG, ...),\n"
      "and reports per-testcase flakiness from the JUnit XML the command writes",
      kHelpColumns, kHelpColumns / 2);
  desc.add_options()("help,h", "show this help")(
      "runs,n", defaulted(&runs),
      "runs per setting, or 'auto' (batches until every failure rate is settled)")(
      "max-runs", po::value(&max_runs),
      ("with --runs auto: the cap (default " + std::to_string(kDefaultMaxRuns) + ")").c_str())(
      "jobs,j", defaulted(&o.jobs),
      "runs at a time (with --isolation inprocess: pytest processes at a time, each repeating "
      "the tests for its share of the runs)")(
      "isolation", defaulted(&isolation),
      "process (one process per run) or inprocess (pytest only: the flakescope plugin repeats "
      "each test in the process, FLAKESCOPE_SEED+i per repetition; no interpreter start and "
      "imports per run; a repetition that crashes or hangs is recorded as such and the tests it "
      "did not reach run again in a fresh process)")(
      "timeout", defaulted(&o.timeout_seconds),
      "seconds per run before its process group gets SIGTERM, then SIGKILL (0: none)")(
      "junit", defaulted(&junit),
      "auto (recognise pytest, gtest, ctest and add the flag; or write {junit} in the command), "
      "none, or the PATH the command writes its XML to")(
      "vary", po::value(&vary)->composing(),
      "knobs to free, comma-separated: generator, threads, deterministic, cublas_workspace, "
      "tf32 (others are announced in FLAKESCOPE_SETTING only)")(
      "ablation", po::bool_switch(&o.ablation),
      "run all controlled, each knob freed alone (those of --vary, or the defaults), and all "
      "free; say which knob's control makes the failures disappear")(
      "seed", defaulted(&o.seed), "run i gets FLAKESCOPE_SEED = SEED + i")(
      "shard", po::value(&shard),
      "K/N: run only the runs i with i % N == K (merge the logs); with --isolation inprocess the "
      "K-th of N contiguous blocks of runs; 'auto': K/N from a Slurm job array "
      "(SLURM_ARRAY_TASK_ID, _COUNT or _MIN/_MAX) or a Kubernetes Indexed Job "
      "(JOB_COMPLETION_INDEX with --shard-count or FLAKESCOPE_SHARD_COUNT)")(
      "shard-count", po::value<std::size_t>()->notifier([&](std::size_t n) { shard_count = n; }),
      "with --shard auto under a Kubernetes Indexed Job: N (the Job's completions)")(
      "target", defaulted(&o.target), "spurious failure rate the retry recommendation aims for")(
      "confidence", defaulted(&o.confidence), "confidence of intervals and recommendations")(
      "log", po::value(&log_path), "append one JSON line per finished run here (fsynced)")(
      "resume", po::bool_switch(&resume), "continue the audit in --log up to the requested runs")(
      "capture", po::bool_switch(&o.capture),
      "set FLAKESCOPE_CAPTURE and analyse the assertion calls the test recorded")(
      "out,o", defaulted(&out), "the JSON report");
  po::variables_map vm;
  po::store(po::command_line_parser(own_args).options(desc).run(), vm);
  if (vm.count("help")) {
    a.out << desc << "\n" << audit_epilog();
    return kExitOk;
  }
  po::notify(vm);

  o.command = command;
  apply_run_count(o, runs,
                  vm.count("max-runs") ? std::optional<std::string>(max_runs) : std::nullopt);
  apply_junit(o, junit);
  o.isolation = audit::parse_isolation(isolation);
  apply_shard(o, shard, shard_count, a.err);
  o.settings = audit::audit_settings(split_commas(vary), o.ablation);
  if (resume && log_path.empty()) throw InputError("--resume needs --log RUNLOG");
  validate_audit(o, resume);
  return execute_audit(a, o, AuditFiles{out, log_path, resume});
}

}  // namespace flakescope::cli
