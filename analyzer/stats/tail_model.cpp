// Peaks-over-threshold model of the positive deviations (see
// include/flakescope/stats/tail_model.h).
#include "flakescope/stats/tail_model.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

namespace flakescope::stats {
namespace {

// Likelihood-ratio evidence (chi2_1 at 0.998, one-sided 0.001) needed to accept a bounded tail.
constexpr double kBoundedTailChi2 = 9.5495;

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

std::string format_number(double v) {
  std::ostringstream s;
  s.precision(3);
  s << v;
  return s.str();
}

// Fits the GPD above the threshold that leaves `k` exceedances. Returns false when the fit is
// rejected by Anderson-Darling (the statistic is recorded either way).
bool fit_at(std::size_t k, TailModel* model) {
  const std::vector<double>& y = model->data;
  const std::size_t m = y.size();
  const double threshold = y[m - k - 1];
  std::vector<double> excesses;
  for (std::size_t i = m - k; i < m; ++i) {
    if (y[i] > threshold) excesses.push_back(y[i] - threshold);
  }
  if (excesses.size() < 5) return false;
  const GpdFit free_fit = fit_gpd(excesses);
  model->gof_statistic = anderson_darling_statistic(excesses, free_fit.shape, free_fit.scale);
  model->gof_critical = anderson_darling_critical_value(free_fit.shape);
  if (model->gof_statistic > model->gof_critical) return false;
  // A finite endpoint (shape < 0) is assumed only on strong evidence: light tails such as the
  // normal's look like shape < 0 above moderate thresholds, and extrapolating that endpoint
  // underestimates their extreme quantiles. Otherwise the exponential tail is the floor.
  const GpdFit floor_fit = fit_gpd(excesses, 0);
  const double evidence = 2 * (free_fit.log_likelihood - floor_fit.log_likelihood);
  model->bounded_tail = free_fit.shape < 0 && evidence > kBoundedTailChi2;
  model->min_shape = model->bounded_tail ? kMinShape : 0.0;
  model->fit = model->bounded_tail ? free_fit : floor_fit;
  model->exponential = model->fit.exponential || model->fit.shape == 0;
  model->shape = model->exponential ? 0 : model->fit.shape;
  model->scale = model->exponential ? model->fit.exponential_scale : model->fit.scale;
  model->threshold = threshold;
  model->excesses = std::move(excesses);
  model->fitted = true;
  return true;
}

}  // namespace

TailModel fit_tail_model(const std::vector<double>& positive_sorted, const TailOptions& options) {
  TailModel model;
  const std::size_t m = positive_sorted.size();
  const std::size_t k = std::max(options.min_exceedances,
                                 static_cast<std::size_t>(std::ceil(options.tail_fraction * m)));
  if (m < k + 1) {
    model.failure = "only " + std::to_string(m) + " changed runs; the tail fit needs " +
                    std::to_string(options.min_exceedances + 1);
    return model;
  }
  model.data = positive_sorted;
  model.jitter = tie_gap(positive_sorted);
  if (model.jitter > 0) {
    std::mt19937_64 rng(options.seed);
    std::uniform_real_distribution<double> unit(0, 1);
    for (double& v : model.data) v += model.jitter * unit(rng);
    std::sort(model.data.begin(), model.data.end());
  }
  // The default threshold, then higher ones if the fit is rejected there.
  for (std::size_t tail = k; tail >= options.min_exceedances; tail /= 2) {
    if (fit_at(tail, &model)) return model;
    if (tail / 2 < options.min_exceedances) break;
  }
  model.failure = "no generalized Pareto tail fits the data (Anderson-Darling " +
                  format_number(model.gof_statistic) + " > " + format_number(model.gof_critical) +
                  ")";
  return model;
}

}  // namespace flakescope::stats
