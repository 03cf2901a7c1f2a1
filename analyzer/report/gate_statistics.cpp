// Two-sample tests for the gate (see gate_statistics.h).
#include "report/gate_statistics.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace flakescope::report {
namespace {

double log_choose(double n, double k) {
  return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1);
}

}  // namespace

double fisher_greater_p(std::size_t k1, std::size_t n1, std::size_t k2, std::size_t n2) {
  if (n1 == 0 || n2 == 0) return 1;
  // Given K = k1 + k2 events among N = n1 + n2 runs, the current sample's count is
  // hypergeometric(N, K, n2); sum its upper tail from k2.
  const double K = static_cast<double>(k1 + k2), N = static_cast<double>(n1 + n2);
  const double draws = static_cast<double>(n2);
  const double hi = std::min(K, draws);
  const double log_total = log_choose(N, draws);
  double p = 0;
  for (double x = static_cast<double>(k2); x <= hi; x += 1) {
    if (draws - x > N - K) continue;
    p += std::exp(log_choose(K, x) + log_choose(N - K, draws - x) - log_total);
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

}  // namespace flakescope::report
