#pragma once
// Adaptive run counts (`--runs auto`): the runners call these between batches.
//
// Deviation samples (AdaptiveStopper): run `min_runs`, then batches of `batch`, never more than
// `max_runs`. After each batch the tail bound of the samples so far is compared with the bound of
// the samples one batch earlier; the recommendation is stable, and sampling stops, when both were
// given by the same method and differ by at most `relative_change` of the newer one (two exact
// results, bound 0, are stable). A refused bound is never stable: sampling goes on to the cap.
// The reason says why sampling stopped; at the cap it says what was missing (no bound, with the
// runs the target needs; or how far the bound still moved).
//
// Pass/fail (PassFailStopper, for audits): run `min_runs`, then batches; stop when the two-sided
// Clopper-Pearson interval is narrower than `max_width` (zero failures: after about
// 3.7 / max_width runs at 95%), or when both outcomes occurred at least `decisive_count` times
// (clearly flaky, the rate known to about +-1/sqrt(decisive_count) relative), or at the cap; the
// reason at the cap says how many runs would narrow the interval enough at the observed share.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "stats/tail_bound.h"

namespace flakescope::stats {

struct AdaptiveOptions {
  std::size_t min_runs = 50;
  std::size_t batch = 50;
  std::size_t max_runs = 1000;
  double relative_change = 0.1;
  TailOptions tail;  // target, confidence, seed of the bound being stabilized
};

class AdaptiveStopper {
 public:
  explicit AdaptiveStopper(AdaptiveOptions options);  // throws InputError on inconsistent options
  // Whether the samples so far (one per run) are enough.
  bool should_stop(const std::vector<double>& samples) const;
  // The same decision with its reason, for logs and reports.
  bool should_stop(const std::vector<double>& samples, std::string* reason) const;
  // How many runs to do next, having done `done`; 0 at the cap.
  std::size_t next_batch(std::size_t done) const;
  const AdaptiveOptions& options() const { return options_; }

 private:
  AdaptiveOptions options_;
};

struct PassFailOptions {
  std::size_t min_runs = 30;
  std::size_t batch = 10;
  std::size_t max_runs = 500;
  double max_width = 0.1;
  std::size_t decisive_count = 10;
  double confidence = 0.95;
};

class PassFailStopper {
 public:
  explicit PassFailStopper(PassFailOptions options);
  bool should_stop(std::size_t failures, std::size_t runs) const;
  bool should_stop(std::size_t failures, std::size_t runs, std::string* reason) const;
  std::size_t next_batch(std::size_t done) const;
  const PassFailOptions& options() const { return options_; }

 private:
  PassFailOptions options_;
};

}  // namespace flakescope::stats
