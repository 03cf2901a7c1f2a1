// The terminal summary: golden text with placeholders, findings first, colors only when asked.
#include "report/reporters.h"

#include <gtest/gtest.h>

#include "flakescope/error.h"
#include "gate/gate.h"
#include "gate_test_support.h"

namespace flakescope {
namespace {

using namespace flakescope::testing;

json sample_probe_report() {
  return probe_report(
      {probe("ops/matmul", {setting("controlled", {0, 0, 0}), setting("free:threads", {0, 0, 0})}),
       probe("ops/sum_large",
             {setting("controlled", {0, 0, 0}), setting("free:threads", {0, 3e-5, 3e-5})},
             {"threads"}, "The output changes only when the thread count varies."),
       probe("calibration/racy_sum", {setting("controlled", {1e-6, 0, 2e-6})}, {},
             "Nondeterministic even with every knob controlled.")});
}

TEST(TerminalReport, ProbeReportGolden) {
  const std::string text = render_report(sample_probe_report(), ReportFormat::kTerminal);
  expect_matches_golden(text, R"(flakescope probe report · LibTorch 1.13.1 · 2026-11-25T21:04:05Z
FINDING calibration/racy_sum
    setting     verdict           runs  distinct  max abs dev  max ULP
    controlled  nondeterministic     4         3  %num  %num
    Nondeterministic even with every knob controlled.
varies  ops/sum_large  (cause: threads)
    setting       verdict                runs  distinct  max abs dev  max ULP
    controlled    bitwise-deterministic     4         1            0        0
    free:threads  nondeterministic          4         2  %num  %num
    The output changes only when the thread count varies.
ok      1 probe bitwise-deterministic under every setting (report --verbose lists them)
1 finding, 0 warnings in 3 probes
)");
}

TEST(TerminalReport, VerboseListsTheProbesThatAreFine) {
  RenderOptions verbose;
  verbose.verbose = true;
  const std::string text = render_report(sample_probe_report(), ReportFormat::kTerminal, verbose);
  EXPECT_NE(text.find(R"(ok      ops/matmul
    setting       verdict                runs  distinct  max abs dev  max ULP
    controlled    bitwise-deterministic     4         1            0        0
    free:threads  bitwise-deterministic     4         1            0        0
)"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("--verbose"), std::string::npos) << text;
}

TEST(TerminalReport, FitsInOneHundredColumns) {
  const std::string text = render_report(sample_probe_report(), ReportFormat::kTerminal);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) EXPECT_LE(line.size(), 100u) << line;
}

TEST(TerminalReport, ColorsOnlyWhenAsked) {
  const json r = sample_probe_report();
  EXPECT_EQ(render_report(r, ReportFormat::kTerminal).find('\x1b'), std::string::npos);
  RenderOptions color;
  color.color = true;
  EXPECT_NE(render_report(r, ReportFormat::kTerminal, color).find("\x1b[1;31mFINDING"),
            std::string::npos);
}

TEST(TerminalReport, AuditReportShowsRateIntervalAndRetriesFindingsFirst) {
  const json r = audit_report(
      {audit_test("tests/test_a.py::test_ok", "stable-pass", {"pass", "pass", "pass", "pass"}),
       audit_test("tests/test_a.py::test_flaky", "flaky", {"pass", "fail", "pass", "pass"})});
  expect_matches_golden(render_report(r, ReportFormat::kTerminal),
                        R"(flakescope audit report · LibTorch 1.13.1 · 2026-11-25T21:04:05Z
verdict  test                         fails/runs  failure rate [95% interval]  retries
flaky    tests/test_a.py::test_flaky         1/4  25% [0%, 30%]                3
stable-pass 1 test passed every run (report --verbose lists them)
1 finding, 0 warnings in 2 tests
)");
}

TEST(TerminalReport, NumbersForPeople) {
  json always = audit_test("t::always", "stable-fail", {"fail", "fail", "fail", "fail"});
  always["failure_rate"]["upper"] = 1.0;
  always["retries_needed"] = nullptr;
  json often = audit_test("t::often", "flaky", {"fail", "fail", "fail", "pass"});
  often["retries_needed"] = 1795;
  json fresh = audit_test("t::fresh", "stable-pass", {"pass", "pass", "pass", "pass"});
  fresh["retries_needed"] = 14;
  fresh["retries"] = {{"k", 14}, {"target", 1e-4}, {"statement", "with 14 retries"}};
  fresh["failure_rate"]["confidence"] = 0.95;
  RenderOptions verbose;
  verbose.verbose = true;
  const std::string text =
      render_report(audit_report({always, often, fresh}), ReportFormat::kTerminal, verbose);
  EXPECT_NE(text.find("100% [0%, 100%]"), std::string::npos) << text;
  EXPECT_EQ(text.find("e+02"), std::string::npos) << text;
  const std::string often_line = text.substr(
      text.find("t::often"), text.find('\n', text.find("t::often")) - text.find("t::often"));
  EXPECT_NE(often_line.find("75% [0%, 30%]"), std::string::npos) << text;
  EXPECT_NE(often_line.find("n/a: retrying is no fix"), std::string::npos) << text;
  // 0 failures in n runs: upper bound 1 - 0.05^(1/n) <= 1e-4 from n = 29956.
  EXPECT_NE(text.find("none yet; 29956 to be sure"), std::string::npos) << text;
}

// What the pytest plugin measures beyond pass/fail is printed, not only kept in the JSON: retry
// decorators measured per attempt with their paste-ready verdict, failures of the machine, and the
// advice when tracebacks dominate the run time.
TEST(TerminalReport, AuditShowsRetryVerdictsEnvironmentErrorsAndTracebackCost) {
  json offline = audit_test("tests/test_hub.py::test_download", "environment-error",
                            {"fail", "fail", "fail", "fail"});
  offline["environment_errors"] = {{"network: requests.exceptions.ConnectionError", 4}};
  json retried =
      audit_test("tests/test_m.py::test_x", "stable-pass", {"pass", "pass", "pass", "pass"});
  json r = audit_report({retried, offline});
  r["retries_measured"] =
      json::array({{{"name", "tests/test_m.py::test_x"},
                    {"setting", "controlled"},
                    {"mechanism", "is_flaky"},
                    {"decorator", "@is_flaky(max_attempts=5)"},
                    {"attempts_declared", 5},
                    {"failures", 0},
                    {"trials", 4},
                    {"verdict", "not flaky in 4 runs (upper bound 53%): remove the decorator"}}});
  r["traceback_cost"] = {{"report_seconds", 24.4},
                         {"test_seconds", 32.0},
                         {"share", 0.76},
                         {"advice",
                          "pytest spent 76% of the test time formatting failure "
                          "tracebacks: add --tb=line to the pytest command"}};
  const std::string text = render_report(r, ReportFormat::kTerminal);
  EXPECT_NE(text.find("retry decorators, measured one attempt at a time:\n"
                      "  tests/test_m.py::test_x: @is_flaky(max_attempts=5), 0 of 4 attempts "
                      "failed: not flaky in 4 runs (upper bound 53%): remove the decorator\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  tests/test_hub.py::test_download: environment error in 4 of 4 runs "
                      "(network: requests.exceptions.ConnectionError)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("WARNING pytest spent 76% of the test time formatting failure tracebacks: "
                      "add --tb=line"),
            std::string::npos)
      << text;
  for (auto format : {ReportFormat::kMarkdown, ReportFormat::kHtml}) {
    const std::string doc = render_report(r, format);
    EXPECT_NE(doc.find("remove the decorator"), std::string::npos) << doc;
    EXPECT_NE(doc.find("environment error in 4 of 4 runs"), std::string::npos) << doc;
    EXPECT_NE(doc.find("--tb=line"), std::string::npos) << doc;
  }
}

TEST(TerminalReport, AnOpTheControlledSettingForbidsIsNotTheTestsFailure) {
  json unpool =
      audit_test("tests/test_pool.py::test_unpool", "environment-error", {"fail", "fail", "fail"});
  unpool["environment_errors"] = {{"nondeterministic-op: RuntimeError", 3}};
  const std::string text = render_report(audit_report({unpool}), ReportFormat::kTerminal);
  EXPECT_NE(text.find("failures of the machine or of the controlled setting, not of the test:\n"
                      "  tests/test_pool.py::test_unpool: calls an op with no deterministic "
                      "implementation, which torch.use_deterministic_algorithms(True) stopped in 3 "
                      "of 3 runs"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("(--vary deterministic)"), std::string::npos) << text;
}

TEST(TerminalReport, SkippedAndXfailedTestsAreNotCountedAsPasses) {
  std::vector<json> tests = {audit_test("t::a", "stable-pass", {"pass", "pass"}),
                             audit_test("t::s", "skipped", {"skip", "skip"}),
                             audit_test("t::x", "xfail", {"xfail", "xfail"})};
  for (json& t : tests) {  // a skip or an expected failure is no failure
    t["failures"] = 0;
    t["failure_rate"]["failures"] = 0;
    t["failure_rate"]["point"] = 0.0;
    t["retries_needed"] = 0;
  }
  const json r = audit_report(tests);
  const std::string text = render_report(r, ReportFormat::kTerminal);
  EXPECT_NE(text.find("stable-pass 1 test passed every run, 1 xfailed as expected, 1 skipped in "
                      "every run (report --verbose lists them)"),
            std::string::npos)
      << text;
}

TEST(TerminalReport, AuditHeaderFollowsTheConfidence) {
  json r = audit_report({audit_test("t::flaky", "flaky", {"pass", "fail"})});
  r["config"]["confidence"] = 0.99;
  EXPECT_NE(render_report(r, ReportFormat::kTerminal).find("failure rate [99% interval]"),
            std::string::npos);
}

TEST(TerminalReport, LongTestNamesAreShortenedToOneHundredColumns) {
  const std::string name = "tests/" + std::string(150, 'x') + "::test_the_end";
  const std::string text = render_report(
      audit_report({audit_test(name, "flaky", {"pass", "fail"})}), ReportFormat::kTerminal);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::size_t width = 0;
    for (unsigned char c : line) width += (c & 0xC0) != 0x80;
    EXPECT_LE(width, 100u) << line;
  }
  EXPECT_NE(text.find("…"), std::string::npos) << text;
  EXPECT_NE(text.find("xxx::test_the_end"), std::string::npos) << text;
}

TEST(TerminalReport, GateReportListsWhatChangedAndCountsThePasses) {
  const json base = probe_report({probe("ops/a", {setting("controlled", {0, 0, 0})}),
                                  probe("ops/b", {setting("controlled", {0, 0, 0})})});
  const json cur = probe_report({probe("ops/a", {setting("controlled", {0, 1e-6, 0})}),
                                 probe("ops/b", {setting("controlled", {0, 0, 0})})});
  const GatePolicy policy;
  const json gate = gate_report_json(base, cur, policy, "base.json", "cur.json");
  expect_matches_golden(render_report(gate, ReportFormat::kTerminal),
                        R"(flakescope gate report · LibTorch 1.13.1 · 2026-11-25T21:04:05Z
baseline: base.json
status      target  setting/output  rule     detail
regression  ops/a   controlled      bitwise  was bitwise-deterministic, now 2 distinct outputs in 4 runs (max abs dev 1e-06)
%num checks passed
gate: FAIL
1 regression, 0 warnings in %num checks
)");
}

TEST(TerminalReport, SettingErrorsAreShownWithTheirMessage) {
  json r = sample_probe_report();
  r["probes"][0]["settings"][1] = {{"setting", "free:threads"},
                                   {"runs", 0},
                                   {"verdict", "error"},
                                   {"error", "worker crashed (SIGSEGV)"}};
  const std::string text = render_report(r, ReportFormat::kTerminal);
  EXPECT_NE(text.find("free:threads: worker crashed (SIGSEGV)"), std::string::npos) << text;
  // An error is a finding: the probe moves up to the first place.
  EXPECT_EQ(text.find("\nFINDING ops/matmul\n"), text.find('\n')) << text;
}

TEST(TerminalReport, UnknownKindIsBadInput) {
  json r = sample_probe_report();
  r["kind"] = "banana";
  EXPECT_THROW(render_report(r, ReportFormat::kTerminal), InputError);
  r["kind"] = "probe";
  r.erase("probes");
  EXPECT_THROW(render_report(r, ReportFormat::kMarkdown), InputError);
}

TEST(ReportFormatNames, ParseKnownAndRejectUnknown) {
  EXPECT_EQ(parse_report_format("md"), ReportFormat::kMarkdown);
  EXPECT_EQ(parse_report_format("html"), ReportFormat::kHtml);
  EXPECT_EQ(parse_report_format("junit"), ReportFormat::kJunit);
  EXPECT_EQ(parse_report_format("terminal"), ReportFormat::kTerminal);
  EXPECT_EQ(parse_report_format("json"), ReportFormat::kJson);
  EXPECT_FALSE(parse_report_format("pdf").has_value());
}

}  // namespace
}  // namespace flakescope
