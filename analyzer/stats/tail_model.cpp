// Peaks-over-threshold model of the positive deviations (see
// analyzer/stats/tail_model.h).
#include "stats/tail_model.h"

#include <algorithm>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <random>
#include <sstream>

#include "stats/number_text.h"

namespace flakescope::stats {
namespace {

// Likelihood-ratio evidence for a bounded tail (shape < 0 against the exponential floor): chi2_1
// at 0.998 (one-sided p 0.001), both where the model is fitted and at the higher threshold that
// must confirm it.
constexpr double kBoundedTailChi2 = 9.5495;
// The fewest exceedances a confirming fit at a higher threshold may have.
constexpr std::size_t kConfirmExceedances = 8;

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

struct Candidate {
  std::size_t k = 0;  // exceedances requested (ties at the threshold can leave fewer)
  double threshold = 0;
  std::vector<double> excesses;
  GpdFit free_fit;
  double evidence = 0;  // 2 * (log L(free) - log L(shape >= 0)) when the free shape is < 0
  double gof_statistic = 0, gof_critical = 0;
  bool usable = false;  // enough excesses and accepted by Anderson-Darling
};

// The GPD fit above the threshold that leaves `k` of the sorted `y` above it.
Candidate make_candidate(const std::vector<double>& y, std::size_t k) {
  Candidate c;
  c.k = k;
  const std::size_t m = y.size();
  c.threshold = y[m - k - 1];
  for (std::size_t i = m - k; i < m; ++i) {
    if (y[i] > c.threshold) c.excesses.push_back(y[i] - c.threshold);
  }
  if (c.excesses.size() < 5) return c;
  c.free_fit = fit_gpd(c.excesses);
  c.gof_statistic = anderson_darling_statistic(c.excesses, c.free_fit.shape, c.free_fit.scale);
  c.gof_critical = anderson_darling_critical_value(c.free_fit.shape);
  if (c.free_fit.shape < 0) {
    c.evidence = 2 * (c.free_fit.log_likelihood - fit_gpd(c.excesses, 0).log_likelihood);
  }
  c.usable = c.gof_statistic <= c.gof_critical;
  return c;
}

// The exceedances above the first (lowest) threshold: the top tail_fraction of the m positive
// samples, but at most tail_sqrt_scale * sqrt(m) and at least min_exceedances. The square root:
// for a Pareto-type tail the bias of the GPD approximation grows with the share of the sample
// used, and the share that balances it against the variance falls like m^(2|rho|/(1+2|rho|))/m
// (about m^-0.4 for a shape-1/3 tail such as |t3|, rho = -2/3); a fixed share of 20% fitted
// |t3| and |t5| samples too light at m = 500 (coverage 0.88). The constant 2 was chosen on the
// threshold ladder of bench/calibration_study_explore (its own seeds, not the study's).
std::size_t first_count(std::size_t m, const TailOptions& options) {
  const auto share = static_cast<std::size_t>(std::ceil(options.tail_fraction * m));
  const auto root =
      static_cast<std::size_t>(std::ceil(options.tail_sqrt_scale * std::sqrt(double(m))));
  return std::max(options.min_exceedances, std::min(share, root));
}

// Candidate exceedance counts, lowest threshold first: first_count, then half as many each, down
// to min_exceedances.
std::vector<std::size_t> candidate_counts(std::size_t m, const TailOptions& options) {
  std::vector<std::size_t> ks;
  for (std::size_t k = first_count(m, options); k >= options.min_exceedances; k /= 2) {
    ks.push_back(std::min(k, m - 1));
  }
  return ks;
}

// A bounded tail at candidate c: significant there (p < 0.001) and confirmed, at the same level,
// above the threshold that keeps half its exceedances (at least kConfirmExceedances), so that the
// curvature of a light but unbounded tail (the normal's) at one moderate threshold is not taken
// for an endpoint.
bool bounded_at(const std::vector<double>& y, const Candidate& c) {
  if (!(c.free_fit.shape < 0 && c.evidence > kBoundedTailChi2)) return false;
  const std::size_t half = std::max(kConfirmExceedances, c.k / 2);
  if (half >= c.k) return false;  // no higher threshold to confirm it
  const Candidate higher = make_candidate(y, half);
  return higher.free_fit.shape < 0 && higher.evidence > kBoundedTailChi2;
}

// One-sided 5% evidence (chi2_1 at 0.90) that the shape is > 0: a heavy tail refutes the
// light-tail assumption.
constexpr double kHeavyTailChi2 = 2.7055;

// Under the light-tail assumption (shape <= 0) the exponential tail is the upper envelope: for a
// given mean excess every GPD with shape < 0 has a lighter tail, so the model is the exponential
// fit (shape fixed at 0) and its bound carries the scale's uncertainty only. (Letting the shape
// range over [-1, 0] undercovered: the likelihood-ratio interval of a parameter on the boundary,
// 0.74-0.85 on exponential samples.) Returns false (with the reason) when the data show a
// heavier tail.
bool adopt_light(const Candidate& x, TailModel* model) {
  const GpdFit light = fit_gpd(x.excesses, 0.0, 0.0);
  const GpdFit at_most_zero = fit_gpd(x.excesses, kMinShape, 0.0);
  const double evidence = 2 * (x.free_fit.log_likelihood - at_most_zero.log_likelihood);
  if (x.free_fit.shape > 0 && evidence > kHeavyTailChi2) {
    model->failure = "the data show a heavy tail (shape " + format_number(x.free_fit.shape) +
                     " > 0, likelihood ratio p < 0.05): the light-tail assumption does not hold";
    return false;
  }
  model->bounded_tail = false;
  model->min_shape = 0;
  model->max_shape = 0;
  model->fit = light;
  model->free_fit = x.free_fit;
  model->exponential = light.exponential || light.shape == 0;
  model->shape = model->exponential ? 0 : light.shape;
  model->scale = model->exponential ? light.exponential_scale : light.scale;
  model->threshold = x.threshold;
  model->excesses = x.excesses;
  model->gof_statistic = x.gof_statistic;
  model->gof_critical = x.gof_critical;
  model->fitted = true;
  return true;
}

// Anderson-Darling for an exponential with estimated scale: reject at 5% when A^2 (1 + 0.6 / k)
// exceeds 1.321 (D'Agostino and Stephens 1986, table 4.11; one parameter estimated, so not the
// GPD table of anderson_darling_critical_value, which estimates the shape too).
constexpr double kExponentialAd5 = 1.321;

bool exponential_fits(const std::vector<double>& excesses) {
  double mean = 0;
  for (double x : excesses) mean += x;
  mean /= static_cast<double>(excesses.size());
  const double k = static_cast<double>(excesses.size());
  return anderson_darling_statistic(excesses, 0, mean) * (1 + 0.6 / k) <= kExponentialAd5;
}

// Under the light-tail assumption a lower threshold cannot hurt coverage through bias: the
// exponential envelope of a tail lighter than exponential only loosens as the threshold falls (its
// mean excess grows), while on an exponential tail every excess is another exact observation of the
// scale. So the lowest threshold of the ladder m - 1, m / 2, m / 4, ... (down to the default one)
// at which the excesses pass the exponential goodness-of-fit test is used (a forward stop over
// thresholds). On an exponential tail the test at a threshold is independent of the sum of its
// excesses (Basu: the statistic is scale-free, the sum complete sufficient), so accepting there
// does not bias the exact bound; a rejection does carry information on the higher excesses, which
// is why the test is the plain 5% one (1000 exponential samples: coverage 0.941-0.952 at n = 50
// to 500, as before; adding a one-sided test against a lighter tail, to reject more of the
// Gaussian's low thresholds, rejected 15% of exponential samples and covered 0.92).
std::size_t light_tail_count(const std::vector<double>& y, std::size_t default_k) {
  for (std::size_t k = y.size() - 1; k > default_k; k /= 2) {
    const Candidate c = make_candidate(y, k);
    if (c.excesses.size() >= 5 && exponential_fits(c.excesses)) return k;
  }
  return default_k;
}

void adopt(const Candidate& x, bool bounded, TailModel* model) {
  model->bounded_tail = bounded;
  model->min_shape = bounded ? kMinShape : 0.0;
  model->fit = bounded ? x.free_fit : fit_gpd(x.excesses, 0);
  model->free_fit = x.free_fit;
  model->exponential = model->fit.exponential || model->fit.shape == 0;
  model->shape = model->exponential ? 0 : model->fit.shape;
  model->scale = model->exponential ? model->fit.exponential_scale : model->fit.scale;
  model->threshold = x.threshold;
  model->excesses = x.excesses;
  model->gof_statistic = x.gof_statistic;
  model->gof_critical = x.gof_critical;
  model->fitted = true;
}

// The p-value of the top `s` of `y` (ascending) under the tail model of the rest, or 1 when the
// gap prefilter does not pass or the rest has no tail model.
double component_p_value(const std::vector<double>& y, std::size_t s, const TailOptions& options) {
  const std::size_t m = y.size();
  const double start = y[m - s], rest_max = y[m - s - 1], rest_median = y[(m - s) / 2];
  if (!(start - rest_max >= rest_max - rest_median && start > rest_max)) return 1;
  const std::vector<double> rest(y.begin(), y.end() - static_cast<long>(s));
  TailOptions generous = options;  // shape up to 1 even under the light-tail assumption
  generous.assume_light_tail = false;
  const TailModel model = fit_tail_model(rest, generous);
  if (!model.fitted) return 1;
  // Survival of one draw at `start`: share above the threshold times the upper end of the GPD's
  // survival interval (generous to the rest, so a heavy tail is not taken for a component).
  const double z = start - model.threshold;
  const double zeta =
      static_cast<double>(model.excesses.size()) / static_cast<double>(model.data.size());
  const double survival = zeta * gpd_survival_interval(model.excesses, model.fit, z, 0.95,
                                                       model.min_shape, model.max_shape)
                                     .upper;
  if (!(survival > 0)) return 0;
  if (survival >= 1) return 1;
  // P(Binomial(m, survival) >= s) = I_survival(s, m - s + 1).
  return boost::math::ibeta(static_cast<double>(s), static_cast<double>(m - s + 1), survival);
}

}  // namespace

SeparateComponent detect_separate_component(const std::vector<double>& positive_sorted,
                                            const TailOptions& options) {
  SeparateComponent best;
  const std::size_t m = positive_sorted.size();
  for (std::size_t s = 1; s <= kMaxComponentCount && s * 4 <= m; ++s) {
    const double p = component_p_value(positive_sorted, s, options);
    if (p < best.p_value) {
      best.p_value = p;
      best.count = s;
      best.start = positive_sorted[m - s];
      best.rest_max = positive_sorted[m - s - 1];
    }
  }
  best.detected = best.p_value < kComponentAlpha;
  return best;
}

std::string positive_samples(const TailOptions& options) {
  return options.positive_samples_are.empty() ? "changed runs" : options.positive_samples_are;
}

TailModel fit_tail_model(const std::vector<double>& positive_sorted, const TailOptions& options) {
  TailModel model;
  model.samples_are = positive_samples(options);
  const std::size_t m = positive_sorted.size();
  const std::size_t first = first_count(m, options);
  if (m < first + 1) {
    model.failure = "only " + std::to_string(m) + " " + positive_samples(options) +
                    "; the tail fit needs " + std::to_string(options.min_exceedances + 1);
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
  // The first threshold (from the lowest) where the GPD fits.
  Candidate last;
  for (std::size_t k : candidate_counts(m, options)) {
    last = make_candidate(model.data, k);
    ++model.candidates;
    if (!last.usable) continue;
    if (options.assume_light_tail) {
      // The heavy-tail refusal is decided at the default threshold; the bound may use a lower one.
      if (!adopt_light(last, &model)) return model;
      const std::size_t k = light_tail_count(model.data, last.k);
      TailModel lower = model;
      if (k != last.k && adopt_light(make_candidate(model.data, k), &lower)) model = lower;
      return model;
    }
    adopt(last, bounded_at(model.data, last), &model);
    return model;
  }
  model.gof_statistic = last.gof_statistic;
  model.gof_critical = last.gof_critical;
  model.failure = "no generalized Pareto tail fits the data (Anderson-Darling " +
                  format_number(last.gof_statistic) + " > " + format_number(last.gof_critical) +
                  ")";
  return model;
}

}  // namespace flakescope::stats
