#pragma once
// The failure rate of given tolerances: P(some element has |a - e| > atol + rtol |e|), per run,
// estimated from per-run samples, with a confidence interval. LibTorch-free.
//
//   FailureRate estimate_failure_rate(const std::vector<double>& needed_atol, double atol,
//                                     const FailureRateOptions& options = {});
//
// Input, one scalar per run: the atol that run needs on top of the rtol being asked about,
//   needed_atol[i] = max over the run's elements of (|a - e| - rtol |e|),
// so run i fails exactly when needed_atol[i] > atol (assert_close's rule, |a-e| <= atol + rtol|e|
// passes). With rtol = 0 it is max |a - e| (the `abs` series of a probe report); a report's
// `atol_at_rtol` series is this quantity at its `rtol_for_margin`, clamped at 0. Values <= 0 pass
// every atol >= 0 (negative values are allowed and count as 0); +inf marks a run that could not be
// compared (it fails every atol). Samples of max |a - e| used for an rtol > 0 give a pessimistic
// (too high) rate. Throws InputError for no samples, a NaN sample, a negative or NaN atol, or a
// confidence outside (0, 1).
//
// Method:
//  - "counts": some run fails at this atol (the rate lies within the observed range):
//    point = failures / runs, two-sided Clopper-Pearson interval at `confidence`;
//  - "tail": no run fails (atol >= the largest sample) and the tail model (tail_model.h) fits:
//    P = P(dev > u) * P(dev > atol | dev > u), u the tail threshold. The point estimate is the
//    fitted model's; the interval multiplies the ends of a Clopper-Pearson interval on the share of
//    runs above u and of the profile-likelihood interval of the GPD survival at atol - u, each at
//    1 - alpha/2 (Bonferroni), so the product covers at `confidence`. The upper end keeps the
//    model's shape floor (>= 0 unless a bounded tail is shown); the lower end lets the shape go
//    down to -1, so a light tail (normal, uniform) is not assumed away in either direction;
//  - "counts" also when no run fails and the tail cannot be modelled (fewer than 16 changed runs,
//    no GPD fits): 0 failures, interval [0, Clopper-Pearson upper], the reason says why.
//  - a separate component (a few runs far beyond the others, detect_separate_component) when no
//    run fails: the rest's tail as above, and the upper end adds the component's whole rate;
//    a component that did not occur in the sample cannot be seen (see tail_bound.h);
// Lattice data (ULPs) are jittered upward inside the model, which can only raise the rate.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "stats/rates.h"

namespace flakescope::stats {

struct FailureRateOptions {
  double confidence = 0.95;       // two-sided level of the interval
  std::uint64_t seed = 20261125;  // of the tie jitter
  // What a zero sample is, for the reason when every sample is zero: empty reads "no run changed"
  // (a deviation); "within rtol=..." for the atol a pair needed at its rtol.
  std::string zero_sample_is;
};

struct FailureRate {
  std::string method;  // "counts" or "tail"
  std::string reason;  // which evidence the numbers come from
  double atol = 0;
  double confidence = 0.95;
  double point = 0;   // estimated per-run failure rate
  Interval interval;  // two-sided at `confidence`
  std::size_t runs = 0;
  std::size_t failures = 0;  // runs with needed_atol > atol
  Interval counts_interval;  // Clopper-Pearson from the counts alone (always given)
  // The tail model ("tail" only).
  double threshold = 0;
  std::size_t exceedances = 0;
  double shape = 0;
  double scale = 0;
  // A separate component (tail_model.h) below atol: the tail model is fitted to the rest and the
  // upper end adds the component's whole rate, since its own tail beyond atol is unknown.
  std::size_t component_count = 0;
};

FailureRate estimate_failure_rate(const std::vector<double>& needed_atol, double atol,
                                  const FailureRateOptions& options = {});

// "fails an estimated 1.3% of runs, 95% CI [0.5%, 3.1%]" (rates below 0.01% in scientific form).
std::string describe_failure_rate(const FailureRate& rate);

nlohmann::json to_json(const FailureRate& rate);

}  // namespace flakescope::stats
