#pragma once
// The tables that the terminal, Markdown and HTML reporters print, built once from the view model.
#include "report/report_view.h"
#include "report/text_table.h"

namespace flakescope::report {

// One row per setting: setting, verdict, runs, distinct outputs, max abs dev, max ULP.
TextTable probe_settings_table(const ProbeView& probe);

// One row per audited test: verdict, test, [setting,] failures/runs, rate with its interval at
// `confidence`, retries ("n/a: retrying is no fix" where no sensible count exists).
TextTable audit_tests_table(const std::vector<TestView>& tests, double confidence,
                            bool setting_column = false);

// One row per gate check: status, target, setting/output, rule, message. Without `include_passes`
// the passing checks are left out (the short views say how many there were).
TextTable gate_checks_table(const std::vector<GateCheckView>& checks, bool include_passes = true);

// "41 checks passed" (the checks the short views leave out).
std::string passed_checks_line(const std::vector<GateCheckView>& checks);

Tone verdict_tone(model::ProbeVerdict v);
Tone verdict_tone(model::TestClass c);
Tone verdict_tone(model::GateStatus s);

// The retries cell: "0", "3", or "n/a: retrying is no fix" (no count, or one that only hides a
// test failing often).
std::string retries_text(const TestView& test);

// "2 of 300 attempts failed" (a retry-decorated test, measured one attempt at a time).
std::string attempts_text(const RetryView& retry);

// "environment error in 30 of 30 runs (network: OSError)": failures of the machine, not the test.
// Empty when the test had none.
std::string environment_text(const TestView& test);

// A one-line summary: "2 findings, 1 warning in 7 probes".
std::string summary_line(const ReportView& view);

}  // namespace flakescope::report
