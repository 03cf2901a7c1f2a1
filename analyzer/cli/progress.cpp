#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <utility>

namespace flakescope::cli {

bool stderr_is_terminal() {
  return isatty(STDERR_FILENO) == 1;
}

namespace {

std::string duration_text(double seconds) {
  char buf[32];
  if (seconds < 90) {
    std::snprintf(buf, sizeof buf, "%.0fs", seconds);
  } else if (seconds < 5400) {
    std::snprintf(buf, sizeof buf, "%.0fm", seconds / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fh", seconds / 3600);
  }
  return buf;
}

// Columns of the terminal on stderr, at most 100 (a line longer than the terminal would wrap and
// the next redraw would not replace it).
std::size_t terminal_columns() {
  struct winsize ws {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
    return std::min<std::size_t>(ws.ws_col, 100);
  return 100;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Progress::Progress(std::ostream& err, std::size_t total, bool enabled, std::string unit)
    : err_(err),
      total_(total),
      enabled_(enabled),
      unit_(std::move(unit)),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  finish();
}

void Progress::lines_every(double seconds, std::string prefix) {
  line_interval_ = seconds;
  line_prefix_ = std::move(prefix);
  last_line_ = start_;
}

std::string Progress::time_left(double elapsed, std::size_t done, std::size_t total, bool cap) {
  if (done == 0 || done >= total || !(elapsed >= 0)) return "";
  const double left = elapsed / double(done) * double(total - done);
  return (cap ? "at most ~" : "~") + duration_text(left) + " left";
}

std::string Progress::counts(std::size_t done) const {
  return std::to_string(done) + "/" + std::to_string(total_) + (unit_.empty() ? "" : " " + unit_);
}

void Progress::plain_line(std::size_t done, double elapsed, const std::string& what) {
  err_ << line_prefix_ << ": " << counts(done);
  if (!last_tally_.empty()) err_ << ", " << last_tally_;
  err_ << ", " << duration_text(elapsed) << " elapsed";
  const std::string left = this->left(elapsed, done);
  if (!left.empty()) err_ << ", " << left;
  if (!what.empty()) err_ << " (" << what << ")";
  err_ << "\n" << std::flush;
  lines_printed_ = true;
}

void Progress::update(std::size_t done, const std::string& what, const std::string& tally) {
  last_done_ = done;
  last_tally_ = tally;
  const double elapsed = seconds_since(start_);
  if (line_interval_ > 0) {
    // The last one comes from finish(), with the total time.
    if (done >= total_ || seconds_since(last_line_) < line_interval_) return;
    last_line_ = std::chrono::steady_clock::now();
    plain_line(done, elapsed, what);
    return;
  }
  if (!enabled_ || total_ == 0) return;
  const int width = 20;
  const int filled = static_cast<int>(double(width) * double(done) / double(total_));
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  std::string line = "[" + bar + "] " + counts(done);
  if (!tally.empty()) line += " | " + tally;
  const std::string left = this->left(elapsed, done);
  if (!left.empty()) line += " | " + left;
  if (!what.empty()) line += " | " + what;
  const std::size_t columns = terminal_columns() - 1;
  if (line.size() > columns) line.resize(columns);
  err_ << "\r\033[K" << line << std::flush;
  shown_ = true;
}

void Progress::finish() {
  if (shown_) err_ << "\r\033[K" << std::flush;
  shown_ = false;
  if (lines_printed_) {
    lines_printed_ = false;
    const double elapsed = seconds_since(start_);
    err_ << line_prefix_ << ": " << counts(last_done_)
         << (last_tally_.empty() ? "" : ", " + last_tally_) << ", after " << duration_text(elapsed)
         << "\n"
         << std::flush;
  }
}

}  // namespace flakescope::cli
