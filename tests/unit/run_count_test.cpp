// One run-count parser for probe and audit: bounds, the auto schedules, one error text.
#include <gtest/gtest.h>

#include "core/run_count.h"
#include "flakescope/error.h"

namespace flakescope {
namespace {

std::string error_of(const std::string& runs, std::optional<std::string> max, RunCountUse use) {
  try {
    parse_run_count(runs, max, use);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(RunCount, FixedCount) {
  const RunCount r = parse_run_count("37", std::nullopt, RunCountUse::kProbe);
  EXPECT_FALSE(r.adaptive);
  EXPECT_EQ(r.runs, 37u);
  EXPECT_EQ(r.max_runs, 37u);
  EXPECT_EQ(r.text(), "37");
}

TEST(RunCount, AutoSchedulesComeFromOnePlace) {
  const RunCount p = parse_run_count("auto", std::nullopt, RunCountUse::kProbe);
  EXPECT_TRUE(p.adaptive);
  EXPECT_EQ(p.min_runs, 50u);
  EXPECT_EQ(p.batch, 50u);
  EXPECT_EQ(p.max_runs, kDefaultMaxRuns);
  EXPECT_EQ(p.text(), "auto");
  const RunCount a = parse_run_count("auto", std::string("200"), RunCountUse::kAudit);
  EXPECT_EQ(a.min_runs, auto_schedule(RunCountUse::kAudit).min_runs);
  EXPECT_EQ(a.batch, auto_schedule(RunCountUse::kAudit).batch);
  EXPECT_EQ(a.max_runs, 200u);
  EXPECT_EQ(a.runs, 200u);
}

TEST(RunCount, CapBelowTheFirstBatchLowersIt) {
  const RunCount r = parse_run_count("auto", std::string("12"), RunCountUse::kAudit);
  EXPECT_EQ(r.min_runs, 12u);
  EXPECT_EQ(r.max_runs, 12u);
}

TEST(RunCount, BoundsAndOneErrorText) {
  EXPECT_EQ(error_of("99999999999999999999999", std::nullopt, RunCountUse::kAudit),
            "--runs must be an integer in 1..10000000 or 'auto', got '99999999999999999999999'");
  EXPECT_EQ(error_of("1", std::nullopt, RunCountUse::kProbe),
            "--runs must be an integer in 2..10000000 or 'auto', got '1'");
  EXPECT_EQ(error_of("10000001", std::nullopt, RunCountUse::kProbe),
            "--runs must be an integer in 2..10000000 or 'auto', got '10000001'");
  for (const char* bad : {"", "-1", "+5", "5 ", "0x10", "1e3", "Auto"})
    EXPECT_NE(error_of(bad, std::nullopt, RunCountUse::kAudit), "") << bad;
  EXPECT_EQ(parse_run_count("10000000", std::nullopt, RunCountUse::kAudit).runs, 10000000u);
  EXPECT_EQ(error_of("auto", std::string("0"), RunCountUse::kAudit),
            "--max-runs must be an integer in 1..10000000, got '0'");
  EXPECT_EQ(error_of("auto", std::string("99999999999"), RunCountUse::kProbe),
            "--max-runs must be an integer in 2..10000000, got '99999999999'");
}

TEST(RunCount, MaxRunsNeedsAuto) {
  EXPECT_EQ(error_of("20", std::string("100"), RunCountUse::kProbe),
            "--max-runs is the cap of --runs auto; with a fixed --runs leave it out");
}

}  // namespace
}  // namespace flakescope
