// The failure rate of given tolerances against distributions whose true rate is known.
#include "stats/failure_rate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "flakescope/error.h"

namespace flakescope::stats {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<double> exponential_sample(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> e(1);
  std::vector<double> x(n);
  for (double& v : x) v = e(rng);
  return x;
}

TEST(FailureRate, WithinTheObservedRangeItIsTheClopperPearsonCount) {
  const std::vector<double> x = exponential_sample(1000, 1);
  const double atol = -std::log(0.05);  // true rate 5%
  const FailureRate r = estimate_failure_rate(x, atol);
  EXPECT_EQ(r.method, "counts");
  std::size_t failures = 0;
  for (double v : x) failures += v > atol ? 1 : 0;
  EXPECT_EQ(r.failures, failures);
  EXPECT_EQ(r.runs, 1000u);
  EXPECT_DOUBLE_EQ(r.point, failures / 1000.0);
  const RateEstimate cp = estimate_rate(failures, 1000, 0.95);
  EXPECT_DOUBLE_EQ(r.interval.lower, cp.clopper_pearson.lower);
  EXPECT_DOUBLE_EQ(r.interval.upper, cp.clopper_pearson.upper);
  EXPECT_LT(r.interval.lower, 0.05);
  EXPECT_GT(r.interval.upper, 0.05);
}

// A seeded test's constant deviation: 40 runs of one value under the atol. Nothing varies, so
// there is no tail to fit (a fit on it said 38%): the counts, 0 of 40.
TEST(FailureRate, ConstantDeviationIsCountedNotFitted) {
  const std::vector<double> x(40, 0.6946);
  const FailureRate r = estimate_failure_rate(x, 0.6969);
  EXPECT_EQ(r.method, "counts");
  EXPECT_EQ(r.failures, 0u);
  EXPECT_EQ(r.point, 0.0);
  EXPECT_DOUBLE_EQ(r.interval.upper, estimate_rate(0, 40, 0.95).clopper_pearson.upper);
}

TEST(FailureRate, BeyondTheObservedRangeTheTailGivesAnInterval) {
  const std::vector<double> x = exponential_sample(500, 2);
  const double atol = -std::log(1e-4);  // 9.21, beyond the largest of 500 draws here
  const FailureRate r = estimate_failure_rate(x, atol);
  ASSERT_EQ(r.method, "tail") << r.reason;
  EXPECT_EQ(r.failures, 0u);
  EXPECT_GT(r.point, 0);
  EXPECT_LE(r.interval.lower, r.point);
  EXPECT_GE(r.interval.upper, r.point);
  EXPECT_LT(r.interval.lower, 1e-4);
  EXPECT_GT(r.interval.upper, 1e-4);
  // Tighter than the counts alone (0.74% for 0 of 500), but not by much: the upper end is set by
  // the heaviest shape the 45 exceedances allow (0.39% here), 1000 times below their share.
  EXPECT_LT(r.interval.upper, r.counts_interval.upper);
  EXPECT_GT(r.exceedances, 15u);
}

TEST(FailureRate, TailIntervalCoversTheTrueRateOnSeededSamples) {
  // Exponential(1) at n = 200: true rate e^-atol at atol = 9 (1.2e-4).
  for (double atol : {9.0}) {
    int covered = 0, tail = 0;
    for (std::uint64_t seed = 0; seed < 40; ++seed) {
      const FailureRate r = estimate_failure_rate(exponential_sample(200, 100 + seed), atol);
      const double truth = std::exp(-atol);
      if (r.method != "tail") continue;
      ++tail;
      covered += r.interval.lower <= truth && truth <= r.interval.upper ? 1 : 0;
    }
    EXPECT_GE(tail, 36);
    EXPECT_GE(covered, static_cast<int>(0.9 * tail)) << "atol " << atol;
  }
}

TEST(FailureRate, ZeroInflatedLatticeCountsTheIdenticalRuns) {
  constexpr double kUlp = 1.0 / 8388608.0;
  std::mt19937_64 rng(7);
  std::bernoulli_distribution identical(0.8);
  std::geometric_distribution<int> steps(0.3);
  std::vector<double> x(1000);
  for (double& v : x) v = identical(rng) ? 0.0 : (1 + steps(rng)) * kUlp;
  // P(X > k ulp) = 0.2 * 0.7^k; at k = 30 (beyond this sample's max): 4.5e-6.
  const double atol = 30 * kUlp;
  const FailureRate r = estimate_failure_rate(x, atol);
  ASSERT_EQ(r.method, "tail") << r.reason;
  const double truth = 0.2 * std::pow(0.7, 30);
  EXPECT_LE(r.interval.lower, truth);
  EXPECT_GE(r.interval.upper, truth);
  EXPECT_LT(r.interval.upper, 0.2);  // the identical runs are not failures
  // Within the range: 2 ulp fails about 0.2 * 0.49 = 9.8% of runs.
  const FailureRate inside = estimate_failure_rate(x, 2 * kUlp);
  EXPECT_EQ(inside.method, "counts");
  EXPECT_LT(inside.interval.lower, 0.098);
  EXPECT_GT(inside.interval.upper, 0.098);
}

TEST(FailureRate, ASeparateComponentBelowAtolKeepsItsWholeRateInTheUpperEnd) {
  // Rounding noise plus a failure mode seen 3 times at about 100; atol 110 passes every run, but
  // the component's own tail beyond 110 is unknown, so its rate stays in the interval.
  std::mt19937_64 rng(5);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> x(197);
  for (double& v : x) v = std::abs(z(rng));
  for (double v : {100.4, 101.2, 103.0}) x.push_back(v);
  const FailureRate r = estimate_failure_rate(x, 110);
  ASSERT_EQ(r.method, "tail") << r.reason;
  EXPECT_EQ(r.component_count, 3u);
  EXPECT_GE(r.interval.upper, estimate_rate(3, 200, 0.95).clopper_pearson.upper);
  EXPECT_LT(r.point, 1e-3);  // the rest's tail says little fails beyond 110
  EXPECT_NE(r.reason.find("separate component of 3 runs"), std::string::npos) << r.reason;
}

TEST(FailureRate, IdenticalRunsGiveZeroWithTheBinomialUpperBound) {
  const FailureRate r = estimate_failure_rate(std::vector<double>(100, 0.0), 0.0);
  EXPECT_EQ(r.method, "counts");
  EXPECT_EQ(r.point, 0);
  EXPECT_EQ(r.interval.lower, 0);
  EXPECT_NEAR(r.interval.upper, 1 - std::pow(0.025, 0.01), 1e-12);  // two-sided 95%
  EXPECT_EQ(r.reason, "no run changed");
  // The atol a pair needed at its rtol is zero within that rtol, whatever |a - e| was.
  FailureRateOptions within;
  within.zero_sample_is = "within rtol=1e-05 (no atol needed)";
  EXPECT_EQ(estimate_failure_rate(std::vector<double>(100, 0.0), 0.0, within).reason,
            "every run was within rtol=1e-05 (no atol needed)");
}

TEST(FailureRate, FewChangedRunsFallBackToCountsWithTheReason) {
  std::vector<double> x(200, 0.0);
  for (int i = 0; i < 5; ++i) x[i] = 1e-7 * (i + 1);
  const FailureRate r = estimate_failure_rate(x, 1e-6);
  EXPECT_EQ(r.method, "counts");
  EXPECT_EQ(r.failures, 0u);
  EXPECT_NE(r.reason.find("no tail model"), std::string::npos) << r.reason;
  EXPECT_GT(r.interval.upper, 0.01);
}

TEST(FailureRate, UncomparableRunsFailEveryAtolAndNegativeMarginsPass) {
  std::vector<double> x = exponential_sample(100, 3);
  x[0] = kInf;
  x[1] = -0.5;  // within rtol alone
  const FailureRate r = estimate_failure_rate(x, 1e6);
  EXPECT_EQ(r.method, "counts");
  EXPECT_EQ(r.failures, 1u);
  EXPECT_EQ(estimate_failure_rate({-1.0, -2.0, 0.0}, 0.0).failures, 0u);
}

TEST(FailureRate, BoundedTailBeyondTheEndpointIsNearZero) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> x(500);
  for (double& v : x) v = u(rng);
  const FailureRate r = estimate_failure_rate(x, 1.5);
  ASSERT_EQ(r.method, "tail") << r.reason;
  EXPECT_LT(r.point, 1e-6);
  EXPECT_LE(r.interval.lower, r.point);
  EXPECT_LT(r.interval.upper, 1e-3);
  // Just above the largest sample the endpoint is not significant: a positive upper end.
  const double top = *std::max_element(x.begin(), x.end());
  const FailureRate near = estimate_failure_rate(x, top + 1e-4);
  ASSERT_EQ(near.method, "tail") << near.reason;
  EXPECT_GT(near.interval.upper, 0);
}

TEST(FailureRate, BadInputThrows) {
  EXPECT_THROW(estimate_failure_rate({}, 1.0), InputError);
  EXPECT_THROW(estimate_failure_rate({1.0, std::nan("")}, 1.0), InputError);
  EXPECT_THROW(estimate_failure_rate({1.0}, -1.0), InputError);
  EXPECT_THROW(estimate_failure_rate({1.0}, std::nan("")), InputError);
  FailureRateOptions o;
  o.confidence = 1;
  EXPECT_THROW(estimate_failure_rate({1.0}, 1.0, o), InputError);
}

TEST(FailureRate, DescriptionAndJson) {
  std::vector<double> x(200, 0.0);
  for (int i = 0; i < 3; ++i) x[i] = 1.0;
  const FailureRate r = estimate_failure_rate(x, 0.5);
  EXPECT_EQ(describe_failure_rate(r), "fails an estimated 1.5% of runs, 95% CI [0.31%, 4.3%]");
  // Every run failing reads 100%, not 1e+02%.
  const FailureRate all = estimate_failure_rate(std::vector<double>(3, 1.0), 0.5);
  EXPECT_EQ(describe_failure_rate(all), "fails an estimated 100% of runs, 95% CI [29%, 100%]");
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["method"], "counts");
  EXPECT_EQ(j["failures"], 3);
  EXPECT_EQ(j["runs"], 200);
  EXPECT_DOUBLE_EQ(j["interval"][1].get<double>(), r.interval.upper);
}

// monai's focal loss: the deviation sits on two rounding levels of float32 (1.5 and 2 ulp of 1),
// the larger one on 19 of 30 runs. A tail fitted to the tied top values put 45% [26%, 67%] on
// an atol no run reached, which 0 of 30 failures refute (at most 11.6%, two-sided 95%).
TEST(FailureRate, ATailRefutedByTheCountsGivesWayToThem) {
  std::vector<double> needed;
  for (int i = 0; i < 30; ++i)
    needed.push_back(i < 11 ? 1.7881393432617188e-07 : 2.384185791015625e-07);
  const FailureRate r = estimate_failure_rate(needed, 2.5e-7);
  EXPECT_EQ(r.failures, 0u);
  EXPECT_EQ(r.method, "counts") << r.reason;
  EXPECT_EQ(r.point, 0.0);
  EXPECT_LE(r.interval.upper, 0.116);  // two-sided Clopper-Pearson of 0 of 30
  EXPECT_NE(r.reason.find("contradicts"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace flakescope::stats
