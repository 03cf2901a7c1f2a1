#pragma once
// Per (setting, testcase) counts over a set of runs: the numbers the report, the adaptive stopping
// rule and the ablation diagnosis all work from. The whole command is tallied too, as the testcase
// "(command)", so a crash that kills a suite before any XML is written is never lost.
#include <array>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "audit/run_record.h"

namespace flakescope::audit {

inline constexpr std::string_view kCommandTestName = "(command)";

struct TestTally {
  std::string name;
  std::string setting;
  std::array<std::size_t, std::size(kAllOutcomes)> counts{};  // indexed by Outcome
  std::vector<double> durations;                              // seconds, per run it appeared in
  double report_seconds = 0;  // of those, building failure reports (tracebacks); plugin only
  struct RunOutcome {
    std::size_t run;
    std::uint64_t seed;
    Outcome outcome;
    std::string message;
  };
  std::vector<RunOutcome> per_run;  // in run order
  // From the pytest plugin (empty otherwise):
  std::string replay_id;                                  // the node id from the start folder
  std::map<std::string, std::size_t> environment_errors;  // "network: OSError" -> failures
  nlohmann::json retry;                                   // the retry mechanism it carries
  std::size_t drew_random = 0, drew_random_known = 0;     // runs that drew / that could tell
  // In-process: trials that were their process's first repetition of the test, and later ones.
  struct RepetitionCounts {
    std::size_t trials = 0, failures = 0;
  } first_repetition, later_repetitions;

  std::size_t count(Outcome o) const { return counts[static_cast<std::size_t>(o)]; }
  std::size_t runs() const { return per_run.size(); }
  std::size_t failures() const;                                 // fail + crash + timeout + error
  std::size_t trials() const;                                   // runs that were not skipped
  std::size_t passes() const { return trials() - failures(); }  // pass + xfail
  std::size_t environment_failures() const;                     // failures of the machine
};

struct Tallies {
  std::vector<TestTally> command;  // one per setting, "(command)"
  std::vector<TestTally> tests;    // per (setting, testcase) from JUnit/console
};

// `setting_order` fixes the order of settings in the result (others follow in order of appearance);
// testcases keep the order they first appeared in.
Tallies tally_runs(const std::vector<RunRecord>& records,
                   const std::vector<std::string>& setting_order = {});

}  // namespace flakescope::audit
