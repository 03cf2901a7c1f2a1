#pragma once
// The JSON lines a running process appends to a file (the pytest plugin's outcome and capture
// lines), parsed while it runs. An in-process audit of a small test writes a thousand lines of
// each per thousand repetitions; parsing them after the process exits put 10-15 ms of JSON
// parsing between the test's end and the report, while the audit's other core was idle during
// the run. The watchdog's poll calls poll(); the reader calls finish() once the process is gone.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flakescope::audit {

class JsonLinesFollower {
 public:
  // At most `max_lines` lines are kept (the rest are read past, not parsed).
  explicit JsonLinesFollower(std::string path, std::size_t max_lines = SIZE_MAX);

  // Parses the complete lines appended since the last call (a missing file: none yet).
  void poll();
  // The last lines, a final one without its newline included (a process killed mid-write), and
  // every parsed line in file order: a line that is not JSON is a discarded value, a blank line
  // is skipped.
  std::vector<nlohmann::json> finish();
  // The lines parsed so far (for progress while the process runs).
  const std::vector<nlohmann::json>& lines() const { return lines_; }

 private:
  void parse_line(const std::string& line);

  std::string path_;
  std::size_t max_lines_;
  long long offset_ = 0;  // bytes consumed: every complete line before it is parsed
  std::string partial_;   // a line whose newline has not been written yet
  std::vector<nlohmann::json> lines_;
};

}  // namespace flakescope::audit
