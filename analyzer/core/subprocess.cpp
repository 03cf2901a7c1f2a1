#include "flakescope/subprocess.h"

#include "core/path_lookup.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <map>

extern char** environ;

namespace flakescope {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void append_tail(std::string& buf, const char* data, std::size_t n, std::size_t limit) {
  buf.append(data, n);
  if (buf.size() > limit) buf.erase(0, buf.size() - limit);
}

std::vector<std::string> build_environment(const ProcessSpec& spec) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) env[std::string(*e, static_cast<std::size_t>(eq - *e))] = eq + 1;
  }
  for (const auto& [key, value] : spec.env) {
    if (value) env[key] = *value;
    else env.erase(key);
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::string signal_name(int sig) {
  switch (sig) {
    case SIGABRT: return "SIGABRT";
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGPIPE: return "SIGPIPE";
    case SIGTRAP: return "SIGTRAP";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    default: return "signal " + std::to_string(sig);
  }
}

std::string_view process_status_name(ProcessStatus s) {
  switch (s) {
    case ProcessStatus::kExited: return "exited";
    case ProcessStatus::kSignaled: return "signaled";
    case ProcessStatus::kTimedOut: return "timeout";
    case ProcessStatus::kCancelled: return "cancelled";
    case ProcessStatus::kFailedToStart: return "error";
  }
  return "error";
}

std::string self_executable_path() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  buf[n] = '\0';
  return buf;
}

ProcessResult run_process(const ProcessSpec& spec) {
  ProcessResult result;
  if (spec.argv.empty()) {
    result.error = "empty command";
    return result;
  }
  // Everything the child needs is prepared before spawning.
  std::vector<std::string> env_strings = build_environment(spec);
  std::vector<char*> envp = c_strings(env_strings);
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv = c_strings(argv_strings);
  std::string path_value;
  for (const auto& s : env_strings)
    if (s.rfind("PATH=", 0) == 0) path_value = s.substr(5);

  // Resolve argv[0] on the child's PATH here, so the child only calls execve.
  std::string exe = spec.argv[0];
  if (exe.find('/') == std::string::npos) {
    exe = find_on_path(exe, path_value);
    if (exe.empty()) {
      result.error = "command not found: " + spec.argv[0];
      return result;
    }
  }

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }

  // posix_spawn (vfork semantics in glibc) instead of fork: copying the page tables of this large,
  // LibTorch-linked process cost ~9 ms per run. It also reports exec failures by its return value.
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group, so a timeout ends all of it
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);

  const auto t0 = Clock::now();
  pid_t pid = -1;
  const int spawn_error = posix_spawn(&pid, exe.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spawn_error != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.error = spec.argv[0] + ": " + std::strerror(spawn_error);
    return result;
  }

  bool timed_out = false, cancelled = false, term_sent = false;
  Clock::time_point term_time{};
  int status = 0;
  bool reaped = false;
  // A pidfd becomes readable when the child exits, so the loop wakes at once instead of at the next
  // 50 ms tick (that tick was a fixed cost on every short run). Without pidfd (Linux < 5.3) the
  // pipes' hang-up and the tick still end the loop.
#ifdef SYS_pidfd_open
  const int pid_fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  const int pid_fd = -1;
#endif
  pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {pid_fd, POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (!reaped) {
    const int timeout_ms = 50;
    if (open_fds > 0 || pid_fd >= 0) {
      int rc = poll(fds, 3, timeout_ms);
      if (rc > 0) {
        for (int i = 0; i < 2; ++i) {
          if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          ssize_t n = read(fds[i].fd, buf, sizeof buf);
          if (n > 0) {
            append_tail(i == 0 ? result.stdout_tail : result.stderr_tail, buf,
                        static_cast<std::size_t>(n), spec.output_tail_bytes);
          } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            close(fds[i].fd);
            fds[i].fd = -1;
            --open_fds;
          }
        }
      }
    } else {
      usleep(timeout_ms * 1000);
    }
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) reaped = true;
    if (reaped && open_fds > 0) {
      // Drain what the child wrote before exiting; grandchildren may keep the pipe open, so only
      // read what is already there.
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0) continue;
        int fl = fcntl(fds[i].fd, F_GETFL);
        fcntl(fds[i].fd, F_SETFL, fl | O_NONBLOCK);
        ssize_t n;
        while ((n = read(fds[i].fd, buf, sizeof buf)) > 0)
          append_tail(i == 0 ? result.stdout_tail : result.stderr_tail, buf,
                      static_cast<std::size_t>(n), spec.output_tail_bytes);
      }
    }
    if (reaped) break;
    const double elapsed = seconds_since(t0);
    const bool want_stop = (spec.timeout_seconds > 0 && elapsed > spec.timeout_seconds) ||
                           (spec.cancel && spec.cancel->load());
    if (want_stop && !term_sent) {
      if (spec.cancel && spec.cancel->load()) cancelled = true;
      else timed_out = true;
      kill(-pid, SIGTERM);
      term_sent = true;
      term_time = Clock::now();
    } else if (term_sent && seconds_since(term_time) > spec.kill_grace_seconds) {
      kill(-pid, SIGKILL);
    }
  }
  // Whatever the group left behind (a grandchild holding the pipes) goes with it.
  kill(-pid, SIGKILL);
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);

  result.duration_seconds = seconds_since(t0);
  if (timed_out) {
    result.status = ProcessStatus::kTimedOut;
  } else if (cancelled) {
    result.status = ProcessStatus::kCancelled;
  } else if (WIFEXITED(status)) {
    result.status = ProcessStatus::kExited;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.status = ProcessStatus::kSignaled;
    result.signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace flakescope
