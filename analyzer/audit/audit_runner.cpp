#include "audit/audit_runner.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>

#include "audit/adaptive_runs.h"
#include "audit/inprocess_chunk.h"
#include "audit/json_lines_follower.h"
#include "audit/junit_xml.h"
#include "audit/progress_watchdog.h"
#include "audit/pytest_outcomes.h"
#include "audit/pytest_plugin.h"
#include "audit/run_environment.h"
#include "audit/run_log.h"
#include "audit/scratch_cleanup.h"
#include "audit/test_tally.h"
#include "core/parallel_for.h"
#include "flakescope/error.h"

namespace flakescope::audit {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxCaptureLines = 10000;

// One process to start: a single run, or (in-process isolation) a block of `count` consecutive
// runs one pytest process repeats.
struct PlannedRun {
  std::size_t setting_index;
  std::size_t run;
  std::size_t count = 1;
};

// A scratch root that is removed with everything in it when the audit ends.
class ScratchRoot {
 public:
  explicit ScratchRoot(const std::string& requested) {
    if (!requested.empty()) {
      std::error_code ec;
      fs::create_directories(requested, ec);
      if (ec) throw InputError(requested + ": cannot create scratch folder: " + ec.message());
      path_ = fs::absolute(requested).string();
      return;
    }
    const char* tmp = std::getenv("TMPDIR");
    const std::string tmp_dir = tmp && *tmp ? tmp : "/tmp";
    remove_stale_scratch(tmp_dir);  // of audits killed before they could clean up
    std::string pattern = tmp_dir + "/" + kScratchPrefix + "XXXXXX";
    if (!mkdtemp(pattern.data())) throw InputError("cannot create a scratch folder in $TMPDIR");
    path_ = fs::absolute(pattern).string();
    owned_ = true;
    mark_scratch_owner(path_);
  }
  ~ScratchRoot() {
    std::error_code ec;
    if (owned_) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool owned_ = false;
};

std::string folder_name(const std::string& setting, std::size_t run) {
  std::string out;
  for (char c : setting) out += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return out + "-" + std::to_string(run);
}

// The capture lines that are JSON objects (a torn or garbled line is dropped).
std::vector<nlohmann::json> capture_objects(std::vector<nlohmann::json> lines) {
  lines.erase(std::remove_if(lines.begin(), lines.end(),
                             [](const nlohmann::json& j) { return !j.is_object(); }),
              lines.end());
  return lines;
}

std::vector<nlohmann::json> read_captures(const std::string& path) {
  return capture_objects(JsonLinesFollower(path, kMaxCaptureLines).finish());
}

bool has_junit_placeholder(const std::vector<std::string>& argv) {
  for (const auto& a : argv)
    if (a.find(kJunitPlaceholder) != std::string::npos) return true;
  return false;
}

// The request for one in-process attempt: the plugin repeats every selected test
// `attempt.count` times and writes its outcome lines, its selection and (with --capture) its
// assertion lines into the attempt's scratch folder.
RunRequest inprocess_request(const AuditOptions& options, const Setting& setting,
                             const InprocessAttempt& attempt, const std::string& scratch_dir) {
  RunRequest request;
  request.run = attempt.first_run;
  request.seed = options.seed + attempt.first_run;
  request.repeat = attempt.count;
  request.setting = setting.name;
  request.scratch_dir = scratch_dir;
  fs::create_directories(scratch_dir);
  // JUnit XML is not read (the outcome lines say more, per repetition); a {junit} the user wrote
  // still gets a path so that the command stays valid.
  request.process.argv = has_junit_placeholder(options.command)
                             ? plan_junit(options.command, JunitMode::kAuto, "", scratch_dir).argv
                             : options.command;
  EnvChanges& env = request.process.env;
  env = run_environment(setting, request.seed);
  env.emplace_back("TMPDIR", scratch_dir);
  env.emplace_back("FLAKESCOPE_SCRATCH", scratch_dir);
  env.emplace_back("FLAKESCOPE_REPEAT", std::to_string(attempt.count));
  env.emplace_back("FLAKESCOPE_OUTCOMES", scratch_dir + "/outcomes.jsonl");
  env.emplace_back("FLAKESCOPE_COLLECTED", scratch_dir + "/collected.json");
  if (attempt.tests.empty()) {
    env.emplace_back("FLAKESCOPE_SELECT", std::nullopt);
  } else {
    const std::string select = scratch_dir + "/select.json";
    std::ofstream(select) << nlohmann::json(attempt.tests).dump();
    env.emplace_back("FLAKESCOPE_SELECT", select);
  }
  if (options.capture) env.emplace_back("FLAKESCOPE_CAPTURE", scratch_dir + "/capture.jsonl");
  add_pytest_plugin(request.process.argv, env);
  // --timeout is per run: the caller's ProgressWatchdog applies it to each repetition.
  request.process.timeout_seconds = 0;
  request.process.kill_grace_seconds = options.kill_grace_seconds;
  request.process.output_tail_bytes = options.output_tail_bytes;
  return request;
}

// A process-isolated run's request, with what reading its result needs.
struct IsolatedRequest {
  RunRequest request;
  bool junit_expected = false;
  bool plugin = false;  // pytest got the plugin: its outcome lines name the testcases
  std::string outcomes_path, collected_path, capture_path;
};

// The request for one process-isolated run: the command with its JUnit path, the setting's
// environment, and (for pytest) the plugin.
IsolatedRequest isolated_request(const AuditOptions& options, const Setting& setting,
                                 std::size_t run, const std::string& scratch_dir) {
  IsolatedRequest out;
  RunRequest& request = out.request;
  request.run = run;
  request.seed = options.seed + run;
  request.setting = setting.name;
  request.scratch_dir = scratch_dir;
  fs::create_directories(request.scratch_dir);
  JunitPlan plan =
      plan_junit(options.command, options.junit, options.junit_path, request.scratch_dir);
  if (options.junit == JunitMode::kPath) fs::remove(plan.xml_path);
  out.junit_expected = plan.xml_expected;
  request.junit_path = plan.xml_path;
  request.process.argv = plan.argv;
  EnvChanges& env = request.process.env;
  env = run_environment(setting, request.seed);
  for (auto& e : plan.env) env.push_back(e);
  env.emplace_back("TMPDIR", request.scratch_dir);
  env.emplace_back("FLAKESCOPE_SCRATCH", request.scratch_dir);
  out.capture_path = request.scratch_dir + "/capture.jsonl";
  if (options.capture) env.emplace_back("FLAKESCOPE_CAPTURE", out.capture_path);
  // pytest gets the plugin in this isolation too: it seeds every test (seed + 0), applies the
  // setting's torch knobs, and names the testcases by node id.
  out.outcomes_path = request.scratch_dir + "/outcomes.jsonl";
  out.collected_path = request.scratch_dir + "/collected.json";
  out.plugin = add_pytest_plugin(request.process.argv, env);
  if (out.plugin) {
    env.emplace_back("FLAKESCOPE_OUTCOMES", out.outcomes_path);
    env.emplace_back("FLAKESCOPE_COLLECTED", out.collected_path);
  }
  request.process.timeout_seconds = options.timeout_seconds;
  request.process.kill_grace_seconds = options.kill_grace_seconds;
  request.process.output_tail_bytes = options.output_tail_bytes;
  return out;
}

// The plugin's outcome lines replace the JUnit testcases of a process-isolated pytest run: node
// ids instead of JUnit names, the plugin's fields, and the test a dead process was running.
void use_pytest_outcomes(RunRecord& record, const std::string& outcomes_path,
                         const std::string& collected_path) {
  const PytestOutcomes lines = read_pytest_outcomes(outcomes_path);
  const auto collected = read_pytest_collected(collected_path);
  if (lines.lines.empty() && !collected) return;  // the plugin did not run: keep the JUnit ones
  std::optional<Outcome> died;
  if (record.outcome == Outcome::kCrash || record.outcome == Outcome::kTimeout)
    died = record.outcome;
  record.testcases = testcases_of_run(lines, collected, died);
  record.junit_error.reset();
  for (const auto& line : lines.lines)
    if (!line.knobs.is_null()) record.knobs = line.knobs;
}

}  // namespace

RunRecord record_from_result(const RunRequest& request, const ProcessResult& result,
                             bool junit_expected) {
  RunRecord r;
  r.run = request.run;
  r.seed = request.seed;
  r.setting = request.setting;
  r.duration = result.duration_seconds;
  r.stdout_tail = result.stdout_tail;
  r.stderr_tail = result.stderr_tail;
  switch (result.status) {
    case ProcessStatus::kExited:
      r.exit_code = result.exit_code;
      r.outcome = result.exit_code == 0 ? Outcome::kPass : Outcome::kFail;
      break;
    case ProcessStatus::kSignaled:
      r.signal = signal_name(result.signal);
      r.outcome = Outcome::kCrash;
      break;
    case ProcessStatus::kTimedOut:
    case ProcessStatus::kCancelled:
      r.outcome = Outcome::kTimeout;
      break;
    case ProcessStatus::kFailedToStart:
      r.outcome = Outcome::kError;
      r.error = result.error;
      return r;
  }
  if (!request.junit_path.empty()) {
    std::error_code ec;
    const bool exists = fs::exists(request.junit_path, ec);
    // A run that crashed or timed out before writing its JUnit XML is that crash, not unreadable
    // XML: its testcases come from the console below, and no JUnit warning repeats the crash.
    const bool died = r.outcome == Outcome::kCrash || r.outcome == Outcome::kTimeout;
    if (exists || (junit_expected && !died)) {
      JunitParse parsed = parse_junit_file(request.junit_path);
      r.testcases = std::move(parsed.testcases);
      r.junit_error = std::move(parsed.error);
    }
  }
  if (r.testcases.empty() && (r.outcome == Outcome::kCrash || r.outcome == Outcome::kTimeout))
    r.testcases = parse_gtest_console(r.stdout_tail, r.outcome);
  return r;
}

namespace {

// One audit: plans the runs not done yet, executes them `jobs` at a time (one process per run, or
// per block of runs in-process), and collects the records, in batches until the adaptive rule
// stops under --runs auto.
class AuditRun {
 public:
  AuditRun(const AuditOptions& options, Executor& executor, std::vector<RunRecord> previous,
           RunLogWriter* log, const std::atomic<bool>* cancel, const AuditHooks& hooks)
      : options_(options),
        executor_(executor),
        log_(log),
        cancel_(cancel),
        hooks_(hooks),
        scratch_(options.scratch_root) {
    // An incomplete run (interrupted in-process) continues: its chunk keeps the tests it
    // recorded and runs the rest; the complete record then replaces it (in the log too: the
    // later one wins).
    for (RunRecord& r : without_superseded(previous))
      (r.incomplete ? unfinished_ : result_.records).push_back(std::move(r));
    for (const auto& r : result_.records) done_.insert({r.setting, r.run});
    for (const auto& s : options_.settings) setting_names_.push_back(s.name);
  }

  AuditRunResult run();

 private:
  bool cancelled() const { return (cancel_ && cancel_->load()) || stop_launching_.load(); }
  void deliver(RunRecord record);
  std::size_t report_test_results(const std::vector<nlohmann::json>& lines,
                                  std::size_t reported) const;
  void deliver_all(std::vector<RunRecord> records) {
    for (RunRecord& record : records) deliver(std::move(record));
  }
  void execute_batch(const std::vector<PlannedRun>& batch);
  void execute_block(const PlannedRun& planned);
  InprocessOutput execute_attempt(const Setting& setting, const InprocessAttempt& attempt,
                                  std::size_t attempt_number);
  void execute_isolated(const PlannedRun& planned);
  std::vector<PlannedRun> plan_up_to(std::size_t count);
  std::vector<PlannedRun> plan_blocks(std::size_t count, std::size_t& runs_planned) const;
  std::vector<PlannedRun> plan_runs(std::size_t count) const;

  const AuditOptions& options_;
  Executor& executor_;
  RunLogWriter* log_;
  const std::atomic<bool>* cancel_;
  const AuditHooks& hooks_;
  ScratchRoot scratch_;
  AuditRunResult result_;
  std::vector<RunRecord> unfinished_;
  std::set<std::pair<std::string, std::size_t>> done_;
  std::vector<std::string> setting_names_;
  std::size_t planned_total_ = 0;  // runs executed plus those of the current batch
  std::mutex mutex_;               // guards result_, done_ and the hook while a batch runs
  // Set by the first failure: the other runs of the batch stop early, as on an interrupt.
  std::atomic<bool> stop_launching_{false};
};

AuditRunResult AuditRun::run() {
  if (!options_.runs_auto) {
    execute_batch(plan_up_to(options_.runs));
  } else {
    stats::PassFailOptions pf;
    pf.min_runs = std::min(options_.runs, options_.auto_min_runs);
    pf.batch = options_.auto_batch;
    pf.max_runs = options_.runs;
    pf.confidence = options_.confidence;
    const AdaptiveRule rule(pf);
    std::size_t count = pf.min_runs;
    for (;;) {
      execute_batch(plan_up_to(count));
      if (cancelled() || count >= options_.runs) break;
      if (rule.should_stop(tally_runs(result_.records, setting_names_))) break;
      count = std::min(options_.runs, count + options_.auto_batch);
    }
  }
  result_.interrupted = cancel_ && cancel_->load();
  return std::move(result_);
}

// Appends a finished run to the log and the result (serialised).
void AuditRun::deliver(RunRecord record) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (log_) log_->append(record);
  done_.insert({record.setting, record.run});
  result_.records.push_back(std::move(record));
  ++result_.executed;
  if (hooks_.on_run) hooks_.on_run(result_.records.back(), result_.executed, planned_total_);
}

// Runs every planned (setting, run) or block, `jobs` at a time; the first failure is rethrown
// once every thread has stopped.
void AuditRun::execute_batch(const std::vector<PlannedRun>& batch) {
  auto task = [&](std::size_t k) {
    if (cancelled()) return;
    try {
      if (options_.isolation == Isolation::kInprocess)
        execute_block(batch[k]);
      else
        execute_isolated(batch[k]);
    } catch (...) {
      stop_launching_ = true;
      throw;
    }
  };
  parallel_for(batch.size(), options_.jobs, task, cancel_);
}

// One pytest process per attempt until the block's every (test, repetition) has a result; the
// block's records are delivered together. An interrupt keeps what the block measured: every run
// with a recorded test is delivered (marked incomplete unless all its tests ran), and a resumed
// audit runs the incomplete ones again.
void AuditRun::execute_block(const PlannedRun& planned) {
  const Setting& setting = options_.settings[planned.setting_index];
  InprocessChunk chunk(planned.run, planned.count, options_.seed, setting.name);
  std::vector<RunRecord> restored;
  for (const RunRecord& r : unfinished_)
    if (r.setting == setting.name) restored.push_back(r);
  chunk.restore(restored);
  while (!chunk.done()) {
    if (cancelled()) return deliver_all(chunk.partial_records());
    const InprocessAttempt attempt = chunk.next();
    InprocessOutput output = execute_attempt(setting, attempt, chunk.attempts());
    if (output.process.status == ProcessStatus::kCancelled) {
      chunk.finish_interrupted(std::move(output));
      return deliver_all(chunk.partial_records());
    }
    chunk.finish(std::move(output));
  }
  deliver_all(std::move(chunk).records());
}

// Passes the outcome lines after the first `reported` to on_test_results; returns how many are
// reported now.
std::size_t AuditRun::report_test_results(const std::vector<nlohmann::json>& lines,
                                          std::size_t reported) const {
  if (lines.size() <= reported) return reported;
  std::size_t failed = 0;
  for (std::size_t i = reported; i < lines.size(); ++i) {
    const nlohmann::json& line = lines[i];
    if (!line.is_object()) continue;
    const auto outcome = line.find("outcome");
    if (outcome != line.end() && outcome->is_string() &&
        (*outcome == "fail" || *outcome == "error" || *outcome == "crash"))
      ++failed;
  }
  hooks_.on_test_results(lines.size() - reported, failed);
  return lines.size();
}

// One in-process attempt: the pytest process, then what it wrote, read before its scratch folder
// is removed. --timeout applies to each repetition (the watchdog follows the outcome lines).
InprocessOutput AuditRun::execute_attempt(const Setting& setting, const InprocessAttempt& attempt,
                                          std::size_t attempt_number) {
  const std::string dir = scratch_.path() + "/" + folder_name(setting.name, attempt.first_run) +
                          "-" + std::to_string(attempt_number);
  RunRequest request = inprocess_request(options_, setting, attempt, dir);
  // The outcome and capture lines are parsed as the process writes them (on the watchdog's
  // thread), so that little is left to read when it exits.
  JsonLinesFollower outcome_lines(dir + "/outcomes.jsonl");
  std::optional<JsonLinesFollower> capture_lines;
  if (options_.capture)
    capture_lines.emplace(dir + "/capture.jsonl", kMaxCaptureLines * attempt.count);
  std::size_t reported = 0;  // outcome lines already passed to on_test_results
  ProgressWatchdog watchdog(dir + "/outcomes.jsonl", options_.timeout_seconds, cancel_, [&] {
    outcome_lines.poll();
    if (capture_lines) capture_lines->poll();
    if (hooks_.on_test_results) reported = report_test_results(outcome_lines.lines(), reported);
  });
  request.process.cancel = watchdog.cancel_flag();
  InprocessOutput output;
  output.process = executor_.execute(request);
  watchdog.stop();
  throw_if_plugin_failed_to_load(output.process);
  if (output.process.status == ProcessStatus::kCancelled && watchdog.fired() && !cancelled())
    output.process.status = ProcessStatus::kTimedOut;
  std::vector<nlohmann::json> lines = outcome_lines.finish();
  if (hooks_.on_test_results) report_test_results(lines, reported);  // the last ones
  output.outcomes = pytest_outcomes_from(std::move(lines));
  // A missing path, nothing collected, a test module that does not import: no run can say more.
  if (!cancelled()) throw_if_pytest_ran_nothing(output.process, !output.outcomes.lines.empty(), 2);
  output.collected = read_pytest_collected(dir + "/collected.json");
  if (capture_lines) output.captures = capture_objects(capture_lines->finish());
  fs::remove_all(dir);
  return output;
}

// One process-isolated run, delivered unless it was interrupted: an interrupted run is not a
// result, and a resumed audit runs it again (the interrupt flag stops the other runs too).
void AuditRun::execute_isolated(const PlannedRun& planned) {
  const Setting& setting = options_.settings[planned.setting_index];
  IsolatedRequest isolated =
      isolated_request(options_, setting, planned.run,
                       scratch_.path() + "/" + folder_name(setting.name, planned.run));
  RunRequest& request = isolated.request;
  request.process.cancel = cancel_;
  const ProcessResult pr = executor_.execute(request);
  if (isolated.plugin) throw_if_plugin_failed_to_load(pr);
  if (pr.status == ProcessStatus::kCancelled) {
    fs::remove_all(request.scratch_dir);
    return;
  }
  if (isolated.plugin) {
    // A usage error (a missing path) or nothing collected is the same in every run. (Collection
    // errors, exit 2, stay the run's failure here: each run is its own process.)
    std::error_code ec;
    const bool ran =
        fs::exists(isolated.outcomes_path, ec) && fs::file_size(isolated.outcomes_path, ec) > 0;
    throw_if_pytest_ran_nothing(pr, ran, 4);
  }
  RunRecord record = record_from_result(request, pr, isolated.junit_expected);
  if (isolated.plugin) use_pytest_outcomes(record, isolated.outcomes_path, isolated.collected_path);
  if (options_.capture) record.captures = read_captures(isolated.capture_path);
  fs::remove_all(request.scratch_dir);
  deliver(std::move(record));
}

// Plans the runs below `count` per setting that are not done, and counts them for the progress
// total.
std::vector<PlannedRun> AuditRun::plan_up_to(std::size_t count) {
  std::size_t runs_planned = 0;
  std::vector<PlannedRun> batch;
  if (options_.isolation == Isolation::kInprocess) {
    batch = plan_blocks(count, runs_planned);
  } else {
    batch = plan_runs(count);
    runs_planned = batch.size();
  }
  planned_total_ = result_.executed + runs_planned;
  return batch;
}

// In-process: per setting, the runs to do in `jobs` blocks of consecutive runs, block-major
// across settings so that every setting sees the same stretch of machine time.
std::vector<PlannedRun> AuditRun::plan_blocks(std::size_t count, std::size_t& runs_planned) const {
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> blocks;
  for (std::size_t s = 0; s < options_.settings.size(); ++s) {
    std::vector<std::size_t> todo;
    for (std::size_t run = 0; run < count; ++run)
      if (options_.in_shard(run) && !done_.count({options_.settings[s].name, run}))
        todo.push_back(run);
    blocks.push_back(consecutive_blocks(todo, options_.jobs));
    runs_planned += todo.size();
  }
  std::vector<PlannedRun> batch;
  for (std::size_t b = 0;; ++b) {
    bool any = false;
    for (std::size_t s = 0; s < blocks.size(); ++s)
      if (b < blocks[s].size()) {
        batch.push_back({s, blocks[s][b].first, blocks[s][b].second});
        any = true;
      }
    if (!any) break;
  }
  return batch;
}

// Process isolation: one process per run, run-major for the same reason.
std::vector<PlannedRun> AuditRun::plan_runs(std::size_t count) const {
  std::vector<PlannedRun> batch;
  for (std::size_t run = 0; run < count; ++run) {
    if (!options_.in_shard(run)) continue;
    for (std::size_t s = 0; s < options_.settings.size(); ++s)
      if (!done_.count({options_.settings[s].name, run})) batch.push_back({s, run});
  }
  return batch;
}

}  // namespace

AuditRunResult run_audit(const AuditOptions& options, Executor& executor,
                         std::vector<RunRecord> previous, RunLogWriter* log,
                         const std::atomic<bool>* cancel, const AuditHooks& hooks) {
  options.validate();
  return AuditRun(options, executor, std::move(previous), log, cancel, hooks).run();
}

}  // namespace flakescope::audit
