#pragma once
// Two-sample comparisons of failure counts and of samples: the exact tests behind the gate (is the
// current report worse than the baseline?), the audit's ablation (does freeing a knob raise the
// failure rate?) and the merged test matrix (do two environments fail at different rates?), in one
// place so that every command computes a p-value the same way. LibTorch-free.
#include <cstddef>
#include <vector>

namespace flakescope::stats {

// P(X >= x_min) for X hypergeometric: the number of marked items among `draws` drawn without
// replacement from `population` items of which `marked` are marked. Requires marked <= population
// and draws <= population. A 2x2 table has two readings as a hypergeometric (the runs of one group
// drawn among the failures marked, or the failures drawn among that group's runs marked); their
// p-values are equal, though not always to the last bit, so each caller keeps the reading it has
// always used.
double hypergeometric_upper_tail(std::size_t x_min, std::size_t marked, std::size_t draws,
                                 std::size_t population);

// One-sided Fisher exact test: the p-value of seeing at least `k_current` events in the current
// sample if both samples had the same event rate (H1: the current rate is higher). 1 when either
// sample is empty.
double fisher_greater_p(std::size_t k_baseline, std::size_t n_baseline, std::size_t k_current,
                        std::size_t n_current);

// Two-sided p-value of Fisher's exact test for failures a of n and b of m: the probability of the
// tables with the same margins that are no more probable than the observed one.
double fisher_exact_two_sided(std::size_t a, std::size_t n, std::size_t b, std::size_t m);

// One-sided Mann-Whitney U test, normal approximation with tie and continuity corrections
// (H1: `current` is stochastically larger than `baseline`). NaNs are dropped; 1 when either sample
// is empty or every value is tied.
double mann_whitney_greater_p(const std::vector<double>& baseline,
                              const std::vector<double>& current);

}  // namespace flakescope::stats
