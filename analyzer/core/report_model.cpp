// The report model's enums, header and top level (see include/flakescope/report_model.h); the
// probe, audit and gate parts are in report_model_{probe,audit,gate}.cpp.
#include "flakescope/report_model.h"

#include <array>
#include <utility>

#include "core/json_fields.h"
#include "core/report.h"
#include "flakescope/error.h"

namespace flakescope::model {
namespace {

template <typename E, std::size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

constexpr Names<ReportKind, 3> kKinds{
    {{ReportKind::kProbe, "probe"}, {ReportKind::kAudit, "audit"}, {ReportKind::kGate, "gate"}}};
constexpr Names<ProbeVerdict, 4> kVerdicts{
    {{ProbeVerdict::kBitwiseDeterministic, "bitwise-deterministic"},
     {ProbeVerdict::kNondeterministic, "nondeterministic"},
     {ProbeVerdict::kError, "error"},
     {ProbeVerdict::kUnavailable, "unavailable"}}};
constexpr Names<TestClass, 10> kClasses{{{TestClass::kStablePass, "stable-pass"},
                                         {TestClass::kStableFail, "stable-fail"},
                                         {TestClass::kFlaky, "flaky"},
                                         {TestClass::kCrashing, "crashing"},
                                         {TestClass::kTimingOut, "timing-out"},
                                         {TestClass::kSkipped, "skipped"},
                                         {TestClass::kEnvironmentError, "environment-error"},
                                         {TestClass::kXfail, "xfail"},
                                         {TestClass::kXfailFlaky, "xfail-flaky"},
                                         {TestClass::kRepeatDependent, "repeat-dependent"}}};
constexpr Names<RunOutcome, 7> kOutcomes{{{RunOutcome::kPass, "pass"},
                                          {RunOutcome::kFail, "fail"},
                                          {RunOutcome::kCrash, "crash"},
                                          {RunOutcome::kTimeout, "timeout"},
                                          {RunOutcome::kError, "error"},
                                          {RunOutcome::kSkip, "skip"},
                                          {RunOutcome::kXfail, "xfail"}}};
constexpr std::string_view kOutcomeLetters = "PFCTESX";
constexpr Names<GateStatus, 4> kStatuses{{{GateStatus::kPass, "pass"},
                                          {GateStatus::kImprovement, "improvement"},
                                          {GateStatus::kWarning, "warning"},
                                          {GateStatus::kRegression, "regression"}}};

template <typename E, std::size_t N>
std::string_view name_of(const Names<E, N>& names, E e) {
  for (const auto& [value, name] : names)
    if (value == e) return name;
  return "?";
}

template <typename E, std::size_t N>
std::optional<E> value_of(const Names<E, N>& names, std::string_view s) {
  for (const auto& [value, name] : names)
    if (name == s) return value;
  return std::nullopt;
}

Machine machine_from_json(const json& j) {
  core::FieldReader r(j, "/machine");
  Machine m;
  m.cpu = r.string("cpu");
  m.os = r.string("os");
  m.arch = r.string("arch");
  m.hardware_threads = r.opt_integer("hardware_threads");
  m.extra = r.rest();
  return m;
}

json machine_to_json(const Machine& m) {
  json j = json::object();
  if (!m.cpu.empty()) j["cpu"] = m.cpu;
  if (!m.os.empty()) j["os"] = m.os;
  if (!m.arch.empty()) j["arch"] = m.arch;
  if (m.hardware_threads) j["hardware_threads"] = *m.hardware_threads;
  core::merge_extra(j, m.extra);
  return j;
}

ReportHeader header_from(core::FieldReader& r) {
  ReportHeader h;
  r.take("schema");
  h.kind = *parse_report_kind(r.string("kind"));
  core::FieldReader tool(r.take("tool", json::object()), "/tool");
  tool.take("name");
  h.tool_version = tool.string("version");
  h.tool_extra = tool.rest();
  h.created = r.string("created");
  if (r.has("machine")) h.machine = machine_from_json(r.take("machine"));
  h.libtorch = r.take("libtorch");
  if (h.libtorch.is_object() && h.libtorch.contains("version") && h.libtorch["version"].is_string())
    h.libtorch_version = h.libtorch["version"].get<std::string>();
  h.command = r.strings("command");
  h.partial = r.boolean("partial");
  h.config = r.take("config");
  return h;
}

void header_to(const ReportHeader& h, json& j) {
  j["schema"] = std::string(kReportSchema);
  j["kind"] = std::string(to_string(h.kind));
  j["tool"] = {{"name", "flakescope"}, {"version", h.tool_version}};
  core::merge_extra(j["tool"], h.tool_extra);
  j["created"] = h.created;
  if (h.machine) j["machine"] = machine_to_json(*h.machine);
  if (!h.libtorch.is_null()) j["libtorch"] = h.libtorch;
  j["command"] = h.command;
  j["partial"] = h.partial;
  if (!h.config.is_null()) j["config"] = h.config;
}

}  // namespace

void to_json(json& j, const Machine& m) {
  j = machine_to_json(m);
}

ReportHeader header_from_json(const json& j) {
  if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string() ||
      !parse_report_kind(j["kind"].get<std::string>()))
    throw InputError("a report header needs a known \"kind\"");
  core::FieldReader r(j, "");
  return header_from(r);
}

std::string_view to_string(ReportKind k) {
  return name_of(kKinds, k);
}
std::string_view to_string(ProbeVerdict v) {
  return name_of(kVerdicts, v);
}
std::string_view to_string(TestClass c) {
  return name_of(kClasses, c);
}
std::string_view to_string(RunOutcome o) {
  return name_of(kOutcomes, o);
}
std::string_view to_string(GateStatus s) {
  return name_of(kStatuses, s);
}
std::string_view to_string(GateVerdict v) {
  return v == GateVerdict::kPass ? "pass" : "fail";
}
char outcome_letter(RunOutcome o) {
  return kOutcomeLetters[static_cast<std::size_t>(o)];
}

std::optional<ReportKind> parse_report_kind(std::string_view s) {
  return value_of(kKinds, s);
}
std::optional<ProbeVerdict> parse_probe_verdict(std::string_view s) {
  return value_of(kVerdicts, s);
}
std::optional<TestClass> parse_test_class(std::string_view s) {
  return value_of(kClasses, s);
}
std::optional<GateStatus> parse_gate_status(std::string_view s) {
  return value_of(kStatuses, s);
}
std::optional<RunOutcome> parse_outcome_letter(std::string_view s) {
  if (s.size() != 1) return std::nullopt;
  const auto i = kOutcomeLetters.find(s[0]);
  if (i == std::string_view::npos) return std::nullopt;
  return static_cast<RunOutcome>(i);
}

bool is_finding(TestClass c) {
  return c == TestClass::kFlaky || c == TestClass::kCrashing || c == TestClass::kTimingOut;
}

double Report::confidence() const {
  if (header.config.is_object() && header.config.contains("confidence") &&
      header.config["confidence"].is_number())
    return header.config["confidence"].get<double>();
  return 0.95;
}

// Defined in report_model_{probe,audit,gate}.cpp.
void probe_body_from(core::FieldReader& r, Report& report);
void audit_body_from(core::FieldReader& r, Report& report);
void gate_body_from(core::FieldReader& r, Report& report);
void probe_body_to(const Report& report, json& j);
void audit_body_to(const Report& report, json& j);
void gate_body_to(const Report& report, json& j);

Report from_json(const json& j) {
  if (!j.is_object()) throw InputError("a report must be a JSON object");
  if (!j.contains("kind") || !j["kind"].is_string() ||
      !parse_report_kind(j["kind"].get<std::string>()))
    throw InputError("unknown report kind " + j.value("kind", json()).dump() +
                     " (expected probe, audit or gate)");
  core::FieldReader r(j, "");
  Report report;
  report.header = header_from(r);
  switch (report.header.kind) {
    case ReportKind::kProbe:
      probe_body_from(r, report);
      break;
    case ReportKind::kAudit:
      audit_body_from(r, report);
      break;
    case ReportKind::kGate:
      gate_body_from(r, report);
      break;
  }
  report.extra = r.rest();
  return report;
}

json to_json(const Report& report) {
  json j = json::object();
  header_to(report.header, j);
  switch (report.header.kind) {
    case ReportKind::kProbe:
      probe_body_to(report, j);
      break;
    case ReportKind::kAudit:
      audit_body_to(report, j);
      break;
    case ReportKind::kGate:
      gate_body_to(report, j);
      break;
  }
  core::merge_extra(j, report.extra);
  return j;
}

Report load_report_model(const std::string& path) {
  const json j = load_report(path);
  try {
    return from_json(j);
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
}

}  // namespace flakescope::model
