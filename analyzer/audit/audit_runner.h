#pragma once
// The scheduler: runs the command K at a time, each run in its own scratch folder with its seed and
// setting in the environment, turns every finished run into a RunRecord (process outcome, JUnit
// testcases), appends it to the run log at once, and stops launching when cancelled.
// With --isolation inprocess a process is a block of consecutive runs that one pytest process
// repeats (analyzer/audit/inprocess_chunk.h); its records are appended when it ends.
#include <atomic>
#include <functional>
#include <vector>

#include "audit/audit_options.h"
#include "audit/executor.h"
#include "audit/run_log.h"
#include "audit/run_record.h"

namespace flakescope::audit {

struct AuditRunResult {
  std::vector<RunRecord> records;  // the previous ones and the new ones
  std::size_t executed = 0;        // new runs finished in this call
  bool interrupted = false;        // cancelled before every planned run finished
};

struct AuditHooks {
  // After each finished run (serialised): the record, runs finished so far, runs planned so far.
  std::function<void(const RunRecord&, std::size_t done, std::size_t planned)> on_run;
  // In-process: test results a pytest process reported since the last call, and how many failed,
  // while it runs (a block's runs all finish when its process does, so only these show that the
  // audit is alive). Called from the watchdog threads, so concurrently with on_run.
  std::function<void(std::size_t results, std::size_t failed)> on_test_results;
};

// Runs what `previous` (from a resumed log) does not already hold, up to the requested count.
// `log` may be null. `cancel` (may be null) is polled: once set, no run starts and running ones
// are terminated (their process groups get SIGTERM, then SIGKILL) and not recorded.
AuditRunResult run_audit(const AuditOptions& options, Executor& executor,
                         std::vector<RunRecord> previous, RunLogWriter* log,
                         const std::atomic<bool>* cancel, const AuditHooks& hooks = {});

// The record for one finished process (exposed for tests). Reads the JUnit XML the run wrote and,
// when the process died without XML, gtest's console lines.
RunRecord record_from_result(const RunRequest& request, const ProcessResult& result,
                             bool junit_expected);

}  // namespace flakescope::audit
