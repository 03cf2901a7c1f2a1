#pragma once
// Adaptive runs per test for a whole pytest suite (`audit --runs auto --isolation inprocess`).
// Repeating every test N times (as pytest-flakefinder does) spends nearly every run on tests that
// are plainly stable. Here a screening pass runs everything a few times; each test then stops as
// soon as one kind of evidence settles it, and only undecided tests get more repetitions, in
// batches selected through the plugin (FLAKESCOPE_SELECT):
//   deterministic  outcome, message and captured assertion values bitwise identical across the
//                  screening runs under varied seeds, and the test drew no random numbers (the
//                  plugin's `drew_random` is false in every screening run): the outcome is a
//                  function of the knobs, not of the seed; no rate is estimated.
//   margin         every run's captured assertions passed; the per-run ratio r = atol needed /
//                  atol allowed (r > 1 is a failure) has a tail bound (stats::bound_tail_quantile)
//                  at P = `rate_floor` that is below 1: P(fail) <= rate_floor at `confidence`.
//   count          the rest: zero failures in n runs with (1 - rate_floor)^n <= 1 - confidence
//                  (stable-pass: a test failing in >= rate_floor of runs would have shown), all
//                  failures likewise (stable-fail), or both outcomes seen (flaky: the interval
//                  excludes 0 and 1).
// A test that reaches `max_runs` undecided stops there ("cap"). Verdicts: stable-pass, flaky,
// stable-fail, environment (an error outcome, e.g. in a fixture, that is deterministic), skipped.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flakescope/report_model.h"

#include "audit/run_record.h"

namespace flakescope::audit {

struct AllocationOptions {
  std::size_t screening_runs = 5;  // runs of every test before any decision
  std::size_t margin_runs = 30;    // runs before the margin tail bound is tried
  std::size_t min_batch = 10;      // repetitions per batch of undecided tests, at least ...
  std::size_t max_batch = 60;      // ... and at most
  std::size_t max_runs = 500;      // per-test cap
  double rate_floor = 0.02;        // failure rates at or above this must not go unnoticed
  double confidence = 0.95;
  std::uint64_t seed = 1;  // run i has FLAKESCOPE_SEED = seed + i
  // The tests to audit (node ids: a shard's share of the suite); empty: every test selected.
  std::vector<std::string> tests;
};

// Shard K of N of a suite: every N-th of the collected node ids from the K-th on (collection
// order is the same in every shard, so the shards split the suite without talking).
std::vector<std::string> shard_tests(const std::vector<std::string>& collected, std::size_t index,
                                     std::size_t count);

// One repetition of one test, as the plugin reports it.
struct RepetitionObservation {
  std::string test;  // pytest node id
  std::size_t run = 0;
  Outcome outcome = Outcome::kPass;
  std::string message;
  double duration = 0;
  std::optional<bool> drew_random;       // absent when the plugin does not say
  std::vector<nlohmann::json> captures;  // the assertion capture lines of this repetition
};

// Runs repetitions: `tests` (node ids; empty = the whole suite) for runs [first_run,
// first_run + count). Called from several threads at once when jobs > 1.
class RepetitionSource {
 public:
  virtual ~RepetitionSource() = default;
  virtual std::vector<RepetitionObservation> run(const std::vector<std::string>& tests,
                                                 std::size_t first_run, std::size_t count) = 0;
};

enum class Verdict { kUndecided, kStablePass, kFlaky, kStableFail, kEnvironment, kSkipped };
std::string_view verdict_name(Verdict v);

struct TestAllocation {
  std::string test;  // node id
  Verdict verdict = Verdict::kUndecided;
  std::string evidence;  // "deterministic", "margin", "count", "cap"
  std::string reason;    // why it stopped, in a sentence
  std::size_t runs = 0, failures = 0, skips = 0;
  std::optional<double> margin_bound;  // the tail bound on r (margin evidence), when tried
  std::string margin_method;
};

// The per-test state and decision rule, without running anything (unit-tested on its own).
class SuiteAllocator {
 public:
  explicit SuiteAllocator(AllocationOptions options);  // throws InputError on bad options
  void observe(const RepetitionObservation& observation);
  // Re-decides every undecided test with at least `runs_done` runs; call after each batch.
  void decide(std::size_t runs_done);
  std::vector<std::string> undecided() const;
  // The run count to reach next for the undecided tests (their next decision point), or 0.
  std::size_t next_target(std::size_t runs_done) const;
  std::vector<TestAllocation> allocations() const;  // in order of first observation
  const AllocationOptions& options() const { return options_; }
  // Runs of a count-only stable-pass: the smallest n with (1 - rate_floor)^n <= 1 - confidence.
  std::size_t count_runs() const;

 private:
  struct State {
    TestAllocation a;
    std::vector<std::string> fingerprints;  // screening runs: outcome + message + captures
    bool all_drew_known_false = true;
    std::vector<double> margin_ratios;  // per run, while every run had captures
    bool margins_usable = true;
    std::size_t passes = 0;
  };
  void decide_one(State& s, std::size_t runs_done) const;
  bool try_deterministic(State& s) const;
  bool try_margin(State& s) const;

  AllocationOptions options_;
  std::vector<std::string> order_;
  std::map<std::string, State> states_;
};

struct SuiteAuditResult {
  std::vector<TestAllocation> tests;
  std::vector<RepetitionObservation> observations;  // every repetition, in run order per batch
  std::size_t executions = 0;                       // test repetitions run
  std::size_t batches = 0;                          // screening included
  bool interrupted = false;
};

// Screening, then batches of the undecided tests until none is left. `jobs` source calls at a
// time, each a contiguous part of the batch's runs. `cancel` (may be null) is polled between
// batches. `on_batch` (may be null) is told each batch's tests and runs.
SuiteAuditResult run_suite_allocation(RepetitionSource& source, const AllocationOptions& options,
                                      std::size_t jobs, const std::atomic<bool>* cancel,
                                      const std::function<void(std::size_t tests, std::size_t first,
                                                               std::size_t count)>& on_batch = {});

// The observations as per-run records (testcases named as pytest's JUnit XML names them), so the
// audit report, the run log and `merge` read them like any audit's runs.
std::vector<RunRecord> allocation_records(const std::vector<RepetitionObservation>& observations,
                                          const std::string& setting, std::uint64_t seed);

// The report's "allocation" section: the method, the options, per test its verdict, evidence,
// stopping reason and runs, and what each kind of evidence saved against `baseline_runs` per test.
model::Allocation allocation_section(const SuiteAuditResult& result,
                                     const AllocationOptions& options, std::size_t baseline_runs);

}  // namespace flakescope::audit
