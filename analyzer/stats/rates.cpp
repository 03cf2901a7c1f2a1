// Failure rates from pass/fail counts (see analyzer/stats/rates.h).
#include "stats/rates.h"

#include "flakescope/report_model.h"

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "flakescope/error.h"

namespace flakescope::stats {
namespace {

void check_confidence(double confidence) {
  if (!(confidence > 0 && confidence < 1)) {
    throw InputError("confidence must be in (0, 1), got " + std::to_string(confidence));
  }
}

Interval wilson_interval(double f, double n, double z) {
  const double p = f / n;
  const double z2 = z * z;
  const double denom = 1 + z2 / n;
  const double center = (p + z2 / (2 * n)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom;
  // At f == 0 (f == n) the exact bound is 0 (1); rounding must not leave it a hair off.
  Interval interval{std::max(0.0, center - half), std::min(1.0, center + half)};
  if (f == 0) interval.lower = 0;
  if (f == n) interval.upper = 1;
  return interval;
}

// Lower / upper Clopper-Pearson bounds, each with tail probability `alpha` outside it.
double clopper_pearson_lower(double f, double n, double alpha) {
  if (f <= 0) return 0;
  return boost::math::ibeta_inv(f, n - f + 1, alpha);
}

double clopper_pearson_upper(double f, double n, double alpha) {
  if (f >= n) return 1;
  return boost::math::ibeta_inv(f + 1, n - f, 1 - alpha);
}

}  // namespace

RateEstimate estimate_rate(std::size_t failures, std::size_t trials, double confidence) {
  check_confidence(confidence);
  if (failures > trials) {
    throw InputError("failures (" + std::to_string(failures) + ") exceed trials (" +
                     std::to_string(trials) + ")");
  }
  RateEstimate estimate;
  estimate.failures = failures;
  estimate.trials = trials;
  estimate.confidence = confidence;
  if (trials == 0) {
    // No evidence at all: every interval is the whole unit interval.
    estimate.point = 0;
    estimate.wilson = estimate.clopper_pearson = estimate.jeffreys = Interval{0, 1};
    estimate.upper_one_sided = 1;
    return estimate;
  }
  const double f = static_cast<double>(failures);
  const double n = static_cast<double>(trials);
  const double alpha = 1 - confidence;
  estimate.point = f / n;
  const double z = boost::math::quantile(boost::math::normal(), 1 - alpha / 2);
  estimate.wilson = wilson_interval(f, n, z);
  estimate.clopper_pearson = {clopper_pearson_lower(f, n, alpha / 2),
                              clopper_pearson_upper(f, n, alpha / 2)};
  const boost::math::beta_distribution<> posterior(f + 0.5, n - f + 0.5);
  // Jeffreys convention (Brown, Cai, DasGupta 2001): the bound at 0 (n) failures is 0 (1).
  estimate.jeffreys = {failures == 0 ? 0.0 : boost::math::quantile(posterior, alpha / 2),
                       failures == trials ? 1.0 : boost::math::quantile(posterior, 1 - alpha / 2)};
  estimate.upper_one_sided = clopper_pearson_upper(f, n, alpha);
  return estimate;
}

std::size_t runs_to_certify(double rate, double confidence) {
  check_confidence(confidence);
  if (!(rate > 0 && rate < 1)) {
    throw InputError("rate to certify must be in (0, 1), got " + std::to_string(rate));
  }
  // Zero failures in n runs: upper bound 1 - (1-c)^(1/n) <= rate  <=>  n >= ln(1-c) / ln(1-rate).
  const double exact = std::log1p(-confidence) / std::log1p(-rate);
  auto n = static_cast<std::size_t>(std::ceil(exact - 1e-9));
  // Guard the rounding at the boundary with the definition itself.
  while (n > 1 && 1 - std::pow(1 - confidence, 1.0 / static_cast<double>(n - 1)) <= rate) --n;
  while (1 - std::pow(1 - confidence, 1.0 / static_cast<double>(n)) > rate) ++n;
  return std::max<std::size_t>(n, 1);
}

std::size_t retries_needed(double p, double target) {
  if (std::isnan(p) || std::isnan(target)) throw InputError("retries_needed: NaN probability");
  if (!(target > 0 && target < 1)) {
    throw InputError("target failure rate must be in (0, 1), got " + std::to_string(target));
  }
  if (p < 0) throw InputError("failure probability must be >= 0, got " + std::to_string(p));
  if (p >= 1) return std::numeric_limits<std::size_t>::max();
  if (p <= target) return 0;
  // p^(k+1) <= target  <=>  k + 1 >= ln(target) / ln(p)  (both logs negative). Inputs are decimal
  // numbers that binary doubles only approximate (0.1^4 is 1.0000000000000002e-4), so an exact
  // boundary counts as met, within a relative 1e-12.
  const double slack_target = target * (1 + 1e-12);
  auto attempts = static_cast<std::size_t>(std::ceil(std::log(target) / std::log(p) - 1e-9));
  while (attempts > 1 && std::pow(p, static_cast<double>(attempts - 1)) <= slack_target) --attempts;
  while (std::pow(p, static_cast<double>(attempts)) > slack_target) ++attempts;
  return attempts - 1;
}

model::FailureRate to_model(const RateEstimate& rate) {
  model::FailureRate f;
  f.failures = static_cast<long>(rate.failures);
  f.trials = static_cast<long>(rate.trials);
  f.confidence = rate.confidence;
  f.point = rate.point;
  f.wilson_lower = rate.wilson.lower;
  f.wilson_upper = rate.wilson.upper;
  f.cp_lower = rate.clopper_pearson.lower;
  f.cp_upper = rate.clopper_pearson.upper;
  f.upper_one_sided = rate.upper_one_sided;
  return f;
}

}  // namespace flakescope::stats
