#pragma once
// The peaks-over-threshold model of the positive part of per-run deviations, shared by the
// quantile bound (tail_bound.h) and the failure rate of given tolerances (failure_rate.h).
// LibTorch-free.
//
// Input: the positive, finite samples, sorted ascending. Ties (ULP lattices, repeated values) are
// broken by an upward jitter of less than the smallest gap: the jittered data dominate the real
// data, so any upper bound or exceedance rate computed from them can only be higher. Then a GPD is
// fitted above the threshold that leaves the top max(min_exceedances, tail_fraction) of the
// samples, or above higher thresholds (half as many each) while Anderson-Darling rejects it; the
// shape is restricted to >= 0 unless a bounded tail (shape < 0) is significant at 0.001 there and
// confirmed at 0.001 above the threshold that keeps half the exceedances.
#include <cstddef>
#include <string>
#include <vector>

#include "flakescope/stats/gpd.h"
#include "flakescope/stats/tail_bound.h"

namespace flakescope::stats {

struct TailModel {
  bool fitted = false;
  std::string failure;       // why no model was accepted (when !fitted)
  std::vector<double> data;  // the (jittered) positive samples, ascending
  double jitter = 0;         // width of the tie-breaking jitter (0: no ties)
  double threshold = 0;
  std::vector<double> excesses;  // data above the threshold, minus the threshold
  GpdFit fit;                    // the fit under the shape restriction
  GpdFit free_fit;               // the fit with the shape in [kMinShape, kMaxShape]
  double min_shape = 0;          // the restriction: 0, or kMinShape for a bounded tail
  double max_shape = kMaxShape;  // 0 under assume_light_tail (min_shape 0 too: exponential)
  bool bounded_tail = false;
  bool exponential = false;  // reported shape 0 (not significantly different from it)
  double shape = 0;          // reported shape and scale (0 and the mean excess if exponential)
  double scale = 0;
  double gof_statistic = 0;  // Anderson-Darling A^2 of the unrestricted fit
  double gof_critical = 0;
  std::size_t candidates = 0;  // thresholds tried (the last one is the one used)
};

// Needs options.min_exceedances + 1 positive samples (else not fitted, with the reason).
TailModel fit_tail_model(const std::vector<double>& positive_sorted, const TailOptions& options);

}  // namespace flakescope::stats
