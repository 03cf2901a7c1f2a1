// The adaptive stopping rules on hand-computed cases.
#include "stats/adaptive.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "flakescope/error.h"
#include "stats/rates.h"

namespace flakescope::stats {
namespace {

TEST(AdaptiveStopper, ScheduleHasMinimumBatchesAndCap) {
  const AdaptiveStopper s(AdaptiveOptions{});  // 50, +50, at most 1000
  EXPECT_EQ(s.next_batch(0), 50u);
  EXPECT_EQ(s.next_batch(20), 30u);
  EXPECT_EQ(s.next_batch(50), 50u);
  EXPECT_EQ(s.next_batch(980), 20u);
  EXPECT_EQ(s.next_batch(1000), 0u);
}

TEST(AdaptiveStopper, ConstantOutputStopsAfterOneConfirmingBatch) {
  const AdaptiveStopper s(AdaptiveOptions{});
  std::string why;
  EXPECT_FALSE(s.should_stop(std::vector<double>(49, 0.0), &why));
  EXPECT_FALSE(s.should_stop(std::vector<double>(50, 0.0), &why));  // nothing to compare with
  EXPECT_TRUE(s.should_stop(std::vector<double>(100, 0.0), &why));
  EXPECT_NE(why.find("stable"), std::string::npos);
  EXPECT_TRUE(s.should_stop(std::vector<double>(1000, 1.0)));  // the cap
}

TEST(AdaptiveStopper, KeepsGoingWhileNoBoundCanBeGiven) {
  const AdaptiveStopper s(AdaptiveOptions{});
  std::vector<double> x(300, 0.0);
  x[7] = 1e-7;  // one change: refused, never stable
  std::string why;
  EXPECT_FALSE(s.should_stop(x, &why));
  EXPECT_NE(why.find("no bound"), std::string::npos) << why;
}

TEST(AdaptiveStopper, StopsOnAStableExponentialTail) {
  const AdaptiveStopper s(AdaptiveOptions{});
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> e(1.0);
  std::vector<double> x;
  while (true) {
    const std::size_t more = s.next_batch(x.size());
    for (std::size_t i = 0; i < more; ++i) x.push_back(e(rng));
    if (more == 0 || s.should_stop(x)) break;
  }
  EXPECT_LT(x.size(), 1000u);
  EXPECT_GE(x.size(), 100u);
}

TEST(AdaptiveStopper, RejectsInconsistentOptions) {
  AdaptiveOptions o;
  o.max_runs = 10;
  EXPECT_THROW(AdaptiveStopper{o}, InputError);
  o = AdaptiveOptions{};
  o.batch = 0;
  EXPECT_THROW(AdaptiveStopper{o}, InputError);
}

TEST(PassFailStopper, HandComputedStops) {
  const PassFailStopper s(PassFailOptions{});  // 30 runs, +10, cap 500, width 0.1, decisive 10
  EXPECT_EQ(s.next_batch(0), 30u);
  EXPECT_EQ(s.next_batch(30), 10u);
  EXPECT_FALSE(s.should_stop(0, 29));
  // 0 failures: the two-sided 95% Clopper-Pearson width is 1 - 0.025^(1/n):
  // 0.116 at n = 30 (go on), 0.088 at n = 40 (stop).
  EXPECT_FALSE(s.should_stop(0, 30));
  std::string why;
  EXPECT_TRUE(s.should_stop(0, 40, &why));
  EXPECT_NE(why.find("narrow"), std::string::npos);
  // 10 failures and 20 passes: clearly flaky.
  EXPECT_TRUE(s.should_stop(10, 30, &why));
  EXPECT_NE(why.find("flaky"), std::string::npos);
  // 3 of 30: neither narrow (width about 0.25) nor decisive.
  EXPECT_FALSE(s.should_stop(3, 30));
  EXPECT_TRUE(s.should_stop(3, 500));  // the cap
  EXPECT_THROW(s.should_stop(5, 4), InputError);
}

TEST(AdaptiveStopper, AtTheCapItSaysWhyAndHowManyRunsTheGoalNeeds) {
  AdaptiveOptions o;
  o.min_runs = 20;
  o.batch = 20;
  o.max_runs = 40;
  const AdaptiveStopper s(o);
  // 3 changed runs of 40: no tail can be fitted; the target needs more changed runs.
  std::vector<double> x(40, 0.0);
  x[5] = 1e-7, x[17] = 2e-7, x[33] = 3e-7;
  std::string why;
  EXPECT_TRUE(s.should_stop(x, &why));
  EXPECT_NE(why.find("reached the cap of 40 runs without a bound"), std::string::npos) << why;
  EXPECT_NE(why.find("runs"), std::string::npos) << why;
  EXPECT_NE(why.find("needs about"), std::string::npos) << why;
}

TEST(PassFailStopper, AtTheCapItSaysHowManyRunsWouldNarrowTheInterval) {
  PassFailOptions o;
  o.max_runs = 100;
  o.decisive_count = 1000;  // never "clearly flaky"
  const PassFailStopper s(o);
  std::string why;
  EXPECT_TRUE(s.should_stop(20, 100, &why));  // CP width about 0.17 at 20/100
  ASSERT_NE(why.find("reached the cap of 100 runs"), std::string::npos) << why;
  const std::size_t at = why.find("about ");
  ASSERT_NE(at, std::string::npos) << why;
  const std::size_t needed = std::stoul(why.substr(at + 6));
  EXPECT_GT(needed, 100u);
  // At that many runs with the same share the interval is narrow enough.
  const auto f = static_cast<std::size_t>(std::llround(0.2 * static_cast<double>(needed)));
  const RateEstimate e = estimate_rate(f, needed, 0.95);
  EXPECT_LE(e.clopper_pearson.upper - e.clopper_pearson.lower, 0.1);
}

}  // namespace
}  // namespace flakescope::stats
