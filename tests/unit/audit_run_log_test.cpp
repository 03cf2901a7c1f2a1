#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "audit/run_log.h"
#include "core/report.h"
#include "flakescope/error.h"

namespace flakescope::audit {
namespace {

std::string fresh_path(const std::string& name) {
  const std::string p = ::testing::TempDir() + "/" + name + "." + std::to_string(getpid());
  std::filesystem::remove(p);
  return p;
}

RunRecord record(std::size_t run, Outcome outcome, const std::string& setting = "controlled") {
  RunRecord r;
  r.run = run;
  r.seed = 1 + run;
  r.setting = setting;
  r.outcome = outcome;
  r.exit_code = outcome == Outcome::kPass ? 0 : 1;
  r.duration = 0.25;
  r.testcases = {make_testcase("suite::a", Outcome::kPass, 0.1, ""),
                 make_testcase("suite::b", outcome, 0.1, "boom")};
  r.stdout_tail = "out \xff invalid utf-8";
  return r;
}

RunLogHeader header(std::vector<std::string> command = {"./t", "a;rm -rf x"}) {
  return {std::move(command), {{"seed", 1}, {"runs", 4}}, "2026-11-25T21:00:00Z"};
}

TEST(AuditRunLog, RoundTripsRecords) {
  const std::string path = fresh_path("roundtrip.jsonl");
  {
    auto w = RunLogWriter::create(path, header());
    w.append(record(0, Outcome::kPass));
    w.append(record(1, Outcome::kFail));
  }
  const RunLog log = read_run_log(path);
  EXPECT_EQ(log.header.command, header().command);
  EXPECT_EQ(log.header.config["seed"], 1);
  ASSERT_EQ(log.records.size(), 2u);
  EXPECT_EQ(log.records[1].outcome, Outcome::kFail);
  EXPECT_EQ(log.records[1].seed, 2u);
  ASSERT_EQ(log.records[1].testcases.size(), 2u);
  EXPECT_EQ(log.records[1].testcases[1].message, "boom");
  EXPECT_EQ(log.records[1].exit_code, 1);
  EXPECT_FALSE(log.had_partial_line);
}

TEST(AuditRunLog, RefusesToOverwriteAnExistingLog) {
  const std::string path = fresh_path("exists.jsonl");
  { auto w = RunLogWriter::create(path, header()); }
  EXPECT_THROW(RunLogWriter::create(path, header()), InputError);
}

TEST(AuditRunLog, PartialLastLineIsIgnoredAndCutOnResume) {
  const std::string path = fresh_path("partial.jsonl");
  {
    auto w = RunLogWriter::create(path, header());
    w.append(record(0, Outcome::kPass));
  }
  std::ofstream(path, std::ios::app) << R"({"run": 1, "seed": 2, "outc)";
  RunLog log = read_run_log(path);
  EXPECT_TRUE(log.had_partial_line);
  ASSERT_EQ(log.records.size(), 1u);
  {
    auto w = RunLogWriter::resume(log);
    w.append(record(1, Outcome::kFail));
  }
  const RunLog again = read_run_log(path);
  EXPECT_FALSE(again.had_partial_line);
  ASSERT_EQ(again.records.size(), 2u);
  EXPECT_EQ(again.records[1].run, 1u);
}

TEST(AuditRunLog, BadLinesNameFileAndLine) {
  const std::string path = fresh_path("bad.jsonl");
  std::ofstream(path) << header_to_json(header()).dump() << "\n{not json}\n";
  try {
    read_run_log(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2:"), std::string::npos) << e.what();
  }
  const std::string foreign = fresh_path("foreign.jsonl");
  std::ofstream(foreign) << R"({"schema": "flakescope.report/1"})"
                         << "\n";
  EXPECT_THROW(read_run_log(foreign), InputError);
  EXPECT_THROW(read_run_log(fresh_path("missing.jsonl")), InputError);
}

TEST(AuditRunLog, MergeCombinesShardsAndRejectsOverlapOrOtherCommands) {
  RunLog a, b, c;
  a.path = "a";
  b.path = "b";
  c.path = "c";
  a.header = b.header = header();
  a.header.config["shard"] = "0/2";
  c.header = header({"./other"});
  a.records = {record(0, Outcome::kPass), record(2, Outcome::kFail)};
  b.records = {record(1, Outcome::kPass), record(3, Outcome::kPass)};
  const RunLog m = merge_run_logs({a, b});
  EXPECT_EQ(m.records.size(), 4u);
  EXPECT_FALSE(m.header.config.contains("shard"));
  EXPECT_THROW(merge_run_logs({a, a}), InputError);
  EXPECT_THROW(merge_run_logs({a, c}), InputError);
  EXPECT_THROW(merge_run_logs({}), InputError);
  RunLog other_seed = b;
  other_seed.header.config["seed"] = 7;
  EXPECT_THROW(merge_run_logs({a, other_seed}), InputError);
}

// An in-process audit interrupted mid-run logs that run as incomplete; `--resume` runs it again
// whole and appends it. Merging the resumed log counts the run once, with the complete record.
TEST(AuditRunLog, MergeCountsAResumedIncompleteRunOnce) {
  RunLog resumed, other;
  resumed.path = "resumed";
  other.path = "other";
  resumed.header = other.header = header();
  RunRecord interrupted = record(1, Outcome::kPass);
  interrupted.incomplete = true;
  interrupted.testcases.resize(1);
  resumed.records = {record(0, Outcome::kPass), interrupted, record(1, Outcome::kFail)};
  other.records = {record(2, Outcome::kPass)};
  const RunLog m = merge_run_logs({resumed, other});
  ASSERT_EQ(m.records.size(), 3u);
  EXPECT_EQ(m.records[1].run, 1u);
  EXPECT_FALSE(m.records[1].incomplete);
  EXPECT_EQ(m.records[1].testcases.size(), 2u);
  // Still interrupted (never resumed): the incomplete record is all there is, and it stays.
  RunLog only_partial = other;
  only_partial.records = {interrupted};
  EXPECT_EQ(merge_run_logs({only_partial}).records.size(), 1u);
  // Two complete records of one run in one log are an overlap, not a resume.
  RunLog doubled = other;
  doubled.records = {record(4, Outcome::kPass), record(4, Outcome::kPass)};
  EXPECT_THROW(merge_run_logs({doubled}), InputError);
}

}  // namespace
}  // namespace flakescope::audit
