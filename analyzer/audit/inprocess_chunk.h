#pragma once
// One block of consecutive runs [first_run, first_run + count) of one setting, audited with
// `--isolation inprocess`: a pytest process repeats every selected test `count` times
// (FLAKESCOPE_REPEAT, repetition i seeded FLAKESCOPE_SEED + i = the seed of run first_run + i),
// and the plugin's outcome lines become the same RunRecords process isolation reads from JUnit XML
// (run = repetition index, one testcase outcome per repetition), so the report, the run log,
// --resume and `merge` need not know which isolation produced them.
//
// The plugin runs test-major (test 1 for every repetition, then test 2, ...). When the process
// dies (a signal or the timeout), the first (test, repetition) without an outcome line, in that
// order, is where it died: that testcase and that repetition are recorded as crash/timeout (the
// repetition ends there, with the tests after the dying one not run, as a run of its own process
// would), and the pairs it never reached are run in fresh processes instead of being dropped:
//   - the tests after the dying one, for the repetitions before the dying one;
//   - the dying test and those after it, for the repetitions after it.
// So a crash or hang costs the same runs as under process isolation, and the counts are equal.
// The plugin writes the selected node ids (FLAKESCOPE_COLLECTED) before any test runs, which is
// how "never reached" is known, and runs a subset of them with FLAKESCOPE_SELECT. Each relaunch
// covers only pairs still missing and every death records one more, so a chunk always ends; at
// worst (a test that dies in every repetition) after about twice as many processes as runs.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/pytest_outcomes.h"
#include "audit/run_record.h"
#include "core/subprocess.h"

namespace flakescope::audit {

// One pytest process of a chunk.
struct InprocessAttempt {
  std::size_t first_run = 0;       // the run of repetition 0 (FLAKESCOPE_SEED = seed + first_run)
  std::size_t count = 0;           // FLAKESCOPE_REPEAT
  std::vector<std::string> tests;  // node ids for FLAKESCOPE_SELECT; empty: all that are selected
};

// What an attempt's process left behind.
struct InprocessOutput {
  ProcessResult process;
  PytestOutcomes outcomes;                            // FLAKESCOPE_OUTCOMES
  std::optional<std::vector<std::string>> collected;  // FLAKESCOPE_COLLECTED
  std::vector<nlohmann::json> captures;               // FLAKESCOPE_CAPTURE (with --capture)
};

class InprocessChunk {
 public:
  // Runs [first_run, first_run + count); run i has seed `audit_seed` + i.
  InprocessChunk(std::size_t first_run, std::size_t count, std::uint64_t audit_seed,
                 std::string setting);

  bool done() const { return pending_.empty(); }
  // The process to run next; only while !done().
  const InprocessAttempt& next() const { return pending_.front(); }
  // The outcome of next() (not for a cancelled process: a cancelled chunk is dropped whole, and
  // a resumed audit runs it again).
  // (Taken by value: the capture lines move into the runs instead of being copied.)
  void finish(InprocessOutput output);
  std::size_t attempts() const { return attempts_.size(); }

  // One record per run, in run order; once done(). From a chunk about to go, the capture lines
  // move into the records (std::move(chunk).records()).
  std::vector<RunRecord> records() const&;
  std::vector<RunRecord> records() &&;

  // An interrupt: the outcome lines of the cancelled process (next()) still count. Afterwards
  // partial_records() has every run with at least one recorded test, `incomplete` unless each
  // selected test of that run has its result.
  void finish_interrupted(InprocessOutput output);
  std::vector<RunRecord> partial_records() const;

  // `--resume` of an interrupted audit: the recorded tests of these incomplete runs (of this
  // chunk) stand, and the chunk's processes run only what is missing, grouped into consecutive
  // runs missing the same tests. Before the first next(); records without a `collected` list
  // (written by an older flakescope) are dropped and their runs done whole.
  void restore(const std::vector<RunRecord>& incomplete);

 private:
  struct Pair {
    std::string nodeid;
    TestcaseResult result;
    std::size_t attempt;
  };
  struct RunState {
    std::vector<Pair> pairs;
    std::optional<Outcome> died;  // crash or timeout: the process died in this repetition
    std::optional<std::string> signal;
    std::size_t died_in = 0;        // the attempt, when died
    std::optional<int> other_exit;  // pytest exited with neither 0 nor 1 (usage, collection)
    std::size_t other_exit_in = 0;
    std::string error;  // the process could not start, or the plugin was silent
    std::size_t error_in = 0;
    std::vector<nlohmann::json> captures;
    nlohmann::json knobs;  // the plugin's read-back of the process that ran it
  };
  struct AttemptTails {
    std::string stdout_tail, stderr_tail;
  };

  RunState& state(std::size_t run) { return runs_[run - first_run_]; }
  std::size_t order_of(const std::string& nodeid) const;
  bool has_pair(std::size_t run, const std::string& nodeid) const;
  void add_pair(std::size_t run, Pair pair);
  // The outcome and capture lines of `attempt`'s process (attempt `id`), into their runs.
  void add_lines(const InprocessAttempt& attempt, InprocessOutput& out, std::size_t id);
  // records() without the capture lines, which the two records() copy or move.
  std::vector<RunRecord> records_without_captures() const;
  // finish() of a process that crashed or timed out.
  void finish_died(const InprocessAttempt& attempt, const InprocessOutput& out, std::size_t id);

  std::size_t first_run_, count_;
  std::uint64_t audit_seed_;
  std::string setting_;
  std::optional<std::vector<std::string>> collected_;  // the first attempt's selection
  std::vector<RunState> runs_;
  std::set<std::pair<std::size_t, std::string>> seen_;  // (run, node id) with a result
  std::deque<InprocessAttempt> pending_;
  std::vector<AttemptTails> attempts_;
};

// Splits the runs to do of one setting (ascending) into about `pieces` blocks of consecutive runs,
// ceil(n / pieces) runs each, never across a gap (runs done before a resume, other shards).
std::vector<std::pair<std::size_t, std::size_t>> consecutive_blocks(
    const std::vector<std::size_t>& runs, std::size_t pieces);

}  // namespace flakescope::audit
