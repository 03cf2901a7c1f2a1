// $GITHUB_STEP_SUMMARY as GitHub Actions sets it: `audit`, `probe`, `gate`, `merge` and
// `report --format md` append their report once; the same report rendered again in the step is not
// appended twice; the suite run `gate --run-suite` starts adds nothing of its own; a summary file
// that cannot be written is a warning, never a failed command.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace flakescope {
namespace {

namespace fs = std::filesystem;
using Cli = e2e::CliResult;

const std::string kData = std::string(FLAKESCOPE_TEST_DATA) + "/reports/";
const std::string kMarker = "<!-- flakescope summary ";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class StepSummary : public e2e::ScratchDirTest {
 protected:
  Cli run(std::vector<std::string> args, const std::string& summary) const {
    return e2e::run_cli(std::move(args), dir_.string(), {{"GITHUB_STEP_SUMMARY", summary}}, 300);
  }
  std::string summary() const { return path("summary.md"); }
};

TEST_F(StepSummary, ReportAppendsAfterEarlierStepsAndNotTwice) {
  { std::ofstream(summary()) << "earlier step\n"; }
  const Cli first = run({"report", kData + "audit_small.json", "--format", "md"}, summary());
  EXPECT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.err.find("appended to $GITHUB_STEP_SUMMARY"), std::string::npos) << first.err;
  const Cli again = run({"report", kData + "audit_small.json", "--format", "md", "--out",
                         path("audit.md")}, summary());
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("already in $GITHUB_STEP_SUMMARY"), std::string::npos) << again.err;
  const std::string text = read_file(summary());
  EXPECT_EQ(text.rfind("earlier step\n" + kMarker, 0), 0u) << text;
  EXPECT_EQ(count(text, kMarker), 1u) << text;
  EXPECT_NE(text.find("tests/test_model.py::test_loss"), std::string::npos) << text;
  // What was appended is exactly the Markdown the report renders, after the marker line.
  const std::string markdown = read_file(path("audit.md"));
  EXPECT_NE(text.find("-->\n" + markdown), std::string::npos);
}

TEST_F(StepSummary, GateAppendsAndTheReportOfTheGateIsNotRepeated) {
  const Cli gate = run({"gate", "--baseline", kData + "probe_small.json", "--out", path("gate.json"),
                        kData + "probe_small.json"}, summary());
  EXPECT_EQ(gate.code, 0) << gate.err;
  const Cli md = run({"report", path("gate.json"), "--format", "md", "--out", path("gate.md")},
                     summary());
  EXPECT_EQ(md.code, 0) << md.err;
  const std::string text = read_file(summary());
  EXPECT_EQ(count(text, kMarker), 1u) << text;
  EXPECT_NE(text.find(read_file(path("gate.md"))), std::string::npos) << text;
}

TEST_F(StepSummary, ProbeAndAuditAppendOncePerInvocation) {
  const Cli probe = run({"probe", "calibration/constant", "--runs", "3", "--settings", "controlled",
                         "--out", path("probe.json")}, summary());
  EXPECT_EQ(probe.code, 0) << probe.err;
  EXPECT_EQ(count(read_file(summary()), kMarker), 1u);
  const Cli audit = run({"audit", "--runs", "3", "--junit", "none", "--out", path("audit.json"), "--",
                         "/bin/sh", "-c", "exit 0"}, summary());
  EXPECT_EQ(audit.code, 0) << audit.err;
  const std::string text = read_file(summary());
  EXPECT_EQ(count(text, kMarker), 2u) << text;
  EXPECT_NE(text.find("calibration/constant"), std::string::npos) << text;
}

TEST_F(StepSummary, GateRunSuiteAppendsOnlyTheGate) {
  const Cli base = run({"probe", "--suite", "calibration", "--runs", "3", "--settings", "controlled",
                        "--out", path("base.json")}, "");
  ASSERT_EQ(base.code, 0) << base.err;
  const Cli gate = run({"gate", "--baseline", path("base.json"), "--run-suite", "calibration",
                        "--probe-arg=--runs=3", "--probe-arg=--settings=controlled"}, summary());
  EXPECT_LE(gate.code, 1) << gate.err;
  const std::string text = read_file(summary());
  EXPECT_EQ(count(text, kMarker), 1u) << text;
  EXPECT_NE(text.find("gate"), std::string::npos) << text;
}

TEST_F(StepSummary, AnUnwritableSummaryIsAWarningNotAFailure) {
  for (const std::string& bad : {dir_.string(), path("missing-folder/summary.md")}) {
    const Cli gate = run({"gate", "--baseline", kData + "probe_small.json", kData + "probe_small.json"},
                         bad);
    EXPECT_EQ(gate.code, 0) << bad << ": " << gate.err;
    EXPECT_NE(gate.err.find("warning: cannot append to $GITHUB_STEP_SUMMARY"), std::string::npos)
        << gate.err;
    const Cli report = run({"report", kData + "audit_small.json", "--format", "md", "--out",
                            path("a.md")}, bad);
    EXPECT_EQ(report.code, 0) << report.err;
    EXPECT_TRUE(fs::exists(path("a.md")));
  }
  EXPECT_FALSE(fs::exists(path("missing-folder")));
}

}  // namespace
}  // namespace flakescope
