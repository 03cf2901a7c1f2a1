// Two-sample tests (see analyzer/stats/two_sample.h).
#include "stats/two_sample.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace flakescope::stats {
namespace {

double log_choose(double n, double k) {
  return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1);
}

}  // namespace

double hypergeometric_upper_tail(std::size_t x_min, std::size_t marked, std::size_t draws,
                                 std::size_t population) {
  // In doubles throughout: the terms are the same floating-point expressions whichever reading of
  // a 2x2 table the caller chose, so reports keep their p-values bit for bit.
  const double K = static_cast<double>(marked), N = static_cast<double>(population);
  const double d = static_cast<double>(draws);
  const double hi = std::min(K, d);
  const double log_total = log_choose(N, d);
  double p = 0;
  for (double x = static_cast<double>(x_min); x <= hi; x += 1) {
    if (d - x > N - K) continue;
    p += std::exp(log_choose(K, x) + log_choose(N - K, d - x) - log_total);
  }
  return std::min(1.0, p);
}

double fisher_greater_p(std::size_t k1, std::size_t n1, std::size_t k2, std::size_t n2) {
  if (n1 == 0 || n2 == 0) return 1;
  // Given K = k1 + k2 events among N = n1 + n2 runs, the current sample's count is
  // hypergeometric(N, K, n2); sum its upper tail from k2.
  return hypergeometric_upper_tail(k2, k1 + k2, n2, n1 + n2);
}

double fisher_exact_two_sided(std::size_t a, std::size_t n, std::size_t b, std::size_t m) {
  // Conditional on the f = a + b failures, a follows a hypergeometric law; the p-value sums the
  // tables no more probable than the observed one.
  const std::size_t f = a + b, total = n + m;
  if (total == 0 || f == 0 || f == total) return 1;
  const double log_norm = log_choose(double(total), double(f));
  auto log_p = [&](std::size_t x) {
    return log_choose(double(n), double(x)) + log_choose(double(m), double(f - x)) - log_norm;
  };
  const std::size_t lo = f > m ? f - m : 0, hi = std::min(f, n);
  const double observed = log_p(a);
  double p = 0;
  for (std::size_t x = lo; x <= hi; ++x) {
    const double lx = log_p(x);
    // The tolerance counts tables whose probability equals the observed one up to rounding.
    if (lx <= observed + 1e-7) p += std::exp(lx);
  }
  return std::min(1.0, p);
}

double mann_whitney_greater_p(const std::vector<double>& baseline,
                              const std::vector<double>& current) {
  std::vector<std::pair<double, int>> all;  // value, 0 = baseline, 1 = current
  for (double v : baseline)
    if (!std::isnan(v)) all.emplace_back(v, 0);
  for (double v : current)
    if (!std::isnan(v)) all.emplace_back(v, 1);
  double n1 = 0, n2 = 0;
  for (const auto& [v, g] : all) (g ? n2 : n1) += 1;
  if (n1 == 0 || n2 == 0) return 1;
  std::sort(all.begin(), all.end());
  // Midranks; the sum of t^3 - t over tie groups for the variance correction.
  double rank_sum_current = 0, ties = 0;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double midrank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; ++k)
      if (all[k].second) rank_sum_current += midrank;
    ties += t * t * t - t;
    i = j;
  }
  const double N = n1 + n2;
  const double u = rank_sum_current - n2 * (n2 + 1) / 2;
  const double mean = n1 * n2 / 2;
  const double var = n1 * n2 / 12 * ((N + 1) - ties / (N * (N - 1)));
  if (var <= 0) return 1;
  const double z = (u - mean - 0.5) / std::sqrt(var);
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

}  // namespace flakescope::stats
