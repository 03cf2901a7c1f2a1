#include "audit/progress_watchdog.h"

#include <sys/stat.h>

#include <chrono>

namespace flakescope::audit {
namespace {

constexpr auto kPoll = std::chrono::milliseconds(20);

long long file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
}

}  // namespace

ProgressWatchdog::ProgressWatchdog(std::string path, double timeout_seconds,
                                   const std::atomic<bool>* outer, std::function<void()> on_poll)
    : on_poll_(std::move(on_poll)),
      thread_(&ProgressWatchdog::watch, this, std::move(path), timeout_seconds, outer) {}

ProgressWatchdog::~ProgressWatchdog() {
  stop();
}

void ProgressWatchdog::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProgressWatchdog::watch(std::string path, double timeout_seconds,
                             const std::atomic<bool>* outer) {
  using Clock = std::chrono::steady_clock;
  const auto limit = std::chrono::duration<double>(timeout_seconds);
  long long size = file_size(path);
  auto last_progress = Clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, kPoll, [&] { return stopping_; });
    if (stopping_) return;
    if (on_poll_) on_poll_();
    if (outer && outer->load()) {
      cancel_ = true;
      continue;  // the process is being ended; wait for stop()
    }
    const long long now_size = file_size(path);
    if (now_size != size) {
      size = now_size;
      last_progress = Clock::now();
    } else if (timeout_seconds > 0 && !cancel_ && Clock::now() - last_progress > limit) {
      fired_ = true;
      cancel_ = true;
    }
  }
}

}  // namespace flakescope::audit
