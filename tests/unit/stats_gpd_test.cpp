// GPD fit, goodness of fit and quantile bound on large seeded samples with known parameters.
#include "stats/gpd.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "flakescope/error.h"

namespace flakescope::stats {
namespace {

std::vector<double> gpd_sample(double shape, double scale, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<double> x(n);
  for (double& v : x) v = gpd_excess_quantile(1 - unit(rng), shape, scale);
  return x;
}

TEST(GpdDistribution, SurvivalAndQuantileAreInverse) {
  for (double shape : {-0.5, -1e-12, 0.0, 1e-12, 0.3}) {
    const double z = gpd_excess_quantile(1e-3, shape, 2.0);
    EXPECT_NEAR(gpd_survival(z, shape, 2.0), 1e-3, 1e-12) << shape;
  }
  // The exponential limit: P(X > x) = exp(-x / sigma).
  EXPECT_NEAR(gpd_excess_quantile(std::exp(-3.0), 0.0, 2.0), 6.0, 1e-12);
  EXPECT_NEAR(gpd_excess_quantile(std::exp(-3.0), 1e-12, 2.0), 6.0, 1e-9);
  // Beyond the endpoint sigma / |xi| of a light tail nothing exceeds.
  EXPECT_EQ(gpd_survival(2.5, -1.0, 2.0), 0.0);
}

// With 20000 excesses the standard errors are about 0.01 for the shape and 1.2% for the scale;
// the stated errors (0.04 and 4%) are more than three of them.
TEST(GpdFit, RecoversKnownParametersFromLargeSamples) {
  struct Case {
    double shape, scale;
  };
  for (const Case c : {Case{0.2, 2.0}, Case{-0.3, 1.0}, Case{0.5, 0.01}}) {
    const auto x = gpd_sample(c.shape, c.scale, 20000, 7);
    const GpdFit fit = fit_gpd(x);
    EXPECT_NEAR(fit.shape, c.shape, 0.04) << c.shape;
    EXPECT_NEAR(fit.scale / c.scale, 1.0, 0.04) << c.shape;
    EXPECT_FALSE(fit.exponential) << c.shape;
    EXPECT_EQ(fit.excesses, 20000u);
  }
}

TEST(GpdFit, ExponentialSpecialCase) {
  std::mt19937_64 rng(11);
  std::exponential_distribution<double> exponential(1 / 3.0);  // mean 3
  std::vector<double> x(20000);
  for (double& v : x) v = exponential(rng);
  const GpdFit fit = fit_gpd(x);
  EXPECT_NEAR(fit.shape, 0.0, 0.03);
  EXPECT_TRUE(fit.exponential);  // the shape is not significant
  EXPECT_NEAR(fit.exponential_scale / 3.0, 1.0, 0.03);
  // Restricted to shape >= 0 the fit stays valid.
  const GpdFit restricted = fit_gpd(x, 0.0);
  EXPECT_GE(restricted.shape, 0.0);
  EXPECT_LE(restricted.log_likelihood, fit.log_likelihood + 1e-9);
}

TEST(GpdFit, RejectsPathologicalExcesses) {
  EXPECT_THROW(fit_gpd({}), InputError);
  EXPECT_THROW(fit_gpd({1.0, 2.0}), InputError);
  EXPECT_THROW(fit_gpd({1.0, 2.0, -1.0}), InputError);
  EXPECT_THROW(fit_gpd({1.0, 2.0, std::nan("")}), InputError);
  EXPECT_THROW(fit_gpd({1.0, 2.0, INFINITY}), InputError);
  EXPECT_THROW(fit_gpd({1.0, 2.0, 3.0}, 0.5), InputError);  // min shape must be <= 0
}

// The model is scale-free, so deviations near the largest double (or the smallest normal) fit as
// the same data scaled to 1 do: the same shape, the scale and the bound scaled by the factor.
TEST(GpdFit, IsScaleFreeFromTheSmallestToTheLargestDoubles) {
  const std::vector<double> x = gpd_sample(0.2, 1.0, 300, 17);
  const GpdFit unit = fit_gpd(x);
  const double unit_bound = gpd_quantile_upper_bound(x, unit, 1e4, 0.95);
  for (double factor : {0x1p1000, 0x1p-1000}) {
    std::vector<double> y = x;
    for (double& v : y) v *= factor;
    const GpdFit fit = fit_gpd(y);
    // To the optimizer's precision (the fits run at scales 2^-4 apart).
    EXPECT_NEAR(fit.shape, unit.shape, 1e-6) << factor;
    EXPECT_NEAR(fit.scale / factor, unit.scale, 1e-6 * unit.scale) << factor;
    EXPECT_NEAR(anderson_darling_statistic(y, fit.shape, fit.scale),
                anderson_darling_statistic(x, unit.shape, unit.scale), 1e-6);
    EXPECT_NEAR(gpd_quantile_upper_bound(y, fit, 1e4, 0.95) / factor, unit_bound,
                1e-5 * unit_bound);
    const SurvivalInterval a = gpd_survival_interval(x, unit, 10.0, 0.95);
    const SurvivalInterval b = gpd_survival_interval(y, fit, 10.0 * factor, 0.95);
    EXPECT_NEAR(a.upper, b.upper, 1e-6) << factor;
  }
}

TEST(AndersonDarling, AcceptsTheTrueModelAndRejectsAWrongOne) {
  const auto x = gpd_sample(0.1, 1.0, 200, 3);
  const GpdFit fit = fit_gpd(x);
  const double critical = anderson_darling_critical_value(fit.shape);
  EXPECT_GT(critical, 0.3);  // the measured 5% points are near 0.7 for small shapes
  EXPECT_LT(critical, 1.5);
  EXPECT_LT(anderson_darling_statistic(x, fit.shape, fit.scale), critical);
  // Two far-apart clusters are no GPD.
  std::vector<double> bimodal;
  for (int i = 0; i < 100; ++i) bimodal.push_back(1.0 + 0.001 * i);
  for (int i = 0; i < 100; ++i) bimodal.push_back(50.0 + 0.001 * i);
  const GpdFit bad = fit_gpd(bimodal);
  EXPECT_GT(anderson_darling_statistic(bimodal, bad.shape, bad.scale),
            anderson_darling_critical_value(bad.shape));
}

// The stored table is exactly what its seeded simulation produces (on this platform's libm; the
// tolerance allows for another's last-bit differences in log1p/exp).
TEST(AndersonDarling, StoredTableEqualsTheSimulation) {
  const auto simulated = simulate_anderson_darling_critical_values();
  for (std::size_t i = 0; i < simulated.size(); ++i)
    EXPECT_NEAR(anderson_darling_critical_value(kAndersonDarlingShapes[i]), simulated[i], 1e-9)
        << "shape " << kAndersonDarlingShapes[i];
}

TEST(GpdQuantileBound, LiesAboveTheEstimateAndShrinksWithData) {
  const double ratio = 1000;
  double previous_width = INFINITY;
  for (std::size_t n : {50, 500, 5000}) {
    const auto x = gpd_sample(0.0, 1.0, n, 5);
    const GpdFit fit = fit_gpd(x);
    const double estimate = gpd_excess_quantile(1 / ratio, fit.shape, fit.scale);
    const double upper = gpd_quantile_upper_bound(x, fit, ratio, 0.95);
    EXPECT_GT(upper, estimate) << n;
    EXPECT_LT(upper - estimate, previous_width) << n;
    previous_width = upper - estimate;
  }
  // With 5000 exponential excesses the bound is near the true quantile log(1000) = 6.9.
  const auto x = gpd_sample(0.0, 1.0, 5000, 5);
  const double upper = gpd_quantile_upper_bound(x, fit_gpd(x), ratio, 0.95);
  EXPECT_GT(upper, std::log(ratio) * 0.95);
  EXPECT_LT(upper, std::log(ratio) * 1.5);
  EXPECT_THROW(gpd_quantile_upper_bound(x, fit_gpd(x), 0.5, 0.95), InputError);
}

}  // namespace
}  // namespace flakescope::stats
