#pragma once
// An upper confidence bound on the deviation that a run exceeds with probability at most `target`,
// from one nonnegative scalar per run (max |a-e|, max rel, ULP, assert_close margin).
//
// Model: real deviations have a point mass at 0 (bitwise-identical runs) and a positive part,
// often on a lattice (ULPs). P(dev > b) = P(dev > 0) * P(dev > b | dev > 0). The method, in order:
//  1. no positive sample: "exact" (bound 0), with the binomial upper bound on a change;
//  2. +inf samples (runs that could not be compared) exceed every finite bound: "unbounded" when
//     their rate is provably above the target;
//  3. zeros present: the confidence is split (Bonferroni) between a one-sided Clopper-Pearson
//     upper bound on P(dev > 0) and the positive part, whose target becomes
//     target / upper(P(dev > 0)); if that upper bound alone is <= target, the bound is 0 ("exact");
//  4. "empirical": the distribution-free order-statistic bound, when the data support it;
//  5. "gpd": peaks over threshold on the positive part (tail_model.h): ties broken by an upward
//     jitter of less than the smallest gap (it can only raise the data, so it can only raise the
//     bound); the top max(15, min(20%, 2 sqrt(m))) of its m values, a higher threshold (half as
//     many) if Anderson-Darling rejects the GPD fit there; the shape is kept >= 0 (exponential or
//     heavier) unless a bounded tail is significant at 0.001 there and confirmed at 0.001 at the
//     threshold that keeps half the exceedances, because light tails mimic a finite endpoint at
//     moderate thresholds and extrapolating it undercovers; the profile-likelihood upper bound of
//     the quantile, taken from the two-sided interval at the confidence once there are 25 or more
//     exceedances (the one-sided cut-off undercovers heavy GPD tails; tail_bound.cpp,
//     profile_confidence), and with a fitted shape at -1 (a uniform-like top) at least the exact
//     one-sided bound on the endpoint, max excess / alpha^(1/k); under assume_light_tail the
//     exact bound for an exponential tail above the threshold (the threshold's share included);
//  5a. before the fit: a separate component (tail_model.h, detect_separate_component) whose rate
//     may exceed the target is "refused": the target quantile lies inside a component seen only a
//     few times, whose own tail cannot be extrapolated;
//  6. otherwise "refused", with the reason and the runs that would be needed.
// Every bound is also limited by what the sample can show: a separate failure mode that did not
// occur in the n runs is invisible (a 1% component is absent from n runs with probability
// 0.99^n); `unseen_rate` is the rate up to which such a component is consistent with the data
// (one-sided Clopper-Pearson for 0 of n), stated with every fitted bound.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace flakescope::stats {

struct TailOptions {
  double target = 1e-4;      // per-run exceedance probability the bound must keep
  double confidence = 0.95;  // one-sided confidence of the bound
  std::uint64_t seed = 20261125;
  std::size_t min_exceedances = 15;  // smallest tail the GPD is fitted to (the highest threshold)
  double tail_fraction = 0.2;        // share of the positive samples above the (first) threshold
  double tail_sqrt_scale = 2.0;      // ... but at most this times sqrt(positive samples)
  // `--assume light-tail`: the tail is taken as no heavier than exponential (shape <= 0, e.g. the
  // rounding differences of a fixed computation), so the exponential fit above the threshold,
  // whose bound carries only the scale's uncertainty, is its upper envelope; refused when the
  // data show a heavier tail (shape > 0 significant at 0.05 against shape <= 0). Opt-in: it is an
  // assumption, stated in the reason and the JSON.
  bool assume_light_tail = false;
  // What a zero sample is, for the reason when every sample is zero: empty for deviations, whose
  // zero is "bitwise identical"; the atol a pair needed at its rtol is zero within that rtol.
  std::string zero_sample_is;
  // What the positive samples are, counted ("changed runs" for deviations; for the atol a pair
  // needed at rtol R, "runs needing atol beyond rtol=R"); empty: "changed runs".
  std::string positive_samples_are;
};

struct TailBound {
  std::string method;  // "exact", "empirical", "gpd", "exponential", "unbounded", "refused"
  std::string reason;  // why this method (and for "refused", why no bound)
  bool has_bound = false;
  double bound = 0;     // the recommended bound (valid when has_bound)
  double estimate = 0;  // the point estimate of the quantile (gpd/exponential), else = bound
  std::size_t n = 0;
  std::size_t zeros = 0;
  std::size_t infinite = 0;
  double change_rate_upper = 1;  // one-sided upper bound on P(dev > 0)
  // The tail fit (gpd/exponential).
  double threshold = 0;
  std::size_t exceedances = 0;
  double shape = 0;
  double scale = 0;
  double gof_statistic = 0;     // Anderson-Darling A^2
  double gof_critical = 0;      // its 5% critical value
  bool bounded_tail = false;    // shape < 0 allowed: the data show a finite endpoint (LR p < 0.001)
  double jitter = 0;            // width of the upward tie-breaking jitter (0: no ties)
  std::size_t runs_needed = 0;  // runs (in total) before a bound can be given; 0 when it was given
  std::size_t runs_distribution_free = 0;  // zero-exceedance runs certifying the target
  // A fitted bound divided by the largest positive sample (0 when no fitted bound); above 10 the
  // reason says the bound is mostly extrapolation.
  double extrapolation = 0;
  bool mostly_extrapolation() const;
  std::string assumption;  // "light tail (shape <= 0)" under assume_light_tail, else empty
  // A rare component that did not occur in the sample is not covered: up to this rate, one is
  // consistent with the data (1 - (1 - confidence)^(1/n), about 3/n).
  double unseen_rate = 1;
  // A separate component that did occur (detect_separate_component).
  std::size_t component_count = 0;  // 0: none detected
  double component_start = 0;       // its smallest value
  double component_rate_upper = 0;  // one-sided Clopper-Pearson upper bound of its rate
  double component_p_value = 1;
};

// Throws InputError for an empty sample, NaN or negative values, or options out of range.
TailBound bound_tail_quantile(const std::vector<double>& samples, const TailOptions& options);

// Distribution-free: the smallest order statistic x_(j) of `sorted` (ascending) with
// P(Binomial(m, 1 - p) <= j - 1) >= confidence, i.e. an upper confidence bound on the (1 - p)
// quantile. Returns false when even the maximum does not qualify.
bool empirical_quantile_bound(const std::vector<double>& sorted, double p, double confidence,
                              double* bound);

nlohmann::json to_json(const TailBound& b);

}  // namespace flakescope::stats
