#pragma once
// A one-line progress indicator on stderr, shown only when stderr is a terminal (so logs and CI
// output stay clean), with an estimate of the time left.
#include <chrono>
#include <iosfwd>
#include <string>

namespace flakescope::cli {

class Progress {
 public:
  Progress(std::ostream& err, std::size_t total, bool enabled);
  ~Progress();
  void update(std::size_t done, const std::string& what);
  void finish();
  // When stderr is not a terminal (CI logs, long audits of real suites): instead of the bar, a
  // plain line at most every `seconds`, "PREFIX: done/total WHAT, Ns elapsed".
  void lines_every(double seconds, std::string prefix);

 private:
  std::ostream& err_;
  std::size_t total_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
  double line_interval_ = 0;  // > 0: plain lines instead of the bar
  std::string line_prefix_;
  std::chrono::steady_clock::time_point last_line_;
};

bool stderr_is_terminal();

}  // namespace flakescope::cli
