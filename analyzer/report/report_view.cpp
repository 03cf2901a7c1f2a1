// Builds the reporters' view model from a report (see report_view.h).
#include "report/report_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "flakescope/error.h"
#include "flakescope/report.h"

namespace flakescope::report {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key, const std::string& fallback = "") {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

double num(const json& j, const char* key, double fallback = 0) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  const double v = number_from_json(*it);
  return std::isnan(v) ? fallback : v;
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.is_object() || !j.contains(key) || !j[key].is_array()) return out;
  for (const auto& e : j[key])
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

const json& require_array(const json& report, const char* key) {
  if (!report.contains(key) || !report[key].is_array())
    throw InputError("a '" + str(report, "kind") + "' report needs a \"" + key + "\" array");
  return report[key];
}

// `raises_when_controlled`: the op raises under deterministic mode (PyTorch's "no deterministic
// implementation"), which the diagnosis explains; that error is information, not a finding.
SettingRow make_setting_row(const json& s, bool raises_when_controlled) {
  SettingRow row;
  row.setting = str(s, "setting", "?");
  row.verdict = str(s, "verdict", "?");
  row.error = str(s, "error");
  row.runs = static_cast<long>(num(s, "runs"));
  if (s.contains("metrics") && s["metrics"].is_object()) {
    for (const auto& [name, m] : s["metrics"].items()) {
      row.distinct_outputs = std::max(row.distinct_outputs, static_cast<long>(num(m, "distinct_outputs")));
      row.max_abs_dev = std::max(row.max_abs_dev, num(m, "max_abs_dev"));
      row.max_ulp = std::max(row.max_ulp, num(m, "max_ulp"));
      if (m.contains("shift_from_controlled") && m["shift_from_controlled"].is_object() &&
          m["shift_from_controlled"].contains("max_abs")) {
        row.shift_abs = std::max(row.shift_abs, num(m["shift_from_controlled"], "max_abs"));
        row.shift_ulp = std::max(row.shift_ulp, num(m["shift_from_controlled"], "max_ulp"));
      }
    }
  }
  const bool controlled = row.setting == "controlled";
  row.finding = (row.verdict == "error" && !raises_when_controlled) ||
                (controlled && row.verdict == "nondeterministic");
  return row;
}

ProbeView make_probe(const json& p) {
  ProbeView v;
  v.name = str(p, "name", "?");
  v.description = str(p, "description");
  const json diagnosis = p.value("diagnosis", json::object());
  const bool raises = diagnosis.is_object() && diagnosis.value("raises_when_controlled", false);
  if (p.contains("settings") && p["settings"].is_array())
    for (const auto& s : p["settings"]) v.settings.push_back(make_setting_row(s, raises));
  v.causes = strings(diagnosis, "causes");
  v.diagnosis = str(diagnosis, "summary");
  v.fixes = strings(diagnosis, "fixes");
  bool any_nondeterministic = false;
  for (const auto& row : v.settings) {
    if (row.finding) v.severity = Severity::kFinding;
    if (row.verdict == "nondeterministic" || row.verdict == "error") any_nondeterministic = true;
  }
  if (v.severity != Severity::kFinding && any_nondeterministic) v.severity = Severity::kNote;
  return v;
}

std::string outcome_word(const std::string& letter_or_word) {
  static const std::map<std::string, std::string> kLetters = {
      {"P", "pass"}, {"F", "fail"}, {"C", "crash"}, {"T", "timeout"},
      {"E", "error"}, {"S", "skip"}, {"X", "xfail"}};
  auto it = kLetters.find(letter_or_word);
  return it == kLetters.end() ? letter_or_word : it->second;
}

// The audit report's per-test record (analyzer/audit/audit_report.cpp): failure_rate
// {point, lower, upper}, retries_needed (null: no retry count helps), the per-run timeline as
// letters (P F C T E S X); the ablation's summary, when there is one, is the cause.
TestView make_test(const json& t, const json& ablation, bool several_settings) {
  TestView v;
  v.name = str(t, "name", str(t, "test", "?"));
  const std::string setting = str(t, "setting");
  if (several_settings && !setting.empty()) v.name += " [" + setting + "]";
  v.classification = str(t, "classification", str(t, "verdict", "?"));
  v.runs = static_cast<long>(num(t, "runs"));
  v.failures = static_cast<long>(num(t, "failures"));
  const json rate = t.value("failure_rate", json());
  const double point = v.runs > 0 ? double(v.failures) / v.runs : 0;
  if (rate.is_object()) {
    v.rate = num(rate, "point", point);
    v.rate_lower = num(rate, "lower", 0);
    v.rate_upper = num(rate, "upper", num(rate, "upper_one_sided", 1));
  } else {
    v.rate = rate.is_number() ? rate.get<double>() : point;
  }
  const json retries = t.value("retries_needed", json());
  v.retries = retries.is_number() ? retries.get<long>() : -1;
  const json timeline = t.contains("timeline") ? t["timeline"] : t.value("outcomes", json());
  if (timeline.is_array())
    for (const auto& o : timeline)
      if (o.is_string()) v.outcomes.push_back(outcome_word(o.get<std::string>()));
  v.cause = str(t, "cause");
  if (ablation.is_object() && ablation.contains("tests") && ablation["tests"].is_array())
    for (const auto& a : ablation["tests"])
      if (str(a, "name") == str(t, "name")) v.cause = str(a, "summary");
  const std::string& c = v.classification;
  if (c == "flaky" || c == "crashing" || c == "timing-out" || c == "failing" || c == "error")
    v.severity = Severity::kFinding;
  else if (c == "stable-fail" || v.failures > 0)
    v.severity = Severity::kWarning;
  return v;
}

GateCheckView make_check(const json& c) {
  GateCheckView v;
  v.target = str(c, "target", "?");
  v.setting = str(c, "setting");
  v.output = str(c, "output");
  v.rule = str(c, "rule", "?");
  v.status = str(c, "status", "?");
  v.message = str(c, "message");
  if (v.status == "regression") v.severity = Severity::kFinding;
  else if (v.status == "warning") v.severity = Severity::kWarning;
  else if (v.status == "improvement") v.severity = Severity::kNote;
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

}  // namespace

ReportView make_view(const json& report) {
  if (!report.is_object()) throw InputError("a report must be a JSON object");
  ReportView view;
  view.kind = str(report, "kind");
  view.created = str(report, "created");
  view.partial = report.value("partial", false);
  view.libtorch = str(report.value("libtorch", json::object()), "version");
  view.isolation = str(report.value("config", json::object()), "isolation");
  const json machine = report.value("machine", json::object());
  view.machine = str(machine, "cpu");
  if (!str(machine, "arch").empty()) view.machine += " (" + str(machine, "arch") + ")";
  if (view.kind == "probe") {
    for (const auto& p : require_array(report, "probes")) view.probes.push_back(make_probe(p));
    findings_first(view.probes);
    count(view.probes, view);
  } else if (view.kind == "audit") {
    const char* key = report.contains("tests") ? "tests" : "testcases";
    const json ablation = report.value("ablation", json());
    const json& tests = require_array(report, key);
    std::set<std::string> settings;
    for (const auto& t : tests) settings.insert(str(t, "setting"));
    for (const auto& t : tests) view.tests.push_back(make_test(t, ablation, settings.size() > 1));
    findings_first(view.tests);
    count(view.tests, view);
  } else if (view.kind == "gate") {
    for (const auto& c : require_array(report, "checks")) view.checks.push_back(make_check(c));
    findings_first(view.checks);
    count(view.checks, view);
    view.gate_verdict = str(report, "verdict", "?");
    view.gate_baseline = str(report.value("baseline", json::object()), "path");
  } else {
    throw InputError("unknown report kind '" + view.kind + "' (expected probe, audit or gate)");
  }
  return view;
}

std::string severity_word(Severity s) {
  switch (s) {
    case Severity::kFinding: return "finding";
    case Severity::kWarning: return "warning";
    case Severity::kNote: return "note";
    case Severity::kOk: return "ok";
  }
  return "?";
}

std::string format_number(double v) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e9) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.2g", v);
  return buf;
}

std::string format_percent(double rate) {
  if (std::isnan(rate)) return "n/a";
  if (rate <= 0) return "0%";
  if (rate < 1e-4) return "<0.01%";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g%%", rate * 100);
  return buf;
}

}  // namespace flakescope::report
