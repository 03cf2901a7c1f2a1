// The progress of probe and audit on stderr: on a terminal one redrawn line with the failures so
// far and the time left; elsewhere plain lines (no carriage return, no escape) and a last line.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "cli/progress.h"

namespace flakescope::cli {
namespace {

TEST(Progress, TerminalLineShowsFailuresAndTimeLeftAndIsClearedAtTheEnd) {
  std::ostringstream err;
  {
    Progress p(err, 40, /*enabled=*/true, "runs");
    p.update(0, "controlled run 0: pass", "0 failed");
    p.update(10, "controlled run 9: fail", "2 failed");
    p.finish();
  }
  const std::string s = err.str();
  EXPECT_NE(s.find("\r\033[K[#####"), std::string::npos) << s;
  EXPECT_NE(s.find("10/40 runs | 2 failed | ~"), std::string::npos) << s;
  EXPECT_NE(s.find("s left | controlled run 9: fail"), std::string::npos) << s;
  EXPECT_EQ(s.substr(s.size() - 4), "\r\033[K");  // the results start on a clean line
  EXPECT_EQ(s.find('\n'), std::string::npos) << s;
}

TEST(Progress, PlainLinesCarryCountsFailuresElapsedAndLeftAndEndWithALastLine) {
  std::ostringstream err;
  Progress p(err, 30, /*enabled=*/false, "probes");
  p.lines_every(1e-9, "flakescope probe");  // every update prints
  p.update(3, "ops/sum done", "1 finding, 2 move under a knob");
  p.update(30, "models/mlp done", "1 finding, 4 move under a knob");
  p.finish();
  const std::string s = err.str();
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 2) << s;  // the update at 30/30 is the last line
  EXPECT_EQ(s.find('\r'), std::string::npos) << s;
  EXPECT_EQ(s.find('\033'), std::string::npos) << s;
  EXPECT_NE(s.find("flakescope probe: 3/30 probes, 1 finding, 2 move under a knob, "),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("s elapsed, ~"), std::string::npos) << s;
  EXPECT_NE(s.find("s left (ops/sum done)\n"), std::string::npos) << s;
  EXPECT_NE(s.find("flakescope probe: 30/30 probes, 1 finding, 4 move under a knob, after "),
            std::string::npos)
      << s;
}

TEST(Progress, NoPlainLineBeforeTheIntervalAndNoLastLineThen) {
  std::ostringstream err;
  {
    Progress p(err, 10, /*enabled=*/false, "runs");
    p.lines_every(3600, "flakescope audit");
    p.update(5, "", "0 failed");
  }
  EXPECT_EQ(err.str(), "");
}

TEST(Progress, TimeLeftIsAnEstimateInReadableUnits) {
  EXPECT_EQ(Progress::time_left(10, 0, 40, false), "");
  EXPECT_EQ(Progress::time_left(10, 40, 40, false), "");
  EXPECT_EQ(Progress::time_left(10, 10, 40, false), "~30s left");
  EXPECT_EQ(Progress::time_left(100, 10, 40, false), "~5m left");
  EXPECT_EQ(Progress::time_left(3600, 10, 40, true), "at most ~3.0h left");
}

}  // namespace
}  // namespace flakescope::cli
