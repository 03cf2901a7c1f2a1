// Tables shared by the terminal, Markdown and HTML reporters (see report_tables.h).
#include "report/report_tables.h"

#include "stats/rates.h"

namespace flakescope::report {

using model::GateStatus;
using model::ProbeVerdict;
using model::TestClass;

Tone verdict_tone(ProbeVerdict v) {
  switch (v) {
    case ProbeVerdict::kBitwiseDeterministic:
      return Tone::kGood;
    case ProbeVerdict::kNondeterministic:
      return Tone::kWarn;
    case ProbeVerdict::kError:
      return Tone::kBad;
    case ProbeVerdict::kUnavailable:
      return Tone::kDim;
  }
  return Tone::kPlain;
}

Tone verdict_tone(TestClass c) {
  if (c == TestClass::kStablePass) return Tone::kGood;
  if (model::is_finding(c)) return Tone::kBad;
  if (c == TestClass::kStableFail || c == TestClass::kRepeatDependent) return Tone::kWarn;
  return Tone::kDim;
}

Tone verdict_tone(GateStatus s) {
  switch (s) {
    case GateStatus::kPass:
    case GateStatus::kImprovement:
      return Tone::kGood;
    case GateStatus::kWarning:
      return Tone::kWarn;
    case GateStatus::kRegression:
      return Tone::kBad;
  }
  return Tone::kPlain;
}

TextTable probe_settings_table(const ProbeView& probe) {
  TextTable t;
  // "shift": how far this setting's first run lies from the controlled setting's first run (a
  // knob can move results repeatably, e.g. TF32); shown only when some setting measured it.
  bool any_shift = false;
  for (const auto& s : probe.settings) any_shift = any_shift || s.shift_abs >= 0;
  t.header = {"setting", "verdict", "runs", "distinct", "max abs dev", "max ULP"};
  t.align = {Align::kLeft,  Align::kLeft,  Align::kRight,
             Align::kRight, Align::kRight, Align::kRight};
  if (any_shift) {
    t.header.push_back("shift vs controlled");
    t.align.push_back(Align::kRight);
  }
  for (const auto& s : probe.settings) {
    const bool measured =
        s.verdict != ProbeVerdict::kError && s.verdict != ProbeVerdict::kUnavailable;
    Tone tone = verdict_tone(s.verdict);
    if (s.verdict == ProbeVerdict::kNondeterministic && s.finding) tone = Tone::kBad;
    std::vector<Cell> row = {{s.setting},
                             {std::string(model::to_string(s.verdict)), tone},
                             {std::to_string(s.runs)},
                             {measured ? std::to_string(s.distinct_outputs) : "-"},
                             {measured ? format_number(s.max_abs_dev) : "-"},
                             {measured ? format_number(s.max_ulp) : "-"}};
    if (any_shift) {
      std::string shift = "-";
      if (s.setting == "controlled")
        shift = "(reference)";
      else if (s.shift_abs >= 0)
        shift = format_number(s.shift_abs) + " (" + format_number(s.shift_ulp) + " ULP)";
      row.push_back({shift});
    }
    t.add_row(row);
  }
  return t;
}

std::string retries_text(const TestView& test) {
  if (test.classification == TestClass::kSkipped) return "-";
  // Never failed: no retry so far; showing that none is needed at the target takes more runs.
  if (test.runs_needed > 0)
    return "none yet; " + std::to_string(test.runs_needed) + " to be sure";
  if (test.classification == TestClass::kRepeatDependent) return "n/a: use --isolation process";
  if (!test.retries || *test.retries > static_cast<long>(stats::kMaxSensibleRetries))
    return "n/a: retrying is no fix";
  return std::to_string(*test.retries);
}

std::string attempts_text(const RetryView& retry) {
  return std::to_string(retry.failures) + " of " + std::to_string(retry.trials) +
         (retry.trials == 1 ? " attempt" : " attempts") + " failed";
}

std::string environment_text(const TestView& test) {
  if (test.environment_errors.empty()) return "";
  long runs = 0, forbidden = 0;
  std::string kinds;
  for (const auto& [kind, n] : test.environment_errors) {
    if (kind.rfind("nondeterministic-op", 0) == 0) {  // "nondeterministic-op: RuntimeError"
      forbidden += n;
      continue;
    }
    runs += n;
    kinds += (kinds.empty() ? "" : ", ") + kind;
  }
  std::string text;
  if (forbidden > 0)
    text =
        "calls an op with no deterministic implementation, which "
        "torch.use_deterministic_algorithms(True) stopped in " +
        std::to_string(forbidden) + " of " + std::to_string(test.runs) +
        " runs: its result may vary from run to run (on GPU); audit it with that knob free "
        "(--vary deterministic)";
  if (runs > 0)
    text += (text.empty() ? "" : "; ") + std::string("environment error in ") +
            std::to_string(runs) + " of " + std::to_string(test.runs) + " runs (" + kinds + ")";
  return text;
}

TextTable audit_tests_table(const std::vector<TestView>& tests, double confidence,
                            bool setting_column) {
  TextTable t;
  t.header = {"verdict", "test"};
  if (setting_column) t.header.push_back("setting");
  t.header.insert(
      t.header.end(),
      {"fails/runs", "failure rate [" + format_confidence(confidence) + " interval]", "retries"});
  t.align.assign(t.header.size(), Align::kLeft);
  t.align[t.header.size() - 3] = Align::kRight;
  for (const auto& test : tests) {
    std::string rate = format_percent(test.rate) + " [" + format_percent(test.rate_lower) + ", " +
                       format_percent(test.rate_upper) + "]";
    std::vector<Cell> row = {
        {std::string(model::to_string(test.classification)), verdict_tone(test.classification)},
        {setting_column ? test.test : test.name}};
    if (setting_column) row.push_back({test.setting});
    row.push_back({std::to_string(test.failures) + "/" + std::to_string(test.runs)});
    row.push_back({rate});
    row.push_back({retries_text(test)});
    t.add_row(row);
  }
  return t;
}

TextTable gate_checks_table(const std::vector<GateCheckView>& checks, bool include_passes) {
  TextTable t;
  t.header = {"status", "target", "setting/output", "rule", "detail"};
  t.align = {Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft};
  for (const auto& c : checks) {
    if (!include_passes && c.status == GateStatus::kPass) continue;
    std::string where = c.setting;
    if (!c.output.empty()) where += (where.empty() ? "" : "/") + c.output;
    t.add_row({{std::string(model::to_string(c.status)), verdict_tone(c.status)},
               {c.target},
               {where.empty() ? "-" : where},
               {c.rule},
               {c.message}});
  }
  return t;
}

std::string passed_checks_line(const std::vector<GateCheckView>& checks) {
  int passes = 0;
  for (const auto& c : checks) passes += c.status == GateStatus::kPass;
  return std::to_string(passes) + (passes == 1 ? " check" : " checks") + " passed";
}

std::string summary_line(const ReportView& view) {
  auto plural = [](int n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  using model::ReportKind;
  std::string items =
      view.kind == ReportKind::kProbe   ? plural(static_cast<int>(view.probes.size()), "probe")
      : view.kind == ReportKind::kAudit ? plural(static_cast<int>(view.tests.size()), "test")
                                        : plural(static_cast<int>(view.checks.size()), "check");
  std::string s = plural(view.findings, view.kind == ReportKind::kGate ? "regression" : "finding") +
                  ", " + plural(view.warnings, "warning") + " in " + items;
  if (view.partial) s += " (partial: the run was interrupted)";
  return s;
}

}  // namespace flakescope::report
