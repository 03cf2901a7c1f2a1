#include "audit/traceback_cost.h"

#include <cmath>
#include <cstdio>

namespace flakescope::audit {
namespace {

// --tb=line and --tb=no keep the one-line failure message flakescope records, without the cost.
bool asks_for_short_tracebacks(const std::vector<std::string>& command) {
  for (std::size_t i = 0; i < command.size(); ++i) {
    const std::string& a = command[i];
    if (a == "--tb=line" || a == "--tb=no" || a == "--tb=native") return true;
    if (a == "--tb" && i + 1 < command.size() &&
        (command[i + 1] == "line" || command[i + 1] == "no" || command[i + 1] == "native"))
      return true;
  }
  return false;
}

bool runs_pytest(const std::vector<std::string>& command) {
  for (const auto& a : command)
    if (a == "pytest" || a.find("/pytest") != std::string::npos || a.rfind("py.test", 0) == 0)
      return true;
  return false;
}

}  // namespace

TracebackCost traceback_cost(const std::vector<TestTally>& tests,
                             const std::vector<std::string>& command) {
  TracebackCost cost;
  for (const auto& t : tests) {
    cost.report_seconds += t.report_seconds;
    for (double d : t.durations) cost.test_seconds += d;
  }
  const double share = cost.test_seconds > 0 ? cost.report_seconds / cost.test_seconds : 0;
  if (cost.report_seconds < kTracebackMinSeconds || share < kTracebackMinShare ||
      asks_for_short_tracebacks(command))
    return cost;
  char line[320];
  std::snprintf(line, sizeof line,
                "pytest spent %.0f%% of the test time (%.1f s of %.1f s) formatting failure "
                "tracebacks: add --tb=line to the %s command (outcomes and failure messages stay "
                "the same, the audit runs faster)",
                100 * share, cost.report_seconds, cost.test_seconds,
                runs_pytest(command) ? "pytest" : "audited");
  cost.advice = line;
  return cost;
}

std::optional<model::TracebackCost> to_model(const TracebackCost& cost) {
  if (cost.advice.empty()) return std::nullopt;
  return model::TracebackCost{cost.report_seconds, cost.test_seconds,
                              cost.test_seconds > 0 ? cost.report_seconds / cost.test_seconds : 0.0,
                              cost.advice};
}

}  // namespace flakescope::audit
