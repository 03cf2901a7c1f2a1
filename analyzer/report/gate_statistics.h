#pragma once
// The two-sample tests the gate uses so that sampling noise does not fail a build.
#include <cstddef>
#include <vector>

namespace flakescope::report {

// One-sided Fisher exact test: the p-value of seeing at least `k_current` events in the current
// sample if both samples had the same event rate (H1: the current rate is higher).
double fisher_greater_p(std::size_t k_baseline, std::size_t n_baseline, std::size_t k_current,
                        std::size_t n_current);

// One-sided Mann-Whitney U test, normal approximation with tie and continuity corrections
// (H1: `current` is stochastically larger than `baseline`). NaNs are dropped; 1 when either sample
// is empty or every value is tied.
double mann_whitney_greater_p(const std::vector<double>& baseline,
                              const std::vector<double>& current);

}  // namespace flakescope::report
