// The gate's two-sample tests against hand-computed values.
#include "report/gate_statistics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace flakescope::report {
namespace {

TEST(FisherGreater, MatchesHypergeometricTailsComputedByHand) {
  // 0/8 baseline vs 6/8 current: P(X >= 6), X ~ HG(N=16, K=6, n=8) = C(6,6)C(10,2)/C(16,8).
  EXPECT_NEAR(fisher_greater_p(0, 8, 6, 8), 45.0 / 12870.0, 1e-12);
  // 1/2 vs 1/2: P(X >= 1), X ~ HG(4, 2, 2) = 5/6.
  EXPECT_NEAR(fisher_greater_p(1, 2, 1, 2), 5.0 / 6.0, 1e-12);
  EXPECT_NEAR(fisher_greater_p(3, 10, 0, 10), 1.0, 1e-12);
  EXPECT_EQ(fisher_greater_p(0, 0, 3, 10), 1.0);
}

TEST(MannWhitneyGreater, SeparatedSamplesAreSignificantTiesAreNot) {
  std::vector<double> low, high;
  for (int i = 0; i < 20; ++i) low.push_back(i), high.push_back(100 + i);
  EXPECT_LT(mann_whitney_greater_p(low, high), 1e-6);
  EXPECT_GT(mann_whitney_greater_p(high, low), 0.999);
  EXPECT_EQ(mann_whitney_greater_p(std::vector<double>(10, 0), std::vector<double>(10, 0)), 1.0);
  EXPECT_EQ(mann_whitney_greater_p({}, high), 1.0);
}

TEST(MannWhitneyGreater, NormalApproximationMatchesHandComputation) {
  // x = {1,2,3}, y = {4,5,6,7}: U_y = 12, mean 6, var = 3*4*8/12 = 8; z = (12-6-0.5)/sqrt(8).
  const double z = 5.5 / std::sqrt(8.0);
  EXPECT_NEAR(mann_whitney_greater_p({1, 2, 3}, {4, 5, 6, 7}), 0.5 * std::erfc(z / std::sqrt(2.0)),
              1e-12);
}

}  // namespace
}  // namespace flakescope::report
