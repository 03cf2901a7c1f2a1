#pragma once
// Runs a command from its argv (never through a shell) in its own process group, with a timeout,
// bounded capture of its output, and a clear outcome. Used by the probe engine (one worker process
// per probe) and by `audit` (the user's test command).
#include <atomic>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flakescope {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH when it has no '/'
  // Changes to the inherited environment: a value sets, nullopt unsets.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  std::string cwd;                     // empty: inherit
  double timeout_seconds = 0;          // 0: none. On expiry: SIGTERM to the group, then SIGKILL
  double kill_grace_seconds = 2;       // between SIGTERM and SIGKILL
  std::size_t output_tail_bytes = 8192;  // the last bytes kept of stdout and of stderr
  // Polled while the child runs; when it becomes true the child's group is terminated as on a
  // timeout and the result says `cancelled`.
  const std::atomic<bool>* cancel = nullptr;
};

enum class ProcessStatus { kExited, kSignaled, kTimedOut, kCancelled, kFailedToStart };

struct ProcessResult {
  ProcessStatus status = ProcessStatus::kFailedToStart;
  int exit_code = -1;       // valid when kExited
  int signal = 0;           // valid when kSignaled
  double duration_seconds = 0;
  std::string stdout_tail;
  std::string stderr_tail;
  std::string error;        // why it failed to start (e.g. "no such file or directory")

  bool succeeded() const { return status == ProcessStatus::kExited && exit_code == 0; }
};

ProcessResult run_process(const ProcessSpec& spec);

// "SIGSEGV" for 11, "signal 77" for unknown numbers.
std::string signal_name(int signal);
std::string_view process_status_name(ProcessStatus s);

// The absolute path of the running executable (for re-executing ourselves as a worker).
std::string self_executable_path();

}  // namespace flakescope
