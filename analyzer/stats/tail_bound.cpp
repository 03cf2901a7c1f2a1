// Upper confidence bound on a tail quantile of per-run deviations (see tail_bound.h).
#include "stats/tail_bound.h"

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/report.h"
#include "flakescope/error.h"
#include "stats/gpd.h"
#include "stats/number_text.h"
#include "stats/rates.h"
#include "stats/tail_model.h"

namespace flakescope::stats {
namespace {

void validate(const std::vector<double>& samples, const TailOptions& o) {
  if (!(o.target > 0 && o.target < 1)) throw InputError("target must be in (0, 1)");
  if (!(o.confidence > 0.5 && o.confidence < 1)) throw InputError("confidence must be in (0.5, 1)");
  if (!(o.tail_fraction > 0 && o.tail_fraction <= 1)) {
    throw InputError("tail fraction must be in (0, 1]");
  }
  if (o.min_exceedances < 5) throw InputError("the tail fit needs at least 5 exceedances");
  if (!(o.tail_sqrt_scale > 0)) throw InputError("tail sqrt scale must be > 0");
  if (samples.empty()) throw InputError("no samples: a tolerance needs at least one run");
  for (double v : samples) {
    if (std::isnan(v)) throw InputError("a deviation sample is NaN");
    if (v < 0) throw InputError("a deviation sample is negative (" + format_number(v) + ")");
  }
}

// The level handed to the profile-likelihood bound. With the shape free, the one-sided chi2_1
// cut-off (2.71 at 95%) undercovers: on exact GPD samples (bench: 600 per cell, 1000x
// extrapolation) the cut-off needed for 95% was, at shape 0.2 / 1/3, 1.8 / 2.4 with 15 excesses
// but 2.4-3.6 / 3.3-3.8 with 25-160 (the profile of an extreme quantile is skewed), while at shape
// 0 the floor keeps the bound conservative (0.7-0.9 suffice). So from 25 excesses on the bound is
// the upper end of the two-sided interval at `confidence` (3.84 at 95%), at 15 the one-sided
// level, in between interpolated in log k. With the shape fixed (light tail) the exact bound of
// exponential_excess_bound is used instead.
// The weight of the two-sided level: 0 at 15 excesses or fewer, 1 from 25 on.
double two_sided_weight(const TailModel& model) {
  const double k = static_cast<double>(model.excesses.size());
  return std::clamp(std::log(k / 15) / std::log(25.0 / 15), 0.0, 1.0);
}

double profile_confidence(const TailModel& model, double confidence) {
  if (model.max_shape <= model.min_shape) return confidence;
  return confidence + two_sided_weight(model) * (1 - confidence) / 2;
}

// The level named in the reason, as profile_confidence chose it.
std::string profile_level_text(const TailModel& model) {
  const double w = two_sided_weight(model);
  if (w <= 0) return "one-sided level";
  if (w >= 1) return "two-sided level";
  return "between the one- and two-sided levels";
}

// The light-tail bound: an exponential tail above the threshold u, the k-th largest of m values.
// Then the k excesses are iid exponential(sigma), independent of u, and S(u) ~ Beta(k + 1, m - k)
// exactly; with the bound u + c T (T the sum of the excesses, T / sigma ~ Gamma(k, 1)) the true
// exceedance is S(u) exp(-c T / sigma), and c is the smallest value for which it is <= p with
// probability `confidence`: P = E_G[I_{p e^(c G)}(k + 1, m - k)], G ~ Gamma(k, 1), by equal-weight
// quadrature on G's quantiles. Exact for an exponential tail (the profile bound of the scale with
// the share k/m taken as known covered 0.93-0.96 on exponential samples: the threshold's own
// randomness was left out); a lighter tail can only be covered more often.
double exponential_excess_bound(const TailModel& model, double p, double confidence) {
  const double k = static_cast<double>(model.excesses.size());
  const double m = static_cast<double>(model.data.size());
  constexpr int kNodes = 256;
  std::vector<double> g(kNodes);
  for (int i = 0; i < kNodes; ++i) g[i] = boost::math::gamma_p_inv(k, (i + 0.5) / kNodes);
  const auto covered = [&](double c) {
    double sum = 0;
    for (double gi : g)
      sum += boost::math::ibeta(k + 1, m - k, std::min(1.0, p * std::exp(c * gi)));
    return sum / kNodes;
  };
  double lo = 0, hi = 1 / k;
  while (covered(hi) < confidence && hi < 1e6) lo = hi, hi *= 2;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (covered(mid) < confidence ? lo : hi) = mid;
  }
  double total = 0;
  for (double x : model.excesses) total += x;
  return hi * total;  // the upper end: rounding never lowers the bound
}

// Bounds the quantile at exceedance probability `p` (of the positive part, of which the model
// holds `m` samples) from a fitted tail model.
void bound_from_model(const TailModel& model, double p, double confidence, TailBound* out) {
  const std::size_t m = model.data.size();
  out->threshold = model.threshold;
  out->exceedances = model.excesses.size();
  out->gof_statistic = model.gof_statistic;
  out->gof_critical = model.gof_critical;
  out->bounded_tail = model.bounded_tail;
  out->shape = model.shape;
  out->scale = model.scale;
  out->jitter = model.jitter;
  const double zeta = static_cast<double>(model.excesses.size()) / static_cast<double>(m);
  const double ratio = zeta / p;
  if (!(ratio > 1)) {
    out->method = "refused";
    out->reason =
        "the target quantile lies below the tail threshold and the distribution-free "
        "bound needs more runs";
    return;
  }
  out->estimate = model.threshold + gpd_excess_quantile(1 / ratio, model.shape, model.scale);
  const bool light = model.max_shape <= 0 && model.min_shape >= 0;
  const double z_upper = light ? exponential_excess_bound(model, p, confidence)
                               : gpd_quantile_upper_bound(model.excesses, model.fit, ratio,
                                                          profile_confidence(model, confidence),
                                                          model.min_shape, model.max_shape);
  out->method = model.exponential ? "exponential" : "gpd";
  if (!std::isfinite(z_upper)) {
    out->method = "refused";
    out->reason = "the fitted tail is too uncertain to bound at this target";
    return;
  }
  out->has_bound = true;
  out->bound = model.threshold + z_upper;
  if (model.bounded_tail && model.fit.shape <= kMinShape + 1e-6) {
    // Shape -1 is the edge of the parameter space, where the likelihood-ratio interval is not
    // calibrated; the excesses then look uniform on [0, endpoint], and max / alpha^(1/k) bounds
    // that endpoint exactly at the confidence.
    const double top = *std::max_element(model.excesses.begin(), model.excesses.end());
    const double k = static_cast<double>(model.excesses.size());
    const double endpoint = top / std::pow(1 - confidence, 1 / k);
    out->bound = std::max(out->bound, model.threshold + endpoint * (1 - 1 / ratio));
  }
  out->reason = "generalized Pareto tail above the top " + std::to_string(out->exceedances) +
                " of " + std::to_string(m) + " " + model.samples_are + " (shape " +
                format_number(out->shape) + (model.exponential ? ", exponential" : "") +
                (model.max_shape == 0 ? ", light tail assumed: shape <= 0"
                 : model.bounded_tail ? ", bounded tail"
                                      : ", shape >= 0 assumed") +
                (light ? "), exact bound for an exponential tail (threshold share included)"
                       : "), profile-likelihood upper bound (" + profile_level_text(model) + ")");
}

// A separate component whose rate may exceed the target puts the target quantile inside it, where
// a handful of values say nothing about its own tail: refused, with its rate and the runs that
// would give it a tail fit of its own.
bool refuse_for_component(const std::vector<double>& positive, double confidence,
                          const TailOptions& options, TailBound* b) {
  const SeparateComponent c = detect_separate_component(positive, options);
  if (!c.detected) return false;
  b->component_count = c.count;
  b->component_start = c.start;
  b->component_p_value = c.p_value;
  b->component_rate_upper = estimate_rate(c.count, b->n, confidence).upper_one_sided;
  if (b->component_rate_upper <= options.target) return false;
  b->method = "refused";
  b->reason = "a separate component: the largest " + std::to_string(c.count) + " of " +
              std::to_string(b->n) + " runs (from " + format_number(c.start) +
              ", the rest at most " + format_number(c.rest_max) +
              ") lie beyond the tail of the others (p " + format_number(c.p_value) +
              "); it occurs in up to " + format_number(b->component_rate_upper) +
              " of runs, above the target, and its own tail cannot be extrapolated from " +
              std::to_string(c.count) +
              " values: no tolerance below it is safe, and none above "
              "it is calibrated";
  const double per_run = static_cast<double>(c.count) / static_cast<double>(b->n);
  b->runs_needed =
      std::max(b->n, static_cast<std::size_t>(std::ceil((options.min_exceedances + 1) / per_run)));
  return true;
}

std::string unseen_note(const TailBound& b) {
  return "; covers what " + std::to_string(b.n) +
         " runs can show: a separate failure mode in up "
         "to " +
         format_number(b.unseen_rate) + " of runs can be absent from them";
}

// The positive, finite samples (ascending); zeros and infinities are counted in `b`. Reserved
// once: 10 M samples must not cost a doubling vector's slack on top of two copies.
std::vector<double> split_samples(const std::vector<double>& samples, TailBound* b) {
  std::vector<double> positive;
  positive.reserve(samples.size());
  for (double v : samples) {
    if (v == 0) {
      ++b->zeros;
    } else if (std::isinf(v)) {
      ++b->infinite;
    } else {
      positive.push_back(v);
    }
  }
  std::sort(positive.begin(), positive.end());
  return positive;
}

// No run changed: exact equality, with the binomial bound on a change.
bool bound_unchanged(const TailOptions& options, TailBound* b) {
  if (b->zeros < b->n) return false;
  b->method = "exact";
  b->has_bound = true;
  b->change_rate_upper = estimate_rate(0, b->n, options.confidence).upper_one_sided;
  if (options.zero_sample_is.empty()) {
    b->reason = "all " + std::to_string(b->n) +
                " runs are bitwise identical: exact equality; a change occurs in at most " +
                format_number(b->change_rate_upper) + " of runs";
  } else {
    b->reason = "all " + std::to_string(b->n) + " runs are " + options.zero_sample_is +
                "; a run that is not occurs in at most " + format_number(b->change_rate_upper) +
                " of runs";
  }
  if (b->change_rate_upper > options.target) b->runs_needed = b->runs_distribution_free;
  return true;
}

// The point mass at zero: the confidence is split between P(dev > 0) and the positive tail, whose
// target becomes target / upper(P(dev > 0)); exact (bound 0) when that upper bound alone is below
// the target.
bool bound_zero_mass(const TailOptions& options, TailBound* b, double* tail_confidence,
                     double* tail_target) {
  if (b->zeros == 0) return false;
  const std::size_t changed = b->n - b->zeros;
  *tail_confidence = 1 - (1 - options.confidence) / 2;
  b->change_rate_upper = estimate_rate(changed, b->n, *tail_confidence).upper_one_sided;
  if (b->change_rate_upper > options.target) {
    *tail_target = options.target / b->change_rate_upper;
    return false;
  }
  b->method = "exact";
  b->has_bound = true;
  b->reason =
      "changes are rarer than the target: P(dev > 0) <= " + format_number(b->change_rate_upper);
  return true;
}

// Runs that could not be compared exceed every finite bound: unbounded when their rate is
// provably above the target.
bool refuse_infinite(const TailOptions& options, TailBound* b) {
  if (b->infinite == 0) return false;
  const double lower =
      boost::math::ibeta_inv(static_cast<double>(b->infinite),
                             static_cast<double>(b->n - b->infinite + 1), 1 - options.confidence);
  if (lower <= options.target) return false;
  b->method = "unbounded";
  b->reason = std::to_string(b->infinite) + " of " + std::to_string(b->n) +
              " runs could not be compared (NaN or shape change): at least " +
              format_number(lower) + " of runs fail every finite tolerance";
  return true;
}

// The distribution-free order-statistic bound, when the data reach the target. The infinite runs
// sort last: appended in place (and taken off again) rather than copied.
bool bound_empirical(double tail_target, double tail_confidence, std::vector<double>* positive,
                     TailBound* b) {
  positive->insert(positive->end(), b->infinite, std::numeric_limits<double>::infinity());
  double empirical = 0;
  const bool have = empirical_quantile_bound(*positive, tail_target, tail_confidence, &empirical);
  positive->resize(positive->size() - b->infinite);
  if (!have || !std::isfinite(empirical)) return false;
  b->method = "empirical";
  b->has_bound = true;
  b->bound = b->estimate = empirical;
  b->reason = "distribution-free order-statistic bound (enough runs for the target)";
  return true;
}

// The runs that would give the tail fit its min_exceedances + 1 changed runs.
std::size_t runs_for_changed(const TailBound& b, const TailOptions& options) {
  const double needed = static_cast<double>(options.min_exceedances + 1);
  const double changed = static_cast<double>(b.n - b.zeros);
  return std::max(b.n, static_cast<std::size_t>(std::ceil(needed * b.n / changed)));
}

// A fitted bound this many times the largest observed deviation is mostly extrapolation (the
// exponential at n = 50 in the calibration study: median bound 14 times the true quantile, about
// 30 times the sample maximum). It is calibrated, so it is given, but the factor is stated with
// the runs after which the distribution-free bound needs no extrapolation at all.
constexpr double kExtrapolationNote = 10;

std::string extrapolation_note(const TailBound& b) {
  if (!(b.extrapolation > kExtrapolationNote)) return "";
  // A factor above 10 reads as a whole number ("21 times"; "2.3e+06" beyond a million).
  char factor[32];
  if (b.extrapolation < 1e6)
    std::snprintf(factor, sizeof factor, "%.0f", b.extrapolation);
  else
    std::snprintf(factor, sizeof factor, "%.2g", b.extrapolation);
  return "; the bound is " + std::string(factor) +
         " times the largest observed deviation: mostly extrapolation, more runs tighten it (" +
         std::to_string(b.runs_distribution_free) + " runs give a distribution-free bound)";
}

// Peaks over threshold on the positive part (tail_model.h), or refused with the runs needed.
void bound_fitted(const std::vector<double>& positive, double tail_target, double tail_confidence,
                  const TailOptions& options, TailBound* b) {
  const TailModel model = fit_tail_model(positive, options);
  if (!model.fitted) {
    b->method = "refused";
    b->jitter = model.jitter;
    b->gof_statistic = model.gof_statistic;
    b->gof_critical = model.gof_critical;
    b->reason = model.failure;
    b->runs_needed = model.data.empty() ? runs_for_changed(*b, options)  // too few changed runs
                                        : std::max(b->n, b->runs_distribution_free);
    return;
  }
  bound_from_model(model, tail_target, tail_confidence, b);
  if (!b->has_bound) {
    const bool uncertain = b->reason.find("too uncertain") != std::string::npos;
    b->runs_needed = std::max(b->n, uncertain ? 2 * b->n : b->runs_distribution_free);
    return;
  }
  b->extrapolation = b->bound / positive.back();
  b->reason += extrapolation_note(*b) + unseen_note(*b);
}

}  // namespace

bool TailBound::mostly_extrapolation() const {
  return extrapolation > kExtrapolationNote;
}

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
  if (options.assume_light_tail) b.assumption = "light tail (shape <= 0)";
  std::vector<double> positive = split_samples(samples, &b);
  b.runs_distribution_free = runs_to_certify(options.target, options.confidence);
  b.unseen_rate = estimate_rate(0, b.n, options.confidence).upper_one_sided;
  if (bound_unchanged(options, &b)) return b;
  double tail_confidence = options.confidence, tail_target = options.target;
  if (bound_zero_mass(options, &b, &tail_confidence, &tail_target)) return b;
  if (refuse_infinite(options, &b)) return b;
  if (bound_empirical(tail_target, tail_confidence, &positive, &b)) return b;
  if (b.infinite > 0) {
    b.method = "refused";
    b.reason = "runs that could not be compared make the tail unbounded";
    b.runs_needed = runs_for_changed(b, options);
    return b;
  }
  if (refuse_for_component(positive, tail_confidence, options, &b)) return b;
  bound_fitted(positive, tail_target, tail_confidence, options, &b);
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
  if (b.extrapolation > 0) j["extrapolation"] = b.extrapolation;
  j["unseen_rate"] = b.unseen_rate;
  if (b.component_count > 0) {
    j["separate_component"] = {{"count", b.component_count},
                               {"start", b.component_start},
                               {"rate_upper", b.component_rate_upper},
                               {"p_value", b.component_p_value}};
  }
  if (!b.assumption.empty()) j["assumption"] = b.assumption;
  j["runs_distribution_free"] = b.runs_distribution_free;
  return j;
}

}  // namespace flakescope::stats
