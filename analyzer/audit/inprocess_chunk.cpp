#include "audit/inprocess_chunk.h"

#include <algorithm>
#include <limits>

namespace flakescope::audit {
namespace {

constexpr std::size_t kUnknownOrder = std::numeric_limits<std::size_t>::max();
// The attempt of a pair restored from a run log (no process of this chunk ran it).
constexpr std::size_t kRestoredAttempt = std::numeric_limits<std::size_t>::max();

long long integer_field(const nlohmann::json& j, const char* key, long long fallback) {
  if (j.is_object() && j.contains(key) && j[key].is_number_integer())
    return j[key].get<long long>();
  return fallback;
}

}  // namespace

InprocessChunk::InprocessChunk(std::size_t first_run, std::size_t count, std::uint64_t audit_seed,
                               std::string setting)
    : first_run_(first_run),
      count_(count),
      audit_seed_(audit_seed),
      setting_(std::move(setting)),
      runs_(count) {
  if (count > 0) pending_.push_back({first_run, count, {}});
}

std::size_t InprocessChunk::order_of(const std::string& nodeid) const {
  if (!collected_) return kUnknownOrder;
  const auto it = std::find(collected_->begin(), collected_->end(), nodeid);
  return it == collected_->end() ? kUnknownOrder : std::size_t(it - collected_->begin());
}

bool InprocessChunk::has_pair(std::size_t run, const std::string& nodeid) const {
  return seen_.count({run, nodeid}) > 0;
}

void InprocessChunk::add_pair(std::size_t run, Pair pair) {
  // The first result of a pair stands: a relaunch only covers missing pairs, so a second one
  // would come from a plugin that did not honour FLAKESCOPE_SELECT.
  if (!seen_.insert({run, pair.nodeid}).second) return;
  state(run).pairs.push_back(std::move(pair));
}

void InprocessChunk::add_lines(const InprocessAttempt& attempt, InprocessOutput& out,
                               std::size_t id) {
  if (attempt.tests.empty() && out.collected && !collected_) collected_ = out.collected;
  nlohmann::json knobs;
  for (const PytestOutcome& line : out.outcomes.lines)
    if (!line.knobs.is_null()) knobs = line.knobs;
  for (const PytestOutcome& line : out.outcomes.lines) {
    if (line.repeat >= attempt.count) continue;
    add_pair(attempt.first_run + line.repeat, {line.test, testcase_of(line), id});
    RunState& s = state(attempt.first_run + line.repeat);
    if (s.knobs.is_null()) s.knobs = knobs;
  }
  for (nlohmann::json& capture : out.captures) {
    const long long repeat = integer_field(capture, "repeat", 0);
    if (repeat >= 0 && std::size_t(repeat) < attempt.count)
      state(attempt.first_run + std::size_t(repeat)).captures.push_back(std::move(capture));
  }
}

void InprocessChunk::finish_interrupted(InprocessOutput out) {
  const InprocessAttempt attempt = pending_.front();
  pending_.clear();  // nothing more runs
  const std::size_t id = attempts_.size();
  attempts_.push_back({out.process.stdout_tail, out.process.stderr_tail});
  add_lines(attempt, out, id);
}

std::vector<RunRecord> InprocessChunk::partial_records() const {
  std::vector<RunRecord> out;
  for (RunRecord& r : records()) {
    if (r.testcases.empty()) continue;  // nothing measured: the resumed audit runs it
    r.incomplete = !collected_ || r.testcases.size() < collected_->size();
    if (r.incomplete && collected_) r.collected = *collected_;
    out.push_back(std::move(r));
  }
  return out;
}

void InprocessChunk::restore(const std::vector<RunRecord>& incomplete) {
  for (const RunRecord& r : incomplete) {
    if (r.run < first_run_ || r.run >= first_run_ + count_ || r.collected.empty()) continue;
    if (!collected_) collected_ = r.collected;
    RunState& s = state(r.run);
    for (const TestcaseResult& tc : r.testcases) add_pair(r.run, {tc.name, tc, kRestoredAttempt});
    s.captures = r.captures;
    s.knobs = r.knobs;
    // A repetition that died ended there, as its own process would have: nothing after it runs.
    if (r.outcome == Outcome::kCrash || r.outcome == Outcome::kTimeout) {
      s.died = r.outcome;
      s.signal = r.signal;
      s.died_in = kRestoredAttempt;
    }
  }
  if (!collected_) return;  // nothing restored: the one process of the constructor does it all
  pending_.clear();
  std::vector<std::string> previous;
  for (std::size_t q = 0; q < count_; ++q) {
    const std::size_t run = first_run_ + q;
    std::vector<std::string> missing;
    if (!state(run).died)
      for (const auto& test : *collected_)
        if (!has_pair(run, test)) missing.push_back(test);
    if (missing.empty()) continue;
    const bool extends = !pending_.empty() && missing == previous &&
                         pending_.back().first_run + pending_.back().count == run;
    if (extends)
      ++pending_.back().count;
    else
      pending_.push_back({run, 1, missing});
    previous = std::move(missing);
  }
}

void InprocessChunk::finish(InprocessOutput out) {
  const InprocessAttempt attempt = pending_.front();
  pending_.pop_front();
  const std::size_t id = attempts_.size();
  attempts_.push_back({out.process.stdout_tail, out.process.stderr_tail});
  const std::size_t end = attempt.first_run + attempt.count;
  const ProcessResult& p = out.process;

  if (p.status == ProcessStatus::kFailedToStart) {
    for (std::size_t run = attempt.first_run; run < end; ++run)
      if (state(run).error.empty()) state(run).error = p.error, state(run).error_in = id;
    return;
  }
  add_lines(attempt, out, id);

  if (p.status == ProcessStatus::kExited) {
    if (p.exit_code == 0 || p.exit_code == 1) {
      if (!out.collected && out.outcomes.lines.empty()) {
        // pytest ran and said nothing through the plugin: counting these runs as passes would
        // report `count` runs of which none happened.
        for (std::size_t run = attempt.first_run; run < end; ++run)
          if (state(run).error.empty()) {
            state(run).error =
                "the flakescope pytest plugin recorded no outcomes (disabled with "
                "-p no:flakescope_pytest, or another flakescope_pytest on PYTHONPATH?)";
            state(run).error_in = id;
          }
      }
    } else {
      for (std::size_t run = attempt.first_run; run < end; ++run)
        if (!state(run).other_exit)
          state(run).other_exit = p.exit_code, state(run).other_exit_in = id;
    }
    return;
  }
  finish_died(attempt, out, id);
}

// The process died: a signal, or the timeout (kCancelled never reaches here). The test it was
// running takes the death; what it did not reach runs again in fresh processes.
void InprocessChunk::finish_died(const InprocessAttempt& attempt, const InprocessOutput& out,
                                 std::size_t id) {
  const ProcessResult& p = out.process;
  const std::size_t end = attempt.first_run + attempt.count;
  const Outcome died = p.status == ProcessStatus::kSignaled ? Outcome::kCrash : Outcome::kTimeout;
  const std::optional<std::string> signal =
      died == Outcome::kCrash ? std::optional<std::string>(signal_name(p.signal)) : std::nullopt;
  auto mark_died = [&](std::size_t run) {
    RunState& s = state(run);
    if (s.died) return;
    s.died = died;
    s.signal = signal;
    s.died_in = id;
  };

  // The tests this process was to run, in its order.
  std::optional<std::vector<std::string>> tests = out.collected;
  if (!tests && !attempt.tests.empty()) tests = attempt.tests;
  if (!tests) {
    // Died before its selection was written (at start-up or collection): the first repetition
    // takes the death, and the others get a fresh process.
    mark_died(attempt.first_run);
    if (attempt.count > 1)
      pending_.push_front({attempt.first_run + 1, attempt.count - 1, attempt.tests});
    return;
  }
  for (std::size_t ti = 0; ti < tests->size(); ++ti) {
    const std::string& test = (*tests)[ti];
    for (std::size_t q = 0; q < attempt.count; ++q) {
      const std::size_t run = attempt.first_run + q;
      if (has_pair(run, test)) continue;
      TestcaseResult tc;
      tc.name = test;
      tc.outcome = died;
      // As the gtest console reader words it under process isolation.
      tc.message =
          "the process ended (" + std::string(outcome_name(died)) + ") while this test was running";
      add_pair(run, {test, std::move(tc), id});
      mark_died(run);
      // Before the others, so that a chunk's processes run in repetition order.
      const std::vector<std::string> later(tests->begin() + std::ptrdiff_t(ti) + 1, tests->end());
      if (q + 1 < attempt.count)
        pending_.push_front(
            {run + 1, attempt.count - q - 1,
             std::vector<std::string>(tests->begin() + std::ptrdiff_t(ti), tests->end())});
      // The dying repetition itself ends there, as the run would in a process of its own.
      if (!later.empty() && q > 0) pending_.push_front({attempt.first_run, q, later});
      return;
    }
  }
  // Every pair has its line: it died after its last repetition (a session teardown, at exit).
  mark_died(end - 1);
}

std::vector<RunRecord> InprocessChunk::records() const& {
  std::vector<RunRecord> out = records_without_captures();
  for (std::size_t i = 0; i < count_; ++i) out[i].captures = runs_[i].captures;
  return out;
}

std::vector<RunRecord> InprocessChunk::records() && {
  std::vector<RunRecord> out = records_without_captures();
  for (std::size_t i = 0; i < count_; ++i) out[i].captures = std::move(runs_[i].captures);
  return out;
}

std::vector<RunRecord> InprocessChunk::records_without_captures() const {
  std::vector<RunRecord> out;
  std::vector<bool> tails_used(attempts_.size(), false);
  for (std::size_t i = 0; i < count_; ++i) {
    const RunState& s = runs_[i];
    RunRecord r;
    r.run = first_run_ + i;
    r.seed = audit_seed_ + r.run;
    r.setting = setting_;
    std::vector<const Pair*> pairs;
    for (const Pair& p : s.pairs) pairs.push_back(&p);
    std::stable_sort(pairs.begin(), pairs.end(), [&](const Pair* a, const Pair* b) {
      return order_of(a->nodeid) < order_of(b->nodeid);
    });
    bool failed = false;
    std::optional<std::size_t> failed_in;
    for (const Pair* p : pairs) {
      r.testcases.push_back(p->result);
      r.duration += p->result.duration;
      if (is_failure(p->result.outcome) && !failed_in) failed_in = p->attempt;
      failed = failed || is_failure(p->result.outcome);
    }
    // The worst thing that happened to the repetition names its outcome, as the process's exit
    // status does under process isolation (pytest exits 1 when any test failed).
    std::optional<std::size_t> tails_from;
    if (!s.error.empty()) {
      r.outcome = Outcome::kError;
      r.error = s.error;
      tails_from = s.error_in;
    } else if (s.died) {
      r.outcome = *s.died;
      r.signal = s.signal;
      tails_from = s.died_in;
    } else if (s.other_exit) {
      r.outcome = Outcome::kFail;
      r.exit_code = s.other_exit;
      tails_from = s.other_exit_in;
    } else {
      r.outcome = failed ? Outcome::kFail : Outcome::kPass;
      r.exit_code = failed ? 1 : 0;
      tails_from = failed_in;
    }
    // A process's output is shared by all its repetitions: it goes on the first record it
    // explains, not copied into every line of the run log.
    if (tails_from && *tails_from < attempts_.size() && !tails_used[*tails_from]) {
      tails_used[*tails_from] = true;
      r.stdout_tail = attempts_[*tails_from].stdout_tail;
      r.stderr_tail = attempts_[*tails_from].stderr_tail;
    }
    r.knobs = s.knobs;
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::pair<std::size_t, std::size_t>> consecutive_blocks(
    const std::vector<std::size_t>& runs, std::size_t pieces) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  if (runs.empty()) return out;
  const std::size_t size =
      (runs.size() + std::max<std::size_t>(pieces, 1) - 1) / std::max<std::size_t>(pieces, 1);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const bool extends =
        !out.empty() && runs[i] == out.back().first + out.back().second && out.back().second < size;
    if (extends)
      ++out.back().second;
    else
      out.push_back({runs[i], 1});
  }
  return out;
}

}  // namespace flakescope::audit
