#pragma once
// `--runs auto`: run in batches and stop once every test's failure rate is known well enough.
// The decision per (setting, testcase) is the statistics engine's pass/fail rule
// (stats::PassFailStopper, analyzer/stats/adaptive.h): at least `min_runs`, then batches;
// a test is settled when its two-sided Clopper-Pearson interval is narrower than `max_width`, or
// when it both passed and failed `decisive_count` times, or at the cap. The audit stops when every
// test (and the command as a whole) is settled. Failures are fail + crash + timeout + error;
// skipped runs are not trials (a test skipped in every run is settled at `min_runs`).
#include <string>

#include "audit/test_tally.h"
#include "stats/adaptive.h"

namespace flakescope::audit {

class AdaptiveRule {
 public:
  explicit AdaptiveRule(stats::PassFailOptions options) : stopper_(options) {}

  bool settled(const TestTally& tally) const;
  // Whether to stop; `reason` says which test is still unsettled, or why all are.
  bool should_stop(const Tallies& tallies, std::string* reason = nullptr) const;
  const stats::PassFailOptions& options() const { return stopper_.options(); }

 private:
  stats::PassFailStopper stopper_;
};

}  // namespace flakescope::audit
