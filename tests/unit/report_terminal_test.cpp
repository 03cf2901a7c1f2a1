// The terminal summary: golden text with placeholders, findings first, colors only when asked.
#include "flakescope/reporters.h"

#include <gtest/gtest.h>

#include "flakescope/error.h"
#include "flakescope/gate.h"
#include "report_test_support.h"

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
ok      ops/matmul
    setting       verdict                runs  distinct  max abs dev  max ULP
    controlled    bitwise-deterministic     4         1            0        0
    free:threads  bitwise-deterministic     4         1            0        0
1 finding, 0 warnings in 3 probes
)");
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
verdict      test                         fails/runs  failure rate [95% interval]  retries
flaky        tests/test_a.py::test_flaky         1/4  25% [0%, 30%]                      3
stable-pass  tests/test_a.py::test_ok            0/4  0% [0%, 30%]                       0
1 finding, 0 warnings in 2 tests
)");
}

TEST(TerminalReport, GateReportListsWhatChangedAndCountsThePasses) {
  const json base = probe_report({probe("ops/a", {setting("controlled", {0, 0, 0})}),
                                  probe("ops/b", {setting("controlled", {0, 0, 0})})});
  const json cur = probe_report({probe("ops/a", {setting("controlled", {0, 1e-6, 0})}),
                                 probe("ops/b", {setting("controlled", {0, 0, 0})})});
  const GatePolicy policy;
  json gate = probe_report({});
  gate.erase("probes");
  gate["kind"] = "gate";
  gate.update(gate_report_body(gate_reports(base, cur, policy), policy, base, "base.json", cur,
                               "cur.json"));
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
  r["probes"][0]["settings"][1] = {{"setting", "free:threads"}, {"runs", 0},
                                   {"verdict", "error"}, {"error", "worker crashed (SIGSEGV)"}};
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
