// Adaptive stopping rules (see analyzer/stats/adaptive.h).
#include "stats/adaptive.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "flakescope/error.h"
#include "stats/rates.h"

namespace flakescope::stats {
namespace {

std::size_t next_batch_of(std::size_t done, std::size_t min_runs, std::size_t batch,
                          std::size_t max_runs) {
  if (done >= max_runs) return 0;
  if (done < min_runs) return min_runs - done;
  return std::min(batch, max_runs - done);
}

void check_schedule(std::size_t min_runs, std::size_t batch, std::size_t max_runs) {
  if (min_runs == 0 || batch == 0) throw InputError("adaptive runs: minimum and batch must be > 0");
  if (max_runs < min_runs) throw InputError("adaptive runs: the cap is below the minimum");
}

// Runs at which the Clopper-Pearson interval at the observed failure share would be narrow enough
// (the share held fixed; doubling search, then bisection).
std::size_t runs_for_width(std::size_t failures, std::size_t runs, const PassFailOptions& o) {
  const double share = static_cast<double>(failures) / static_cast<double>(runs);
  const auto narrow = [&](std::size_t n) {
    const auto f = static_cast<std::size_t>(std::llround(share * static_cast<double>(n)));
    const RateEstimate e = estimate_rate(f, n, o.confidence);
    return e.clopper_pearson.upper - e.clopper_pearson.lower <= o.max_width;
  };
  std::size_t lo = runs, hi = 2 * runs;
  while (!narrow(hi) && hi < (std::size_t{1} << 40)) lo = hi, hi *= 2;
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    (narrow(mid) ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace

AdaptiveStopper::AdaptiveStopper(AdaptiveOptions options) : options_(options) {
  check_schedule(options_.min_runs, options_.batch, options_.max_runs);
  if (!(options_.relative_change > 0))
    throw InputError("adaptive runs: relative change must be > 0");
}

bool AdaptiveStopper::should_stop(const std::vector<double>& samples) const {
  return should_stop(samples, nullptr);
}

bool AdaptiveStopper::should_stop(const std::vector<double>& samples, std::string* reason) const {
  const auto say = [&](bool stop, const std::string& why) {
    if (reason) *reason = why;
    return stop;
  };
  const std::size_t n = samples.size();
  if (n < options_.min_runs) return say(false, "below the minimum of runs");
  const bool at_cap = n >= options_.max_runs;
  if (n < options_.min_runs + options_.batch) {
    return say(at_cap, at_cap ? "reached the cap of " + std::to_string(n) +
                                    " runs before a second batch could confirm the bound"
                              : "no earlier batch to compare with");
  }
  const TailBound now = bound_tail_quantile(samples, options_.tail);
  const std::vector<double> before_samples(samples.begin(),
                                           samples.end() - static_cast<long>(options_.batch));
  const TailBound before = bound_tail_quantile(before_samples, options_.tail);
  const std::string cap = "reached the cap of " + std::to_string(n) + " runs";
  if (!now.has_bound || !before.has_bound) {
    if (!at_cap) return say(false, "no bound yet: " + now.reason);
    const std::size_t needed = now.runs_needed > n ? now.runs_needed : 0;
    return say(true, cap + " without a bound (" + now.reason + ")" +
                         (needed ? "; the target needs about " + std::to_string(needed) + " runs"
                                 : std::string()));
  }
  if (now.method != before.method) {
    return say(at_cap, at_cap ? cap + " while the method still changed (" + before.method + " -> " +
                                    now.method + ")"
                              : "the method changed");
  }
  const double change = std::abs(now.bound - before.bound);
  if (change <= options_.relative_change * std::abs(now.bound)) {
    return say(true, "the recommendation is stable over the last batch");
  }
  if (!at_cap) return say(false, "the recommendation still moves");
  char moved[160];
  std::snprintf(moved, sizeof moved,
                "; the bound still moved %.0f%% over the last batch (stable means <= %.0f%%)",
                100 * change / std::abs(now.bound), 100 * options_.relative_change);
  return say(true, cap + moved);
}

std::size_t AdaptiveStopper::next_batch(std::size_t done) const {
  return next_batch_of(done, options_.min_runs, options_.batch, options_.max_runs);
}

PassFailStopper::PassFailStopper(PassFailOptions options) : options_(options) {
  check_schedule(options_.min_runs, options_.batch, options_.max_runs);
  if (!(options_.max_width > 0 && options_.max_width < 1)) {
    throw InputError("adaptive runs: interval width must be in (0, 1)");
  }
  if (!(options_.confidence > 0 && options_.confidence < 1)) {
    throw InputError("adaptive runs: confidence must be in (0, 1)");
  }
}

bool PassFailStopper::should_stop(std::size_t failures, std::size_t runs) const {
  return should_stop(failures, runs, nullptr);
}

bool PassFailStopper::should_stop(std::size_t failures, std::size_t runs,
                                  std::string* reason) const {
  const auto say = [&](bool stop, const std::string& why) {
    if (reason) *reason = why;
    return stop;
  };
  if (failures > runs) throw InputError("adaptive runs: more failures than runs");
  if (runs < options_.min_runs && runs < options_.max_runs) {
    return say(false, "below the minimum of runs");
  }
  const RateEstimate e = estimate_rate(failures, runs, options_.confidence);
  const double width = e.clopper_pearson.upper - e.clopper_pearson.lower;
  if (width <= options_.max_width) return say(true, "the failure-rate interval is narrow enough");
  if (failures >= options_.decisive_count && runs - failures >= options_.decisive_count) {
    return say(true, "clearly flaky: both outcomes occurred often");
  }
  if (runs < options_.max_runs) return say(false, "the failure rate is not yet known well enough");
  char why[200];
  std::snprintf(why, sizeof why,
                "reached the cap of %zu runs; the failure-rate interval is %.3g wide (goal %.3g): "
                "about %zu runs would narrow it enough",
                runs, width, options_.max_width, runs_for_width(failures, runs, options_));
  return say(true, why);
}

std::size_t PassFailStopper::next_batch(std::size_t done) const {
  return next_batch_of(done, options_.min_runs, options_.batch, options_.max_runs);
}

}  // namespace flakescope::stats
