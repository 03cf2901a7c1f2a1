#pragma once
// `--timeout` is per run. An in-process attempt makes many runs, so its deadline is not a fixed
// time but progress: the watchdog ends the process (through its cancel flag) when the plugin's
// outcome file has not grown for `timeout_seconds`, i.e. when one test repetition (or the start-up
// and collection before the first) took longer than a whole run may. A hang then costs one
// timeout, as under process isolation, not one per repetition the process had left.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace flakescope::audit {

class ProgressWatchdog {
 public:
  // `outer` (may be null) is the audit's cancel flag, forwarded. timeout 0: no deadline.
  // `on_poll` (may be empty) runs on the watchdog's thread at every poll (every 20 ms) until
  // stop(): the attempt's readers follow the files the process writes.
  ProgressWatchdog(std::string path, double timeout_seconds, const std::atomic<bool>* outer,
                   std::function<void()> on_poll = {});
  ~ProgressWatchdog();
  ProgressWatchdog(const ProgressWatchdog&) = delete;
  ProgressWatchdog& operator=(const ProgressWatchdog&) = delete;

  // Give this to ProcessSpec::cancel.
  const std::atomic<bool>* cancel_flag() const { return &cancel_; }
  // Stops watching (before reading fired()).
  void stop();
  // True when the process was ended for lack of progress (not by the outer flag).
  bool fired() const { return fired_.load(); }

 private:
  void watch(std::string path, double timeout_seconds, const std::atomic<bool>* outer);

  std::function<void()> on_poll_;

  std::atomic<bool> cancel_{false};
  std::atomic<bool> fired_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace flakescope::audit
