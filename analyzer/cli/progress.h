#pragma once
// Progress of a long command on stderr, with the failures so far and an estimate of the time left:
// on a terminal one line redrawn in place (cleared at the end, so the results start on a clean
// line); elsewhere (CI logs) a plain line at most every few seconds and one at the end, so a log
// shows that the command is alive and how far it is, without carriage returns or escapes.
#include <chrono>
#include <iosfwd>
#include <string>

namespace flakescope::cli {

class Progress {
 public:
  // `unit`: what `total` counts ("runs", "probes"); `enabled`: draw the terminal line.
  Progress(std::ostream& err, std::size_t total, bool enabled, std::string unit = "");
  ~Progress();
  // `done` of `total` finished; `what`: the item just started or finished; `tally`: the failures so
  // far in words ("2 failed"), shown on the terminal line and in every plain line.
  void update(std::size_t done, const std::string& what, const std::string& tally = "");
  void finish();
  // When stderr is not a terminal: instead of the terminal line, a plain line at most every
  // `seconds`, "PREFIX: done/total UNIT, TALLY, Ns elapsed, ~Ms left (WHAT)", and a last one from
  // finish() when any was printed.
  void lines_every(double seconds, std::string prefix);
  // `total` is a cap (--runs auto may stop earlier): the estimate says "at most".
  void total_is_cap() { cap_ = true; }
  // Items finish in blocks (an in-process audit's pytest process delivers its runs together at
  // its end): a rate from the first of a block would say "~40m left" a moment before the end.
  void without_estimate() { estimate_ = false; }

  // The estimate for `done` of `total` after `elapsed` seconds: "~35s left", "~4m left", or "" when
  // nothing is done yet (or everything is).
  static std::string time_left(double elapsed, std::size_t done, std::size_t total, bool cap);

 private:
  std::string counts(std::size_t done) const;
  std::string left(double elapsed, std::size_t done) const {
    return estimate_ ? time_left(elapsed, done, total_, cap_) : std::string();
  }
  void plain_line(std::size_t done, double elapsed, const std::string& what);

  std::ostream& err_;
  std::size_t total_;
  bool enabled_;
  std::string unit_;
  bool cap_ = false;
  bool estimate_ = true;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
  double line_interval_ = 0;  // > 0: plain lines instead of the terminal line
  std::string line_prefix_;
  std::chrono::steady_clock::time_point last_line_;
  bool lines_printed_ = false;
  std::size_t last_done_ = 0;
  std::string last_tally_;
};

bool stderr_is_terminal();

}  // namespace flakescope::cli
