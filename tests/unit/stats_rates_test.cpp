// Pass/fail rate intervals against published values and hand-computed cases.
#include "stats/rates.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "flakescope/error.h"

namespace flakescope::stats {
namespace {

// Published 95% intervals (Newcombe 1998, Stat Med 17:857, Table I; and the exact closed form
// 1 - 0.025^(1/n) for zero failures).
TEST(EstimateRate, ClopperPearsonMatchesPublishedValues) {
  auto e = estimate_rate(0, 10);
  EXPECT_DOUBLE_EQ(e.clopper_pearson.lower, 0);
  EXPECT_NEAR(e.clopper_pearson.upper, 0.3085, 1e-4);
  e = estimate_rate(1, 10);
  EXPECT_NEAR(e.clopper_pearson.lower, 0.0025, 1e-4);
  EXPECT_NEAR(e.clopper_pearson.upper, 0.4450, 1e-4);
  e = estimate_rate(5, 20);
  EXPECT_NEAR(e.clopper_pearson.lower, 0.0866, 1e-4);
  EXPECT_NEAR(e.clopper_pearson.upper, 0.4910, 1e-4);
  e = estimate_rate(0, 100);
  EXPECT_NEAR(e.clopper_pearson.upper, 1 - std::pow(0.025, 0.01), 1e-12);
  EXPECT_NEAR(e.clopper_pearson.upper, 0.0362, 1e-4);
}

TEST(EstimateRate, WilsonMatchesPublishedValues) {
  auto e = estimate_rate(0, 10);
  EXPECT_DOUBLE_EQ(e.wilson.lower, 0);
  EXPECT_NEAR(e.wilson.upper, 0.2775, 1e-4);
  e = estimate_rate(1, 10);
  EXPECT_NEAR(e.wilson.lower, 0.0179, 1e-4);
  EXPECT_NEAR(e.wilson.upper, 0.4042, 1e-4);
  e = estimate_rate(5, 20);
  EXPECT_NEAR(e.wilson.lower, 0.1119, 1e-4);
  EXPECT_NEAR(e.wilson.upper, 0.4687, 1e-4);
  e = estimate_rate(0, 100);
  EXPECT_NEAR(e.wilson.upper, 0.0370, 1e-4);
}

TEST(EstimateRate, JeffreysAndOneSidedBounds) {
  auto e = estimate_rate(0, 100);
  EXPECT_DOUBLE_EQ(e.point, 0);
  EXPECT_DOUBLE_EQ(e.jeffreys.lower, 0);
  // Zero failures: the one-sided bound has the closed form 1 - alpha^(1/n), about 3/n.
  EXPECT_NEAR(e.upper_one_sided, 1 - std::pow(0.05, 0.01), 1e-12);
  EXPECT_NEAR(e.upper_one_sided, 0.0295, 1e-4);
  e = estimate_rate(5, 20);
  EXPECT_DOUBLE_EQ(e.point, 0.25);
  // Jeffreys is narrower than Clopper-Pearson and contains the point estimate.
  EXPECT_GT(e.jeffreys.lower, e.clopper_pearson.lower);
  EXPECT_LT(e.jeffreys.upper, e.clopper_pearson.upper);
  EXPECT_LT(e.jeffreys.lower, 0.25);
  EXPECT_GT(e.jeffreys.upper, 0.25);
  // The one-sided 95% bound sits below the two-sided 95% upper bound.
  EXPECT_LT(e.upper_one_sided, e.clopper_pearson.upper);
  e = estimate_rate(10, 10);
  EXPECT_DOUBLE_EQ(e.clopper_pearson.upper, 1);
  EXPECT_DOUBLE_EQ(e.upper_one_sided, 1);
  EXPECT_NEAR(e.clopper_pearson.lower, std::pow(0.025, 0.1), 1e-12);
}

TEST(EstimateRate, NoTrialsGivesTheWholeInterval) {
  const auto e = estimate_rate(0, 0);
  EXPECT_DOUBLE_EQ(e.upper_one_sided, 1);
  EXPECT_DOUBLE_EQ(e.wilson.upper, 1);
  EXPECT_DOUBLE_EQ(e.clopper_pearson.lower, 0);
}

TEST(EstimateRate, RejectsBadInput) {
  EXPECT_THROW(estimate_rate(11, 10), InputError);
  EXPECT_THROW(estimate_rate(1, 10, 1.0), InputError);
  EXPECT_THROW(estimate_rate(1, 10, 0.0), InputError);
  EXPECT_THROW(estimate_rate(1, 10, std::nan("")), InputError);
}

TEST(RunsToCertify, HandComputed) {
  // ln(0.05) / ln(1 - 0.01) = 298.07 -> 299 runs without a failure certify 1% at 95%.
  EXPECT_EQ(runs_to_certify(0.01, 0.95), 299u);
  // ln(0.05) / ln(1 - 1e-4) = 29955.8 -> 29956.
  EXPECT_EQ(runs_to_certify(1e-4, 0.95), 29956u);
  // ln(0.01) / ln(0.5) = 6.64 -> 7.
  EXPECT_EQ(runs_to_certify(0.5, 0.99), 7u);
  EXPECT_THROW(runs_to_certify(0, 0.95), InputError);
  EXPECT_THROW(runs_to_certify(0.1, 1.5), InputError);
}

TEST(RetriesNeeded, HandComputed) {
  // 0.1^(k+1) <= 1e-4 -> k + 1 = 4.
  EXPECT_EQ(retries_needed(0.1, 1e-4), 3u);
  // 0.031^(k+1) <= 1e-4: 0.031^2 = 9.6e-4, 0.031^3 = 2.98e-5 -> k = 2.
  EXPECT_EQ(retries_needed(0.031, 1e-4), 2u);
  // 0.5^(k+1) <= 1e-3: 2^-10 = 9.77e-4 -> k = 9.
  EXPECT_EQ(retries_needed(0.5, 1e-3), 9u);
  EXPECT_EQ(retries_needed(1e-5, 1e-4), 0u);
  EXPECT_EQ(retries_needed(0, 1e-4), 0u);
  EXPECT_EQ(retries_needed(1, 1e-4), std::numeric_limits<std::size_t>::max());
  EXPECT_THROW(retries_needed(-0.1, 1e-4), InputError);
  EXPECT_THROW(retries_needed(0.1, 0), InputError);
}

}  // namespace
}  // namespace flakescope::stats
