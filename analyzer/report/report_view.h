#pragma once
// The view model the reporters share: one pass over a report's JSON that pulls out what people read
// (per probe x setting rows, per audited test rows, gate checks) and orders findings first. Every
// format renders from this, so "what is a finding" is decided once.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flakescope::report {

enum class Severity { kFinding = 0, kWarning = 1, kNote = 2, kOk = 3 };

struct SettingRow {
  std::string setting;
  std::string verdict;  // bitwise-deterministic, nondeterministic, error, unavailable
  std::string error;
  long runs = 0;
  long distinct_outputs = 0;  // max over the outputs
  double max_abs_dev = 0;     // max over the outputs
  double max_ulp = 0;         // max over the outputs
  double shift_abs = -1;      // max |first run - controlled's first run| over outputs; -1: not measured
  double shift_ulp = -1;
  bool finding = false;       // nondeterministic although every knob is controlled, or an error
};

struct ProbeView {
  std::string name;
  std::string description;
  std::vector<SettingRow> settings;
  std::vector<std::string> causes;
  std::string diagnosis;
  std::vector<std::string> fixes;
  Severity severity = Severity::kOk;
};

struct TestView {
  std::string name;            // with " [setting]" when the audit ran several settings
  std::string classification;  // stable-pass, stable-fail, flaky, crashing, timing-out, skipped
  long runs = 0;
  long failures = 0;
  double rate = 0, rate_lower = 0, rate_upper = 1;
  long retries = -1;  // -1: not given
  std::vector<std::string> outcomes;  // per run, in run order (the timeline)
  std::string cause;
  Severity severity = Severity::kOk;
};

struct GateCheckView {
  std::string target;  // probe or test name
  std::string setting;
  std::string output;
  std::string rule;
  std::string status;  // regression, warning, improvement, pass
  std::string message;
  Severity severity = Severity::kOk;
};

struct ReportView {
  std::string kind;
  std::string created;
  std::string libtorch;
  std::string machine;
  bool partial = false;
  std::vector<ProbeView> probes;     // kind probe, findings first
  std::vector<TestView> tests;       // kind audit, findings first
  std::vector<GateCheckView> checks; // kind gate, regressions first
  std::string gate_verdict;          // kind gate: pass / fail
  std::string gate_baseline;         // kind gate: where the baseline came from
  std::string isolation;             // kind audit: "process" or "inprocess" (config.isolation)
  int findings = 0;                  // probes/tests/checks with Severity::kFinding
  int warnings = 0;
};

// Throws InputError when the report's kind is unknown or a required array is missing.
ReportView make_view(const nlohmann::json& report);

std::string severity_word(Severity s);

// Compact numbers for tables: "0", "3.1e-05", "12", "inf", "n/a" (NaN).
std::string format_number(double v);
// A rate as a percentage with 2 significant digits: "0%", "1.2%", "<0.01%".
std::string format_percent(double rate);

}  // namespace flakescope::report
