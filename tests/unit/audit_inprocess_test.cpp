// `audit --isolation inprocess` without Python: the plugin's outcome lines are written by a
// simulated pytest process (tests in order, each repeated FLAKESCOPE_REPEAT times, seed + i, dying
// where the script says), so the block planning, the crash/timeout relaunches and the records are
// checked with exact counts, and against process isolation of the same simulated suite.
#include <gtest/gtest.h>
#include <filesystem>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "audit/audit_options.h"
#include "audit/audit_report.h"
#include "audit/audit_runner.h"
#include "audit/inprocess_chunk.h"
#include "audit/progress_watchdog.h"
#include "audit/pytest_outcomes.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "flakescope/knobs.h"

namespace flakescope::audit {
namespace {

// ---------------------------------------------------------------------------------------------
// Reading what the plugin writes

TEST(PytestOutcomes, NodeIdsAreNamedAsPytestsJunitXmlNamesThem) {
  EXPECT_EQ(junit_name_of_nodeid("test_x.py::test_a"), "test_x::test_a");
  EXPECT_EQ(junit_name_of_nodeid("tests/sub/test_x.py::TestK::test_a[1-2]"),
            "tests.sub.test_x.TestK::test_a[1-2]");
  // Parameters are kept verbatim, even when they look like separators.
  EXPECT_EQ(junit_name_of_nodeid("a.py::t[x::y/z.py]"), "a::t[x::y/z.py]");
  EXPECT_EQ(junit_name_of_nodeid("Seeded::crashy"), "Seeded::crashy");
  EXPECT_EQ(junit_name_of_nodeid("doc/readme.txt"), "doc.readme.txt");
}

TEST(PytestOutcomes, OutcomeNamesMapToTheJunitOnes) {
  EXPECT_EQ(parse_pytest_outcome("xpass"), Outcome::kPass);  // non-strict: a pass in JUnit too
  EXPECT_EQ(parse_pytest_outcome("xfail"), Outcome::kXfail);
  EXPECT_EQ(parse_pytest_outcome("error"), Outcome::kError);
  EXPECT_EQ(parse_pytest_outcome("skip"), Outcome::kSkip);
  EXPECT_FALSE(parse_pytest_outcome("crash"));  // the audit's verdict, never the plugin's
  EXPECT_FALSE(parse_pytest_outcome("passed"));
}

TEST(PytestOutcomes, ATornOrForeignLineIsCountedNotThrown) {
  const std::string path = ::testing::TempDir() + "/outcomes-torn.jsonl";
  std::ofstream(path) << R"({"test": "t.py::a", "repeat": 0, "seed": 5, "outcome": "fail", )"
                      << R"("duration": 0.5, "message": "boom"})"
                      << "\n"
                      << R"({"test": "t.py::a", "repeat": -1, "outcome": "pass"})"
                      << "\n"
                      << "\n"
                      << R"({"test": "t.py::a", "repeat": 1, "outcome": "pa)";
  const PytestOutcomes o = read_pytest_outcomes(path);
  ASSERT_EQ(o.lines.size(), 1u);
  EXPECT_EQ(o.lines[0].outcome, Outcome::kFail);
  EXPECT_EQ(o.lines[0].message, "boom");
  EXPECT_DOUBLE_EQ(o.lines[0].duration, 0.5);
  EXPECT_EQ(o.malformed, 2u);
  EXPECT_TRUE(read_pytest_outcomes(path + ".missing").lines.empty());
  std::ofstream(path) << R"({"collected": ["a", 3]})";
  EXPECT_FALSE(read_pytest_collected(path));
  std::ofstream(path) << R"({"collected": ["t.py::a", "t.py::b"]})";
  EXPECT_EQ(read_pytest_collected(path), (std::vector<std::string>{"t.py::a", "t.py::b"}));
}

// ---------------------------------------------------------------------------------------------
// One block, fed by hand

PytestOutcome line(const std::string& test, std::size_t repeat, Outcome o = Outcome::kPass) {
  PytestOutcome p;
  p.test = test;
  p.repeat = repeat;
  p.outcome = o;
  p.duration = 0.25;
  p.message = o == Outcome::kFail ? "assert 0" : "";
  return p;
}

ProcessResult exited(int code) {
  ProcessResult p;
  p.status = ProcessStatus::kExited;
  p.exit_code = code;
  p.stdout_tail = "tail " + std::to_string(code);
  return p;
}

ProcessResult signaled(int sig) {
  ProcessResult p;
  p.status = ProcessStatus::kSignaled;
  p.signal = sig;
  p.stdout_tail = "died";
  return p;
}

TEST(InprocessChunk, OneRecordPerRepetitionWithTheRunsSeed) {
  InprocessChunk chunk(10, 3, 100, "controlled");
  ASSERT_FALSE(chunk.done());
  EXPECT_EQ(chunk.next().first_run, 10u);
  EXPECT_EQ(chunk.next().count, 3u);
  EXPECT_TRUE(chunk.next().tests.empty());
  InprocessOutput out;
  out.process = exited(1);
  out.collected = std::vector<std::string>{"t.py::a", "t.py::b"};
  for (std::size_t i = 0; i < 3; ++i) out.outcomes.lines.push_back(line("t.py::a", i));
  for (std::size_t i = 0; i < 3; ++i)
    out.outcomes.lines.push_back(line("t.py::b", i, i == 1 ? Outcome::kFail : Outcome::kSkip));
  out.captures = {{{"site", "t.py:3"}, {"repeat", 2}}, {{"site", "t.py:3"}, {"repeat", 7}}};
  chunk.finish(out);
  ASSERT_TRUE(chunk.done());
  const auto records = chunk.records();
  ASSERT_EQ(records.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(records[i].run, 10 + i);
    EXPECT_EQ(records[i].seed, 110 + i);
    EXPECT_EQ(records[i].setting, "controlled");
    ASSERT_EQ(records[i].testcases.size(), 2u);
    EXPECT_EQ(records[i].testcases[0].name, "t.py::a");
    EXPECT_DOUBLE_EQ(records[i].duration, 0.5);
  }
  // pytest's exit status for each repetition alone: 1 where a test failed.
  EXPECT_EQ(records[0].outcome, Outcome::kPass);
  EXPECT_EQ(records[0].exit_code, 0);
  EXPECT_EQ(records[1].outcome, Outcome::kFail);
  EXPECT_EQ(records[1].exit_code, 1);
  EXPECT_EQ(records[1].testcases[1].message, "assert 0");
  EXPECT_EQ(records[2].testcases[1].outcome, Outcome::kSkip);
  // The process's output goes once, on the record it explains.
  EXPECT_EQ(records[1].stdout_tail, "tail 1");
  EXPECT_EQ(records[0].stdout_tail, "");
  // Captures go to their repetition; one beyond the block is not this block's.
  EXPECT_EQ(records[2].captures.size(), 1u);
  EXPECT_EQ(records[0].captures.size() + records[1].captures.size(), 0u);
}

TEST(InprocessChunk, ACrashIsRecordedWhereItHappenedAndTheRestRunsAgain) {
  // Tests a, b, c; repetitions 0..3 (runs 10..13). The process dies in b, repetition 2.
  const std::vector<std::string> ids = {"t.py::a", "t.py::b", "t.py::c"};
  InprocessChunk chunk(10, 4, 0, "controlled");
  InprocessOutput first;
  first.process = signaled(11);
  first.collected = ids;
  for (std::size_t i = 0; i < 4; ++i) first.outcomes.lines.push_back(line(ids[0], i));
  for (std::size_t i = 0; i < 2; ++i) first.outcomes.lines.push_back(line(ids[1], i));
  chunk.finish(first);

  // c for the repetitions before the crash, then b and c after it; the crashed repetition is over.
  ASSERT_FALSE(chunk.done());
  EXPECT_EQ(chunk.next().first_run, 10u);
  EXPECT_EQ(chunk.next().count, 2u);
  EXPECT_EQ(chunk.next().tests, (std::vector<std::string>{ids[2]}));
  InprocessOutput c_before;
  c_before.process = exited(0);
  c_before.collected = std::vector<std::string>{ids[2]};
  for (std::size_t i = 0; i < 2; ++i) c_before.outcomes.lines.push_back(line(ids[2], i));
  chunk.finish(c_before);
  ASSERT_FALSE(chunk.done());
  EXPECT_EQ(chunk.next().first_run, 13u);
  EXPECT_EQ(chunk.next().count, 1u);
  EXPECT_EQ(chunk.next().tests, (std::vector<std::string>{ids[1], ids[2]}));
  InprocessOutput after;
  after.process = exited(0);
  after.collected = std::vector<std::string>{ids[1], ids[2]};
  after.outcomes.lines = {line(ids[1], 0), line(ids[2], 0)};
  chunk.finish(after);
  ASSERT_TRUE(chunk.done());
  EXPECT_EQ(chunk.attempts(), 3u);

  const auto r = chunk.records();
  ASSERT_EQ(r.size(), 4u);
  for (std::size_t i : {0u, 1u, 3u}) {
    EXPECT_EQ(r[i].outcome, Outcome::kPass) << i;
    ASSERT_EQ(r[i].testcases.size(), 3u) << i;
    EXPECT_EQ(r[i].testcases[2].name, "t.py::c");  // collection order, whichever process ran it
  }
  EXPECT_EQ(r[2].outcome, Outcome::kCrash);
  EXPECT_EQ(r[2].signal, "SIGSEGV");
  EXPECT_EQ(r[2].stdout_tail, "died");
  ASSERT_EQ(r[2].testcases.size(), 2u);  // a passed, b crashed, c never ran
  EXPECT_EQ(r[2].testcases[1].name, "t.py::b");
  EXPECT_EQ(r[2].testcases[1].outcome, Outcome::kCrash);
  EXPECT_EQ(r[2].testcases[1].message, "the process ended (crash) while this test was running");
}

TEST(InprocessChunk, DyingBeforeTheSelectionIsKnownCostsTheFirstRepetition) {
  InprocessChunk chunk(0, 3, 1, "controlled");
  InprocessOutput out;
  out.process.status = ProcessStatus::kTimedOut;
  chunk.finish(out);
  ASSERT_FALSE(chunk.done());
  EXPECT_EQ(chunk.next().first_run, 1u);
  EXPECT_EQ(chunk.next().count, 2u);
  InprocessOutput rest;
  rest.process = exited(0);
  rest.collected = std::vector<std::string>{"t.py::a"};
  rest.outcomes.lines = {line("t.py::a", 0), line("t.py::a", 1)};
  chunk.finish(rest);
  ASSERT_TRUE(chunk.done());
  const auto r = chunk.records();
  EXPECT_EQ(r[0].outcome, Outcome::kTimeout);
  EXPECT_TRUE(r[0].testcases.empty());
  EXPECT_EQ(r[1].outcome, Outcome::kPass);
  EXPECT_EQ(r[2].testcases.size(), 1u);
}

TEST(InprocessChunk, DyingAfterTheLastLineIsTheLastRepetitions) {
  InprocessChunk chunk(0, 2, 1, "controlled");
  InprocessOutput out;
  out.process = signaled(6);
  out.collected = std::vector<std::string>{"t.py::a"};
  out.outcomes.lines = {line("t.py::a", 0), line("t.py::a", 1)};
  chunk.finish(out);
  ASSERT_TRUE(chunk.done());  // nothing is missing: no relaunch
  const auto r = chunk.records();
  EXPECT_EQ(r[0].outcome, Outcome::kPass);
  EXPECT_EQ(r[1].outcome, Outcome::kCrash);
  EXPECT_EQ(r[1].signal, "SIGABRT");
  EXPECT_EQ(r[1].testcases[0].outcome, Outcome::kPass);
}

TEST(InprocessChunk, ExitCodesOtherThanZeroOrOneFailEveryRepetition) {
  InprocessChunk chunk(0, 2, 1, "controlled");
  InprocessOutput out;
  out.process = exited(4);  // a usage error: nothing ran
  chunk.finish(out);
  for (const auto& r : chunk.records()) {
    EXPECT_EQ(r.outcome, Outcome::kFail);
    EXPECT_EQ(r.exit_code, 4);
  }
}

TEST(InprocessChunk, ASilentPluginIsAnErrorNotPasses) {
  InprocessChunk chunk(0, 2, 1, "controlled");
  InprocessOutput out;
  out.process = exited(0);
  chunk.finish(out);
  for (const auto& r : chunk.records()) {
    EXPECT_EQ(r.outcome, Outcome::kError);
    EXPECT_NE(r.error.find("recorded no outcomes"), std::string::npos) << r.error;
  }
  InprocessChunk start(0, 2, 1, "controlled");
  InprocessOutput failed;
  failed.process.status = ProcessStatus::kFailedToStart;
  failed.process.error = "python9: not found";
  start.finish(failed);
  ASSERT_TRUE(start.done());
  EXPECT_EQ(start.records()[1].error, "python9: not found");
}

TEST(InprocessChunk, BlocksAreConsecutiveAndNeverSpanAGap) {
  using Blocks = std::vector<std::pair<std::size_t, std::size_t>>;
  std::vector<std::size_t> ten(10);
  for (std::size_t i = 0; i < 10; ++i) ten[i] = i;
  EXPECT_EQ(consecutive_blocks(ten, 2), (Blocks{{0, 5}, {5, 5}}));
  EXPECT_EQ(consecutive_blocks(ten, 3), (Blocks{{0, 4}, {4, 4}, {8, 2}}));
  EXPECT_EQ(consecutive_blocks(ten, 1), (Blocks{{0, 10}}));
  EXPECT_EQ(consecutive_blocks({0, 1, 2, 5, 6, 7, 8}, 2), (Blocks{{0, 3}, {5, 4}}));
  EXPECT_TRUE(consecutive_blocks({}, 2).empty());
}

// ---------------------------------------------------------------------------------------------
// The whole audit, against process isolation of the same suite

std::optional<std::string> env_of(const RunRequest& r, const std::string& key) {
  std::optional<std::string> value;
  for (const auto& [k, v] : r.process.env)
    if (k == key) value = v;
  return value;
}

// The suite of audit_runner_test's fixture_script: Stable::passes; Seeded::crashy kills the
// process when seed % 7 == 3; Seeded::seedy fails when seed % 10 == 0; Threads::sum fails unless
// OMP_NUM_THREADS is 1.
enum class Verdict { kPass, kFail, kDie };
struct SimTest {
  std::string id;
  double duration;
  std::function<Verdict(std::uint64_t seed, const RunRequest&)> verdict;
};
const std::vector<SimTest>& suite() {
  static const std::vector<SimTest> tests = {
      {"Stable::passes", 0.001, [](std::uint64_t, const RunRequest&) { return Verdict::kPass; }},
      {"Seeded::crashy", 0.001,
       [](std::uint64_t s, const RunRequest&) {
         return s % 7 == 3 ? Verdict::kDie : Verdict::kPass;
       }},
      {"Seeded::seedy", 0.002,
       [](std::uint64_t s, const RunRequest&) {
         return s % 10 == 0 ? Verdict::kFail : Verdict::kPass;
       }},
      {"Threads::sum", 0.001, [](std::uint64_t, const RunRequest& r) {
         return env_of(r, "OMP_NUM_THREADS") == std::optional<std::string>("1") ? Verdict::kPass
                                                                                : Verdict::kFail;
       }}};
  return tests;
}

void append(const std::string& path, const nlohmann::json& j) {
  std::ofstream(path, std::ios::app) << j.dump() << "\n";
}

// A pytest process under the flakescope plugin, test-major, as integrations/pytest runs.
ProcessResult simulated_pytest(const RunRequest& r, std::size_t* processes = nullptr) {
  if (processes) ++*processes;  // single-threaded callers only
  ProcessResult pr;
  const auto outcomes = env_of(r, "FLAKESCOPE_OUTCOMES");
  const auto collected = env_of(r, "FLAKESCOPE_COLLECTED");
  const auto select = env_of(r, "FLAKESCOPE_SELECT");
  const std::uint64_t base = std::stoull(env_of(r, "FLAKESCOPE_SEED").value());
  const std::size_t repeat = std::stoul(env_of(r, "FLAKESCOPE_REPEAT").value());
  EXPECT_EQ(repeat, r.repeat);
  EXPECT_EQ(base, r.seed);
  std::vector<const SimTest*> selected;
  nlohmann::json chosen = nlohmann::json::array();
  if (select) {
    std::ifstream in(*select);
    chosen = nlohmann::json::parse(in);
  }
  for (const auto& t : suite())
    if (!select || std::find(chosen.begin(), chosen.end(), t.id) != chosen.end())
      selected.push_back(&t);
  nlohmann::json ids = nlohmann::json::array();
  for (const auto* t : selected) ids.push_back(t->id);
  std::ofstream(collected.value()) << nlohmann::json{{"collected", ids}}.dump();
  bool failed = false;
  for (const auto* t : selected)
    for (std::size_t i = 0; i < repeat; ++i) {
      const Verdict v = t->verdict(base + i, r);
      if (v == Verdict::kDie) {
        pr.status = ProcessStatus::kSignaled;
        pr.signal = 6;
        return pr;
      }
      failed = failed || v == Verdict::kFail;
      append(outcomes.value(), {{"test", t->id},
                                {"repeat", i},
                                {"seed", base + i},
                                {"outcome", v == Verdict::kFail ? "fail" : "pass"},
                                {"duration", t->duration},
                                {"message", v == Verdict::kFail ? "failed" : ""}});
    }
  pr.status = ProcessStatus::kExited;
  pr.exit_code = failed ? 1 : 0;
  return pr;
}

// The same suite under process isolation: one run, JUnit XML, gtest console lines when it dies.
ProcessResult simulated_process_run(const RunRequest& r) {
  ProcessResult pr;
  std::string xml = "<testsuites><testsuite name=\"x\">", console;
  bool failed = false;
  for (const auto& t : suite()) {
    const auto colon = t.id.find("::");
    const std::string gtest_name = t.id.substr(0, colon) + "." + t.id.substr(colon + 2);
    const Verdict v = t.verdict(r.seed, r);
    console += "[ RUN      ] " + gtest_name + "\n";
    if (v == Verdict::kDie) {
      pr.status = ProcessStatus::kSignaled;
      pr.signal = 6;
      pr.stdout_tail = console;
      return pr;
    }
    console += (v == Verdict::kFail ? "[  FAILED  ] " : "[       OK ] ") + gtest_name + " (" +
               std::to_string(int(t.duration * 1000)) + " ms)\n";
    failed = failed || v == Verdict::kFail;
    xml += "<testcase classname=\"" + t.id.substr(0, colon) + "\" name=\"" +
           t.id.substr(colon + 2) + "\" time=\"" + (t.duration == 0.002 ? "0.002" : "0.001") +
           "\">" + (v == Verdict::kFail ? "<failure message=\"failed\"/>" : "") + "</testcase>";
  }
  std::ofstream(r.junit_path) << xml << "</testsuite></testsuites>";
  pr.status = ProcessStatus::kExited;
  pr.exit_code = failed ? 1 : 0;
  return pr;
}

AuditOptions options(Isolation isolation, std::size_t runs, std::size_t jobs) {
  AuditOptions o;
  o.command = {"python3", "-m", "pytest", "tests/"};
  o.runs = runs;
  o.jobs = jobs;
  o.seed = 1;
  o.isolation = isolation;
  o.timeout_seconds = 0;
  return o;
}

nlohmann::json tests_of(const AuditOptions& o, const std::vector<RunRecord>& records) {
  AuditReportInputs in;
  in.header = new_report("audit", {"flakescope", "audit"});
  in.command = o.command;
  in.config = o.to_json();
  for (const auto& s : o.settings) in.settings.push_back(s.name);
  in.ablation = o.ablation;
  return model::to_json(build_audit_report(in, records))["tests"];
}

const nlohmann::json& named(const nlohmann::json& tests, const std::string& name,
                            const std::string& setting = "controlled") {
  for (const auto& t : tests)
    if (t["name"] == name && t["setting"] == setting) return t;
  static const nlohmann::json none;
  ADD_FAILURE() << "no test " << name;
  return none;
}

TEST(InprocessAudit, CountsEqualProcessIsolationsForTheSameSeeds) {
  for (std::size_t jobs : {1u, 2u, 3u}) {
    const AuditOptions in = options(Isolation::kInprocess, 30, jobs);
    ScriptedExecutor pytest([](const RunRequest& r) { return simulated_pytest(r); });
    const AuditRunResult a = run_audit(in, pytest, {}, nullptr, nullptr);
    EXPECT_EQ(a.executed, 30u);
    const AuditOptions pr = options(Isolation::kProcess, 30, 3);
    ScriptedExecutor process(simulated_process_run);
    const AuditRunResult b = run_audit(pr, process, {}, nullptr, nullptr);
    const nlohmann::json ta = tests_of(in, a.records), tb = tests_of(pr, b.records);
    EXPECT_EQ(ta, tb) << "jobs " << jobs;
    // Crashes at seeds 3, 10, 17, 24 end their run; seedy fails at 20 and 30.
    EXPECT_EQ(named(ta, "Seeded::crashy")["outcomes"]["crash"], 4);
    EXPECT_EQ(named(ta, "Seeded::seedy")["runs"], 26);
    EXPECT_EQ(named(ta, "Seeded::seedy")["outcomes"]["fail"], 2);
    EXPECT_EQ(named(ta, "Stable::passes")["outcomes"]["pass"], 30);
    std::map<Outcome, int> command;
    for (const auto& r : a.records) ++command[r.outcome];
    EXPECT_EQ(command[Outcome::kCrash], 4);
    EXPECT_EQ(command[Outcome::kFail], 2);
    EXPECT_EQ(command[Outcome::kPass], 24);
  }
}

TEST(InprocessAudit, BlocksSplitTheRunsAcrossJobsAndSettings) {
  AuditOptions o = options(Isolation::kInprocess, 12, 2);
  o.settings = {all_controlled(), free_only({Knob::kThreads})};
  o.seed = 40;  // seeds 40..51: crashy dies at 45
  std::mutex mutex;
  std::vector<std::tuple<std::string, std::size_t, std::size_t>> starts;
  ScriptedExecutor exec([&](const RunRequest& r) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      starts.emplace_back(r.setting, r.run, r.repeat);
    }
    return simulated_pytest(r);
  });
  const AuditRunResult res = run_audit(o, exec, {}, nullptr, nullptr);
  EXPECT_EQ(res.records.size(), 24u);
  // Per setting: [0, 6) and [6, 12); seed 45 (run 5) kills the first block's process in crashy,
  // which relaunches the tests after crashy for runs 0..4 and nothing after run 5.
  std::map<std::string, std::vector<std::pair<std::size_t, std::size_t>>> by_setting;
  for (const auto& [s, run, repeat] : starts) by_setting[s].push_back({run, repeat});
  for (auto& [s, v] : by_setting) {
    std::sort(v.begin(), v.end());
    EXPECT_EQ(v, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 5}, {0, 6}, {6, 6}})) << s;
  }
  const nlohmann::json tests = tests_of(o, res.records);
  EXPECT_EQ(named(tests, "Threads::sum")["outcomes"]["fail"], 0);
  // free:threads varies OMP_NUM_THREADS per process here (it is set once per process).
  EXPECT_EQ(named(tests, "Seeded::crashy", "free:threads")["outcomes"]["crash"], 1);
}

TEST(InprocessAudit, TestResultsAreReportedAsThePytestProcessesWriteThem) {
  const AuditOptions o = options(Isolation::kInprocess, 20, 2);
  std::mutex mutex;
  std::size_t written = 0, failed_written = 0;
  ScriptedExecutor exec([&](const RunRequest& r) {
    const ProcessResult pr = simulated_pytest(r);
    std::ifstream in(env_of(r, "FLAKESCOPE_OUTCOMES").value());
    const std::lock_guard<std::mutex> lock(mutex);
    for (std::string line; std::getline(in, line);) {
      ++written;
      failed_written += nlohmann::json::parse(line)["outcome"] == "fail";
    }
    return pr;
  });
  std::size_t reported = 0, failed_reported = 0;
  AuditHooks hooks;
  hooks.on_test_results = [&](std::size_t results, std::size_t failed) {
    const std::lock_guard<std::mutex> lock(mutex);
    reported += results;
    failed_reported += failed;
  };
  run_audit(o, exec, {}, nullptr, nullptr, hooks);
  EXPECT_GT(written, 20u);
  EXPECT_EQ(reported, written);
  EXPECT_GT(failed_written, 0u);
  EXPECT_EQ(failed_reported, failed_written);
}

TEST(InprocessAudit, ShardsAreContiguousBlocksThatMergeToOneRun) {
  const AuditOptions whole = options(Isolation::kInprocess, 25, 2);
  ScriptedExecutor exec([](const RunRequest& r) { return simulated_pytest(r); });
  const auto all = run_audit(whole, exec, {}, nullptr, nullptr);
  std::vector<RunRecord> merged;
  for (std::size_t k = 0; k < 3; ++k) {
    AuditOptions shard = whole;
    shard.shard_index = k;
    shard.shard_count = 3;
    const auto part = run_audit(shard, exec, {}, nullptr, nullptr);
    std::size_t lo = 25, hi = 0;
    for (const auto& r : part.records) lo = std::min(lo, r.run), hi = std::max(hi, r.run);
    EXPECT_EQ(hi - lo + 1, part.records.size()) << "shard " << k << " is not contiguous";
    merged.insert(merged.end(), part.records.begin(), part.records.end());
  }
  EXPECT_EQ(merged.size(), 25u);
  EXPECT_EQ(tests_of(whole, merged), tests_of(whole, all.records));
}

TEST(InprocessAudit, ResumeRunsOnlyWhatIsMissing) {
  const AuditOptions o = options(Isolation::kInprocess, 20, 2);
  ScriptedExecutor exec([](const RunRequest& r) { return simulated_pytest(r); });
  const auto full = run_audit(o, exec, {}, nullptr, nullptr);
  std::vector<RunRecord> part;
  for (const auto& r : full.records)
    if (r.run < 4 || r.run > 15) part.push_back(r);
  std::vector<std::pair<std::size_t, std::size_t>> starts;
  std::mutex mutex;
  ScriptedExecutor counting([&](const RunRequest& r) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      starts.push_back({r.run, r.repeat});
    }
    return simulated_pytest(r);
  });
  const auto resumed = run_audit(o, counting, part, nullptr, nullptr);
  EXPECT_EQ(resumed.executed, 12u);
  ASSERT_FALSE(starts.empty());
  // Runs 4..15 in two blocks; seed 10 (run 9) kills the first in crashy, and the tests after
  // it run again for runs 4..8.
  std::sort(starts.begin(), starts.end());
  EXPECT_EQ(starts, (std::vector<std::pair<std::size_t, std::size_t>>{{4, 5}, {4, 6}, {10, 6}}));
  EXPECT_EQ(tests_of(o, resumed.records), tests_of(o, full.records));
}

// An interrupt in the middle of an in-process block leaves every run of it incomplete (the plugin
// runs test-major); `--resume` keeps what was recorded and runs only the missing tests.
TEST(InprocessAudit, ResumeOfAnInterruptedBlockRunsOnlyTheMissingTests) {
  const AuditOptions o = options(Isolation::kInprocess, 20, 1);
  ScriptedExecutor exec([](const RunRequest& r) { return simulated_pytest(r); });
  const auto full = run_audit(o, exec, {}, nullptr, nullptr);
  std::vector<std::string> all;
  for (const auto& t : suite()) all.push_back(t.id);
  std::vector<RunRecord> interrupted;
  for (RunRecord r : full.records) {
    // Stable::passes recorded for every run, Seeded::crashy for runs 0..9 only.
    r.testcases.resize(std::min<std::size_t>(r.testcases.size(), r.run < 10 ? 2 : 1));
    // What the interrupted chunk records: the repetition's worst recorded outcome.
    const bool died =
        std::any_of(r.testcases.begin(), r.testcases.end(),
                    [](const TestcaseResult& t) { return t.outcome == Outcome::kCrash; });
    if (!died) r.outcome = Outcome::kPass, r.signal.reset();
    r.incomplete = true;
    r.collected = all;
    interrupted.push_back(r);
  }
  std::vector<nlohmann::json> selections;
  ScriptedExecutor counting([&](const RunRequest& r) {
    const auto select = env_of(r, "FLAKESCOPE_SELECT");
    selections.push_back(select ? nlohmann::json::parse(std::ifstream(*select)) : nullptr);
    return simulated_pytest(r);
  });
  const auto resumed = run_audit(o, counting, interrupted, nullptr, nullptr);
  ASSERT_FALSE(selections.empty());
  for (const auto& sel : selections) {
    ASSERT_TRUE(sel.is_array()) << "a resumed block ran every test";
    EXPECT_EQ(std::count(sel.begin(), sel.end(), "Stable::passes"), 0) << sel;
  }
  EXPECT_EQ(resumed.records.size(), 20u);
  for (const auto& r : resumed.records) EXPECT_FALSE(r.incomplete);
  EXPECT_EQ(tests_of(o, resumed.records), tests_of(o, full.records));
}

TEST(InprocessAudit, OnlyPytestCommandsAndNoJunitPath) {
  AuditOptions o = options(Isolation::kInprocess, 5, 1);
  o.command = {"./my_gtest_binary"};
  try {
    o.validate();
    ADD_FAILURE() << "a gtest binary was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("needs a pytest command"), std::string::npos) << e.what();
  }
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {"pytest", "-q"}, {"/usr/bin/py.test"}, {"python3", "-m", "pytest"}}) {
    o.command = cmd;
    EXPECT_NO_THROW(o.validate()) << cmd[0];
  }
  o.junit = JunitMode::kPath;
  o.junit_path = "out.xml";
  EXPECT_THROW(o.validate(), InputError);
  EXPECT_EQ(o.to_json()["isolation"], "inprocess");
  EXPECT_EQ(parse_isolation("process"), Isolation::kProcess);
  EXPECT_THROW(parse_isolation("thread"), InputError);
}

TEST(InprocessAudit, TheRequestCarriesThePluginAndTheBlock) {
  AuditOptions o = options(Isolation::kInprocess, 4, 1);
  o.command = {"python3", "-m", "pytest", "-q", "--junitxml={junit}"};
  o.capture = true;
  o.seed = 4;  // seeds 4..7: crashy survives, one process
  std::vector<RunRequest> requests;
  ScriptedExecutor exec([&](const RunRequest& r) {
    requests.push_back(r);
    return simulated_pytest(r);
  });
  run_audit(o, exec, {}, nullptr, nullptr);
  ASSERT_EQ(requests.size(), 1u);
  const RunRequest& r = requests[0];
  EXPECT_EQ(r.repeat, 4u);
  EXPECT_EQ(env_of(r, "FLAKESCOPE_SEED"), "4");
  EXPECT_EQ(env_of(r, "FLAKESCOPE_REPEAT"), "4");
  EXPECT_TRUE(env_of(r, "FLAKESCOPE_CAPTURE").value().find("/capture.jsonl") != std::string::npos);
  // The plugin's folder (found next to the binary: build/share/flakescope/pytest) comes first.
  const std::string pythonpath = env_of(r, "PYTHONPATH").value();
  const std::string first = pythonpath.substr(0, pythonpath.find(':'));
  EXPECT_TRUE(
      std::filesystem::is_regular_file(std::filesystem::path(first) / "flakescope_pytest.py"))
      << pythonpath;
  const std::vector<std::string>& argv = r.process.argv;
  ASSERT_GE(argv.size(), 7u);
  EXPECT_EQ(argv[3], "-p");
  EXPECT_EQ(argv[4], "flakescope_pytest");
  // {junit} gets a path; no --junitxml of our own is added.
  EXPECT_EQ(argv.back().rfind("--junitxml=/", 0), 0u) << argv.back();
  EXPECT_EQ(std::count_if(argv.begin(), argv.end(),
                          [](const std::string& a) { return a.rfind("--junitxml", 0) == 0; }),
            1);
  EXPECT_EQ(r.process.timeout_seconds, 0.0);  // the watchdog applies --timeout per repetition
}

TEST(ProgressWatchdog, FiresOnlyWithoutProgress) {
  const std::string path = ::testing::TempDir() + "/watchdog-outcomes.jsonl";
  std::remove(path.c_str());
  ProgressWatchdog w(path, 0.15, nullptr);
  for (int i = 0; i < 6; ++i) {  // 0.3 s with a line every 50 ms: progress
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ofstream(path, std::ios::app) << "x\n";
  }
  EXPECT_FALSE(w.cancel_flag()->load());
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_TRUE(w.cancel_flag()->load());
  w.stop();
  EXPECT_TRUE(w.fired());
  std::atomic<bool> outer{false};
  ProgressWatchdog forwarded(path, 0, &outer);
  outer = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(forwarded.cancel_flag()->load());
  forwarded.stop();
  EXPECT_FALSE(forwarded.fired());
}

}  // namespace
}  // namespace flakescope::audit
