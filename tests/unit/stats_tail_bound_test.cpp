// The tail bound on constant, zero-inflated, lattice, continuous and pathological samples.
#include "stats/tail_bound.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "flakescope/error.h"
#include "stats/tail_model.h"

namespace flakescope::stats {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(TailBound, BitwiseConstantRecommendsExactEquality) {
  const TailBound b = bound_tail_quantile(std::vector<double>(100, 0.0), TailOptions{});
  EXPECT_EQ(b.method, "exact");
  EXPECT_TRUE(b.has_bound);
  EXPECT_EQ(b.bound, 0.0);
  EXPECT_EQ(b.n, 100u);
  EXPECT_EQ(b.zeros, 100u);
  // The evidence: no change in 100 runs, P(change) <= 1 - 0.05^(1/100) = 2.95%.
  EXPECT_NEAR(b.change_rate_upper, 1 - std::pow(0.05, 0.01), 1e-12);
  // Certifying 1e-4 needs 29956 identical runs.
  EXPECT_EQ(b.runs_needed, 29956u);
  EXPECT_EQ(to_json(b)["method"], "exact");
}

TEST(TailBound, ZeroInflatedLatticeUsesTheChangeRateAndJitter) {
  constexpr double kUlp = 1.0 / 8388608.0;
  std::mt19937_64 rng(42);
  std::bernoulli_distribution identical(0.8);
  std::geometric_distribution<int> steps(0.3);
  std::vector<double> x(1000);
  for (double& v : x) v = identical(rng) ? 0.0 : (1 + steps(rng)) * kUlp;
  const TailBound b = bound_tail_quantile(x, TailOptions{});
  ASSERT_TRUE(b.has_bound) << b.reason;
  EXPECT_TRUE(b.method == "gpd" || b.method == "exponential") << b.method;
  EXPECT_GT(b.zeros, 700u);
  // P(dev > 0) is about 0.2; its upper bound (at 97.5%, the confidence split) is a bit more.
  EXPECT_GT(b.change_rate_upper, 0.2);
  EXPECT_LT(b.change_rate_upper, 0.26);
  EXPECT_DOUBLE_EQ(b.jitter, kUlp);  // ties on the lattice: jitter of one lattice step
  // True 1e-4 quantile: 0.2 * 0.7^k <= 1e-4 at k = 22 steps. The bound covers it, within 15x:
  // 29 exceedances of 200 changed runs cannot rule out a heavy shape (11x here; under
  // --assume light-tail about 1.5x, see reports/calibration).
  EXPECT_GE(b.bound, 22 * kUlp);
  EXPECT_LT(b.bound, 330 * kUlp);
  EXPECT_GE(b.bound, b.estimate);
}

TEST(TailBound, ExponentialSampleIsCoveredAndNotFarOff) {
  std::mt19937_64 rng(9);
  std::exponential_distribution<double> e(1.0);
  std::vector<double> x(2000);
  for (double& v : x) v = e(rng);
  const TailBound b = bound_tail_quantile(x, TailOptions{});
  ASSERT_TRUE(b.has_bound) << b.reason;
  const double truth = std::log(1e4);
  EXPECT_GT(b.bound, truth);
  EXPECT_LT(b.bound, 2 * truth);
  EXPECT_NEAR(b.estimate / truth, 1.0, 0.25);
  EXPECT_EQ(b.zeros, 0u);
  EXPECT_EQ(b.change_rate_upper, 1.0);
  EXPECT_NE(b.reason.find("(two-sided level)"), std::string::npos) << b.reason;
}

TEST(TailBound, ReasonNamesTheProfileLevelUsed) {
  // 60 changed runs leave 15 exceedances: the one-sided level; 80 leave 16: between the two.
  std::mt19937_64 rng(5);
  std::exponential_distribution<double> e(1.0);
  std::vector<double> x(80);
  for (double& v : x) v = e(rng);
  const TailBound b80 = bound_tail_quantile(x, TailOptions{});
  ASSERT_TRUE(b80.has_bound) << b80.reason;
  EXPECT_EQ(b80.exceedances, 16u);
  EXPECT_NE(b80.reason.find("(between the one- and two-sided levels)"), std::string::npos)
      << b80.reason;
  x.resize(60);
  const TailBound b60 = bound_tail_quantile(x, TailOptions{});
  ASSERT_TRUE(b60.has_bound) << b60.reason;
  EXPECT_EQ(b60.exceedances, 15u);
  EXPECT_NE(b60.reason.find("(one-sided level)"), std::string::npos) << b60.reason;
}

TEST(TailBound, EmpiricalBoundWhenTheDataSupportIt) {
  // target 0.05 with 500 runs lies inside the data: the order-statistic bound applies.
  std::vector<double> x;
  for (int i = 1; i <= 500; ++i) x.push_back(i);
  TailOptions o;
  o.target = 0.05;
  const TailBound b = bound_tail_quantile(x, o);
  EXPECT_EQ(b.method, "empirical");
  // The 95% quantile is 475; its 95% upper bound is a few order statistics higher.
  EXPECT_GT(b.bound, 475);
  EXPECT_LT(b.bound, 490);
}

TEST(EmpiricalQuantileBound, MaximumQualifiesExactlyWhenZeroFailuresCertify) {
  std::vector<double> x(59);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i);
  double bound = -1;
  // 1 - 0.95^59 = 0.9515 >= 0.95: the maximum bounds the 95% quantile; with 58 it does not.
  EXPECT_TRUE(empirical_quantile_bound(x, 0.05, 0.95, &bound));
  EXPECT_EQ(bound, 58.0);
  x.pop_back();
  EXPECT_FALSE(empirical_quantile_bound(x, 0.05, 0.95, &bound));
}

TEST(TailBound, FewChangesAreRefusedWithTheRunsNeeded) {
  std::vector<double> x(200, 0.0);
  x[10] = 1e-7;
  x[20] = 2e-7;
  x[30] = 1e-7;
  const TailBound b = bound_tail_quantile(x, TailOptions{});
  EXPECT_EQ(b.method, "refused");
  EXPECT_FALSE(b.has_bound);
  EXPECT_GT(b.runs_needed, 200u);
  EXPECT_NE(b.reason.find("3 changed runs"), std::string::npos) << b.reason;
  EXPECT_TRUE(to_json(b)["bound"].is_null());
}

TEST(TailBound, PathologicalInputGivesAClearErrorOrRefusal) {
  const TailOptions o;
  EXPECT_THROW(bound_tail_quantile({}, o), InputError);
  EXPECT_THROW(bound_tail_quantile({1.0, std::nan("")}, o), InputError);
  EXPECT_THROW(bound_tail_quantile({1.0, -2.0}, o), InputError);
  EXPECT_THROW(bound_tail_quantile({1.0, -kInf}, o), InputError);
  TailOptions bad = o;
  bad.target = 0;
  EXPECT_THROW(bound_tail_quantile({1.0}, bad), InputError);
  bad = o;
  bad.confidence = 1;
  EXPECT_THROW(bound_tail_quantile({1.0}, bad), InputError);
  // One value: no tail can be fitted, and it says so.
  const TailBound one = bound_tail_quantile({3.0}, o);
  EXPECT_EQ(one.method, "refused");
  EXPECT_FALSE(one.has_bound);
  // One bitwise-identical run: exact, with the weak evidence of n = 1.
  const TailBound zero = bound_tail_quantile({0.0}, o);
  EXPECT_EQ(zero.method, "exact");
  EXPECT_NEAR(zero.change_rate_upper, 0.95, 1e-12);
}

TEST(TailBound, RunsThatCouldNotBeComparedMakeItUnbounded) {
  std::vector<double> x(100, 1e-6);
  for (int i = 0; i < 10; ++i) x[i] = kInf;
  const TailBound b = bound_tail_quantile(x, TailOptions{});
  EXPECT_EQ(b.method, "unbounded");
  EXPECT_FALSE(b.has_bound);
  EXPECT_EQ(b.infinite, 10u);
}

TEST(TailBound, SameSeedSameBound) {
  std::vector<double> x;
  for (int i = 0; i < 300; ++i) x.push_back((i % 7) * 1e-6);
  const TailBound a = bound_tail_quantile(x, TailOptions{});
  const TailBound b = bound_tail_quantile(x, TailOptions{});
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.bound, b.bound);
}

TEST(TailBound, LightTailAssumptionIsTighterStatedAndRefusedOnHeavyTails) {
  std::mt19937_64 rng(11);
  std::exponential_distribution<double> e(1);
  std::vector<double> x(200);
  for (double& v : x) v = e(rng);
  TailOptions light;
  light.assume_light_tail = true;
  const TailBound assumed = bound_tail_quantile(x, light);
  const TailBound plain = bound_tail_quantile(x, TailOptions{});
  ASSERT_TRUE(assumed.has_bound) << assumed.reason;
  ASSERT_TRUE(plain.has_bound) << plain.reason;
  EXPECT_EQ(assumed.assumption, "light tail (shape <= 0)");
  EXPECT_NE(assumed.reason.find("light tail assumed"), std::string::npos) << assumed.reason;
  EXPECT_EQ(to_json(assumed)["assumption"], "light tail (shape <= 0)");
  EXPECT_FALSE(to_json(plain).contains("assumption"));
  EXPECT_LE(assumed.bound, plain.bound);
  EXPECT_GE(assumed.bound, -std::log(1e-4));  // still covers the true quantile 9.21 here
  // A Pareto tail (shape 0.5) refutes the assumption.
  std::uniform_real_distribution<double> u(0, 1);
  for (double& v : x) v = std::pow(1 - u(rng), -0.5) - 1;
  const TailBound heavy = bound_tail_quantile(x, light);
  EXPECT_FALSE(heavy.has_bound);
  EXPECT_EQ(heavy.method, "refused");
  EXPECT_NE(heavy.reason.find("heavy tail"), std::string::npos) << heavy.reason;
}

std::vector<double> abs_normal_sample(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> x(n);
  for (double& v : x) v = std::abs(z(rng));
  return x;
}

TEST(TailBound, SeparateComponentIsReportedAndNotExtrapolated) {
  // Rounding noise plus a rare failure mode at about 100 that occurred 3 times in 200 runs.
  std::vector<double> x = abs_normal_sample(197, 5);
  for (double v : {100.4, 101.2, 103.0}) x.push_back(v);
  const TailBound b = bound_tail_quantile(x, TailOptions{});
  EXPECT_FALSE(b.has_bound);
  EXPECT_EQ(b.method, "refused");
  EXPECT_EQ(b.component_count, 3u);
  EXPECT_EQ(b.component_start, 100.4);
  EXPECT_GT(b.component_rate_upper, 3.0 / 200);
  EXPECT_NE(b.reason.find("separate component"), std::string::npos) << b.reason;
  EXPECT_GE(b.runs_needed, 16u * 200 / 3);  // a tail fit of its own needs 16 of its runs
  EXPECT_EQ(to_json(b)["separate_component"]["count"], 3);
}

TEST(TailBound, HeavyTailsAndCleanSamplesAreNotASeparateComponent) {
  // |t3| samples have isolated large maxima; the test must take them for a tail, not a component.
  int alarms = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 rng(300 + seed);
    std::student_t_distribution<double> t(3);
    std::vector<double> x(200);
    for (double& v : x) v = std::abs(t(rng));
    std::sort(x.begin(), x.end());
    alarms += detect_separate_component(x, TailOptions{}).detected ? 1 : 0;
    std::vector<double> clean = abs_normal_sample(200, 400 + seed);
    std::sort(clean.begin(), clean.end());
    EXPECT_FALSE(detect_separate_component(clean, TailOptions{}).detected) << seed;
  }
  EXPECT_LE(alarms, 1);
}

TEST(TailBound, FittedBoundsStateTheRateOfAComponentTheyCannotSee) {
  const std::vector<double> x = abs_normal_sample(200, 6);
  const TailBound b = bound_tail_quantile(x, TailOptions{});
  ASSERT_TRUE(b.has_bound) << b.reason;
  EXPECT_NEAR(b.unseen_rate, 1 - std::pow(0.05, 1.0 / 200), 1e-12);  // 1.5%: 0 of 200 seen
  EXPECT_NE(b.reason.find("can be absent from them"), std::string::npos) << b.reason;
  EXPECT_EQ(to_json(b)["unseen_rate"], b.unseen_rate);
}

}  // namespace
}  // namespace flakescope::stats
