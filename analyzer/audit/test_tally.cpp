#include "audit/test_tally.h"

#include <algorithm>
#include <map>

namespace flakescope::audit {

std::size_t TestTally::failures() const {
  return count(Outcome::kFail) + count(Outcome::kCrash) + count(Outcome::kTimeout) +
         count(Outcome::kError);
}

std::size_t TestTally::environment_failures() const {
  std::size_t n = 0;
  for (const auto& [kind, count] : environment_errors) n += count;
  return n;
}

std::size_t TestTally::trials() const {
  return runs() - count(Outcome::kSkip);
}

namespace {

void add(TestTally& t, const RunRecord& r, Outcome outcome, double duration,
         const std::string& message) {
  ++t.counts[static_cast<std::size_t>(outcome)];
  t.durations.push_back(duration);
  t.per_run.push_back({r.run, r.seed, outcome, message});
}

void add_plugin_fields(TestTally& t, const TestcaseResult& tc) {
  if (t.replay_id.empty()) t.replay_id = tc.replay_id;
  if (t.retry.is_null()) t.retry = tc.retry;
  t.report_seconds += tc.report_seconds;
  if (!tc.environment.empty() && is_failure(tc.outcome)) ++t.environment_errors[tc.environment];
  if (tc.repetition && tc.outcome != Outcome::kSkip) {
    auto& counts = *tc.repetition == 0 ? t.first_repetition : t.later_repetitions;
    ++counts.trials;
    if (is_failure(tc.outcome)) ++counts.failures;
  }
  if (tc.drew_random) {
    ++t.drew_random_known;
    if (*tc.drew_random) ++t.drew_random;
  }
}

std::string command_message(const RunRecord& r) {
  if (!r.error.empty()) return r.error;
  if (r.signal) return "killed by " + *r.signal;
  if (r.outcome == Outcome::kTimeout) return "timed out";
  if (r.exit_code && *r.exit_code != 0) return "exit code " + std::to_string(*r.exit_code);
  return {};
}

}  // namespace

Tallies tally_runs(const std::vector<RunRecord>& records,
                   const std::vector<std::string>& setting_order) {
  std::vector<std::string> settings = setting_order;
  for (const auto& r : records)
    if (std::find(settings.begin(), settings.end(), r.setting) == settings.end())
      settings.push_back(r.setting);
  auto setting_rank = [&](const std::string& s) {
    return std::find(settings.begin(), settings.end(), s) - settings.begin();
  };
  std::vector<const RunRecord*> sorted;
  for (const auto& r : records) sorted.push_back(&r);
  std::stable_sort(sorted.begin(), sorted.end(), [&](const RunRecord* a, const RunRecord* b) {
    const auto ra = setting_rank(a->setting), rb = setting_rank(b->setting);
    return ra != rb ? ra < rb : a->run < b->run;
  });

  Tallies out;
  std::map<std::string, std::size_t> command_index;
  std::vector<std::string> test_names;  // first-appearance order
  std::map<std::pair<std::string, std::string>, TestTally> tests;
  for (const RunRecord* r : sorted) {
    auto [it, inserted] = command_index.emplace(r->setting, out.command.size());
    if (inserted) {
      out.command.emplace_back();
      out.command.back().name = std::string(kCommandTestName);
      out.command.back().setting = r->setting;
    }
    add(out.command[it->second], *r, r->outcome, r->duration, command_message(*r));
    for (const auto& tc : r->testcases) {
      if (std::find(test_names.begin(), test_names.end(), tc.name) == test_names.end())
        test_names.push_back(tc.name);
      TestTally& t = tests[{r->setting, tc.name}];
      if (t.name.empty()) {
        t.name = tc.name;
        t.setting = r->setting;
      }
      add(t, *r, tc.outcome, tc.duration, tc.message);
      add_plugin_fields(t, tc);
    }
  }
  for (const auto& setting : settings)
    for (const auto& name : test_names) {
      auto it = tests.find({setting, name});
      if (it != tests.end()) out.tests.push_back(std::move(it->second));
    }
  return out;
}

}  // namespace flakescope::audit
