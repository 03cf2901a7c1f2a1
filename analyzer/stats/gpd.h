#pragma once
// The generalized Pareto distribution (GPD) for peaks over a threshold: maximum-likelihood fit,
// an Anderson-Darling goodness-of-fit check, and a profile-likelihood upper confidence bound on a
// tail quantile. LibTorch-free.
//
// Parametrization: excess x >= 0, shape xi, scale sigma > 0,
//   P(X > x) = (1 + xi x / sigma)^(-1/xi)     (xi != 0),   exp(-x / sigma)   (xi == 0).
// The shape is restricted to [kMinShape, kMaxShape] = [-1, 1]: below -1 the likelihood is
// unbounded, above 1 the mean is infinite, which no floating-point deviation we model has.
#include <array>
#include <cstdint>
#include <vector>

namespace flakescope::stats {

inline constexpr double kMinShape = -1.0;
inline constexpr double kMaxShape = 1.0;

struct GpdFit {
  double shape = 0;
  double scale = 1;
  double log_likelihood = 0;
  std::size_t excesses = 0;
  // Shape not significantly different from 0 (likelihood-ratio test at 5%): the exponential tail.
  bool exponential = false;
  double exponential_scale = 1;  // the MLE of the exponential fit (the mean excess)
};

// P(X > x) and the quantile with P(X > z) = exceed_probability. Numerically stable as xi -> 0.
double gpd_survival(double x, double shape, double scale);
double gpd_excess_quantile(double exceed_probability, double shape, double scale);
double gpd_log_likelihood(const std::vector<double>& excesses, double shape, double scale);

// Maximum likelihood by Grimshaw's reduction to a one-dimensional search over theta = xi / sigma,
// with the shape restricted to [min_shape, max_shape] (min_shape in [kMinShape, 0], max_shape in
// [0, kMaxShape]; max_shape 0 is the light-tail assumption).
// Needs at least 3 positive, finite excesses (throws InputError otherwise).
GpdFit fit_gpd(const std::vector<double>& excesses, double min_shape = kMinShape,
               double max_shape = kMaxShape);

// Anderson-Darling A^2 of the excesses against the fitted GPD.
double anderson_darling_statistic(const std::vector<double>& excesses, double shape, double scale);

// The upper 5% point of A^2 when both parameters are estimated, for a fitted shape: a table from
// a seeded Monte Carlo simulation (400 samples of 50 excesses on a grid of shapes), interpolated;
// the dependence on the sample size is weak (Choulakian and Stephens 2001).
double anderson_darling_critical_value(double shape);

// The shapes of that table and the simulation that produced its values. The table is stored as
// constants because running the simulation took ~0.12 s at every process start (2,800 GPD fits),
// which every `tolerance` and `audit --capture` paid; a unit test reruns it and compares.
inline constexpr std::array<double, 7> kAndersonDarlingShapes = {-0.75, -0.5, -0.25, 0.0,
                                                                 0.25,  0.5,  0.75};
std::array<double, 7> simulate_anderson_darling_critical_values();

// One-sided upper confidence bound on the excess quantile z with P(X > z) = 1 / ratio (ratio > 1),
// by profile likelihood: the largest z whose profile log-likelihood (maximized over the shape in
// [min_shape, kMaxShape]) is within chi2_1(1 - 2 alpha) / 2 of the maximum. `fit` must be the fit
// under the same restriction. Returns +inf when the profile does not drop that far (no finite
// bound is supported by the data).
double gpd_quantile_upper_bound(const std::vector<double>& excesses, const GpdFit& fit,
                                double ratio, double confidence, double min_shape = kMinShape,
                                double max_shape = kMaxShape);

// Two-sided profile-likelihood interval, at `confidence`, for the survival s = P(X > z) of the
// excess distribution at z > 0: the set of s whose profile log-likelihood (maximized over the
// shape in [min_shape, kMaxShape], the scale following from s and z) is within chi2_1(confidence)
// / 2 of the maximum. `fit` must be the fit under the same restriction. The lower end is 0 when
// the data allow a finite endpoint below z; an end below 1e-300 is reported as 0.
struct SurvivalInterval {
  double lower = 0;
  double upper = 1;
};
SurvivalInterval gpd_survival_interval(const std::vector<double>& excesses, const GpdFit& fit,
                                       double z, double confidence, double min_shape = kMinShape,
                                       double max_shape = kMaxShape);

}  // namespace flakescope::stats
