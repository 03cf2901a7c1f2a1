// Markdown: a PR comment or CI step summary. Parsed back: headings, tables with the right columns
// and rows, findings before quiet probes.
#include <gtest/gtest.h>

#include "report/assertion_section.h"
#include "report/reporters.h"
#include "report_test_support.h"

namespace flakescope {
namespace {

using namespace flakescope::testing;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Splits "| a | b |" into {"a", "b"} (honoring "\|" escapes).
std::vector<std::string> cells(const std::string& row) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 1; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
      cur += '|';
      ++i;
    } else if (row[i] == '|') {
      out.push_back(cur.substr(1, cur.size() - 2));
      cur.clear();
    } else {
      cur += row[i];
    }
  }
  return out;
}

// Every table in the document: header cells and row cells.
struct MdTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
std::vector<MdTable> tables(const std::string& text) {
  std::vector<MdTable> out;
  const auto lines = lines_of(text);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    const bool separator = lines[i + 1].rfind("|:--", 0) == 0 || lines[i + 1].rfind("|---", 0) == 0;
    if (lines[i].rfind("|", 0) != 0 || !separator) continue;
    MdTable t;
    t.header = cells(lines[i]);
    std::size_t j = i + 2;
    for (; j < lines.size() && lines[j].rfind("|", 0) == 0; ++j) t.rows.push_back(cells(lines[j]));
    out.push_back(t);
    i = j;
  }
  return out;
}

TEST(MarkdownReport, ProbeReportParsesBackFindingsFirst) {
  const json r = probe_report(
      {probe("ops/quiet", {setting("controlled", {0, 0})}),
       probe("ops/sum|pipe", {setting("controlled", {0, 0}), setting("free:threads", {0, 1e-5})},
             {"threads"}, "Varies with the thread count."),
       probe("calibration/racy_sum", {setting("controlled", {1e-6, 2e-6})})});
  const std::string md = render_report(r, ReportFormat::kMarkdown);
  const auto lines = lines_of(md);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "## flakescope probe");
  EXPECT_NE(md.find("**1 finding, 0 warnings in 3 probes**"), std::string::npos) << md;
  const auto ts = tables(md);
  ASSERT_EQ(ts.size(), 2u) << md;  // the quiet probe gets one line, not a table
  EXPECT_EQ(ts[0].header, (std::vector<std::string>{"setting", "verdict", "runs", "distinct",
                                                    "max abs dev", "max ULP"}));
  ASSERT_EQ(ts[0].rows.size(), 1u);
  EXPECT_EQ(ts[0].rows[0][1], "nondeterministic");
  EXPECT_EQ(ts[0].rows[0][2], "3");
  EXPECT_EQ(ts[0].rows[0][3], "3");
  ASSERT_EQ(ts[1].rows.size(), 2u);
  EXPECT_EQ(ts[1].rows[1][0], "free:threads");
  EXPECT_EQ(ts[1].rows[1][4], "1e-05");
  // Findings first; the probe name with a pipe survives; quiet probes listed at the end.
  EXPECT_LT(md.find("racy_sum"), md.find("ops/sum|pipe"));
  EXPECT_NE(md.find("Bitwise-deterministic under every setting: `ops/quiet`"), std::string::npos);
}

TEST(MarkdownReport, GateReportHasVerdictInTitleAndOneRowPerCheck) {
  json gate = probe_report({});
  gate.erase("probes");
  gate["kind"] = "gate";
  gate["verdict"] = "fail";
  gate["baseline"] = {{"path", "reports/baselines/cpu.json"}};
  gate["checks"] = {{{"target", "ops/a"},
                     {"setting", "controlled"},
                     {"output", ""},
                     {"rule", "bitwise"},
                     {"status", "pass"},
                     {"message", "ok"}},
                    {{"target", "ops/b"},
                     {"setting", "controlled"},
                     {"output", "out"},
                     {"rule", "bitwise"},
                     {"status", "regression"},
                     {"message", "was bitwise"}}};
  const std::string md = render_report(gate, ReportFormat::kMarkdown);
  EXPECT_EQ(lines_of(md)[0], "## flakescope gate: ❌ FAIL");
  const auto ts = tables(md);
  ASSERT_EQ(ts.size(), 1u);
  ASSERT_EQ(ts[0].rows.size(), 1u);  // passing checks are counted, not listed
  EXPECT_EQ(ts[0].rows[0][0], "regression");
  EXPECT_EQ(ts[0].rows[0][1], "ops/b");
  EXPECT_EQ(ts[0].rows[0][2], "controlled/out");
  EXPECT_NE(md.find("1 check passed"), std::string::npos) << md;
}

TEST(MarkdownReport, AuditTablesListTheTestsToLookAtFirstAndTheFineOnesFolded) {
  const json r = audit_report({audit_test("t::a", "stable-pass", {"pass", "pass"}),
                               audit_test("t::b", "flaky", {"fail", "pass"})});
  const std::string md = render_report(r, ReportFormat::kMarkdown);
  const auto ts = tables(md);
  ASSERT_EQ(ts.size(), 2u);
  ASSERT_EQ(ts[0].rows.size(), 1u);
  EXPECT_EQ(ts[0].rows[0][1], "t::b");
  EXPECT_EQ(ts[0].rows[0][2], "1/2");
  ASSERT_EQ(ts[1].rows.size(), 1u);
  EXPECT_EQ(ts[1].rows[0][1], "t::a");
  EXPECT_NE(md.find("1 test with nothing to report (listed at the end)."), std::string::npos) << md;
  EXPECT_NE(md.find("<details><summary>1 test with nothing to report</summary>"), std::string::npos)
      << md;
}

TEST(MarkdownReport, InprocessAuditSaysSo) {
  json r = audit_report({audit_test("t::a", "stable-pass", {"pass", "pass"})});
  EXPECT_EQ(render_report(r, ReportFormat::kMarkdown).find("Isolation: in-process"),
            std::string::npos);
  r["config"] = {{"isolation", "inprocess"}, {"jobs", 2}};
  EXPECT_NE(render_report(r, ReportFormat::kMarkdown).find("Isolation: in-process"),
            std::string::npos);
}

}  // namespace
}  // namespace flakescope

namespace flakescope {
namespace {

using namespace flakescope::testing;

TEST(MarkdownReport, FitsAGitHubCommentWithAPointerToTheFullReport) {
  std::vector<json> tests;
  for (int i = 0; i < 1500; ++i)
    tests.push_back(audit_test("tests/test_many.py::test_case_number_" + std::to_string(i) +
                                   "_with_a_long_parametrized_id",
                               "flaky", {"pass", "fail"}));
  const std::string md = render_report(audit_report(tests), ReportFormat::kMarkdown);
  EXPECT_LE(md.size(), 65536u);
  EXPECT_NE(md.find("truncated to fit a GitHub comment"), std::string::npos);
  EXPECT_NE(md.find("--format html"), std::string::npos);
}

// pyro's ops tests: 463 passing rows filled the comment, and the assertions section after them
// was cut. The passing rows go last now, and are what the limit cuts.
TEST(MarkdownReport, ALongPassingSuiteKeepsItsAssertionsWithinTheCommentLimit) {
  std::vector<json> tests;
  for (int i = 0; i < 1500; ++i)
    tests.push_back(audit_test("tests/test_many.py::test_case_number_" + std::to_string(i) +
                                   "_with_a_long_parametrized_id",
                               "stable-pass", {"pass", "pass"}));
  json report = audit_report(tests);
  model::AssertionSite site;
  site.test = "tests/test_many.py::test_case_number_7_with_a_long_parametrized_id";
  site.site = "tests/test_many.py:12";
  site.api = "torch.testing.assert_close";
  site.recommendation.action = model::AssertionAction::kLoosen;
  site.suggestion = "`assert_close(a, b, rtol=0, atol=3e-05)` keeps failures <= 1e-4 at 95%";
  json entry;
  model::to_json(entry, site);
  report["assertions"] = json::array({entry});
  const std::string md = render_report(report, ReportFormat::kMarkdown);
  EXPECT_LE(md.size(), 65536u);
  EXPECT_NE(md.find("truncated to fit a GitHub comment"), std::string::npos);
  EXPECT_NE(md.find("`tests/test_many.py:12`"), std::string::npos);
}

TEST(MarkdownReport, AuditFindingsHaveReplayLines) {
  json flaky = audit_test("t::flaky", "flaky", {"pass", "fail"});
  flaky["failing_runs"] = {
      {{"run", 1}, {"seed", 2}, {"outcome", "fail"}, {"replay", "FLAKESCOPE_SEED=2 pytest t"}}};
  const std::string md = render_report(audit_report({flaky}), ReportFormat::kMarkdown);
  EXPECT_NE(md.find("- `t::flaky` (fail): `FLAKESCOPE_SEED=2 pytest t`"), std::string::npos) << md;
}

TEST(MarkdownAssertions, AdviceKeepsItsCodeSpansAsCodeAndEscapesTheProse) {
  model::AssertionSite site;
  site.test = "t.py::test_a";
  site.site = "t.py:3";
  site.api = "threshold";
  site.recommendation.action = model::AssertionAction::kLoosen;
  site.suggestion = "`threshold < 3.4e-05 | x` keeps failures <= 1e-4 <b>at</b> 95%";
  const std::string md = report::assertion_section({site}, ReportFormat::kMarkdown);
  // In a code span `<` is literal (an entity would print as "&lt;"); only the cell's | is escaped.
  EXPECT_NE(
      md.find("`threshold < 3.4e-05 \\| x` keeps failures &lt;= 1e-4 &lt;b&gt;at&lt;/b&gt; 95%"),
      std::string::npos)
      << md;
  const std::string html = report::assertion_section({site}, ReportFormat::kHtml);
  EXPECT_NE(html.find("<code>threshold &lt; 3.4e-05 | x</code> keeps failures &lt;= 1e-4 "
                      "&lt;b&gt;at&lt;/b&gt; 95%"),
            std::string::npos)
      << html;
}

TEST(MarkdownAssertions, TestsThatRanWithoutACapturedComparisonAreCounted) {
  model::AuditBody audit;
  for (const char* name : {"t.py::test_a", "t.py::test_b", "t.py::test_skipped"}) {
    model::AuditTest t;
    t.name = name;
    t.outcomes[std::string(name).find("skipped") != std::string::npos ? "skip" : "pass"] = 3;
    audit.tests.push_back(t);
  }
  model::AssertionSite site;
  site.test = "t.py::test_a";
  site.site = "t.py:3";
  site.recommendation.action = model::AssertionAction::kKeep;
  audit.assertions = std::vector<model::AssertionSite>{site};
  const std::string md = report::assertion_section(audit, ReportFormat::kMarkdown);
  EXPECT_NE(md.find("1 of 2 tests that ran made no comparison the capture recognises"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("(t.py::test\\_b)"), std::string::npos) << md;
  // A capture that recognised nothing says so (curvlinops printed nothing at all).
  audit.assertions->clear();
  const std::string none = report::assertion_section(audit, ReportFormat::kMarkdown);
  EXPECT_NE(none.find("None captured."), std::string::npos) << none;
  EXPECT_NE(none.find("2 of 2 tests that ran made no comparison"), std::string::npos) << none;
  audit.assertions.reset();  // no capture: no section
  EXPECT_EQ(report::assertion_section(audit, ReportFormat::kMarkdown), "");
}

}  // namespace
}  // namespace flakescope

namespace flakescope {
namespace {

// normflows: undecided sites estimated to fail 0.4% of runs, and pytorch_wavelets' `decimal=15`
// with the worst run 1.1 times under it, were counted "fine": they are listed as at risk, after
// the sites that need action; a site far under its tolerance stays fine ("undecided" when the runs
// are too few for a bound).
TEST(MarkdownAssertions, SitesCloseToFailingAreListedAsAtRisk) {
  model::AssertionSite rate, close, far, loosen;
  for (model::AssertionSite* s : {&rate, &close, &far, &loosen}) {
    s->test = "t.py::test_a";
    s->api = "torch.testing.assert_close";
    s->atol = 1e-5;
    s->trials = 10;
    s->failure_rate.trials = 10;
  }
  rate.site = "t.py:1";
  rate.recommendation.action = model::AssertionAction::kNone;
  rate.estimated_failure_rate = model::EstimatedFailureRate{0.004, 0, 0.05};
  close.site = "t.py:2";
  close.recommendation.action = model::AssertionAction::kNone;
  close.samples.atol_needed = {2e-6, 9e-6};
  far.site = "t.py:3";
  far.recommendation.action = model::AssertionAction::kNone;
  far.samples.atol_needed = {2e-9, 9e-9};
  loosen.site = "t.py:4";
  loosen.recommendation.action = model::AssertionAction::kLoosen;
  EXPECT_TRUE(rate.at_risk());
  EXPECT_TRUE(close.at_risk());
  EXPECT_FALSE(far.at_risk());
  EXPECT_FALSE(loosen.at_risk());
  const std::string text =
      report::assertion_section({rate, close, far, loosen}, ReportFormat::kTerminal);
  EXPECT_NE(text.find("Assertions: 1 need action, 2 at risk (no run failed, but the estimated "
                      "failure rate is above the target or the worst run used over half the "
                      "tolerance), 1 fine (1 of them passed every run but has too few runs for a "
                      "bound)"),
            std::string::npos)
      << text;
  EXPECT_LT(text.find("t.py:4  loosen"), text.find("t.py:1  at risk")) << text;
  EXPECT_NE(text.find("t.py:2  at risk"), std::string::npos) << text;
  EXPECT_EQ(text.find("t.py:3"), std::string::npos) << text;
}

}  // namespace
}  // namespace flakescope

namespace flakescope {
namespace {

// torchkbnufft: "8 sites need action" were the 4 cases of 2 lines: the count says so.
TEST(MarkdownAssertions, EntriesOfOneLineAreCountedAsOneLine) {
  model::AssertionSite a;
  a.site = "t.py:9";
  a.recommendation.action = model::AssertionAction::kLoosen;
  model::AssertionSite b = a;
  b.test = "t.py::test_b[2]";
  const std::string text = report::assertion_section({a, b}, ReportFormat::kTerminal);
  EXPECT_NE(text.find("Assertions: 2 need action (on 1 line), 0 fine"), std::string::npos) << text;
}

}  // namespace
}  // namespace flakescope
