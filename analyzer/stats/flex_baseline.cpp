// The FLEX-style baseline bound (see analyzer/stats/flex_baseline.h).
#include "stats/flex_baseline.h"

#include <algorithm>
#include <cmath>

#include "stats/gpd.h"

namespace flakescope::stats {

FlexBound flex_style_bound(const std::vector<double>& samples) {
  constexpr std::size_t kMinExceedances = 50;
  constexpr double kQuantile = 0.9999;
  constexpr std::size_t kCandidates = 20;
  FlexBound result;
  std::vector<double> x(samples);
  std::sort(x.begin(), x.end());
  const std::size_t n = x.size();
  if (n == 0 || !std::isfinite(x.back())) {
    result.reason = "no finite samples";
    return result;
  }
  double mean = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(n);
  double variance = 0;
  for (double v : x) variance += (v - mean) * (v - mean);
  variance /= static_cast<double>(n);
  if (variance < 1e-20) {
    result.has_bound = true;
    result.bound = x.back();
    result.reason = "deterministic (variance < 1e-20)";
    return result;
  }
  if (n <= kMinExceedances) {
    result.reason = "fewer than 50 exceedances possible";
    return result;
  }
  // Threshold index t leaves the samples above x[t] as exceedances; highest threshold first.
  const std::size_t highest = n - kMinExceedances - 1;
  const std::size_t step = std::max<std::size_t>(1, (highest + 1) / kCandidates);
  for (std::size_t t = highest + 1; t-- > 0;) {
    if ((highest - t) % step != 0) continue;
    const double u = x[t];
    std::vector<double> excesses;
    for (std::size_t i = t + 1; i < n; ++i) {
      if (x[i] > u) excesses.push_back(x[i] - u);
    }
    if (excesses.size() < kMinExceedances) continue;
    const GpdFit fit = fit_gpd(excesses);
    if (anderson_darling_statistic(excesses, fit.shape, fit.scale) >
        anderson_darling_critical_value(fit.shape)) {
      continue;
    }
    if (fit.shape > 0 && !fit.exponential) continue;  // heavy tail: rejected
    const double shape = fit.shape < 0 ? fit.shape : 0;
    const double scale = fit.shape < 0 ? fit.scale : fit.exponential_scale;
    result.has_bound = true;  // a lower accepted threshold overrides a higher one
    result.threshold = u;
    result.exceedances = excesses.size();
    result.shape = shape;
    result.bound = u + gpd_excess_quantile(1 - kQuantile, shape, scale);
    result.reason = "GPD above the lowest accepted threshold";
  }
  if (!result.has_bound) result.reason = "no threshold accepted";
  return result;
}

}  // namespace flakescope::stats
