#pragma once
// `--runs N|auto` and `--max-runs N`: one parser, one set of bounds, one error text for `probe` and
// `audit`, and the one place where the `auto` schedules are defined.
#include <cstddef>
#include <optional>
#include <string>

namespace flakescope {

// The `--runs auto` schedule: `min_runs` first, then batches of `batch` until the stopping rule is
// met or `max_runs` is reached.
struct AutoSchedule {
  std::size_t min_runs;
  std::size_t batch;
};

// What is measured decides the schedule. Probes stabilize a tail bound on deviation samples
// (stats::AdaptiveStopper: a bound needs tens of samples, so batches of 50); audits narrow a
// pass/fail interval (stats::PassFailStopper: each run is a whole test command, so batches of 10).
enum class RunCountUse { kProbe, kAudit };
AutoSchedule auto_schedule(RunCountUse use);

inline constexpr std::size_t kDefaultMaxRuns = 500;        // cap of --runs auto
inline constexpr std::size_t kRunCountLimit = 10'000'000;  // largest --runs / --max-runs

struct RunCount {
  bool adaptive = false;      // --runs auto
  std::size_t runs = 20;      // fixed count (adaptive: equal to max_runs)
  std::size_t min_runs = 20;  // adaptive: first batch (never above max_runs)
  std::size_t batch = 0;      // adaptive: runs between stopping checks
  std::size_t max_runs = 20;  // adaptive: the cap; fixed: equal to runs

  // What reports and worker argv record: "auto" or the number.
  std::string text() const;
};

// A fixed count of `n` runs (programs and tests that do not parse a command line).
RunCount fixed_run_count(std::size_t n);

// The smallest fixed --runs: a probe compares runs with each other (2), an audit counts outcomes
// (1).
std::size_t min_fixed_runs(RunCountUse use);

// Parses `--runs` (`runs_text`) and `--max-runs` (`max_runs_text`, absent when not given). Throws
// InputError with one line: a count out of bounds or not a number (including one that overflows),
// and --max-runs without --runs auto.
RunCount parse_run_count(const std::string& runs_text,
                         const std::optional<std::string>& max_runs_text, RunCountUse use);

}  // namespace flakescope
