#pragma once
// Runs a command from its argv (never through a shell) in its own process group, with a timeout,
// bounded capture of its output, and a clear outcome. Used by the probe engine (one worker process
// per probe) and by `audit` (the user's test command).
#include <sys/types.h>

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flakescope {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH when it has no '/'
  // Changes to the inherited environment: a value sets, nullopt unsets.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  std::string cwd;                       // empty: inherit
  double timeout_seconds = 0;            // 0: none. On expiry: SIGTERM to the group, then SIGKILL
  double kill_grace_seconds = 2;         // between SIGTERM and SIGKILL
  std::size_t output_tail_bytes = 8192;  // the last bytes kept of stdout and of stderr
  // Polled while the child runs; when it becomes true the child's group is terminated as on a
  // timeout and the result says `cancelled`.
  const std::atomic<bool>* cancel = nullptr;
};

enum class ProcessStatus { kExited, kSignaled, kTimedOut, kCancelled, kFailedToStart };

struct ProcessResult {
  ProcessStatus status = ProcessStatus::kFailedToStart;
  int exit_code = -1;  // valid when kExited
  int signal = 0;      // valid when kSignaled
  double duration_seconds = 0;
  std::string stdout_tail;
  std::string stderr_tail;
  std::string error;  // why it failed to start (e.g. "no such file or directory")

  bool succeeded() const { return status == ProcessStatus::kExited && exit_code == 0; }
};

// The child gets PR_SET_PDEATHSIG (SIGKILL), so it dies with flakescope even on kill -9, and this
// process becomes a child subreaper. Every descendant inherits FLAKESCOPE_RUN_TOKEN (unique per
// run); when the run ends, its process group and every process carrying its token (those that
// left the group with setsid) are killed, and adopted orphans are reaped.
ProcessResult run_process(const ProcessSpec& spec);

inline constexpr std::string_view kRunTokenVariable = "FLAKESCOPE_RUN_TOKEN";

// Kills processes whose run token names a flakescope that is no longer running (descendants that
// had left their run's process group when that flakescope was killed). Called when an audit starts.
void kill_orphans_of_dead_runs();

// SIGKILLs every process carrying a run token of flakescope process `owner`.
void kill_processes_of_runs_of(pid_t owner);

// Forks a small watcher that waits for this process to end (by exit or kill -9, through
// PR_SET_PDEATHSIG) and then calls `on_death` (e.g. kill_processes_of_runs_of(parent) and removing
// scratch folders). Call it while the process has one thread (fork copies only the caller).
void start_death_watcher(const std::function<void()>& on_death);

// "SIGSEGV" for 11, "signal 77" for unknown numbers.
std::string signal_name(int signal);
std::string_view process_status_name(ProcessStatus s);

// The absolute path of the running executable (for re-executing ourselves as a worker).
std::string self_executable_path();

}  // namespace flakescope
