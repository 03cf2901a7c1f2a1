#include "flakescope/audit/adaptive_runs.h"

#include <cmath>

#include "flakescope/stats/rates.h"

namespace flakescope::audit {

bool AdaptiveRule::settled(const TestTally& t) const {
  const std::size_t n = t.trials();
  if (n == 0) return t.runs() >= min_runs;  // always skipped: nothing more to learn
  if (n < min_runs) return false;
  const std::size_t f = t.failures();
  const stats::RateEstimate rate = stats::estimate_rate(f, n, confidence);
  if (f == 0) return rate.upper_one_sided < std::sqrt(target);
  if (f == n) return true;
  if (f >= 2 && f < n)
    return rate.clopper_pearson.upper - rate.clopper_pearson.lower < flaky_width;
  return false;
}

bool AdaptiveRule::should_stop(const Tallies& tallies) const {
  for (const auto& t : tallies.command)
    if (!settled(t)) return false;
  for (const auto& t : tallies.tests)
    if (!settled(t)) return false;
  return true;
}

}  // namespace flakescope::audit
