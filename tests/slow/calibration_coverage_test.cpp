// Slow tier: the coverage of the tail bound on light-tailed samples does not regress. A reduced
// version of bench/calibration_study (300 seeded repetitions instead of 1000, two distributions);
// the full table is reports/calibration/calibration.md.
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "stats/tail_bound.h"

namespace flakescope::stats {
namespace {

constexpr double kTarget = 1e-4;

struct Coverage {
  int claimed = 0, covered = 0;
};

template <typename Draw, typename Survival>
Coverage measure(std::size_t n, Draw draw, Survival survival) {
  Coverage c;
  for (std::uint64_t rep = 0; rep < 300; ++rep) {
    std::mt19937_64 rng(1000 + rep);
    std::vector<double> x(n);
    for (double& v : x) v = draw(rng);
    TailOptions o;
    o.seed = rep;
    const TailBound b = bound_tail_quantile(x, o);
    if (!b.has_bound) continue;
    ++c.claimed;
    c.covered += survival(b.bound) <= kTarget ? 1 : 0;
  }
  return c;
}

// 0.90: the goal is 0.95; with 300 repetitions the standard error is 0.013, so 0.90 flags a real
// regression and not noise. The committed study measured 0.95 or more for these rows.
TEST(CalibrationCoverage, ExponentialAtN200) {
  const Coverage c = measure(
      200, [](std::mt19937_64& g) { return std::exponential_distribution<double>(1)(g); },
      [](double x) { return std::exp(-x); });
  EXPECT_GE(c.claimed, 285);
  EXPECT_GE(double(c.covered) / c.claimed, 0.90);
}

TEST(CalibrationCoverage, AbsNormalAtN200) {
  const Coverage c = measure(
      200, [](std::mt19937_64& g) { return std::abs(std::normal_distribution<double>(0, 1)(g)); },
      [](double x) { return std::erfc(x / std::sqrt(2.0)); });
  EXPECT_GE(c.claimed, 285);
  EXPECT_GE(double(c.covered) / c.claimed, 0.90);
}

}  // namespace
}  // namespace flakescope::stats
