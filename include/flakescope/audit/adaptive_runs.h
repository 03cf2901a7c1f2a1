#pragma once
// `--runs auto`: run in batches and stop once every test's failure rate is known well enough.
//
// The rule (per setting, per testcase, with failures = fail + crash + timeout + error):
// - at least `min_runs` runs, at most the cap (the caller's --max-runs);
// - a test that never fails is settled once the one-sided Clopper-Pearson upper bound on its
//   failure rate is below sqrt(target): then even one retry meets the target (p^2 <= target);
// - a test that always fails is settled at `min_runs` (it is broken, not flaky);
// - a flaky test (>= 2 failures and >= 1 pass) is settled once its two-sided Clopper-Pearson
//   interval is narrower than `flaky_width`;
// - otherwise (e.g. one failure so far) it needs more runs.
// Stop when every test is settled.
#include <vector>

#include "flakescope/audit/test_tally.h"

namespace flakescope::audit {

struct AdaptiveRule {
  double target = 1e-4;
  double confidence = 0.95;
  std::size_t min_runs = 20;
  double flaky_width = 0.1;

  bool settled(const TestTally& tally) const;
  bool should_stop(const Tallies& tallies) const;
};

}  // namespace flakescope::audit
