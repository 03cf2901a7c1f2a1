#pragma once
// The typed report model: what a probe, audit or gate report says, as C++ values. A report file
// (reports/schema/report.schema.json) is read once into these types (checked against the schema
// first: a mismatch is an InputError naming the field), and every reader (reporters, gate,
// `tolerance`) works on the types; nothing else walks report JSON. Each type has one to_json and
// one from_json; fields the model does not name are kept in `extra` and written back, so
// to_json(from_json(file)) reproduces the file byte for byte.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace flakescope::model {

using nlohmann::json;

// ---- enums (the strings are the report's) ----
enum class ReportKind { kProbe, kAudit, kGate };
enum class ProbeVerdict { kBitwiseDeterministic, kNondeterministic, kError, kUnavailable };
enum class TestClass {
  kStablePass,
  kStableFail,
  kFlaky,
  kCrashing,
  kTimingOut,
  kSkipped,
  kEnvironmentError,  // every failure was the machine's (pytest plugin)
  kXfail,             // always failed as expected
  kXfailFlaky         // non-strict xfail that xfailed and xpassed
};
// One run of an audited test; the timeline writes each as a letter (P F C T E S X).
enum class RunOutcome { kPass, kFail, kCrash, kTimeout, kError, kSkip, kXfail };
enum class GateStatus { kPass, kImprovement, kWarning, kRegression };
enum class GateVerdict { kPass, kFail };

std::string_view to_string(ReportKind k);
std::string_view to_string(ProbeVerdict v);
std::string_view to_string(TestClass c);
std::string_view to_string(RunOutcome o);  // "pass", "fail", ...
std::string_view to_string(GateStatus s);
std::string_view to_string(GateVerdict v);
char outcome_letter(RunOutcome o);
// Parsers for the same strings; nullopt for anything else.
std::optional<ReportKind> parse_report_kind(std::string_view s);
std::optional<ProbeVerdict> parse_probe_verdict(std::string_view s);
std::optional<TestClass> parse_test_class(std::string_view s);
std::optional<RunOutcome> parse_outcome_letter(std::string_view s);
std::optional<GateStatus> parse_gate_status(std::string_view s);

// A finding of an audit: flaky, crashing or timing out (the audit's exit code 1).
bool is_finding(TestClass c);

// ---- the common header ----
struct Machine {
  std::string cpu, os, arch;
  std::optional<long> hardware_threads;
  json extra = json::object();  // cuda_device, ...
};

struct ReportHeader {
  ReportKind kind = ReportKind::kProbe;
  std::string tool_version;
  std::string created;  // "2026-11-25T21:04:05Z"
  std::optional<Machine> machine;
  std::optional<std::string> libtorch_version;
  std::vector<std::string> command;
  bool partial = false;
  json config = json::object();  // the subcommand's options as given (absent: null)
  json libtorch = nullptr;       // as written (version, cuda, ...)
  json tool_extra = json::object();
};

// ---- probe reports ----
struct Shift {  // this setting's first run against the controlled setting's first run
  double max_abs = 0, max_rel = 0, max_ulp = 0;
  json extra = json::object();  // identical, comparable
};

struct DeviationSamples {  // one value per run after the first
  std::vector<double> abs, rel, ulp, atol_at_rtol;
  const std::vector<double>* by_name(std::string_view which) const;  // abs, rel, ulp, atol_at_rtol
};

// The statistics engine's absolute bound for one output (stats/recommend.h writes it).
struct AtolTail {
  double threshold = 0, scale = 0, shape = 0, exceedances = 0;
};
struct AtolRecommendation {
  std::optional<double> bound;  // absent: the engine refused (too few runs, ...)
  double n = 0;                 // samples it saw
  std::optional<AtolTail> tail;
  std::string status;  // as written ("ok", "too-few-runs", ...), may be empty
  std::string reason;
  std::optional<double> runs_needed;  // runs that would let the engine give a bound
  std::optional<double> target;       // the per-run failure rate the bound keeps to
};
// The dtype's torch.testing default tolerance the engine checked the samples against.
struct DefaultToleranceCheck {
  double atol = 0, rtol = 0;
};

struct OutputMetrics {
  std::string name;  // the output's key in "metrics"
  long runs = 0;
  std::optional<long> bitwise_identical_runs, distinct_outputs;
  std::optional<double> max_abs_dev, max_rel_dev, max_ulp;
  std::optional<std::string> dtype;
  std::optional<Shift> shift;
  std::optional<DeviationSamples> samples;
  json recommendation = nullptr;  // stats::to_json(Recommendation); read with atol_recommendation
  json extra = json::object();
};
std::optional<AtolRecommendation> atol_recommendation(const OutputMetrics& m);
std::optional<DefaultToleranceCheck> default_tolerance_check(const OutputMetrics& m);

struct ProbeSetting {
  std::string setting;
  ProbeVerdict verdict = ProbeVerdict::kBitwiseDeterministic;
  std::optional<long> runs;
  std::optional<std::string> error;
  std::vector<OutputMetrics> metrics;  // in the report's (sorted) key order
  bool has_metrics = false;            // "metrics" present (even empty)
  json extra = json::object();         // knobs, duration_seconds, ...
};

struct Diagnosis {
  std::vector<std::string> causes, fixes;
  std::string summary;
  // The op raises under deterministic mode; absent in hand-written reports (read as false).
  std::optional<bool> raises_when_controlled;
  json extra = json::object();  // shifts, controlled, ...
};

struct ProbeResult {
  std::string name;
  std::string description;
  std::vector<ProbeSetting> settings;
  std::optional<Diagnosis> diagnosis;
  json extra = json::object();  // device, outputs, ...
  const ProbeSetting* find_setting(std::string_view name) const;
};

// ---- audit reports ----
struct FailureRate {
  long failures = 0, trials = 0;
  double confidence = 0.95;
  double point = 0;
  double wilson_lower = 0, wilson_upper = 1;
  double cp_lower = 0, cp_upper = 1;  // two-sided Clopper-Pearson
  double upper_one_sided = 1;
  json extra = json::object();
};

struct FailingRun {
  long run = 0;
  std::uint64_t seed = 0;
  std::string outcome, message, replay;
  json extra = json::object();
};

struct AuditTest {
  std::string name, setting;
  long runs = 0;
  long failures = 0;
  json outcomes = json::object();  // outcome name -> count
  FailureRate failure_rate;
  TestClass classification = TestClass::kStablePass;
  std::optional<long> retries_k;  // null: no retry count helps
  std::string retries_statement;
  json retries_extra = json::object();
  json duration = json::object();
  std::vector<FailingRun> failing_runs;
  std::vector<RunOutcome> timeline;
  bool timeline_truncated = false;
  json extra = json::object();
};

struct AblationTest {
  std::string name, summary;
  std::vector<std::string> causes, fixes;
  json settings = json::array();
  json extra = json::object();  // p_values, ...
};

struct Ablation {
  std::string reference;
  std::vector<std::string> settings;
  std::vector<AblationTest> tests;
  json extra = json::object();  // level, test, ...
};

struct AuditBody {
  std::vector<std::string> audited_command;
  long runs = 0;
  std::vector<std::string> settings;
  std::vector<AuditTest> tests, process;
  std::optional<Ablation> ablation;
  json assertions = nullptr;  // the capture analysis (capture_analysis.h), when --capture
};

// ---- gate reports ----
struct GateCheck {
  std::string target, setting, output, rule, message;
  GateStatus status = GateStatus::kPass;
  json extra = json::object();  // baseline, current, p_worse, level, ...
};

struct GateOrigin {
  std::string path;
  json extra = json::object();
};

struct GateBody {
  GateVerdict verdict = GateVerdict::kPass;
  long regressions = 0, improvements = 0, warnings = 0, passes = 0;
  json summary_extra = json::object();  // statistical_comparisons, alpha
  GateOrigin baseline, current;
  json policy = nullptr;  // the gate policy as given
  std::vector<GateCheck> checks;
};

// ---- the report ----
struct Report {
  ReportHeader header;
  std::vector<ProbeResult> probes;  // kind probe
  AuditBody audit;                  // kind audit
  GateBody gate;                    // kind gate
  json extra = json::object();      // top-level fields the model does not name

  ReportKind kind() const { return header.kind; }
  // The confidence level the report's intervals use (config.confidence; 0.95 when absent).
  double confidence() const;
};

// Throws InputError naming the field when `j` does not match the schema or the model.
Report from_json(const json& j);
json to_json(const Report& r);

// The common header of a report document (kind, tool, created, machine, libtorch, command, ...),
// e.g. of flakescope::new_report()'s; the body fields are ignored.
ReportHeader header_from_json(const json& j);

// Per-type conversions (each type's one to_json / from_json).
void to_json(json& j, const Machine& m);
void to_json(json& j, const OutputMetrics& m);
void to_json(json& j, const ProbeSetting& s);
void to_json(json& j, const ProbeResult& p);
void to_json(json& j, const AuditTest& t);
void to_json(json& j, const Ablation& a);
void to_json(json& j, const GateCheck& c);
OutputMetrics output_metrics_from_json(const std::string& name, const json& j);
ProbeSetting probe_setting_from_json(const json& j);
ProbeResult probe_result_from_json(const json& j);
AuditTest audit_test_from_json(const json& j);
Ablation ablation_from_json(const json& j);
GateCheck gate_check_from_json(const json& j);

// Reads a report file: JSON, schema string, then the schema check, then the model. Throws
// InputError with one line naming the file (and the field, for a schema mismatch).
Report load_report_model(const std::string& path);

}  // namespace flakescope::model
