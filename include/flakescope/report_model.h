#pragma once
// The typed report model: what a probe, audit or gate report says, as C++ values. A report file
// (reports/schema/report.schema.json) is read once into these types (checked against the schema
// first: a mismatch is an InputError naming the field), and every reader (reporters, gate,
// `tolerance`) works on the types; nothing else walks report JSON. Each type has one to_json and
// one from_json; fields the model does not name are kept in `extra` and written back, so
// to_json(from_json(file)) reproduces the file byte for byte.
#include <cstdint>
#include <map>
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
  kXfailFlaky,        // non-strict xfail that xfailed and xpassed
  // In-process: passed every first repetition in its process and failed every later one (state
  // an earlier repetition left behind: a mutated shared input, a used-up iterator, trained weights)
  kRepeatDependent
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
  std::optional<std::string> setting;
  std::string outcome, message, replay;
  json extra = json::object();
};

// Seconds per run of one test (absent when it never ran).
struct Duration {
  std::optional<double> mean, min, max, stddev;
};

// The retry decorator or marker a test carries (pytest plugin): "@is_flaky(max_attempts=5)".
struct RetryMark {
  std::string mechanism;  // "flaky", "pytest-rerunfailures", "is_flaky", ...
  std::string decorator;  // as written in the test
  std::optional<long> attempts;
  json extra = json::object();
};

struct AuditTest {
  std::string name, setting;
  long runs = 0;
  long failures = 0;
  std::map<std::string, long> outcomes;  // outcome name -> count
  FailureRate failure_rate;
  TestClass classification = TestClass::kStablePass;
  std::optional<std::string> cause;  // why a stable failure is broken ("deterministic mismatch")
  std::optional<long> retries_k;     // null: no retry count helps
  std::optional<double> retries_target;
  std::string retries_statement;
  json retries_extra = json::object();
  std::optional<Duration> duration;
  std::vector<FailingRun> failing_runs;
  std::vector<RunOutcome> timeline;
  bool timeline_truncated = false;
  // From the pytest plugin: failures of the machine by kind ("network: OSError" -> runs), the
  // runs that drew from the global random generators (of those that could tell), the retry mark.
  std::map<std::string, long> environment_errors;
  std::optional<std::pair<long, long>> drew_random;  // (runs, of)
  std::optional<RetryMark> retry_mark;
  json extra = json::object();
};

// One test's failure rate under one setting of the ablation.
struct AblationRate {
  std::string setting;
  long runs = 0, trials = 0, failures = 0;
  double failure_rate = 0;
  double cp_lower = 0, cp_upper = 1;  // Clopper-Pearson
  json extra = json::object();
};

struct AblationTest {
  std::string name, summary;
  std::vector<std::string> causes, fixes;
  std::vector<AblationRate> settings;
  std::map<std::string, double> p_values;  // freed knob -> one-sided Fisher p
  json extra = json::object();
};

struct Ablation {
  std::string reference;
  std::vector<std::string> settings;
  std::string test;             // "one-sided Fisher exact"
  std::optional<double> level;  // 1 - confidence
  std::vector<AblationTest> tests;
  json extra = json::object();
};

// ---- capture (audit --capture): one entry per (test, site, dtype, rtol, atol) ----
// What the calls at a site say before any tail statistics (capture_verdict.h decides it).
enum class AssertionClass {
  kStatistical,     // the per-run margins vary: the tail statistics decide
  kBroken,          // a failure no tolerance fixes (dtype, shape, device, NaN positions, exception)
  kUnchecked,       // a predicate whose result is discarded
  kNegated,         // the test wants the values apart
  kDeterministic,   // the same nonzero deviation on every run
  kBitwise,         // an exact check, or identical values on every run
  kThresholdAbove,  // `value > threshold`: the value must stay above
  // `value < bound` with a bound the test computes per run (`loss < initial_loss`): measured by
  // the ratio of the two, no fixed threshold to recommend
  kThresholdVariable,
  kVacuous,  // one object compared with itself: only a NaN can make it fail
  // `value <= bound` where the value goes below zero (a loss in [-1, 0]): no nonnegative
  // deviation to fit a tail to; measured by its highest value
  kThresholdSigned,
  // in a try whose except catches its failure: a fallback runs instead of the test failing
  kGuarded,
};
// What the maintainer should do at the site.
enum class AssertionAction { kNone, kKeep, kLoosen, kTighten, kFix, kReview };

std::string_view to_string(AssertionClass c);
std::string_view to_string(AssertionAction a);
std::optional<AssertionClass> parse_assertion_class(std::string_view s);
std::optional<AssertionAction> parse_assertion_action(std::string_view s);

// The worst call per trial (one value per measured trial; +inf: the run could not be compared).
struct AssertionSamples {
  std::vector<double> atol_needed, max_abs, max_rel;
};

// A failure kind's count ("values", "dtype", "shape", "device", "nonfinite", "exception").
struct AssertionFailureKind {
  long runs = 0;
  std::string detail;  // its first message ("dtype float16 != float32")
};

// The testing helper the call went through, when the site is a test's line calling a helper.
struct AssertionVia {
  std::string frame;         // the helper's file:line
  std::string function;      // its name
  std::string tolerance_at;  // "site" (the test's line passes it) or "via" (the helper holds it)
  std::vector<std::string> accepts;  // the helper's tolerance parameters (atol, rtol, ...)
  // Nested helpers: every frame from `frame` down to the comparison ("file:line function"),
  // outermost first; empty when the helper made the comparison itself.
  std::vector<std::string> chain;
  // "file:line" of the comparison itself: the last of `chain`, else `frame`.
  std::string comparison() const;
};

// P(this call fails) at the current arguments, from the per-run margins (stats/failure_rate.h).
struct EstimatedFailureRate {
  double point = 0, lower = 0, upper = 1;
  std::string method, reason;
  std::string text;  // "fails an estimated 1.3% of runs, 95% CI [0.5%, 3.1%]"
  json extra = json::object();
};

struct AssertionRecommendation {
  AssertionAction action = AssertionAction::kNone;
  double rtol = 0;
  std::optional<double> atol;        // absent: no bound to write
  std::optional<double> atol_bound;  // the engine's bound before rounding up to two digits
  double target = 1e-4, confidence = 0.95;
  std::string method, reason;
  std::optional<long> runs_needed;  // runs that would give a bound
  // The bound over the largest observed deviation, when over 10: mostly extrapolation.
  std::optional<double> extrapolation;
  json details = nullptr;  // the statistics engine's recommendation (stats::to_json)
  json extra = json::object();
};

struct AssertionSite {
  std::string test, site, file;  // site = file:line, the test's own line
  long line = 0;
  std::string api;  // "torch.testing.assert_close", "threshold", ...
  std::optional<std::string> name, dtype;
  std::optional<std::vector<long>> shape;
  long calls = 0, unmeasured_calls = 0, trials = 0;
  std::optional<AssertionVia> via;
  std::optional<std::string> negated;  // how the check is negated ("assert not", "inferred: ...")
  bool exact = false, unchecked = false;
  // The call's own tolerance is not visible to the capture (an assertEqual that passed with a
  // difference): `atol` is then the largest difference it let pass, a lower bound of it.
  bool hidden_tolerance = false;
  std::optional<std::string> direction;  // threshold comparisons: "below" or "above"
  std::optional<std::string> op;         // threshold comparisons: "<", "<=", ">", ">="
  double rtol = 0, atol = 0;             // the arguments in force
  bool mixed_arguments = false;
  long argument_sets_at_site = 1;  // groups of (dtype, rtol, atol) at this (test, site)
  AssertionSamples samples;
  long nonfinite_mismatches = 0;
  std::vector<std::pair<std::string, AssertionFailureKind>> failure_kinds;  // by kind name
  FailureRate failure_rate;
  std::optional<long> retries;  // absent: no retry count brings it under the target
  std::optional<EstimatedFailureRate> estimated_failure_rate;
  AssertionClass cls = AssertionClass::kStatistical;
  std::string verdict;               // one sentence for the maintainer
  std::optional<std::string> cause;  // for the test's classification ("deterministic mismatch")
  AssertionRecommendation recommendation;
  std::string suggestion;
  std::optional<std::string> diff;  // a unified diff of the test's line
  std::optional<long> dropped_captures;
  json extra = json::object();

  // Not "keep" with no failure: loosen, tighten, fix, review (a negated check whose values came
  // close), or any failed run.
  bool needs_action() const;
  // No run failed and nothing is to change, yet the site is close to failing: the current
  // arguments' estimated failure rate is above the target, or (no bound yet) the worst run used
  // over half the tolerance. Listed with the sites that need action, not counted as fine.
  bool at_risk() const;
};

// A test with a retry mark, measured one attempt at a time.
struct RetryMeasured {
  std::string name, setting, mechanism, decorator;
  long attempts_declared = 1;
  long failures = 0, trials = 0;
  double per_attempt_rate = 0, upper_one_sided = 1, target = 1e-4;
  std::optional<long> attempts_needed;  // absent: no count of attempts reaches the target
  std::string verdict;                  // "`@is_flaky(max_attempts=5)` -> `max_attempts=2` ..."
  json extra = json::object();
};

// Runs whose JUnit XML could not be read (a count and the first few).
struct JunitError {
  long run = 0;
  std::string setting, error;
};
struct JunitErrors {
  long count = 0;
  std::vector<JunitError> examples;
};

// pytest spent most of the audit formatting failure tracebacks (audit/traceback_cost.h).
struct TracebackCost {
  double report_seconds = 0, test_seconds = 0, share = 0;
  std::string advice;
};

// audit --runs auto of a pytest suite: per test the verdict, the evidence that decided it
// (deterministic, margin, count), why it stopped and the runs it used.
struct AllocatedTest {
  std::string test, name;  // the node id, and the testcase name the audit's tests[] carry
  std::string verdict, evidence, reason;
  long runs = 0, failures = 0;
  std::optional<double> margin_bound;
  std::optional<std::string> margin_method;
};
struct AllocationEvidence {
  long tests = 0, runs = 0;
  double runs_saved_vs_baseline = 0;
};
struct Allocation {
  std::string method;
  long screening_runs = 0, margin_runs = 0, max_runs = 0, count_runs = 0;
  double rate_floor = 0, confidence = 0.95;
  long executions = 0, batches = 0, baseline_runs_per_test = 0, baseline_executions = 0;
  std::map<std::string, long> verdicts;
  std::map<std::string, AllocationEvidence> evidence;
  std::vector<AllocatedTest> tests;
  json extra = json::object();
};

// merge of shards from several environments: per test its failure rate per environment and a
// homogeneity test (Holm-adjusted).
struct MatrixEnvironment {
  std::string label;
  json platform = nullptr;  // as the run log's config recorded it (OS, Python, torch, GPU)
  std::vector<std::string> logs;
  long runs = 0;
};
struct MatrixRate {
  std::string environment;
  long failures = 0, trials = 0;
  std::optional<double> rate;  // absent: no trial in this environment
  double cp_lower = 0, cp_upper = 1;
};
struct MatrixTest {
  std::string name, setting;
  std::vector<MatrixRate> environments;
  std::optional<double> p_value, p_adjusted;
  bool flagged = false;
  std::optional<std::string> statement;
};
struct Matrix {
  std::vector<MatrixEnvironment> environments;
  std::string homogeneity_test, multiple_testing;
  double alpha = 0.05;
  std::vector<std::string> flagged;
  std::vector<MatrixTest> tests;
  json extra = json::object();
};

struct AuditBody {
  std::vector<std::string> audited_command;
  long runs = 0;
  std::vector<std::string> settings;
  // The environment each setting gives run 0 (null: the variable is unset).
  using Environment = std::map<std::string, std::optional<std::string>>;
  std::optional<std::map<std::string, Environment>> environment;
  std::optional<std::string> environment_note;
  std::vector<AuditTest> tests, process;
  std::optional<std::map<std::string, long>> summary;  // classification -> tests
  std::optional<JunitErrors> junit_errors;
  std::optional<std::string> junit_fallback;  // no run produced readable JUnit XML
  // Completed runs of one setting collected different test ids (drawn at collection time).
  std::optional<std::string> collection_warning;
  std::optional<Ablation> ablation;
  std::optional<TracebackCost> traceback_cost;
  std::vector<RetryMeasured> retries_measured;
  json knobs_applied = nullptr;  // setting -> what the plugin read back from torch, as written
  std::optional<std::vector<AssertionSite>> assertions;  // with --capture
  std::optional<Allocation> allocation;                  // with --runs auto --isolation inprocess
  std::optional<Matrix> matrix;                          // merge of several environments
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
void to_json(json& j, const FailureRate& f);
void to_json(json& j, const AssertionSite& a);
void to_json(json& j, const RetryMeasured& m);
void to_json(json& j, const Allocation& a);
void to_json(json& j, const Matrix& m);
Allocation allocation_from_json(const json& j);
Matrix matrix_from_json(const json& j);
OutputMetrics output_metrics_from_json(const std::string& name, const json& j);
ProbeSetting probe_setting_from_json(const json& j);
ProbeResult probe_result_from_json(const json& j);
AuditTest audit_test_from_json(const json& j);
Ablation ablation_from_json(const json& j);
GateCheck gate_check_from_json(const json& j);
FailureRate failure_rate_from_json(const json& j, long failures = 0, long trials = 0);
AssertionSite assertion_site_from_json(const json& j);

// Reads a report file: JSON, schema string, then the schema check, then the model. Throws
// InputError with one line naming the file (and the field, for a schema mismatch).
Report load_report_model(const std::string& path);

}  // namespace flakescope::model
