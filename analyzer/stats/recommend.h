#pragma once
// Tolerance and retry recommendations for one output, from its per-run deviation samples, and
// their attachment to a probe report. LibTorch-free.
//
// For a target per-run failure rate and a confidence:
//  - atol: the upper bound of the `abs` samples (max |a - e|) with rtol = 0;
//  - rtol: the upper bound of the `rel` samples (max |a - e| / |e|) with atol = 0;
//  - pair (the assert_close-style rule): rtol is kept at the dtype's torch.testing default and
//    atol is the upper bound of the `atol_at_rtol` samples (max(0, |a - e| - rtol |e|)), so that
//    |a - e| <= atol + rtol |e| holds for every element with the stated rate and confidence;
//  - how the dtype's torch.testing defaults fare: the runs whose margin exceeds the default atol,
//    with Clopper-Pearson interval (from `abs` with rtol ignored when no margin sample exists);
//  - retries: the smallest k with upper(P(fail))^(k+1) <= target for the default tolerance,
//    assuming independent attempts;
//  - runs needed: the total runs before every bound above can be given (0 when they were).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flakescope/report_model.h"

#include "core/dtype.h"
#include "stats/rates.h"
#include "stats/tail_bound.h"

namespace flakescope::stats {

struct ToleranceOptions {
  double target = 1e-4;  // per-run failure rate the recommendation must stay under
  double confidence = 0.95;
  std::uint64_t seed = 20261125;   // for any bootstrap
  bool assume_light_tail = false;  // TailOptions::assume_light_tail for every bound
};

// The per-run samples of one output; empty vectors are series that were not recorded.
struct DeviationSeries {
  std::vector<double> abs;
  std::vector<double> rel;
  std::vector<double> ulp;
  std::vector<double> atol_at_rtol;
  std::optional<DType> dtype;             // for the torch.testing defaults
  std::optional<double> rtol_for_margin;  // the rtol `atol_at_rtol` was measured with
};

struct DefaultToleranceOutcome {
  Tolerance tolerance{0, 0};
  bool rtol_ignored = false;  // measured from `abs` alone: a pessimistic count
  RateEstimate failure_rate;
  std::size_t retries = 0;  // SIZE_MAX: every run fails, no retry count helps
};

struct Recommendation {
  ToleranceOptions options;
  std::optional<TailBound> atol;
  std::optional<TailBound> rtol;
  std::optional<TailBound> pair_atol;  // with rtol = pair_rtol
  double pair_rtol = 0;
  std::optional<TailBound> ulp;
  std::optional<DefaultToleranceOutcome> defaults;
  std::size_t runs_needed = 0;
};

// How a zero in the series' atol_at_rtol reads: "within rtol=R (no atol needed)" when some run
// differed (|a - e| > 0) and rtol > 0; empty (bitwise identical) otherwise.
std::string zero_within_rtol(const DeviationSeries& s, double rtol);

// Throws InputError for unusable samples (none at all, NaN, negative) or options out of range.
Recommendation recommend(const DeviationSeries& series, const ToleranceOptions& options);

nlohmann::json to_json(const Recommendation& r);

// Sets the recommendation of every output of every probe setting that has per-run samples. Never
// throws on odd samples: it records why no recommendation could be made.
void attach_recommendations(std::vector<model::ProbeResult>& probes,
                            const ToleranceOptions& options);

// One output's samples, dtype and margin rtol. Throws InputError for missing or non-numeric
// samples.
DeviationSeries series_from_metrics(const model::OutputMetrics& metrics);

}  // namespace flakescope::stats
