#pragma once
// The view model the reporters share: one pass over the typed report (include/flakescope/
// report_model.h) that pulls out what people read (per probe x setting rows, per audited test
// rows, gate checks) and orders findings first. Every format renders from this, so "what is a
// finding" is decided once.
#include <string>
#include <vector>

#include "flakescope/report_model.h"

namespace flakescope::report {

enum class Severity { kFinding = 0, kWarning = 1, kNote = 2, kOk = 3 };

struct SettingRow {
  std::string setting;
  model::ProbeVerdict verdict = model::ProbeVerdict::kBitwiseDeterministic;
  std::string error;
  long runs = 0;
  long distinct_outputs = 0;  // max over the outputs
  double max_abs_dev = 0;     // max over the outputs
  double max_ulp = 0;         // max over the outputs
  double shift_abs = -1;  // max |first run - controlled's first run| over outputs; -1: not measured
  double shift_ulp = -1;
  bool finding = false;  // nondeterministic although every knob is controlled, or an error
};

struct ProbeView {
  std::string name;
  std::string description;
  std::vector<SettingRow> settings;
  std::vector<std::string> causes;
  std::string diagnosis;
  std::vector<std::string> fixes;
  Severity severity = Severity::kOk;
  const model::ProbeResult* source = nullptr;  // for the plots (HTML)
};

struct TestView {
  std::string name;  // with " [setting]" when the audit ran several settings
  std::string test;  // the test's own name
  std::string setting;
  model::TestClass classification = model::TestClass::kStablePass;
  long runs = 0;
  long failures = 0;
  double rate = 0, rate_lower = 0, rate_upper = 1;
  std::optional<long> retries;    // nullopt: no retry count helps
  std::string retries_statement;  // the audit's sentence about retries
  long runs_needed =
      0;  // never failed, but too few runs to show no retry is needed: runs that would
  std::vector<model::RunOutcome> outcomes;  // per run, in run order (the timeline)
  std::string replay;                       // the line that replays the first failing run
  std::string replay_outcome;
  std::string cause;  // the ablation's summary for this test
  // Failures of the machine, not the test (no network, a missing module, no GPU, out of memory):
  // "network: OSError" -> runs, from the pytest plugin.
  std::vector<std::pair<std::string, long>> environment_errors;
  Severity severity = Severity::kOk;
};

// A test that carries a retry decorator or marker, measured one attempt at a time (the report's
// "retries_measured").
struct RetryView {
  std::string test;
  std::string setting;
  std::string decorator;  // as written in the test ("@is_flaky(max_attempts=5)")
  long failures = 0;
  long trials = 0;
  std::string verdict;  // "`@is_flaky(max_attempts=5)` -> `max_attempts=2` suffices", ...
};

struct GateCheckView {
  std::string target;  // probe or test name
  std::string setting;
  std::string output;
  std::string rule;
  model::GateStatus status = model::GateStatus::kPass;
  std::string message;
  Severity severity = Severity::kOk;
};

struct ReportView {
  model::ReportKind kind = model::ReportKind::kProbe;
  std::string created;
  std::string libtorch;
  std::string machine;
  bool partial = false;
  double confidence = 0.95;           // of every interval shown
  std::vector<ProbeView> probes;      // kind probe, findings first
  std::vector<TestView> tests;        // kind audit, findings first
  std::vector<GateCheckView> checks;  // kind gate, regressions first
  bool several_settings = false;      // kind audit: the tests ran under several settings
  std::string ablation_reference;     // kind audit with --ablation
  std::vector<std::pair<std::string, std::string>> ablation;  // test -> diagnosis
  std::vector<RetryView> retries_measured;                    // kind audit
  long audit_runs = 0;
  bool gate_passed = true;    // kind gate
  std::string gate_baseline;  // kind gate: where the baseline came from
  std::string isolation;      // kind audit: "process" or "inprocess" (config.isolation)
  long isolation_jobs = 1;
  int findings = 0;  // probes/tests/checks with Severity::kFinding
  int warnings = 0;
  // Trouble with the inputs of the report (kind audit: unreadable JUnit), one line each, counted in
  // `warnings`; shown by every human-readable format.
  std::vector<std::string> input_warnings;
};

// The view of `report`; it points into `report`, which must outlive it.
ReportView make_view(const model::Report& report);

std::string kind_word(model::ReportKind kind);
std::string severity_word(Severity s);

// Compact numbers for tables: "0", "3.1e-05", "12", "inf", "n/a" (NaN).
std::string format_number(double v);
// A rate as a percentage for people: "0%", "1.2%", "37%", "100%", "<0.01%", ">99.99%".
std::string format_percent(double rate);
// "95%" (a confidence level).
std::string format_confidence(double confidence);

}  // namespace flakescope::report
