#include "flakescope/audit/audit_runner.h"

#include <stdlib.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "flakescope/audit/adaptive_runs.h"
#include "flakescope/audit/inprocess_chunk.h"
#include "flakescope/audit/junit_xml.h"
#include "flakescope/audit/progress_watchdog.h"
#include "flakescope/audit/pytest_outcomes.h"
#include "flakescope/audit/pytest_plugin.h"
#include "flakescope/audit/run_log.h"
#include "flakescope/audit/run_environment.h"
#include "flakescope/audit/scratch_cleanup.h"
#include "flakescope/audit/test_tally.h"
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

std::vector<nlohmann::json> read_captures(const std::string& path, std::size_t runs = 1) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line) && out.size() < kMaxCaptureLines * runs;) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.is_object()) out.push_back(std::move(j));
  }
  return out;
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
    if (exists || junit_expected) {
      JunitParse parsed = parse_junit_file(request.junit_path);
      r.testcases = std::move(parsed.testcases);
      r.junit_error = std::move(parsed.error);
    }
  }
  if (r.testcases.empty() && (r.outcome == Outcome::kCrash || r.outcome == Outcome::kTimeout))
    r.testcases = parse_gtest_console(r.stdout_tail, r.outcome);
  return r;
}

AuditRunResult run_audit(const AuditOptions& options, Executor& executor,
                         std::vector<RunRecord> previous, RunLogWriter* log,
                         const std::atomic<bool>* cancel, const AuditHooks& hooks) {
  options.validate();
  ScratchRoot scratch(options.scratch_root);
  AuditRunResult result;
  // An incomplete run (interrupted in-process) continues: its chunk keeps the tests it recorded
  // and runs the rest; the complete record then replaces it (in the log too: the later one wins).
  std::vector<RunRecord> unfinished;
  for (RunRecord& r : without_superseded(previous))
    (r.incomplete ? unfinished : result.records).push_back(std::move(r));

  std::set<std::pair<std::string, std::size_t>> done;
  for (const auto& r : result.records) done.insert({r.setting, r.run});
  std::vector<std::string> setting_names;
  for (const auto& s : options.settings) setting_names.push_back(s.name);

  std::mutex mutex;  // guards result, done and the hook
  std::exception_ptr failure;
  std::atomic<bool> stop_launching{false};
  auto cancelled = [&] { return (cancel && cancel->load()) || stop_launching.load(); };

  // Appends a finished run to the log and the result (serialised).
  auto deliver = [&](RunRecord record, std::size_t planned_total) {
    std::lock_guard<std::mutex> lock(mutex);
    if (log) log->append(record);
    done.insert({record.setting, record.run});
    result.records.push_back(std::move(record));
    ++result.executed;
    if (hooks.on_run) hooks.on_run(result.records.back(), result.executed, planned_total);
  };

  // One pytest process per attempt until the block's every (test, repetition) has a result; the
  // block's records are delivered together. An interrupt keeps what the block measured: every
  // run with a recorded test is delivered (marked incomplete unless all its tests ran), and a
  // resumed audit runs the incomplete ones again.
  auto execute_block = [&](const PlannedRun& planned, std::size_t planned_total) {
    const Setting& setting = options.settings[planned.setting_index];
    InprocessChunk chunk(planned.run, planned.count, options.seed, setting.name);
    std::vector<RunRecord> restored;
    for (const RunRecord& r : unfinished)
      if (r.setting == setting.name) restored.push_back(r);
    chunk.restore(restored);
    auto deliver_partial = [&] {
      for (RunRecord& record : chunk.partial_records()) deliver(std::move(record), planned_total);
    };
    while (!chunk.done()) {
      if (cancelled()) return deliver_partial();
      const InprocessAttempt attempt = chunk.next();
      const std::string dir = scratch.path() + "/" + folder_name(setting.name, attempt.first_run) +
                              "-" + std::to_string(chunk.attempts());
      RunRequest request = inprocess_request(options, setting, attempt, dir);
      ProgressWatchdog watchdog(dir + "/outcomes.jsonl", options.timeout_seconds, cancel);
      request.process.cancel = watchdog.cancel_flag();
      InprocessOutput output;
      output.process = executor.execute(request);
      watchdog.stop();
      if (output.process.status == ProcessStatus::kCancelled && watchdog.fired() && !cancelled())
        output.process.status = ProcessStatus::kTimedOut;
      output.outcomes = read_pytest_outcomes(dir + "/outcomes.jsonl");
      output.collected = read_pytest_collected(dir + "/collected.json");
      if (options.capture) output.captures = read_captures(dir + "/capture.jsonl", attempt.count);
      fs::remove_all(dir);
      if (output.process.status == ProcessStatus::kCancelled) {
        chunk.finish_interrupted(output);
        return deliver_partial();
      }
      chunk.finish(output);
    }
    for (RunRecord& record : chunk.records()) deliver(std::move(record), planned_total);
  };

  // Runs every planned (setting, run) that is not done yet, `jobs` at a time.
  auto execute_batch = [&](const std::vector<PlannedRun>& batch, std::size_t planned_total) {
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      for (;;) {
        if (cancelled()) return;
        const std::size_t k = next.fetch_add(1);
        if (k >= batch.size()) return;
        if (options.isolation == Isolation::kInprocess) {
          try {
            execute_block(batch[k], planned_total);
          } catch (...) {
            std::lock_guard<std::mutex> lock(mutex);
            if (!failure) failure = std::current_exception();
            stop_launching = true;
            return;
          }
          continue;
        }
        const Setting& setting = options.settings[batch[k].setting_index];
        RunRequest request;
        request.run = batch[k].run;
        request.seed = options.seed + batch[k].run;
        request.setting = setting.name;
        request.scratch_dir = scratch.path() + "/" + folder_name(setting.name, request.run);
        try {
          fs::create_directories(request.scratch_dir);
          JunitPlan plan =
              plan_junit(options.command, options.junit, options.junit_path, request.scratch_dir);
          if (options.junit == JunitMode::kPath) fs::remove(plan.xml_path);
          request.junit_path = plan.xml_path;
          request.process.argv = plan.argv;
          request.process.env = run_environment(setting, request.seed);
          for (auto& e : plan.env) request.process.env.push_back(e);
          request.process.env.emplace_back("TMPDIR", request.scratch_dir);
          request.process.env.emplace_back("FLAKESCOPE_SCRATCH", request.scratch_dir);
          const std::string capture_path = request.scratch_dir + "/capture.jsonl";
          if (options.capture) request.process.env.emplace_back("FLAKESCOPE_CAPTURE", capture_path);
          // pytest gets the plugin in this isolation too: it seeds every test (seed + 0), applies
          // the setting's torch knobs, and names the testcases by node id.
          const std::string outcomes_path = request.scratch_dir + "/outcomes.jsonl";
          const std::string collected_path = request.scratch_dir + "/collected.json";
          const bool plugin = add_pytest_plugin(request.process.argv, request.process.env);
          if (plugin) {
            request.process.env.emplace_back("FLAKESCOPE_OUTCOMES", outcomes_path);
            request.process.env.emplace_back("FLAKESCOPE_COLLECTED", collected_path);
          }
          request.process.timeout_seconds = options.timeout_seconds;
          request.process.kill_grace_seconds = options.kill_grace_seconds;
          request.process.output_tail_bytes = options.output_tail_bytes;
          request.process.cancel = cancel;
          const ProcessResult pr = executor.execute(request);
          if (pr.status == ProcessStatus::kCancelled) {
            fs::remove_all(request.scratch_dir);
            return;  // an interrupted run is not a result; a resumed audit runs it again
          }
          RunRecord record = record_from_result(request, pr, plan.xml_expected);
          if (plugin) use_pytest_outcomes(record, outcomes_path, collected_path);
          if (options.capture) record.captures = read_captures(capture_path);
          fs::remove_all(request.scratch_dir);
          deliver(std::move(record), planned_total);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex);
          if (!failure) failure = std::current_exception();
          stop_launching = true;
          return;
        }
      }
    };
    const std::size_t n_threads = std::min(options.jobs, batch.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < n_threads; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
  };

  // Plans the runs below `count` per setting that are not done, run-major so that every setting
  // sees the same stretch of machine time. In-process: per setting, the runs to do in `jobs`
  // blocks of consecutive runs, block-major across settings for the same reason.
  std::size_t planned_total = 0;
  auto plan_up_to = [&](std::size_t count) {
    std::vector<PlannedRun> batch;
    std::size_t runs_planned = 0;
    if (options.isolation == Isolation::kInprocess) {
      std::vector<std::vector<std::pair<std::size_t, std::size_t>>> blocks;
      for (std::size_t s = 0; s < options.settings.size(); ++s) {
        std::vector<std::size_t> todo;
        for (std::size_t run = 0; run < count; ++run)
          if (options.in_shard(run) && !done.count({options.settings[s].name, run}))
            todo.push_back(run);
        blocks.push_back(consecutive_blocks(todo, options.jobs));
        runs_planned += todo.size();
      }
      for (std::size_t b = 0;; ++b) {
        bool any = false;
        for (std::size_t s = 0; s < blocks.size(); ++s)
          if (b < blocks[s].size()) {
            batch.push_back({s, blocks[s][b].first, blocks[s][b].second});
            any = true;
          }
        if (!any) break;
      }
    } else {
      for (std::size_t run = 0; run < count; ++run) {
        if (!options.in_shard(run)) continue;
        for (std::size_t s = 0; s < options.settings.size(); ++s)
          if (!done.count({options.settings[s].name, run})) batch.push_back({s, run});
      }
      runs_planned = batch.size();
    }
    planned_total = result.executed + runs_planned;
    return batch;
  };

  if (!options.runs_auto) {
    execute_batch(plan_up_to(options.runs), planned_total);
  } else {
    stats::PassFailOptions pf;
    pf.min_runs = std::min(options.runs, options.auto_min_runs);
    pf.batch = options.auto_batch;
    pf.max_runs = options.runs;
    pf.confidence = options.confidence;
    const AdaptiveRule rule(pf);
    std::size_t count = pf.min_runs;
    for (;;) {
      execute_batch(plan_up_to(count), planned_total);
      if (cancelled() || count >= options.runs) break;
      if (rule.should_stop(tally_runs(result.records, setting_names))) break;
      count = std::min(options.runs, count + options.auto_batch);
    }
  }
  result.interrupted = cancel && cancel->load();
  return result;
}

}  // namespace flakescope::audit
