// Adaptive runs per test against a mock suite whose outcomes, random draws and captured margins
// are fixed functions of (test, run): which evidence settles each test, after how many runs, and
// that only undecided tests are run again.
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>

#include "audit/suite_allocation.h"
#include "flakescope/error.h"

namespace flakescope::audit {
namespace {

// splitmix64 of (test, run): the mock's "random numbers".
double uniform(std::size_t test, std::size_t run) {
  std::uint64_t x = test * 1000003ull + run + 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return double((x ^ (x >> 31)) >> 11) / 9007199254740992.0;
}

nlohmann::json capture(double atol_needed) {
  return {{"site", "t.py:3"}, {"api", "torch.testing.assert_close"}, {"atol", 1e-5},
          {"rtol", 1.3e-6},   {"atol_needed", atol_needed},          {"max_abs", atol_needed}};
}

class MockSuite : public RepetitionSource {
 public:
  const std::vector<std::string> names = {"det_pass", "det_fail",     "far_margin",   "near_margin",
                                          "flaky",    "random_plain", "unknown_draws"};
  std::vector<RepetitionObservation> run(const std::vector<std::string>& tests, std::size_t first,
                                         std::size_t count) override {
    {
      std::lock_guard<std::mutex> lock(mutex);
      selections.push_back(tests);
    }
    std::vector<RepetitionObservation> out;
    for (std::size_t t = 0; t < names.size(); ++t) {
      if (!tests.empty() && std::find(tests.begin(), tests.end(), names[t]) == tests.end())
        continue;
      for (std::size_t run = first; run < first + count; ++run) {
        RepetitionObservation o;
        o.test = names[t];
        o.run = run;
        o.drew_random = true;
        const double u = uniform(t, run);
        if (names[t] == "det_pass") o.drew_random = false, o.captures = {capture(0)};
        if (names[t] == "det_fail")
          o.drew_random = false, o.outcome = Outcome::kFail, o.message = "assert 1 == 2";
        if (names[t] == "far_margin") o.captures = {capture(1e-5 * 0.01 * u)};
        // Exponential margins capped just inside the bound: never fails here, but a tail this
        // heavy cannot be certified at 2% from 30 runs.
        if (names[t] == "near_margin")
          o.captures = {capture(1e-5 * std::min(0.999, 0.45 - 0.12 * std::log(1 - u)))};
        if (names[t] == "flaky" && u < 0.1) o.outcome = Outcome::kFail, o.message = "flaky";
        if (names[t] == "unknown_draws") o.drew_random.reset();
        out.push_back(o);
      }
    }
    return out;
  }
  std::mutex mutex;
  std::vector<std::vector<std::string>> selections;
};

const TestAllocation& find(const SuiteAuditResult& r, const std::string& name) {
  for (const auto& t : r.tests)
    if (t.test == name) return t;
  throw std::runtime_error("no test " + name);
}

TEST(SuiteAllocation, CountRunsForTwoPercentAtNinetyFive) {
  SuiteAllocator a({});
  EXPECT_EQ(a.count_runs(), 149u);  // (0.98)^149 <= 0.05 < (0.98)^148
}

TEST(SuiteAllocation, EachKindOfEvidenceSettlesItsTests) {
  MockSuite suite;
  AllocationOptions options;
  const SuiteAuditResult r = run_suite_allocation(suite, options, 1, nullptr);

  const auto& det_pass = find(r, "det_pass");
  EXPECT_EQ(det_pass.verdict, Verdict::kStablePass);
  EXPECT_EQ(det_pass.evidence, "deterministic");
  EXPECT_EQ(det_pass.runs, options.screening_runs);

  const auto& det_fail = find(r, "det_fail");
  EXPECT_EQ(det_fail.verdict, Verdict::kStableFail);
  EXPECT_EQ(det_fail.evidence, "deterministic");
  EXPECT_EQ(det_fail.runs, options.screening_runs);

  const auto& far = find(r, "far_margin");
  EXPECT_EQ(far.verdict, Verdict::kStablePass);
  EXPECT_EQ(far.evidence, "margin") << far.reason;
  EXPECT_EQ(far.runs, options.margin_runs);
  ASSERT_TRUE(far.margin_bound.has_value());
  EXPECT_LT(*far.margin_bound, 1.0);

  // Near its bound: no certificate from 30 runs; at 149 the distribution-free bound (or the
  // count) settles it.
  const auto& near = find(r, "near_margin");
  EXPECT_EQ(near.verdict, Verdict::kStablePass);
  EXPECT_NE(near.evidence, "deterministic") << near.reason;
  EXPECT_EQ(near.runs, 149u) << near.reason;

  const auto& flaky = find(r, "flaky");
  EXPECT_EQ(flaky.verdict, Verdict::kFlaky);
  EXPECT_GT(flaky.failures, 0u);
  EXPECT_LT(flaky.runs, 149u);

  // Random draws, or draws unknown, and no captures: counting only.
  EXPECT_EQ(find(r, "random_plain").evidence, "count");
  EXPECT_EQ(find(r, "random_plain").runs, 149u);
  EXPECT_EQ(find(r, "unknown_draws").evidence, "count");

  // Far fewer executions than 200 runs of each of the 7 tests.
  std::size_t total = 0;
  for (const auto& t : r.tests) total += t.runs;
  EXPECT_EQ(total, r.executions);
  EXPECT_LT(r.executions, 7u * 200u / 2u);

  // After screening (all tests) only undecided tests are selected, never a decided one.
  ASSERT_GE(suite.selections.size(), 2u);
  EXPECT_TRUE(suite.selections.front().empty());
  for (std::size_t b = 1; b < suite.selections.size(); ++b)
    for (const auto& name : suite.selections[b]) {
      EXPECT_NE(name, "det_pass");
      EXPECT_NE(name, "det_fail");
    }
}

TEST(SuiteAllocation, JobsSplitBatchesWithoutChangingVerdicts) {
  MockSuite one, three;
  const SuiteAuditResult a = run_suite_allocation(one, {}, 1, nullptr);
  const SuiteAuditResult b = run_suite_allocation(three, {}, 3, nullptr);
  ASSERT_EQ(a.tests.size(), b.tests.size());
  for (std::size_t i = 0; i < a.tests.size(); ++i) {
    EXPECT_EQ(a.tests[i].verdict, b.tests[i].verdict) << a.tests[i].test;
    EXPECT_EQ(a.tests[i].runs, b.tests[i].runs) << a.tests[i].test;
  }
  EXPECT_GT(three.selections.size(), one.selections.size());
}

TEST(SuiteAllocation, CapStopsUndecidedTests) {
  MockSuite suite;
  AllocationOptions options;
  options.max_runs = 40;
  const SuiteAuditResult r = run_suite_allocation(suite, options, 1, nullptr);
  EXPECT_EQ(find(r, "random_plain").evidence, "cap");
  EXPECT_EQ(find(r, "random_plain").runs, 40u);
}

TEST(SuiteAllocation, RecordsAndSection) {
  MockSuite suite;
  const SuiteAuditResult r = run_suite_allocation(suite, {}, 1, nullptr);
  const std::vector<RunRecord> records = allocation_records(r.observations, "controlled", 1);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.front().testcases.size(), 7u);  // screening: every test
  EXPECT_LT(records.back().testcases.size(), 7u);   // later: the undecided ones only
  const nlohmann::json s = allocation_section(r, {}, 200);
  EXPECT_EQ(s["baseline_executions"], 1400);
  EXPECT_EQ(s["executions"], r.executions);
  EXPECT_EQ(s["evidence"]["deterministic"]["tests"], 2);
  EXPECT_EQ(s["tests"].size(), 7u);
}

TEST(SuiteAllocation, BadOptions) {
  AllocationOptions o;
  o.screening_runs = 1;
  EXPECT_THROW(SuiteAllocator{o}, InputError);
  o = {};
  o.max_runs = 3;
  EXPECT_THROW(SuiteAllocator{o}, InputError);
}

}  // namespace
}  // namespace flakescope::audit

namespace flakescope::audit {
namespace {

TEST(SuiteShards, EveryNthCollectedTestFromTheKth) {
  const std::vector<std::string> ids = {"a", "b", "c", "d", "e"};
  EXPECT_EQ(shard_tests(ids, 0, 2), (std::vector<std::string>{"a", "c", "e"}));
  EXPECT_EQ(shard_tests(ids, 1, 2), (std::vector<std::string>{"b", "d"}));
  EXPECT_EQ(shard_tests(ids, 0, 1), ids);
  EXPECT_TRUE(shard_tests(ids, 5, 6).empty());
}

}  // namespace
}  // namespace flakescope::audit
