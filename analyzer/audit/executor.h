#pragma once
// Executes one run of the audited command. The real executor is run_process (own process group,
// timeout, cancellation); the scripted one returns outcomes decided by a function of the request,
// so the scheduler, the statistics and the report are tested with exact, known counts.
#include <functional>

#include "core/subprocess.h"

namespace flakescope::audit {

struct RunRequest {
  ProcessSpec process;      // argv, environment changes, timeout, cancel flag, output tail
  std::size_t run = 0;      // index of the run within its setting (in-process: of repetition 0)
  std::uint64_t seed = 0;   // FLAKESCOPE_SEED (also in process.env unless the generator is free)
  std::size_t repeat = 1;   // runs this process makes: > 1 only with --isolation inprocess
  std::string setting;      // setting name
  std::string scratch_dir;  // the run's own folder (exists; removed after the run)
  std::string junit_path;   // where the run is expected to write JUnit XML, or empty
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Called from several threads at once (one per job).
  virtual ProcessResult execute(const RunRequest& request) = 0;
};

class ProcessExecutor final : public Executor {
 public:
  ProcessResult execute(const RunRequest& request) override { return run_process(request.process); }
};

// Outcomes from a function: it may write files (JUnit XML to request.junit_path) like a real test
// would. The function must be thread-safe when jobs > 1.
class ScriptedExecutor final : public Executor {
 public:
  using Script = std::function<ProcessResult(const RunRequest&)>;
  explicit ScriptedExecutor(Script script) : script_(std::move(script)) {}
  ProcessResult execute(const RunRequest& request) override { return script_(request); }

 private:
  Script script_;
};

}  // namespace flakescope::audit
