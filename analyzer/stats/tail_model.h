#pragma once
// The peaks-over-threshold model of the positive part of per-run deviations, shared by the
// quantile bound (tail_bound.h) and the failure rate of given tolerances (failure_rate.h).
// LibTorch-free.
//
// Input: the positive, finite samples, sorted ascending. Ties (ULP lattices, repeated values) are
// broken by an upward jitter of less than the smallest gap: the jittered data dominate the real
// data, so any upper bound or exceedance rate computed from them can only be higher. Then a GPD is
// fitted above the threshold that leaves the top max(min_exceedances, min(tail_fraction,
// tail_sqrt_scale sqrt(m))) of the m samples, or above higher thresholds (half as many each) while
// Anderson-Darling rejects it; the shape is restricted to >= 0 unless a bounded tail (shape < 0) is
// significant at 0.001 there and confirmed at 0.001 above the threshold that keeps half the
// exceedances.
#include <cstddef>
#include <string>
#include <vector>

#include "stats/gpd.h"
#include "stats/tail_bound.h"

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
  std::size_t candidates = 0;                // thresholds tried (the last one is the one used)
  std::string samples_are = "changed runs";  // what the data are, counted (positive_samples)
};

// What the positive samples are, counted, for the reasons ("7 changed runs").
std::string positive_samples(const TailOptions& options);

// Needs options.min_exceedances + 1 positive samples (else not fitted, with the reason).
TailModel fit_tail_model(const std::vector<double>& positive_sorted, const TailOptions& options);

// A separate component: the top `count` positive samples lie so far beyond the tail of the others
// that the tail model of the others makes `count` values that high implausible (a rare failure
// mode such as a bad kernel choice, on top of rounding noise). Its own tail cannot be extrapolated
// from a handful of values, so no bound beyond it is calibrated; and a component that did not
// appear in the sample cannot be detected at all (probability (1 - rate)^n).
//
// Test, for each count s = 1..kMaxComponentCount with a gap above the rest at least as wide as the
// rest's spread above its median (a scale- and location-free prefilter): the tail model of the
// other values (fit_tail_model), the upper end of the 95% profile interval of its survival at the
// s-th largest value, and the binomial probability that s of the positive samples reach it; a
// component when that p-value is below kComponentAlpha (the smallest over s wins).
inline constexpr std::size_t kMaxComponentCount = 10;
inline constexpr double kComponentAlpha = 1e-3;

struct SeparateComponent {
  bool detected = false;
  std::size_t count = 0;  // runs in the component (the largest `count` positive samples)
  double start = 0;       // its smallest value
  double rest_max = 0;    // the largest value below it
  double p_value = 1;     // of `count` values that high under the tail model of the rest
};

SeparateComponent detect_separate_component(const std::vector<double>& positive_sorted,
                                            const TailOptions& options);

}  // namespace flakescope::stats
