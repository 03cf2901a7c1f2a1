// Tables shared by the terminal and Markdown reporters (see report_tables.h).
#include "report/report_tables.h"

namespace flakescope::report {

Tone verdict_tone(const std::string& v) {
  if (v == "bitwise-deterministic" || v == "pass" || v == "stable" || v == "improvement")
    return Tone::kGood;
  if (v == "error" || v == "regression" || v == "flaky" || v == "failing" || v == "fail")
    return Tone::kBad;
  if (v == "nondeterministic" || v == "warning") return Tone::kWarn;
  if (v == "unavailable") return Tone::kDim;
  return Tone::kPlain;
}

TextTable probe_settings_table(const ProbeView& probe) {
  TextTable t;
  // "shift": how far this setting's first run lies from the controlled setting's first run (a
  // knob can move results repeatably, e.g. TF32); shown only when some setting measured it.
  bool any_shift = false;
  for (const auto& s : probe.settings) any_shift = any_shift || s.shift_abs >= 0;
  t.header = {"setting", "verdict", "runs", "distinct", "max abs dev", "max ULP"};
  t.align = {Align::kLeft, Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kRight};
  if (any_shift) {
    t.header.push_back("shift vs controlled");
    t.align.push_back(Align::kRight);
  }
  for (const auto& s : probe.settings) {
    const bool measured = s.verdict != "error" && s.verdict != "unavailable";
    Tone tone = verdict_tone(s.verdict);
    if (s.verdict == "nondeterministic" && s.finding) tone = Tone::kBad;
    std::vector<Cell> row = {{s.setting},
                                        {s.verdict, tone},
                                        {std::to_string(s.runs)},
                                        {measured ? std::to_string(s.distinct_outputs) : "-"},
                                        {measured ? format_number(s.max_abs_dev) : "-"},
                                        {measured ? format_number(s.max_ulp) : "-"}};
    if (any_shift) {
      std::string shift = "-";
      if (s.setting == "controlled") shift = "(reference)";
      else if (s.shift_abs >= 0)
        shift = format_number(s.shift_abs) + " (" + format_number(s.shift_ulp) + " ULP)";
      row.push_back({shift});
    }
    t.add_row(row);
  }
  return t;
}

TextTable audit_tests_table(const std::vector<TestView>& tests) {
  TextTable t;
  t.header = {"verdict", "test", "fails/runs", "failure rate [95% interval]", "retries"};
  t.align = {Align::kLeft, Align::kLeft, Align::kRight, Align::kLeft, Align::kRight};
  for (const auto& test : tests) {
    std::string rate = format_percent(test.rate) + " [" + format_percent(test.rate_lower) + ", " +
                       format_percent(test.rate_upper) + "]";
    t.add_row({{test.classification, verdict_tone(test.classification)},
               {test.name},
               {std::to_string(test.failures) + "/" + std::to_string(test.runs)},
               {rate},
               {test.retries < 0 ? "-" : std::to_string(test.retries)}});
  }
  return t;
}

TextTable gate_checks_table(const std::vector<GateCheckView>& checks, bool include_passes) {
  TextTable t;
  t.header = {"status", "target", "setting/output", "rule", "detail"};
  t.align = {Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft};
  for (const auto& c : checks) {
    if (!include_passes && c.status == "pass") continue;
    std::string where = c.setting;
    if (!c.output.empty()) where += (where.empty() ? "" : "/") + c.output;
    t.add_row({{c.status, verdict_tone(c.status)},
               {c.target},
               {where.empty() ? "-" : where},
               {c.rule},
               {c.message}});
  }
  return t;
}

std::string passed_checks_line(const std::vector<GateCheckView>& checks) {
  int passes = 0;
  for (const auto& c : checks) passes += c.status == "pass";
  return std::to_string(passes) + (passes == 1 ? " check" : " checks") + " passed";
}

std::string summary_line(const ReportView& view) {
  auto plural = [](int n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  std::string items = view.kind == "probe"   ? plural(static_cast<int>(view.probes.size()), "probe")
                      : view.kind == "audit" ? plural(static_cast<int>(view.tests.size()), "test")
                                             : plural(static_cast<int>(view.checks.size()), "check");
  std::string s = plural(view.findings, view.kind == "gate" ? "regression" : "finding") + ", " +
                  plural(view.warnings, "warning") + " in " + items;
  if (view.partial) s += " (partial: the run was interrupted)";
  return s;
}

}  // namespace flakescope::report
