#include "core/subprocess.h"

#include "core/path_lookup.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

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
    if (value)
      env[key] = *value;
    else
      env.erase(key);
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

// The direct children that run_process calls are waiting for. The sweep below reaps adopted
// orphans (flakescope is a child subreaper) but never one of these: their status belongs to the
// thread that waits for it. Spawning and sweeping both hold the mutex.
std::mutex g_children_mutex;
std::set<pid_t> g_children;
std::atomic<unsigned long> g_run_counter{0};

// Descendants that leave their run's process group (setsid, daemons) are re-parented to us instead
// of init when their parent dies, so they can be found, killed and reaped.
void become_subreaper() {
  static std::once_flag once;
  std::call_once(once, [] { (void)::prctl(PR_SET_CHILD_SUBREAPER, 1); });
}

struct ProcStat {
  pid_t ppid = 0;
  char state = '?';
  unsigned long long start_ticks = 0;
};

// /proc/PID/stat: the fields after the command name (which may hold spaces and parentheses).
bool read_proc_stat(pid_t pid, ProcStat& out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  const auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  const char* p = text.c_str() + close + 2;
  // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime
  // cstime priority nice num_threads itrealvalue starttime
  int ppid = 0;
  if (std::sscanf(p, "%c %d", &out.state, &ppid) != 2) return false;
  out.ppid = ppid;
  const char* q = p;
  for (int field = 0; field < 19 && q; ++field) {
    q = std::strchr(q, ' ');
    if (q) ++q;
  }
  if (!q || std::sscanf(q, "%llu", &out.start_ticks) != 1) return false;
  return true;
}

bool environ_has(pid_t pid, const std::string& entry) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string var;
  while (std::getline(in, var, '\0'))
    if (var == entry) return true;
  return false;
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  DIR* d = ::opendir("/proc");
  if (!d) return pids;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    const long v = std::strtol(e->d_name, &end, 10);
    if (end && *end == '\0' && v > 0) pids.push_back(static_cast<pid_t>(v));
  }
  ::closedir(d);
  return pids;
}

void reap_if_ours(pid_t pid, const ProcStat& st) {
  if (st.ppid != ::getpid() || g_children.count(pid)) return;
  for (int i = 0; i < 200; ++i) {  // a killed process is gone within milliseconds
    if (::waitpid(pid, nullptr, WNOHANG) != 0) return;
    ::usleep(5000);
  }
}

// Every process that carries the run's token (and started after the run did) is killed; adopted
// orphans are reaped. `token` empty: only reaps adopted zombies.
// Returns how many it killed; a process forking while it is swept is caught by the next pass.
int sweep_pass(const std::string& token, unsigned long long run_start_ticks) {
  const pid_t self = ::getpid();
  int killed = 0;
  for (pid_t pid : all_pids()) {
    if (pid == self) continue;
    ProcStat st;
    if (!read_proc_stat(pid, st)) continue;
    const bool adopted_zombie = st.ppid == self && st.state == 'Z' && !g_children.count(pid);
    const bool of_this_run =
        !token.empty() && st.start_ticks >= run_start_ticks && environ_has(pid, token);
    if (of_this_run && st.state != 'Z') killed += ::kill(pid, SIGKILL) == 0 ? 1 : 0;
    if (of_this_run || adopted_zombie) reap_if_ours(pid, st);
  }
  return killed;
}

void sweep_run(const std::string& token, unsigned long long run_start_ticks) {
  std::lock_guard<std::mutex> lock(g_children_mutex);
  for (int pass = 0; pass < 5 && sweep_pass(token, run_start_ticks) > 0; ++pass) {
  }
}

// The child side of spawn_child, between vfork and execve: system calls only (it shares the
// parent's memory), no allocation, no locks.
[[noreturn]] void exec_child(const char* exe, char* const* argv, char* const* envp, int out_fd,
                             int err_fd, const char* cwd, pid_t parent, volatile int* error) {
  ::setpgid(0, 0);  // its own process group, so a timeout ends all of it
  // Killed when the thread that spawned it (and so flakescope) dies, even by SIGKILL.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0 && null_fd != STDIN_FILENO) {
    ::dup2(null_fd, STDIN_FILENO);
    ::close(null_fd);
  }
  if (cwd && ::chdir(cwd) != 0) {
    *error = errno;
    ::_exit(127);
  }
  // flakescope's handlers (and an inherited SIG_IGN of SIGPIPE/SIGINT/SIGTERM) are not the test's.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    const bool reset_ignored = sig == SIGPIPE || sig == SIGINT || sig == SIGTERM;
    if (old.sa_handler == SIG_DFL || (old.sa_handler == SIG_IGN && !reset_ignored)) continue;
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(exe, argv, envp);
  *error = errno;
  ::_exit(127);
}

// vfork (no page-table copy: copying this large, LibTorch-linked process cost ~9 ms per run, as it
// did with fork) with PR_SET_PDEATHSIG, which posix_spawn cannot set. Returns the pid, or -1 with
// `error` set. Signals are blocked around vfork so no handler runs in the child.
pid_t spawn_child(const std::string& exe, std::vector<char*>& argv, std::vector<char*>& envp,
                  int out_fd, int err_fd, const std::string& cwd, int& error) {
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  volatile int child_error = 0;
  const pid_t parent = ::getpid();
  std::lock_guard<std::mutex> lock(g_children_mutex);
  const pid_t pid = ::vfork();
  if (pid == 0)
    exec_child(exe.c_str(), argv.data(), envp.data(), out_fd, err_fd,
               cwd.empty() ? nullptr : cwd.c_str(), parent, &child_error);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    error = errno;
    return -1;
  }
  if (child_error != 0) {
    error = child_error;
    ::waitpid(pid, nullptr, 0);
    return -1;
  }
  g_children.insert(pid);
  return pid;
}

// Reaps the child if it has exited, and forgets it in the same step: its pid may be reused at once.
bool try_reap_child(pid_t pid, int& status) {
  std::lock_guard<std::mutex> lock(g_children_mutex);
  if (::waitpid(pid, &status, WNOHANG) != pid) return false;
  g_children.erase(pid);
  return true;
}

// The child's argv and environment as execve takes them (pointers into the strings beside them),
// and its executable resolved on the child's PATH: everything is prepared before spawning, so the
// child only calls execve.
struct ChildCommand {
  std::string token;  // the run's token, in the environment
  std::vector<std::string> env_strings, argv_strings;
  std::vector<char*> envp, argv;
  std::string exe;
};

// Fills `child` for `spec`. Returns the error when argv[0] is not found, empty otherwise.
std::string prepare_child(const ProcessSpec& spec, ChildCommand& child) {
  // Every descendant inherits the run's token, so those that leave the process group (setsid)
  // are still found and killed when the run ends.
  child.token = std::string(kRunTokenVariable) + "=" + std::to_string(::getpid()) + "-" +
                std::to_string(g_run_counter++);
  child.env_strings = build_environment(spec);
  const std::string token_prefix = std::string(kRunTokenVariable) + "=";
  for (auto& e : child.env_strings)
    if (e.compare(0, token_prefix.size(), token_prefix) == 0) e = child.token;  // nested
  if (std::find(child.env_strings.begin(), child.env_strings.end(), child.token) ==
      child.env_strings.end())
    child.env_strings.push_back(child.token);
  child.envp = c_strings(child.env_strings);
  child.argv_strings = spec.argv;
  child.argv = c_strings(child.argv_strings);
  std::string path_value;
  for (const auto& s : child.env_strings)
    if (s.rfind("PATH=", 0) == 0) path_value = s.substr(5);
  child.exe = spec.argv[0];
  if (child.exe.find('/') == std::string::npos) {
    child.exe = find_on_path(child.exe, path_value);
    if (child.exe.empty()) return "command not found: " + spec.argv[0];
  }
  return {};
}

// Watches a spawned child until it is reaped: its stdout and stderr into the result's tails, and
// on a timeout or a cancel SIGTERM to its group, then SIGKILL once the grace has passed.
class ChildWatch {
 public:
  ChildWatch(const ProcessSpec& spec, pid_t pid, int out_fd, int err_fd, Clock::time_point t0,
             ProcessResult& result)
      : spec_(spec), pid_(pid), t0_(t0), result_(result) {
    // A pidfd becomes readable when the child exits, so the loop wakes at once instead of at the
    // next 50 ms tick (that tick was a fixed cost on every short run). Without pidfd (Linux < 5.3)
    // the pipes' hang-up and the tick still end the loop.
#ifdef SYS_pidfd_open
    const int pid_fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
    const int pid_fd = -1;
#endif
    fds_[0] = {out_fd, POLLIN, 0};
    fds_[1] = {err_fd, POLLIN, 0};
    fds_[2] = {pid_fd, POLLIN, 0};
  }
  ChildWatch(const ChildWatch&) = delete;
  ChildWatch& operator=(const ChildWatch&) = delete;

  // Returns the child's wait status.
  int wait() {
    int status = 0;
    for (;;) {
      read_ready();
      if (try_reap_child(pid_, status)) {
        // Drain what the child wrote before exiting; grandchildren may keep the pipe open, so
        // only read what is already there.
        if (open_fds_ > 0) drain();
        return status;
      }
      stop_if_due();
    }
  }
  // The pipes and the pidfd; after the run's processes are gone.
  void close_all() {
    for (auto& f : fds_)
      if (f.fd >= 0) close(f.fd);
  }
  bool timed_out() const {
    return timed_out_;
  }
  bool cancelled() const {
    return cancelled_;
  }

 private:
  static constexpr int kTickMs = 50;

  void append(int i, ssize_t n) {
    append_tail(i == 0 ? result_.stdout_tail : result_.stderr_tail, buf_,
                static_cast<std::size_t>(n), spec_.output_tail_bytes);
  }
  // Waits for output, the child's exit or the tick, and reads what is ready; a pipe at its end
  // is closed.
  void read_ready() {
    if (open_fds_ == 0 && fds_[2].fd < 0) {
      usleep(kTickMs * 1000);
      return;
    }
    if (poll(fds_, 3, kTickMs) <= 0) return;
    for (int i = 0; i < 2; ++i) {
      if (fds_[i].fd < 0 || !(fds_[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds_[i].fd, buf_, sizeof buf_);
      if (n > 0) {
        append(i, n);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds_[i].fd);
        fds_[i].fd = -1;
        --open_fds_;
      }
    }
  }
  void drain() {
    for (int i = 0; i < 2; ++i) {
      if (fds_[i].fd < 0) continue;
      const int fl = fcntl(fds_[i].fd, F_GETFL);
      fcntl(fds_[i].fd, F_SETFL, fl | O_NONBLOCK);
      ssize_t n;
      while ((n = read(fds_[i].fd, buf_, sizeof buf_)) > 0) append(i, n);
    }
  }
  void stop_if_due() {
    const double elapsed = seconds_since(t0_);
    const bool want_stop = (spec_.timeout_seconds > 0 && elapsed > spec_.timeout_seconds) ||
                           (spec_.cancel && spec_.cancel->load());
    if (want_stop && !term_sent_) {
      if (spec_.cancel && spec_.cancel->load())
        cancelled_ = true;
      else
        timed_out_ = true;
      kill(-pid_, SIGTERM);
      term_sent_ = true;
      term_time_ = Clock::now();
    } else if (term_sent_ && seconds_since(term_time_) > spec_.kill_grace_seconds) {
      kill(-pid_, SIGKILL);
    }
  }

  const ProcessSpec& spec_;
  const pid_t pid_;
  const Clock::time_point t0_;
  ProcessResult& result_;
  pollfd fds_[3];
  int open_fds_ = 2;
  bool timed_out_ = false, cancelled_ = false, term_sent_ = false;
  Clock::time_point term_time_{};
  char buf_[65536];
};

// The result's status from how the run ended: a timeout or a cancel first (the child then died
// of our signal), else its own exit or signal.
void set_status(ProcessResult& result, const ChildWatch& watch, int status) {
  if (watch.timed_out()) {
    result.status = ProcessStatus::kTimedOut;
  } else if (watch.cancelled()) {
    result.status = ProcessStatus::kCancelled;
  } else if (WIFEXITED(status)) {
    result.status = ProcessStatus::kExited;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.status = ProcessStatus::kSignaled;
    result.signal = WTERMSIG(status);
  }
}

}  // namespace

void kill_processes_of_runs_of(pid_t owner) {
  const std::string entry_prefix =
      std::string(kRunTokenVariable) + "=" + std::to_string(owner) + "-";
  for (pid_t pid : all_pids()) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    std::string var;
    while (std::getline(in, var, '\0')) {
      if (var.compare(0, entry_prefix.size(), entry_prefix) != 0) continue;
      ::kill(pid, SIGKILL);
      break;
    }
  }
}

void start_death_watcher(const std::function<void()>& on_death) {
  const pid_t parent = ::getpid();
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &term, &old);
  const pid_t pid = ::fork();
  if (pid != 0) {  // the parent (or a failed fork: the watcher is a safety net, not a must)
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return;
  }
  // The watcher: no terminal, no pipes held open for whoever reads flakescope's output.
  const int null_fd = ::open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; ++fd) ::dup2(null_fd, fd);
  ::setpgid(0, 0);  // not in the way of a Ctrl-C to the audit's group
  ::prctl(PR_SET_PDEATHSIG, SIGUSR1);
  if (::getppid() == parent) {
    int sig = 0;
    ::sigwait(&term, &sig);
  }
  on_death();
  ::_exit(0);
}

void kill_orphans_of_dead_runs() {
  // A token is "<pid of the flakescope that started the run>-<n>"; that flakescope being gone
  // means nothing will end the process (it escaped its run's process group before a kill -9).
  const std::string prefix = std::string(kRunTokenVariable) + "=";
  for (pid_t pid : all_pids()) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    std::string var;
    while (std::getline(in, var, '\0')) {
      if (var.compare(0, prefix.size(), prefix) != 0) continue;
      const long owner = std::strtol(var.c_str() + prefix.size(), nullptr, 10);
      if (owner > 0 && owner != ::getpid() && ::kill(static_cast<pid_t>(owner), 0) != 0 &&
          errno == ESRCH)
        ::kill(pid, SIGKILL);
      break;
    }
  }
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGABRT:
      return "SIGABRT";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGKILL:
      return "SIGKILL";
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGHUP:
      return "SIGHUP";
    case SIGQUIT:
      return "SIGQUIT";
    default:
      return "signal " + std::to_string(sig);
  }
}

std::string_view process_status_name(ProcessStatus s) {
  switch (s) {
    case ProcessStatus::kExited:
      return "exited";
    case ProcessStatus::kSignaled:
      return "signaled";
    case ProcessStatus::kTimedOut:
      return "timeout";
    case ProcessStatus::kCancelled:
      return "cancelled";
    case ProcessStatus::kFailedToStart:
      return "error";
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
  ChildCommand child;
  if (std::string error = prepare_child(spec, child); !error.empty()) {
    result.error = error;
    return result;
  }
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }

  become_subreaper();
  const auto t0 = Clock::now();
  int spawn_error = 0;
  const pid_t pid = spawn_child(child.exe, child.argv, child.envp, out_pipe[1], err_pipe[1],
                                spec.cwd, spawn_error);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.error = spec.argv[0] + ": " + std::strerror(spawn_error);
    return result;
  }
  ProcStat child_stat;
  const unsigned long long run_start = read_proc_stat(pid, child_stat) ? child_stat.start_ticks : 0;

  ChildWatch watch(spec, pid, out_pipe[0], err_pipe[0], t0, result);
  const int status = watch.wait();
  // Whatever the group left behind (a grandchild holding the pipes) goes with it, and so does
  // every descendant that left the group (found by the run's token).
  kill(-pid, SIGKILL);
  sweep_run(child.token, run_start);
  watch.close_all();

  result.duration_seconds = seconds_since(t0);
  set_status(result, watch, status);
  return result;
}

}  // namespace flakescope
