#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>
#include <ostream>
#include <utility>

namespace flakescope::cli {

bool stderr_is_terminal() {
  return isatty(STDERR_FILENO) == 1;
}

Progress::Progress(std::ostream& err, std::size_t total, bool enabled)
    : err_(err), total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  finish();
}

void Progress::lines_every(double seconds, std::string prefix) {
  line_interval_ = seconds;
  line_prefix_ = std::move(prefix);
  last_line_ = start_;
}

void Progress::update(std::size_t done, const std::string& what) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (line_interval_ > 0) {
    if (std::chrono::duration<double>(now - last_line_).count() < line_interval_) return;
    last_line_ = now;
    err_ << line_prefix_ << ": " << done << "/" << total_ << " " << what << ", "
         << static_cast<long long>(elapsed) << "s elapsed\n"
         << std::flush;
    return;
  }
  if (!enabled_ || total_ == 0) return;
  char eta[32] = "";
  if (done > 0 && done < total_)
    std::snprintf(eta, sizeof eta, " ~%.0fs left", elapsed / double(done) * double(total_ - done));
  const int width = 24;
  const int filled = static_cast<int>(double(width) * double(done) / double(total_));
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  std::string line =
      "[" + bar + "] " + std::to_string(done) + "/" + std::to_string(total_) + " " + what + eta;
  if (line.size() > 99) line.resize(99);
  err_ << "\r\033[K" << line << std::flush;
  shown_ = true;
}

void Progress::finish() {
  if (shown_) err_ << "\r\033[K" << std::flush;
  shown_ = false;
}

}  // namespace flakescope::cli
