#pragma once
// What the flakescope pytest plugin (integrations/pytest) writes for an in-process audit:
//   FLAKESCOPE_OUTCOMES   one JSON line per (test, repetition):
//                         {"test", "repeat", "seed", "outcome", "duration", "message"}
//   FLAKESCOPE_COLLECTED  {"collected": [node ids]}, written before the first test runs
// Both are read leniently: a line that is not an outcome (a torn last line of a killed process)
// is counted, not thrown, as for JUnit XML: one bad run must not end an audit of hundreds.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/run_record.h"

namespace flakescope::audit {

struct PytestOutcome {
  std::string test;        // pytest node id ("tests/test_x.py::TestY::test_z[1]")
  std::size_t repeat = 0;  // repetition index within the process
  Outcome outcome = Outcome::kPass;
  double duration = 0;
  std::string message;
  TestcaseResult extras;  // replay_id, environment, retry, drew_random
  nlohmann::json knobs;   // the torch state the plugin read back (first line of a process)
};

struct PytestOutcomes {
  std::vector<PytestOutcome> lines;  // in the order written
  std::size_t malformed = 0;         // lines that are not outcome lines
};

// pass, fail, skip, xfail and error map to the outcomes of the same name; xpass (a non-strict
// xfail test that passed; a strict one is reported as fail) is a pass, as pytest's JUnit XML says.
std::optional<Outcome> parse_pytest_outcome(std::string_view name);
std::optional<PytestOutcome> pytest_outcome_from_json(const nlohmann::json& line);

// A missing file is empty (the process died before its first repetition ended).
PytestOutcomes read_pytest_outcomes(const std::string& path);
// The same from lines already parsed (JsonLinesFollower: a discarded value is a malformed line).
PytestOutcomes pytest_outcomes_from(const std::vector<nlohmann::json>& lines);
// nullopt when the file is missing or not {"collected": [strings]}.
std::optional<std::vector<std::string>> read_pytest_collected(const std::string& path);

// The testcase name process isolation reads from pytest's JUnit XML for the same test
// ("classname::name", pytest's mangle_test_address: path separators become dots, ".py" goes,
// parameters stay), so that both isolations name a test alike and their reports compare.
std::string junit_name_of_nodeid(std::string_view nodeid);

// The testcase a line stands for, named by its node id (what pytest takes on its command line).
TestcaseResult testcase_of(const PytestOutcome& line);

// Process isolation: the testcases of one pytest run from its outcome lines, and the test the
// process was running when it died (the first collected one without a line) as `died`.
std::vector<TestcaseResult> testcases_of_run(
    const PytestOutcomes& outcomes, const std::optional<std::vector<std::string>>& collected,
    std::optional<Outcome> died);

}  // namespace flakescope::audit
