#pragma once
// One finished run of an audited command: the process outcome and, when the command wrote JUnit XML
// (or printed gtest progress), one outcome per testcase. This is what a run log line holds, and the
// only input of the audit report, so a report can always be rebuilt from run logs alone.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace flakescope::audit {

// Outcomes of a whole run (pass .. error) and of one testcase (pass, fail, skip, xfail, error, and
// crash/timeout when a gtest run died inside that testcase).
enum class Outcome { kPass, kFail, kCrash, kTimeout, kError, kSkip, kXfail };

inline constexpr Outcome kAllOutcomes[] = {Outcome::kPass,    Outcome::kFail,  Outcome::kCrash,
                                           Outcome::kTimeout, Outcome::kError, Outcome::kSkip,
                                           Outcome::kXfail};

std::string_view outcome_name(Outcome outcome);
std::optional<Outcome> parse_outcome(std::string_view name);
// One letter per outcome for timelines: P F C T E S X.
char outcome_letter(Outcome outcome);
// Counts against the test: fail, crash, timeout, error. Skip and xfail are expected results.
bool is_failure(Outcome outcome);

struct TestcaseResult {
  std::string name;  // "suite::test" (gtest "Suite.Test" becomes "Suite::Test")
  Outcome outcome = Outcome::kPass;
  double duration = 0;
  std::string message;  // first line of the failure, skip reason, or empty
  // From the pytest plugin's outcome lines (empty/null otherwise):
  std::string replay_id;            // the node id as a path from where pytest was started
  std::string environment;          // "network: OSError" when the failure is the machine's
  nlohmann::json retry;             // {"mechanism", "attempts", "decorator"} the test carries
  std::optional<bool> drew_random;  // the test moved a global random generator
  bool reseeded = false;            // the test seeded a global generator itself
  // Seconds pytest spent building the failure reports (tracebacks) of this test's failed phases:
  // with long tracebacks of big tensors that can dominate a whole audit's time.
  double report_seconds = 0;
  // Which repetition of its pytest process this was (0: the process's first), in-process only.
  std::optional<std::size_t> repetition;
};

inline TestcaseResult make_testcase(std::string name, Outcome outcome, double duration,
                                    std::string message) {
  TestcaseResult tc;
  tc.name = std::move(name);
  tc.outcome = outcome;
  tc.duration = duration;
  tc.message = std::move(message);
  return tc;
}

struct RunRecord {
  std::size_t run = 0;     // index of the run within its setting (0-based)
  std::uint64_t seed = 0;  // FLAKESCOPE_SEED of the run
  std::string setting = "controlled";
  Outcome outcome = Outcome::kPass;
  std::optional<int> exit_code;       // when the process exited
  std::optional<std::string> signal;  // "SIGABRT" when it was killed by a signal
  double duration = 0;                // seconds, wall clock
  std::vector<TestcaseResult> testcases;
  std::optional<std::string> junit_error;  // why the testcases could not be read
  std::string error;                       // why the command could not start
  std::string stdout_tail;
  std::string stderr_tail;
  std::vector<nlohmann::json> captures;  // assertion capture lines (with --capture)
  nlohmann::json knobs;                  // what the pytest plugin read back from torch, or null
  // An interrupted in-process run: its testcases are those recorded before the interrupt; a
  // resumed audit keeps them and runs only the tests of `collected` that have no result yet.
  bool incomplete = false;
  std::vector<std::string> collected;  // incomplete runs: every test the run was to run, in order
};

nlohmann::json to_json(const RunRecord& record);
// The plugin-supplied fields of a testcase (replay_id, environment, retry, drew_random), from a
// run-log testcase or a pytest outcome line; absent or mistyped fields stay empty.
void testcase_extras_from_json(const nlohmann::json& j, TestcaseResult& tc);
// Throws InputError naming what is wrong when `j` is not a run record.
RunRecord run_record_from_json(const nlohmann::json& j);

}  // namespace flakescope::audit
