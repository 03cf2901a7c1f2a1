// The two-sample tests of the gate, the ablation and the test matrix against hand-computed values.
#include "stats/two_sample.h"

#include <gtest/gtest.h>

#include <cmath>

namespace flakescope::stats {
namespace {

TEST(FisherGreater, MatchesHypergeometricTailsComputedByHand) {
  // 0/8 baseline vs 6/8 current: P(X >= 6), X ~ HG(N=16, K=6, n=8) = C(6,6)C(10,2)/C(16,8).
  EXPECT_NEAR(fisher_greater_p(0, 8, 6, 8), 45.0 / 12870.0, 1e-12);
  // 1/2 vs 1/2: P(X >= 1), X ~ HG(4, 2, 2) = 5/6.
  EXPECT_NEAR(fisher_greater_p(1, 2, 1, 2), 5.0 / 6.0, 1e-12);
  EXPECT_NEAR(fisher_greater_p(3, 10, 0, 10), 1.0, 1e-12);
  EXPECT_EQ(fisher_greater_p(0, 0, 3, 10), 1.0);
}

TEST(HypergeometricUpperTail, TheAblationReadingMatchesHandComputation) {
  // 6 of 8 fail in one group, 0 of 8 in the other: the 6 failures drawn from the 16 runs, all among
  // the group's 8: C(8,6) / C(16,6) = 28 / 8008.
  EXPECT_NEAR(hypergeometric_upper_tail(6, 8, 6, 16), 28.0 / 8008.0, 1e-12);
  EXPECT_NEAR(hypergeometric_upper_tail(0, 8, 0, 16), 1.0, 1e-12);
  EXPECT_NEAR(hypergeometric_upper_tail(1, 2, 2, 4), 5.0 / 6.0, 1e-12);  // P(X>=1), X~HG(4,2,2)
}

TEST(HypergeometricUpperTail, BothReadingsOfATableGiveTheSamePValue) {
  // a of n1 against b of n2: the failures drawn among the runs (the ablation) or the current runs
  // drawn among the failures (the gate).
  for (std::size_t n1 : {1, 7, 30})
    for (std::size_t n2 : {1, 5, 40})
      for (std::size_t a = 0; a <= n1; ++a)
        for (std::size_t b = 0; b <= n2; ++b)
          EXPECT_NEAR(hypergeometric_upper_tail(a, n1, a + b, n1 + n2),
                      fisher_greater_p(b, n2, a, n1), 1e-12)
              << a << "/" << n1 << " vs " << b << "/" << n2;
}

TEST(FisherTwoSided, KnownValues) {
  // Fisher's tea-tasting table [[3, 1], [1, 3]]: two-sided p = 34/70.
  EXPECT_NEAR(fisher_exact_two_sided(3, 4, 1, 4), 0.4857142857142857, 1e-12);
  // 0 of 40 against 8 of 40 (reference: exact enumeration with integer binomials).
  EXPECT_NEAR(fisher_exact_two_sided(0, 40, 8, 40), 0.005306051673313682, 1e-10);
  EXPECT_DOUBLE_EQ(fisher_exact_two_sided(2, 100, 3, 100), 1.0);
  EXPECT_DOUBLE_EQ(fisher_exact_two_sided(0, 10, 0, 10), 1.0);
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
}  // namespace flakescope::stats
