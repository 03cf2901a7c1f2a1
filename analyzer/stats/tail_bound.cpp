// Upper confidence bound on a tail quantile of per-run deviations (see tail_bound.h).
#include "flakescope/stats/tail_bound.h"

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "flakescope/error.h"
#include "flakescope/report.h"
#include "flakescope/stats/gpd.h"
#include "flakescope/stats/rates.h"

namespace flakescope::stats {
namespace {

// Likelihood-ratio evidence (chi2_1 at 0.998, one-sided 0.001) needed to accept a bounded tail.
constexpr double kBoundedTailChi2 = 9.5495;

std::string format_number(double v) {
  std::ostringstream s;
  s.precision(3);
  s << v;
  return s.str();
}

void validate(const std::vector<double>& samples, const TailOptions& o) {
  if (!(o.target > 0 && o.target < 1)) throw InputError("target must be in (0, 1)");
  if (!(o.confidence > 0.5 && o.confidence < 1)) throw InputError("confidence must be in (0.5, 1)");
  if (!(o.tail_fraction > 0 && o.tail_fraction < 1)) {
    throw InputError("tail fraction must be in (0, 1)");
  }
  if (o.min_exceedances < 5) throw InputError("the tail fit needs at least 5 exceedances");
  if (samples.empty()) throw InputError("no samples: a tolerance needs at least one run");
  for (double v : samples) {
    if (std::isnan(v)) throw InputError("a deviation sample is NaN");
    if (v < 0) throw InputError("a deviation sample is negative (" + format_number(v) + ")");
  }
}

// The smallest gap between distinct sorted values (and the smallest value itself): the width of an
// upward jitter that breaks ties without reordering distinct values.
double tie_gap(const std::vector<double>& sorted) {
  bool ties = false;
  double gap = sorted.front();
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const double d = sorted[i] - sorted[i - 1];
    if (d == 0) {
      ties = true;
    } else {
      gap = std::min(gap, d);
    }
  }
  return ties ? gap : 0;
}

// Fits the GPD above the threshold leaving `k` exceedances and bounds the quantile at
// exceedance probability `p` (for the positive part). Returns false when the fit is rejected.
bool fit_tail(const std::vector<double>& y, std::size_t k, double p, double confidence,
              TailBound* out) {
  const std::size_t m = y.size();
  const double threshold = y[m - k - 1];
  std::vector<double> excesses;
  for (std::size_t i = m - k; i < m; ++i) {
    if (y[i] > threshold) excesses.push_back(y[i] - threshold);
  }
  if (excesses.size() < 5) return false;
  const GpdFit free_fit = fit_gpd(excesses);
  out->threshold = threshold;
  out->exceedances = excesses.size();
  out->gof_statistic = anderson_darling_statistic(excesses, free_fit.shape, free_fit.scale);
  out->gof_critical = anderson_darling_critical_value(free_fit.shape);
  if (out->gof_statistic > out->gof_critical) return false;
  // A finite endpoint (shape < 0) is assumed only on strong evidence: light tails such as the
  // normal's look like shape < 0 above moderate thresholds, and extrapolating that endpoint
  // underestimates their extreme quantiles. Otherwise the exponential tail is the floor.
  const double evidence = 2 * (free_fit.log_likelihood - fit_gpd(excesses, 0).log_likelihood);
  out->bounded_tail = free_fit.shape < 0 && evidence > kBoundedTailChi2;
  const double min_shape = out->bounded_tail ? kMinShape : 0.0;
  const GpdFit fit = out->bounded_tail ? free_fit : fit_gpd(excesses, 0);
  const bool exponential = fit.exponential || fit.shape == 0;
  out->shape = exponential ? 0 : fit.shape;
  out->scale = exponential ? fit.exponential_scale : fit.scale;
  const double zeta = static_cast<double>(excesses.size()) / static_cast<double>(m);
  const double ratio = zeta / p;
  if (!(ratio > 1)) return false;
  out->estimate = threshold + gpd_excess_quantile(1 / ratio, out->shape, out->scale);
  const double z_upper = gpd_quantile_upper_bound(excesses, fit, ratio, confidence, min_shape);
  out->method = exponential ? "exponential" : "gpd";
  if (!std::isfinite(z_upper)) {
    out->method = "refused";
    out->reason = "the fitted tail is too uncertain to bound at this target";
    return true;
  }
  out->has_bound = true;
  out->bound = threshold + z_upper;
  out->reason = "generalized Pareto tail above the top " + std::to_string(excesses.size()) +
                " of " + std::to_string(m) + " changed runs (shape " + format_number(out->shape) +
                (exponential ? ", exponential" : "") +
                (out->bounded_tail ? ", bounded tail" : ", shape >= 0 assumed") +
                "), profile-likelihood upper bound";
  return true;
}

}  // namespace

bool empirical_quantile_bound(const std::vector<double>& sorted, double p, double confidence,
                              double* bound) {
  const std::size_t m = sorted.size();
  if (m == 0 || !(p > 0 && p < 1)) return false;
  const boost::math::binomial_distribution<> below(static_cast<double>(m), 1 - p);
  // P(#{X <= q} <= j - 1) >= confidence means x_(j) >= q with that confidence.
  const auto covers = [&](std::size_t j) {
    return boost::math::cdf(below, static_cast<double>(j - 1)) >= confidence;
  };
  if (!covers(m)) return false;
  std::size_t lo = 1, hi = m;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (covers(mid)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  *bound = sorted[lo - 1];
  return true;
}

TailBound bound_tail_quantile(const std::vector<double>& samples, const TailOptions& options) {
  validate(samples, options);
  TailBound b;
  b.n = samples.size();
  std::vector<double> positive;
  for (double v : samples) {
    if (v == 0) {
      ++b.zeros;
    } else if (std::isinf(v)) {
      ++b.infinite;
    } else {
      positive.push_back(v);
    }
  }
  std::sort(positive.begin(), positive.end());
  const std::size_t changed = b.n - b.zeros;
  b.runs_distribution_free = runs_to_certify(options.target, options.confidence);
  const auto runs_left = [&](std::size_t total) { return std::max(total, b.n); };

  if (changed == 0) {
    b.method = "exact";
    b.has_bound = true;
    b.change_rate_upper = estimate_rate(0, b.n, options.confidence).upper_one_sided;
    b.reason = "all " + std::to_string(b.n) +
               " runs are bitwise identical: exact equality; a change " + "occurs in at most " +
               format_number(b.change_rate_upper) + " of runs";
    if (b.change_rate_upper > options.target) b.runs_needed = b.runs_distribution_free;
    return b;
  }

  // The point mass at zero: split the confidence between P(dev > 0) and the positive tail.
  double tail_confidence = options.confidence;
  double tail_target = options.target;
  if (b.zeros > 0) {
    const double alpha = 1 - options.confidence;
    tail_confidence = 1 - alpha / 2;
    b.change_rate_upper = estimate_rate(changed, b.n, tail_confidence).upper_one_sided;
    if (b.change_rate_upper <= options.target) {
      b.method = "exact";
      b.has_bound = true;
      b.reason =
          "changes are rarer than the target: P(dev > 0) <= " + format_number(b.change_rate_upper);
      return b;
    }
    tail_target = options.target / b.change_rate_upper;
  }

  if (b.infinite > 0) {
    // Runs that could not be compared exceed every finite bound.
    const double lower =
        boost::math::ibeta_inv(static_cast<double>(b.infinite),
                               static_cast<double>(b.n - b.infinite + 1), 1 - options.confidence);
    if (lower > options.target) {
      b.method = "unbounded";
      b.reason = std::to_string(b.infinite) + " of " + std::to_string(b.n) +
                 " runs could not be compared (NaN or shape change): at least " +
                 format_number(lower) + " of runs fail every finite tolerance";
      return b;
    }
  }

  std::vector<double> with_infinite = positive;
  with_infinite.insert(with_infinite.end(), b.infinite, std::numeric_limits<double>::infinity());
  double empirical = 0;
  if (empirical_quantile_bound(with_infinite, tail_target, tail_confidence, &empirical) &&
      std::isfinite(empirical)) {
    b.method = "empirical";
    b.has_bound = true;
    b.bound = b.estimate = empirical;
    b.reason = "distribution-free order-statistic bound (enough runs for the target)";
    return b;
  }

  const std::size_t m = positive.size();
  const std::size_t k = std::max(options.min_exceedances,
                                 static_cast<std::size_t>(std::ceil(options.tail_fraction * m)));
  if (b.infinite > 0 || m < k + 1) {
    b.method = "refused";
    const std::size_t needed_changed = options.min_exceedances + 1;
    b.runs_needed = runs_left(static_cast<std::size_t>(
        std::ceil(static_cast<double>(needed_changed) * b.n / static_cast<double>(changed))));
    b.reason = b.infinite > 0 ? "runs that could not be compared make the tail unbounded"
                              : "only " + std::to_string(m) + " changed runs; the tail fit needs " +
                                    std::to_string(needed_changed);
    return b;
  }

  // Ties (ULP lattices, repeated values) break the continuous fit; jitter upward by less than the
  // smallest gap: the jittered data dominate the real data, so the bound stays valid.
  std::vector<double> y = positive;
  b.jitter = tie_gap(positive);
  if (b.jitter > 0) {
    std::mt19937_64 rng(options.seed);
    std::uniform_real_distribution<double> unit(0, 1);
    for (double& v : y) v += b.jitter * unit(rng);
    std::sort(y.begin(), y.end());
  }
  // The default threshold, then a higher one if the fit is rejected there.
  for (std::size_t tail = k; tail >= options.min_exceedances; tail /= 2) {
    if (fit_tail(y, tail, tail_target, tail_confidence, &b)) {
      if (b.method == "refused") b.runs_needed = runs_left(2 * b.n);
      return b;
    }
    if (tail / 2 < options.min_exceedances) break;
  }
  b.method = "refused";
  b.has_bound = false;
  if (b.gof_statistic > b.gof_critical) {
    b.reason = "no generalized Pareto tail fits the data (Anderson-Darling " +
               format_number(b.gof_statistic) + " > " + format_number(b.gof_critical) + ")";
  } else {
    b.reason =
        "the target quantile lies below the tail threshold and the distribution-free "
        "bound needs more runs";
  }
  b.runs_needed = runs_left(b.runs_distribution_free);
  return b;
}

nlohmann::json to_json(const TailBound& b) {
  nlohmann::json j = {{"method", b.method},
                      {"reason", b.reason},
                      {"bound", b.has_bound ? json_number(b.bound) : nlohmann::json(nullptr)},
                      {"n", b.n},
                      {"zeros", b.zeros},
                      {"infinite", b.infinite},
                      {"change_rate_upper", b.change_rate_upper}};
  if (b.method == "gpd" || b.method == "exponential") {
    j["estimate"] = b.estimate;
    j["tail"] = {{"threshold", b.threshold},
                 {"exceedances", b.exceedances},
                 {"shape", b.shape},
                 {"scale", b.scale},
                 {"anderson_darling", b.gof_statistic},
                 {"anderson_darling_critical_5pct", b.gof_critical},
                 {"bounded_tail", b.bounded_tail},
                 {"tie_jitter", b.jitter}};
  }
  if (b.runs_needed > 0) j["runs_needed"] = b.runs_needed;
  j["runs_distribution_free"] = b.runs_distribution_free;
  return j;
}

}  // namespace flakescope::stats
