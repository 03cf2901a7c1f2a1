// Generalized Pareto fit, goodness of fit and quantile bound (see analyzer/stats/gpd.h).
#include "stats/gpd.h"

#include <algorithm>
#include <array>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/tools/minima.hpp>
#include <boost/math/tools/roots.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "flakescope/error.h"

namespace flakescope::stats {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kShapeZero = 1e-9;  // below this |xi| the exponential formulas are used

// log(1 + xi x / sigma) / xi, which tends to x / sigma as xi -> 0.
double log1p_over_shape(double x, double shape, double scale) {
  const double t = shape * x / scale;
  if (std::abs(shape) < kShapeZero) return x / scale;
  return std::log1p(t) / shape;
}

// Grimshaw's profile: for theta = xi / sigma the MLE of xi is mean(log(1 + theta x)).
struct ThetaPoint {
  double shape = 0;
  double scale = 0;
  double log_likelihood = -kInf;
};

ThetaPoint profile_theta(const std::vector<double>& x, double theta, double min_shape,
                         double max_shape = kMaxShape) {
  const double k = static_cast<double>(x.size());
  ThetaPoint p;
  if (std::abs(theta) < 1e-300) {
    double sum = 0;
    for (double v : x) sum += v;
    p.shape = 0;
    p.scale = sum / k;
    p.log_likelihood = -k * std::log(p.scale) - k;
    return p;
  }
  double sum = 0;
  for (double v : x) {
    const double t = theta * v;
    if (!(t > -1)) return p;
    sum += std::log1p(t);
  }
  p.shape = sum / k;
  if (p.shape == 0) return p;
  p.scale = p.shape / theta;
  if (!(p.scale > 0) || p.shape < min_shape || p.shape > max_shape) return p;
  p.log_likelihood = -k * std::log(p.scale) - k * p.shape - k;
  return p;
}

double chi2_critical(double confidence) {
  // One-sided upper bound at `confidence` from a two-sided likelihood-ratio interval at 1 - 2
  // alpha.
  const double two_sided = 1 - 2 * (1 - confidence);
  return boost::math::quantile(boost::math::chi_squared(1), two_sided);
}

}  // namespace

double gpd_survival(double x, double shape, double scale) {
  if (x <= 0) return 1;
  if (std::abs(shape) < kShapeZero) return std::exp(-x / scale);
  const double t = 1 + shape * x / scale;
  if (t <= 0) return 0;  // beyond the finite endpoint of a light (xi < 0) tail
  return std::exp(-std::log(t) / shape);
}

double gpd_excess_quantile(double exceed_probability, double shape, double scale) {
  // z = sigma / xi * (p^-xi - 1) = sigma * expm1(-xi log p) / xi.
  const double log_p = std::log(exceed_probability);
  if (std::abs(shape) < kShapeZero) return -scale * log_p;
  return scale * std::expm1(-shape * log_p) / shape;
}

static double log_likelihood_unscaled(const std::vector<double>& excesses, double shape,
                                      double scale) {
  if (!(scale > 0)) return -kInf;
  const double k = static_cast<double>(excesses.size());
  double sum = 0;
  for (double x : excesses) {
    if (1 + shape * x / scale <= 0) return -kInf;
    sum += log1p_over_shape(x, shape, scale);
  }
  // -k log sigma - (1 + 1/xi) sum log(1 + xi x / sigma) = -k log sigma - (xi + 1) * sum/xi-term.
  return -k * std::log(scale) - (shape + 1) * sum;
}

static GpdFit fit_unscaled(const std::vector<double>& excesses, double min_shape,
                           double max_shape) {
  if (!(min_shape >= kMinShape && min_shape <= 0))
    throw InputError("GPD: minimum shape out of range");
  if (!(max_shape >= 0 && max_shape <= kMaxShape)) {
    throw InputError("GPD: maximum shape out of range");
  }
  if (excesses.size() < 3) throw InputError("GPD fit needs at least 3 excesses");
  double max_x = 0;
  for (double x : excesses) {
    if (!std::isfinite(x) || x <= 0) throw InputError("GPD excesses must be finite and positive");
    max_x = std::max(max_x, x);
  }
  // Grid over v = theta * max_x in (-1, inf), then a Brent refinement around the best grid point.
  std::vector<double> grid;
  for (int j = 40; j >= 1; --j) grid.push_back(-(1 - std::pow(10.0, -j / 4.0)));
  grid.push_back(0);
  for (int j = 0; j <= 44; ++j) grid.push_back(std::pow(10.0, j / 4.0 - 6));
  std::size_t best = 0;
  double best_ll = -kInf;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const double ll = profile_theta(excesses, grid[i] / max_x, min_shape, max_shape).log_likelihood;
    if (ll > best_ll) best_ll = ll, best = i;
  }
  if (!std::isfinite(best_ll)) throw InputError("GPD fit failed: no admissible shape in [-1, 1]");
  double v_best = grid[best];
  const double lo = grid[best == 0 ? 0 : best - 1];
  const double hi = grid[std::min(best + 1, grid.size() - 1)];
  if (hi > lo) {
    const auto neg_ll = [&](double v) {
      const double ll = profile_theta(excesses, v / max_x, min_shape, max_shape).log_likelihood;
      return std::isfinite(ll) ? -ll : std::numeric_limits<double>::max();
    };
    const auto refined = boost::math::tools::brent_find_minima(neg_ll, lo, hi, 40);
    if (-refined.second > best_ll) v_best = refined.first;
  }
  const ThetaPoint p = profile_theta(excesses, v_best / max_x, min_shape, max_shape);
  GpdFit fit;
  fit.shape = p.shape;
  fit.scale = p.scale;
  fit.log_likelihood = p.log_likelihood;
  fit.excesses = excesses.size();
  const ThetaPoint exp_fit = profile_theta(excesses, 0, min_shape);
  fit.exponential_scale = exp_fit.scale;
  fit.exponential = 2 * (fit.log_likelihood - exp_fit.log_likelihood) <
                    boost::math::quantile(boost::math::chi_squared(1), 0.95);
  return fit;
}

static double anderson_darling_unscaled(const std::vector<double>& excesses, double shape,
                                        double scale) {
  std::vector<double> cdf;
  cdf.reserve(excesses.size());
  for (double x : excesses) {
    cdf.push_back(std::clamp(1 - gpd_survival(x, shape, scale), 1e-300, 1 - 1e-16));
  }
  std::sort(cdf.begin(), cdf.end());
  const double k = static_cast<double>(cdf.size());
  double sum = 0;
  for (std::size_t i = 0; i < cdf.size(); ++i) {
    const double weight = 2.0 * static_cast<double>(i) + 1;
    sum += weight * (std::log(cdf[i]) + std::log1p(-cdf[cdf.size() - 1 - i]));
  }
  return -k - sum / k;
}

std::array<double, 7> simulate_anderson_darling_critical_values() {
  std::array<double, 7> critical{};
  std::mt19937_64 rng(20261125);
  std::uniform_real_distribution<double> uniform(0, 1);
  constexpr int kSamples = 400;
  constexpr int kExcesses = 50;
  for (std::size_t s = 0; s < kAndersonDarlingShapes.size(); ++s) {
    std::vector<double> stats;
    std::vector<double> x(kExcesses);
    for (int r = 0; r < kSamples; ++r) {
      for (double& v : x) v = gpd_excess_quantile(1 - uniform(rng), kAndersonDarlingShapes[s], 1.0);
      for (double& v : x) v = std::max(v, 1e-300);
      const GpdFit fit = fit_gpd(x);
      stats.push_back(anderson_darling_statistic(x, fit.shape, fit.scale));
    }
    std::sort(stats.begin(), stats.end());
    critical[s] = stats[static_cast<std::size_t>(0.95 * kSamples)];
  }
  return critical;
}

double anderson_darling_critical_value(double shape) {
  const auto& kShapes = kAndersonDarlingShapes;
  // simulate_anderson_darling_critical_values(), stored (see the header).
  static constexpr std::array<double, 7> kCritical = {
      1.3787671833938049,  1.3323739080408998,  1.1799985935724848, 1.0376781831461273,
      0.89342515279901846, 0.77361190196815244, 0.90003843424396734};
  if (shape <= kShapes.front()) return kCritical.front();
  if (shape >= kShapes.back()) return kCritical.back();
  for (std::size_t s = 1; s < kShapes.size(); ++s) {
    if (shape <= kShapes[s]) {
      const double w = (shape - kShapes[s - 1]) / (kShapes[s] - kShapes[s - 1]);
      return (1 - w) * kCritical[s - 1] + w * kCritical[s];
    }
  }
  return kCritical.back();
}

namespace {

// Profile log-likelihood of the excess quantile z at P(X > z) = 1 / ratio: the shape is free, the
// scale follows from z, sigma = z xi / (ratio^xi - 1).
double profile_quantile(const std::vector<double>& x, double z, double log_ratio, double min_shape,
                        double max_shape) {
  const auto ll_at = [&](double shape) {
    const double scale =
        std::abs(shape) < kShapeZero ? z / log_ratio : z * shape / std::expm1(shape * log_ratio);
    return log_likelihood_unscaled(x, shape, scale);
  };
  if (max_shape <= min_shape) return ll_at(min_shape);  // the shape is fixed
  constexpr int kGrid = 41;
  double best_shape = 0, best_ll = -kInf;
  for (int i = 0; i < kGrid; ++i) {
    const double shape = min_shape + (max_shape - min_shape) * i / (kGrid - 1);
    const double ll = ll_at(shape);
    if (ll > best_ll) best_ll = ll, best_shape = shape;
  }
  if (!std::isfinite(best_ll)) return -kInf;
  const double step = (max_shape - min_shape) / (kGrid - 1);
  const double lo = std::max(min_shape, best_shape - step);
  const double hi = std::min(max_shape, best_shape + step);
  const auto neg = [&](double shape) {
    const double ll = ll_at(shape);
    return std::isfinite(ll) ? -ll : std::numeric_limits<double>::max();
  };
  const auto refined = boost::math::tools::brent_find_minima(neg, lo, hi, 30);
  return std::max(best_ll, -refined.second);
}

}  // namespace

static double quantile_upper_bound_unscaled(const std::vector<double>& excesses, const GpdFit& fit,
                                            double ratio, double confidence, double min_shape,
                                            double max_shape) {
  if (!(ratio > 1)) throw InputError("quantile bound needs an exceedance ratio above 1");
  if (!(confidence > 0.5 && confidence < 1)) {
    throw InputError("quantile bound needs a confidence in (0.5, 1)");
  }
  const double log_ratio = std::log(ratio);
  const double z_hat = gpd_excess_quantile(1 / ratio, fit.shape, fit.scale);
  const double ll_max = std::max(
      fit.log_likelihood, profile_quantile(excesses, z_hat, log_ratio, min_shape, max_shape));
  const double drop = chi2_critical(confidence) / 2;
  const auto excess_drop = [&](double z) {
    return ll_max - profile_quantile(excesses, z, log_ratio, min_shape, max_shape) - drop;
  };
  double lo = z_hat, hi = z_hat;
  for (int i = 0;; ++i) {
    if (i == 80) return kInf;
    hi = lo * 1.5;
    if (excess_drop(hi) > 0) break;
    lo = hi;
  }
  boost::uintmax_t iterations = 60;
  const auto bracket = boost::math::tools::bisect(
      excess_drop, lo, hi, boost::math::tools::eps_tolerance<double>(30), iterations);
  return bracket.second;  // the upper end: rounding never lowers the bound
}

static SurvivalInterval survival_interval_unscaled(const std::vector<double>& excesses,
                                                   const GpdFit& fit, double z, double confidence,
                                                   double min_shape, double max_shape) {
  if (!(z > 0) || !std::isfinite(z)) throw InputError("survival interval needs an excess z > 0");
  if (!(confidence > 0 && confidence < 1)) {
    throw InputError("survival interval needs a confidence in (0, 1)");
  }
  // Work in t = -log s (the log of the ratio of profile_quantile): s = P(X > z) fixed at e^-t.
  constexpr double kTMax = 690;  // s = e^-690 ~ 1e-300
  const double drop = boost::math::quantile(boost::math::chi_squared(1), confidence) / 2;
  const auto ll_at = [&](double t) {
    return profile_quantile(excesses, z, t, min_shape, max_shape);
  };
  // The restricted MLE is the profile's maximum; its s locates it (s = 0: beyond a finite
  // endpoint, the profile peaks at the smallest s considered).
  const double s_hat = gpd_survival(z, fit.shape, fit.scale);
  const double best_t = std::clamp(s_hat > 0 ? -std::log(s_hat) : kTMax, 1e-12, kTMax);
  const double ll_max = std::max(fit.log_likelihood, ll_at(best_t));
  if (!std::isfinite(ll_max)) throw InputError("survival interval: the profile is not finite");
  const auto outside = [&](double t) { return ll_max - ll_at(t) - drop > 0; };
  // Beyond a significant endpoint even the smallest positive s is rejected: the interval is {0}.
  if (outside(best_t)) return SurvivalInterval{0, 0};
  // The end of the interval between an inside point and an outside point, by bisection in log t.
  const auto edge = [&](double inside, double out) {
    for (int i = 0; i < 30; ++i) {
      const double mid = std::sqrt(inside * out);
      (outside(mid) ? out : inside) = mid;
    }
    return out;  // the outer end: the interval never shrinks by rounding
  };
  SurvivalInterval interval;
  // Upper end of s = small t. Walk down from the best point until the profile drops enough.
  double inside = best_t;
  interval.upper = 1;
  for (double t = best_t / 2; t > 1e-12; t /= 2) {
    if (outside(t)) {
      interval.upper = std::exp(-edge(inside, t));
      break;
    }
    inside = t;
  }
  // Lower end of s = large t.
  inside = best_t;
  interval.lower = 0;
  for (double t = best_t * 1.5; t <= kTMax; t *= 1.5) {
    if (outside(t)) {
      interval.lower = std::exp(-edge(inside, t));
      break;
    }
    inside = t;
  }
  if (interval.lower < 1e-300) interval.lower = 0;
  return interval;
}

// ---- the public entry points: rescaled by a power of two first ----
// Deviations near the largest double overflow the fit's intermediate sums (x^2, theta * x), and
// ones near the smallest normals lose precision, although the model is scale-free: the excesses
// are multiplied by 2^-e (exact) so that the largest is in [1, 2), fitted, and the results that
// carry units are scaled back. The shape, the GoF statistic and the probabilities do not change.
namespace {

struct Rescaled {
  std::vector<double> x;
  double factor = 1;  // x = excesses * factor
};

Rescaled rescaled(const std::vector<double>& excesses) {
  Rescaled r;
  double max_x = 0;
  for (double v : excesses)
    if (std::isfinite(v)) max_x = std::max(max_x, v);
  if (max_x > 0 && (max_x > 0x1p100 || max_x < 0x1p-100))
    r.factor = std::ldexp(1.0, -std::ilogb(max_x));
  if (r.factor == 1) return r;
  r.x.reserve(excesses.size());
  for (double v : excesses) r.x.push_back(v * r.factor);
  return r;
}

GpdFit scaled_fit(GpdFit fit, double factor) {
  fit.scale *= factor;
  fit.exponential_scale *= factor;
  fit.log_likelihood -= static_cast<double>(fit.excesses) * std::log(factor);
  return fit;
}

}  // namespace

double gpd_log_likelihood(const std::vector<double>& excesses, double shape, double scale) {
  const Rescaled r = rescaled(excesses);
  if (r.factor == 1) return log_likelihood_unscaled(excesses, shape, scale);
  // log f_X(x) = log f_Y(x * factor) + log factor, per excess.
  return log_likelihood_unscaled(r.x, shape, scale * r.factor) +
         static_cast<double>(excesses.size()) * std::log(r.factor);
}

GpdFit fit_gpd(const std::vector<double>& excesses, double min_shape, double max_shape) {
  const Rescaled r = rescaled(excesses);
  if (r.factor == 1) return fit_unscaled(excesses, min_shape, max_shape);
  return scaled_fit(fit_unscaled(r.x, min_shape, max_shape), 1 / r.factor);
}

double anderson_darling_statistic(const std::vector<double>& excesses, double shape, double scale) {
  const Rescaled r = rescaled(excesses);
  if (r.factor == 1) return anderson_darling_unscaled(excesses, shape, scale);
  return anderson_darling_unscaled(r.x, shape, scale * r.factor);
}

double gpd_quantile_upper_bound(const std::vector<double>& excesses, const GpdFit& fit,
                                double ratio, double confidence, double min_shape,
                                double max_shape) {
  const Rescaled r = rescaled(excesses);
  if (r.factor == 1)
    return quantile_upper_bound_unscaled(excesses, fit, ratio, confidence, min_shape, max_shape);
  return quantile_upper_bound_unscaled(r.x, scaled_fit(fit, r.factor), ratio, confidence, min_shape,
                                       max_shape) /
         r.factor;
}

SurvivalInterval gpd_survival_interval(const std::vector<double>& excesses, const GpdFit& fit,
                                       double z, double confidence, double min_shape,
                                       double max_shape) {
  const Rescaled r = rescaled(excesses);
  if (r.factor == 1)
    return survival_interval_unscaled(excesses, fit, z, confidence, min_shape, max_shape);
  return survival_interval_unscaled(r.x, scaled_fit(fit, r.factor), z * r.factor, confidence,
                                    min_shape, max_shape);
}

}  // namespace flakescope::stats
