#include "audit/pytest_repetition_source.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "audit/progress_watchdog.h"
#include "audit/pytest_outcomes.h"
#include "audit/pytest_plugin.h"
#include "audit/run_environment.h"
#include "flakescope/error.h"

namespace fs = std::filesystem;

namespace flakescope::audit {
namespace {

std::vector<nlohmann::json> read_json_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

// The outcome lines as observations, with drew_random when the plugin wrote it.
std::vector<RepetitionObservation> observations_from(const std::string& dir,
                                                     std::size_t first_run) {
  std::vector<RepetitionObservation> out;
  std::map<std::pair<std::string, std::size_t>, std::size_t> index;
  for (const auto& line : read_json_lines(dir + "/outcomes.jsonl")) {
    const auto parsed = pytest_outcome_from_json(line);
    if (!parsed) continue;
    RepetitionObservation o;
    o.test = parsed->test;
    o.run = first_run + parsed->repeat;
    o.outcome = parsed->outcome;
    o.message = parsed->message;
    o.duration = parsed->duration;
    if (line.contains("drew_random") && line["drew_random"].is_boolean())
      o.drew_random = line["drew_random"].get<bool>();
    index[{o.test, parsed->repeat}] = out.size();
    out.push_back(std::move(o));
  }
  for (auto& c : read_json_lines(dir + "/capture.jsonl")) {
    if (!c.contains("test") || !c["test"].is_string()) continue;
    const std::size_t repeat = c.contains("repeat") && c["repeat"].is_number_unsigned()
                                   ? c["repeat"].get<std::size_t>()
                                   : 0;
    const auto it = index.find({c["test"].get<std::string>(), repeat});
    if (it != index.end()) out[it->second].captures.push_back(std::move(c));
  }
  return out;
}

// The request for one pytest process repeating `tests` (all when empty) `count` times from run
// `first_run`, its files in `dir`.
RunRequest repetition_request(const AuditOptions& options, const std::vector<std::string>& tests,
                              std::size_t first_run, std::size_t count, const std::string& dir) {
  const Setting& setting = options.settings.front();
  RunRequest request;
  request.run = first_run;
  request.seed = options.seed + first_run;
  request.repeat = count;
  request.setting = setting.name;
  request.scratch_dir = dir;
  request.process.argv = options.command;
  EnvChanges& env = request.process.env;
  env = run_environment(setting, request.seed);
  env.emplace_back("TMPDIR", dir);
  env.emplace_back("FLAKESCOPE_SCRATCH", dir);
  env.emplace_back("FLAKESCOPE_REPEAT", std::to_string(count));
  env.emplace_back("FLAKESCOPE_OUTCOMES", dir + "/outcomes.jsonl");
  env.emplace_back("FLAKESCOPE_COLLECTED", dir + "/collected.json");
  // The captures are evidence (determinism, margins), so they are always recorded here.
  env.emplace_back("FLAKESCOPE_CAPTURE", dir + "/capture.jsonl");
  if (tests.empty()) {
    env.emplace_back("FLAKESCOPE_SELECT", std::nullopt);
  } else {
    std::ofstream(dir + "/select.json") << nlohmann::json(tests).dump();
    env.emplace_back("FLAKESCOPE_SELECT", dir + "/select.json");
  }
  add_pytest_plugin(request.process.argv, env);
  request.process.kill_grace_seconds = options.kill_grace_seconds;
  request.process.output_tail_bytes = options.output_tail_bytes;
  return request;
}

// A process that died: in test-major order, the first (test, repetition) without a line is where
// it died, and takes the crash or the timeout.
void add_death(std::vector<RepetitionObservation>& out, const std::vector<std::string>& selected,
               std::size_t first_run, std::size_t count, const ProcessResult& result) {
  std::map<std::string, std::size_t> seen;
  for (const auto& o : out) ++seen[o.test];
  for (const auto& id : selected)
    if (seen[id] < count) {
      RepetitionObservation o;
      o.test = id;
      o.run = first_run + seen[id];
      o.outcome = result.status == ProcessStatus::kSignaled ? Outcome::kCrash : Outcome::kTimeout;
      o.message = result.status == ProcessStatus::kSignaled
                      ? "the pytest process died: " + signal_name(result.signal)
                      : "no progress within --timeout";
      out.push_back(std::move(o));
      return;
    }
}

}  // namespace

PytestRepetitionSource::PytestRepetitionSource(const AuditOptions& options, Executor& executor,
                                               const std::atomic<bool>* cancel)
    : options_(options), executor_(executor), cancel_(cancel) {
  if (!options.scratch_root.empty()) {
    scratch_root_ = fs::absolute(options.scratch_root).string();
    fs::create_directories(scratch_root_);
    return;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/flakescope-suite-XXXXXX";
  if (!mkdtemp(pattern.data())) throw InputError("cannot create a scratch folder in $TMPDIR");
  scratch_root_ = pattern;
  owns_root_ = true;
}

PytestRepetitionSource::~PytestRepetitionSource() {
  std::error_code ec;
  if (owns_root_) fs::remove_all(scratch_root_, ec);
}

std::vector<std::string> PytestRepetitionSource::collected() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return collected_;
}

std::vector<std::string> PytestRepetitionSource::collect() {
  const std::string dir = scratch_root_ + "/collect";
  fs::create_directories(dir);
  RunRequest request;
  request.setting = options_.settings.front().name;
  request.seed = options_.seed;
  request.scratch_dir = dir;
  request.process.argv = options_.command;
  request.process.argv.push_back("--collect-only");
  request.process.argv.push_back("-q");
  EnvChanges& env = request.process.env;
  env = run_environment(options_.settings.front(), request.seed);
  env.emplace_back("TMPDIR", dir);
  env.emplace_back("FLAKESCOPE_COLLECTED", dir + "/collected.json");
  add_pytest_plugin(request.process.argv, env);
  request.process.output_tail_bytes = options_.output_tail_bytes;
  request.process.cancel = cancel_;
  const ProcessResult result = executor_.execute(request);
  if (result.status == ProcessStatus::kFailedToStart)
    throw InputError("cannot start " + options_.command.front() + ": " + result.error);
  throw_if_plugin_failed_to_load(result);
  const auto selected = read_pytest_collected(dir + "/collected.json");
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!selected || selected->empty())
    throw InputError("pytest --collect-only of the audited command selected no test (exit " +
                     std::to_string(result.exit_code) + ")");
  return *selected;
}

std::vector<RepetitionObservation> PytestRepetitionSource::run(
    const std::vector<std::string>& tests, std::size_t first_run, std::size_t count) {
  std::size_t call;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    call = calls_++;
  }
  const std::string dir = scratch_root_ + "/batch-" + std::to_string(call);
  fs::create_directories(dir);
  RunRequest request = repetition_request(options_, tests, first_run, count, dir);
  ProgressWatchdog watchdog(dir + "/outcomes.jsonl", options_.timeout_seconds, cancel_);
  request.process.cancel = watchdog.cancel_flag();
  const ProcessResult result = executor_.execute(request);
  watchdog.stop();
  throw_if_plugin_failed_to_load(result);

  std::vector<RepetitionObservation> out = observations_from(dir, first_run);
  const auto selected = read_pytest_collected(dir + "/collected.json");
  if (tests.empty() && selected) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (collected_.empty()) collected_ = *selected;
  }
  const bool died = result.status == ProcessStatus::kSignaled ||
                    result.status == ProcessStatus::kTimedOut ||
                    (result.status == ProcessStatus::kCancelled && watchdog.fired());
  if (died && selected) {
    add_death(out, *selected, first_run, count, result);
  } else if (result.status == ProcessStatus::kFailedToStart) {
    throw InputError("cannot start " + options_.command.front() + ": " + result.error);
  } else if (!(cancel_ && cancel_->load())) {
    // pytest exit 2-5: usage error, collection error, nothing collected: no test ran.
    throw_if_pytest_ran_nothing(result, !out.empty(), 2);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return out;
}

}  // namespace flakescope::audit
