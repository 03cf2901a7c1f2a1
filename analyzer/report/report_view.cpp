// Builds the reporters' view model from the typed report (see report_view.h).
#include "report/report_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace flakescope::report {
namespace {

using model::ProbeVerdict;
using model::TestClass;
using json = nlohmann::json;

// `raises_when_controlled`: the op raises under deterministic mode (PyTorch's "no deterministic
// implementation"), which the diagnosis explains; that error is information, not a finding.
SettingRow make_setting_row(const model::ProbeSetting& s, bool raises_when_controlled) {
  SettingRow row;
  row.setting = s.setting;
  row.verdict = s.verdict;
  row.error = s.error.value_or("");
  row.runs = s.runs.value_or(0);
  for (const auto& m : s.metrics) {
    row.distinct_outputs = std::max(row.distinct_outputs, m.distinct_outputs.value_or(0));
    const double abs = m.max_abs_dev.value_or(0), ulp = m.max_ulp.value_or(0);
    if (!std::isnan(abs)) row.max_abs_dev = std::max(row.max_abs_dev, abs);
    if (!std::isnan(ulp)) row.max_ulp = std::max(row.max_ulp, ulp);
    if (m.shift) {
      row.shift_abs = std::max(row.shift_abs, m.shift->max_abs);
      row.shift_ulp = std::max(row.shift_ulp, m.shift->max_ulp);
    }
  }
  const bool controlled = row.setting == "controlled";
  row.finding = (row.verdict == ProbeVerdict::kError && !raises_when_controlled) ||
                (controlled && row.verdict == ProbeVerdict::kNondeterministic);
  return row;
}

ProbeView make_probe(const model::ProbeResult& p) {
  ProbeView v;
  v.name = p.name;
  v.description = p.description;
  v.source = &p;
  const bool raises = p.diagnosis && p.diagnosis->raises_when_controlled.value_or(false);
  for (const auto& s : p.settings) v.settings.push_back(make_setting_row(s, raises));
  if (p.diagnosis) {
    v.causes = p.diagnosis->causes;
    v.diagnosis = p.diagnosis->summary;
    v.fixes = p.diagnosis->fixes;
  }
  bool any_moves = false;
  for (const auto& row : v.settings) {
    if (row.finding) v.severity = Severity::kFinding;
    any_moves = any_moves || row.verdict == ProbeVerdict::kNondeterministic ||
                row.verdict == ProbeVerdict::kError;
  }
  if (v.severity != Severity::kFinding && any_moves) v.severity = Severity::kNote;
  return v;
}

TestView make_test(const model::AuditTest& t, const model::Report& report, bool several_settings) {
  TestView v;
  v.test = t.name;
  v.setting = t.setting;
  v.name = t.name;
  if (several_settings && !t.setting.empty()) v.name += " [" + t.setting + "]";
  v.classification = t.classification;
  v.runs = t.runs;
  v.failures = t.failures;
  v.rate = t.failure_rate.point;
  v.rate_lower = t.failure_rate.cp_lower;
  v.rate_upper = t.failure_rate.cp_upper;
  v.retries = t.retries_k;
  v.retries_statement = t.retries_statement;
  // A test that never failed gets a retry count only because its runs are too few to bound the
  // rate under the target: say how many runs would (0 failures in n runs: one-sided upper bound
  // 1 - (1 - confidence)^(1/n)).
  const double target = t.retries_target.value_or(0.0);
  const double confidence = t.failure_rate.confidence;
  if (t.failures == 0 && t.retries_k.value_or(0) > 0 && target > 0 && target < 1 && confidence < 1)
    v.runs_needed = static_cast<long>(std::ceil(std::log1p(-confidence) / std::log1p(-target)));
  v.outcomes = t.timeline;
  if (!t.failing_runs.empty()) {
    v.replay = t.failing_runs.front().replay;
    v.replay_outcome = t.failing_runs.front().outcome;
  }
  if (report.audit.ablation)
    for (const auto& a : report.audit.ablation->tests)
      if (a.name == t.name) v.cause = a.summary;
  for (const auto& [kind, runs] : t.environment_errors)
    v.environment_errors.emplace_back(kind, runs);
  if (model::is_finding(t.classification))
    v.severity = Severity::kFinding;
  else if (t.classification == TestClass::kStableFail || v.failures > 0)
    v.severity = Severity::kWarning;
  return v;
}

GateCheckView make_check(const model::GateCheck& c) {
  GateCheckView v;
  v.target = c.target;
  v.setting = c.setting;
  v.output = c.output;
  v.rule = c.rule;
  v.status = c.status;
  v.message = c.message;
  if (c.status == model::GateStatus::kRegression)
    v.severity = Severity::kFinding;
  else if (c.status == model::GateStatus::kWarning)
    v.severity = Severity::kWarning;
  else if (c.status == model::GateStatus::kImprovement)
    v.severity = Severity::kNote;
  return v;
}

template <typename T>
void findings_first(std::vector<T>& items) {
  std::stable_sort(items.begin(), items.end(),
                   [](const T& a, const T& b) { return a.severity < b.severity; });
}

template <typename T>
void count(const std::vector<T>& items, ReportView& view) {
  for (const auto& i : items) {
    if (i.severity == Severity::kFinding) ++view.findings;
    if (i.severity == Severity::kWarning) ++view.warnings;
  }
}

void audit_view(const model::Report& report, ReportView& view) {
  std::set<std::string> settings;
  for (const auto& t : report.audit.tests) settings.insert(t.setting);
  view.several_settings = settings.size() > 1;
  for (const auto& t : report.audit.tests)
    view.tests.push_back(make_test(t, report, view.several_settings));
  findings_first(view.tests);
  count(view.tests, view);
  view.audit_runs = report.audit.runs;
  const auto& config = report.header.config;
  if (config.is_object()) {
    view.isolation = config.value("isolation", std::string());
    if (config.contains("jobs") && config["jobs"].is_number_integer())
      view.isolation_jobs = config["jobs"].get<long>();
  }
  if (report.audit.ablation) {
    view.ablation_reference = report.audit.ablation->test;
    for (const auto& a : report.audit.ablation->tests)
      view.ablation.emplace_back(a.name, a.summary);
  }
}

// Tests with a retry decorator, measured per attempt by the pytest plugin.
void add_retries_measured(const model::Report& report, ReportView& view) {
  for (const auto& r : report.audit.retries_measured)
    view.retries_measured.push_back(
        RetryView{r.name, r.setting, r.decorator, r.failures, r.trials, r.verdict});
}

// pytest spent most of the audit formatting tracebacks: the line with the fix.
void add_traceback_warning(const model::Report& report, ReportView& view) {
  const auto& cost = report.audit.traceback_cost;
  if (!cost || cost->advice.empty()) return;
  view.input_warnings.push_back(cost->advice);
  ++view.warnings;
}

// Runs whose JUnit XML could not be read lose their per-testcase results: a counted warning per
// run, naming the run and the reason (the first few; the rest as a count).
void add_junit_warnings(const model::Report& report, ReportView& view) {
  const auto& errors = report.audit.junit_errors;
  if (!errors || errors->count <= 0) return;
  for (const auto& e : errors->examples)
    view.input_warnings.push_back("JUnit of run " + std::to_string(e.run) +
                                  (e.setting.empty() ? "" : " (" + e.setting + ")") +
                                  " unreadable: " + e.error);
  const long shown = static_cast<long>(errors->examples.size());
  if (errors->count > shown)
    view.input_warnings.push_back("JUnit of " + std::to_string(errors->count - shown) +
                                  " more runs unreadable");
  if (report.audit.junit_fallback && !report.audit.junit_fallback->empty())
    view.input_warnings.push_back(*report.audit.junit_fallback);
  view.warnings += static_cast<int>(errors->count);
}

void add_collection_warning(const model::Report& report, ReportView& view) {
  if (!report.audit.collection_warning) return;
  view.input_warnings.push_back(*report.audit.collection_warning);
  ++view.warnings;
}

}  // namespace

ReportView make_view(const model::Report& report) {
  ReportView view;
  view.kind = report.kind();
  view.created = report.header.created;
  view.partial = report.header.partial;
  view.confidence = report.confidence();
  view.libtorch = report.header.libtorch_version.value_or("");
  if (report.header.machine) {
    view.machine = report.header.machine->cpu;
    if (!report.header.machine->arch.empty())
      view.machine += " (" + report.header.machine->arch + ")";
  }
  switch (report.kind()) {
    case model::ReportKind::kProbe:
      for (const auto& p : report.probes) view.probes.push_back(make_probe(p));
      findings_first(view.probes);
      count(view.probes, view);
      break;
    case model::ReportKind::kAudit:
      audit_view(report, view);
      add_retries_measured(report, view);
      add_junit_warnings(report, view);
      add_collection_warning(report, view);
      add_traceback_warning(report, view);
      break;
    case model::ReportKind::kGate:
      for (const auto& c : report.gate.checks) view.checks.push_back(make_check(c));
      findings_first(view.checks);
      count(view.checks, view);
      view.gate_passed = report.gate.verdict == model::GateVerdict::kPass;
      view.gate_baseline = report.gate.baseline.path;
      break;
  }
  return view;
}

std::string kind_word(model::ReportKind kind) {
  return std::string(model::to_string(kind));
}

std::string severity_word(Severity s) {
  switch (s) {
    case Severity::kFinding:
      return "finding";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "note";
    case Severity::kOk:
      return "ok";
  }
  return "?";
}

std::string format_number(double v) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e9)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.2g", v);
  return buf;
}

std::string format_percent(double rate) {
  if (std::isnan(rate)) return "n/a";
  if (rate <= 0) return "0%";
  if (rate >= 1) return "100%";
  if (rate < 1e-4) return "<0.01%";
  if (rate > 0.9999) return ">99.99%";
  const double pct = rate * 100;
  char buf[32];
  // Two significant digits, but never in exponent notation and never rounded up to 100%.
  if (pct >= 99.5)
    std::snprintf(buf, sizeof buf, "%.2f%%", std::floor(pct * 100) / 100);
  else if (pct >= 10)
    std::snprintf(buf, sizeof buf, "%.0f%%", pct);
  else if (pct >= 1)
    std::snprintf(buf, sizeof buf, "%.1f%%", pct);
  else
    std::snprintf(buf, sizeof buf, "%.2g%%", pct);
  return buf;
}

std::string format_confidence(double confidence) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", confidence * 100);
  return buf;
}

}  // namespace flakescope::report
