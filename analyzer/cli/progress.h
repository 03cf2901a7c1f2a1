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

 private:
  std::ostream& err_;
  std::size_t total_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
};

bool stderr_is_terminal();

}  // namespace flakescope::cli
