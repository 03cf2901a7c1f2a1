#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>
#include <ostream>

namespace flakescope::cli {

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::ostream& err, std::size_t total, bool enabled)
    : err_(err), total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { finish(); }

void Progress::update(std::size_t done, const std::string& what) {
  if (!enabled_ || total_ == 0) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char eta[32] = "";
  if (done > 0 && done < total_)
    std::snprintf(eta, sizeof eta, " ~%.0fs left", elapsed / double(done) * double(total_ - done));
  const int width = 24;
  const int filled = static_cast<int>(double(width) * double(done) / double(total_));
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  std::string line = "[" + bar + "] " + std::to_string(done) + "/" + std::to_string(total_) + " " +
                     what + eta;
  if (line.size() > 99) line.resize(99);
  err_ << "\r\033[K" << line << std::flush;
  shown_ = true;
}

void Progress::finish() {
  if (shown_) err_ << "\r\033[K" << std::flush;
  shown_ = false;
}

}  // namespace flakescope::cli
