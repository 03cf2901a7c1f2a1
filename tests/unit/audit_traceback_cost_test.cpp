// The advice to shorten tracebacks: given only when they dominate and the command can change.
#include "audit/traceback_cost.h"

#include <gtest/gtest.h>

namespace flakescope::audit {
namespace {

TestTally tally(double test_seconds, double report_seconds) {
  TestTally t;
  t.name = "tests/test_x.py::test_big";
  t.durations = {test_seconds / 2, test_seconds / 2};
  t.report_seconds = report_seconds;
  return t;
}

const std::vector<std::string> kPytest = {"python3", "-m", "pytest", "-q", "tests"};

TEST(TracebackCost, AdvisesShortTracebacksWhenTheyDominate) {
  const TracebackCost cost = traceback_cost({tally(32, 24), tally(8, 0)}, kPytest);
  EXPECT_DOUBLE_EQ(cost.report_seconds, 24);
  EXPECT_DOUBLE_EQ(cost.test_seconds, 40);
  EXPECT_NE(cost.advice.find("60% of the test time (24.0 s of 40.0 s)"), std::string::npos)
      << cost.advice;
  EXPECT_NE(cost.advice.find("add --tb=line to the pytest command"), std::string::npos);
  EXPECT_EQ(to_model(cost)->share, 0.6);
}

TEST(TracebackCost, SilentWhenSmallCheapOrAlreadyShort) {
  EXPECT_TRUE(traceback_cost({tally(40, 4)}, kPytest).advice.empty());   // 10% of the time
  EXPECT_TRUE(traceback_cost({tally(2, 1.5)}, kPytest).advice.empty());  // under 2 s in all
  auto with = [](std::vector<std::string> extra) {
    std::vector<std::string> c = kPytest;
    c.insert(c.end(), extra.begin(), extra.end());
    return traceback_cost({tally(32, 24)}, c).advice;
  };
  EXPECT_TRUE(with({"--tb=line"}).empty());
  EXPECT_TRUE(with({"--tb", "no"}).empty());
  EXPECT_FALSE(with({"--tb=long"}).empty());
  EXPECT_FALSE(to_model(traceback_cost({tally(40, 4)}, kPytest)).has_value());
}

}  // namespace
}  // namespace flakescope::audit
