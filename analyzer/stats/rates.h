#pragma once
// Failure rates from pass/fail counts: point estimate, intervals, and how many runs it takes to
// certify a rate. LibTorch-free.
#include <cstddef>

namespace flakescope::stats {

struct Interval {
  double lower = 0;
  double upper = 1;
};

}  // namespace flakescope::stats
namespace flakescope::model {
struct FailureRate;  // include/flakescope/report_model.h
}
namespace flakescope::stats {

struct RateEstimate {
  std::size_t failures = 0;
  std::size_t trials = 0;
  double confidence = 0.95;  // two-sided level of the intervals
  double point = 0;          // failures / trials (0 when trials == 0)
  Interval wilson;           // Wilson score interval
  Interval clopper_pearson;  // exact (conservative) binomial interval
  Interval jeffreys;         // equal-tailed Beta(f + 1/2, n - f + 1/2) posterior interval
  double upper_one_sided;    // one-sided Clopper-Pearson upper bound at `confidence`
                             // (zero failures: 1 - (1 - confidence)^(1/n), about 3/n at 95%)
};

// The report model's failure rate (counts, point, Wilson and Clopper-Pearson intervals, the
// one-sided bound) of an estimate.
model::FailureRate to_model(const RateEstimate& rate);

// Throws InputError when failures > trials or confidence is not in (0, 1).
RateEstimate estimate_rate(std::size_t failures, std::size_t trials, double confidence = 0.95);

// Runs with zero failures needed for the one-sided upper bound to reach `rate`.
std::size_t runs_to_certify(double rate, double confidence = 0.95);

// Smallest k with p^(k+1) <= target: retries needed so that a test failing independently with
// probability p fails all k+1 attempts with probability at most target. p >= 1 gives SIZE_MAX,
// p <= target gives 0.
std::size_t retries_needed(double p, double target);
// Past this many retries a retry count hides a broken test rather than a rare flake: the reports
// say "retrying is no fix" instead of advising it.
constexpr std::size_t kMaxSensibleRetries = 10;

}  // namespace flakescope::stats
