#pragma once
// When pytest spends most of an audit formatting failure tracebacks (assert_close of big tensors
// with --tb=auto/long: one real suite ran 10x slower than with --tb=no), the audit says so and
// names the fix. The plugin times pytest's report building per failed phase (report_seconds).
#include <optional>
#include <string>
#include <vector>

#include "audit/test_tally.h"
#include "flakescope/report_model.h"

namespace flakescope::audit {

struct TracebackCost {
  double report_seconds = 0;  // building failure reports, summed over every test and run
  double test_seconds = 0;    // the tests' own durations (which include the report building)
  std::string advice;         // one line with the fix; empty when the cost is not worth a word
};

// Worth a word: at least kMinSeconds and kMinShare of the test time, and the audited command does
// not already ask for one-line or no tracebacks.
inline constexpr double kTracebackMinSeconds = 2.0;
inline constexpr double kTracebackMinShare = 0.3;

TracebackCost traceback_cost(const std::vector<TestTally>& tests,
                             const std::vector<std::string>& command);

// The report's section (with the share of the test time), or nullopt when there is no advice.
std::optional<model::TracebackCost> to_model(const TracebackCost& cost);

}  // namespace flakescope::audit
