// In-process, a test that passes its first repetition in every process and fails every later one
// is repeat-dependent (state an earlier repetition left), not flaky; its sites get no tolerance.
#include <gtest/gtest.h>

#include "audit/audit_report.h"
#include "audit/capture_analysis.h"
#include "audit/test_tally.h"

namespace flakescope::audit {
namespace {

// Runs [0, n): process blocks of `block` repetitions; `outcome(run, repetition)`.
template <typename F>
std::vector<RunRecord> in_process_runs(std::size_t n, std::size_t block, F outcome) {
  std::vector<RunRecord> records;
  for (std::size_t run = 0; run < n; ++run) {
    RunRecord r;
    r.run = run;
    r.seed = 1 + run;
    TestcaseResult tc = make_testcase("t::test_x", outcome(run, run % block), 0.1, "");
    tc.repetition = run % block;
    r.testcases.push_back(tc);
    r.outcome = tc.outcome;
    records.push_back(r);
  }
  return records;
}

TestTally tally_of(const std::vector<RunRecord>& records) {
  return tally_runs(records).tests.at(0);
}

TEST(RepeatDependent, FirstRepetitionsPassAndLaterOnesFail) {
  const auto records = in_process_runs(10, 5, [](std::size_t, std::size_t repetition) {
    return repetition == 0 ? Outcome::kPass : Outcome::kFail;
  });
  const TestTally t = tally_of(records);
  EXPECT_EQ(classify(t), model::TestClass::kRepeatDependent);
  AuditReportInputs in;
  const model::AuditTest entry = test_entry(t, in);
  EXPECT_FALSE(entry.retries_k);
  EXPECT_NE(entry.retries_statement.find("passed its first repetition in each of 2 processes and "
                                         "failed all 8 later ones"),
            std::string::npos)
      << entry.retries_statement;
  EXPECT_FALSE(model::is_finding(entry.classification));
}

TEST(RepeatDependent, AFailureInAFirstRepetitionOrAPassLaterIsFlaky) {
  auto first_fails = in_process_runs(10, 5, [](std::size_t run, std::size_t repetition) {
    return repetition > 0 || run == 5 ? Outcome::kFail : Outcome::kPass;
  });
  EXPECT_EQ(classify(tally_of(first_fails)), model::TestClass::kFlaky);
  auto later_passes = in_process_runs(10, 10, [](std::size_t run, std::size_t repetition) {
    return repetition == 0 || run == 7 ? Outcome::kPass : Outcome::kFail;
  });
  EXPECT_EQ(classify(tally_of(later_passes)), model::TestClass::kFlaky);
}

TEST(RepeatDependent, ProcessIsolationNeverIsRepeatDependent) {
  // Every run its own process: every repetition is a first one.
  auto records = in_process_runs(10, 1, [](std::size_t run, std::size_t) {
    return run == 0 ? Outcome::kPass : Outcome::kFail;
  });
  EXPECT_EQ(classify(tally_of(records)), model::TestClass::kFlaky);
}

TEST(RepeatDependent, ItsSitesGetNoTolerance) {
  model::AuditBody body;
  model::AuditTest test;
  test.name = "tests.test_x::test_x";
  test.classification = model::TestClass::kRepeatDependent;
  body.tests.push_back(test);
  model::AssertionSite site;
  site.test = "tests/test_x.py::test_x";
  site.recommendation.action = model::AssertionAction::kLoosen;
  site.recommendation.atol = 28;
  site.diff = "--- a\n+++ b\n";
  body.assertions = std::vector<model::AssertionSite>{site};
  hold_repeat_dependent_sites(body);
  const auto& held = body.assertions->front();
  EXPECT_EQ(held.recommendation.action, model::AssertionAction::kReview);
  EXPECT_FALSE(held.recommendation.atol);
  EXPECT_FALSE(held.diff);
  EXPECT_NE(held.verdict.find("--isolation process"), std::string::npos);
}

}  // namespace
}  // namespace flakescope::audit

namespace flakescope::audit {
namespace {

// pyro's test_empirical: line 136 fails 5 of 20 runs, so line 137 is measured in the other 15.
TEST(ChecksAFailureHid, LaterLinesAndTheFailingLineSayWhatWentUnmeasured) {
  model::AuditBody body;
  model::AuditTest test;
  test.name = "tests.test_e::test_w";
  test.runs = 20;
  test.failures = 5;
  body.tests.push_back(test);
  model::AssertionSite failing, later;
  failing.test = later.test = "tests/test_e.py::test_w";
  failing.trials = 20;
  failing.failure_rate.failures = 5;
  failing.recommendation.action = model::AssertionAction::kLoosen;
  later.trials = 15;
  later.recommendation.action = model::AssertionAction::kKeep;
  body.assertions = std::vector<model::AssertionSite>{failing, later};
  note_checks_a_failure_hid(body);
  EXPECT_NE((*body.assertions)[0].suggestion.find("the test stopped here in 5 runs"),
            std::string::npos)
      << (*body.assertions)[0].suggestion;
  EXPECT_EQ((*body.assertions)[0].suggestion.find("measured in"), std::string::npos);
  EXPECT_NE((*body.assertions)[1].suggestion.find(
                "measured in 15 of 20 runs: in the other 5 the test failed before reaching "
                "this line"),
            std::string::npos)
      << (*body.assertions)[1].suggestion;
}

}  // namespace
}  // namespace flakescope::audit
