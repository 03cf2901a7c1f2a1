// The audit part of the report model: per (test, setting) records, the command's own record
// ("process"), the ablation diagnosis and the capture analysis.
#include "core/json_fields.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "flakescope/report_model.h"

namespace flakescope::model {
namespace {

std::pair<double, double> interval(const json& j, double lo, double hi) {
  if (j.is_array() && j.size() == 2) return {number_from_json(j[0]), number_from_json(j[1])};
  return {lo, hi};
}

FailureRate failure_rate_from(const json& j, const std::string& path, long failures, long runs) {
  core::FieldReader r(j, path);
  FailureRate f;
  f.failures = r.integer("failures", failures);
  f.trials = r.integer("trials", runs);
  f.confidence = r.number("confidence", 0.95);
  f.point = r.number("point", runs > 0 ? double(failures) / double(runs) : 0);
  const json cp = r.take("clopper_pearson");
  const json wilson = r.take("wilson");
  // Reports written before the model carried the Clopper-Pearson bounds a second time as
  // lower/upper; read them (hand-written reports may have only those) and do not write them back.
  const double lower = r.number("lower", 0), upper = r.number("upper", 1);
  std::tie(f.cp_lower, f.cp_upper) = interval(cp, lower, upper);
  std::tie(f.wilson_lower, f.wilson_upper) = interval(wilson, f.cp_lower, f.cp_upper);
  f.upper_one_sided = r.number("upper_one_sided", f.cp_upper);
  f.extra = r.rest();
  return f;
}

json failure_rate_to(const FailureRate& f) {
  json j = {{"failures", f.failures},
            {"trials", f.trials},
            {"confidence", f.confidence},
            {"point", f.point},
            {"wilson", {f.wilson_lower, f.wilson_upper}},
            {"clopper_pearson", {f.cp_lower, f.cp_upper}},
            {"upper_one_sided", f.upper_one_sided}};
  core::merge_extra(j, f.extra);
  return j;
}

FailingRun failing_run_from(const json& j) {
  core::FieldReader r(j, "/failing_runs");
  FailingRun f;
  f.run = r.integer("run");
  const json seed = r.take("seed", 0);
  f.seed = seed.is_number_unsigned()
               ? seed.get<std::uint64_t>()
               : static_cast<std::uint64_t>(seed.is_number() ? seed.get<long long>() : 0);
  f.outcome = r.string("outcome");
  f.message = r.string("message");
  f.replay = r.string("replay");
  f.extra = r.rest();
  return f;
}

json failing_run_to(const FailingRun& f) {
  json j = {{"run", f.run},
            {"seed", f.seed},
            {"outcome", f.outcome},
            {"message", f.message},
            {"replay", f.replay}};
  core::merge_extra(j, f.extra);
  return j;
}

}  // namespace

AuditTest audit_test_from_json(const json& j) {
  core::FieldReader r(j, "/tests");
  AuditTest t;
  t.name = r.string("name", "?");
  t.setting = r.string("setting");
  t.runs = r.integer("runs");
  t.failures = r.integer("failures");
  t.outcomes = r.take("outcomes", json::object());
  t.failure_rate = failure_rate_from(r.take("failure_rate", json::object()),
                                     r.child("failure_rate"), t.failures, t.runs);
  const std::string c = r.string("classification");
  const auto cls = parse_test_class(c);
  if (!cls) throw InputError("test '" + t.name + "': unknown classification '" + c + "'");
  t.classification = *cls;
  r.take("retries_needed");  // the same as retries.k
  const json retries = r.take("retries", json::object());
  if (retries.is_object()) {
    core::FieldReader rr(retries, r.child("retries"));
    t.retries_k = rr.opt_integer("k");
    t.retries_statement = rr.string("statement");
    t.retries_extra = rr.rest();
  }
  if (!t.retries_k && j.contains("retries_needed") && j["retries_needed"].is_number_integer())
    t.retries_k = j["retries_needed"].get<long>();
  t.duration = r.take("duration", json::object());
  const json failing = r.take("failing_runs", json::array());
  for (const auto& f : failing) t.failing_runs.push_back(failing_run_from(f));
  for (const auto& letter : r.strings("timeline"))
    if (auto o = parse_outcome_letter(letter)) t.timeline.push_back(*o);
  t.timeline_truncated = r.boolean("timeline_truncated");
  t.extra = r.rest();
  return t;
}

void to_json(json& j, const AuditTest& t) {
  json retries = {{"k", t.retries_k ? json(*t.retries_k) : json(nullptr)},
                  {"statement", t.retries_statement}};
  core::merge_extra(retries, t.retries_extra);
  json failing = json::array(), timeline = json::array();
  for (const auto& f : t.failing_runs) failing.push_back(failing_run_to(f));
  for (RunOutcome o : t.timeline) timeline.push_back(std::string(1, outcome_letter(o)));
  j = {{"name", t.name},
       {"setting", t.setting},
       {"runs", t.runs},
       {"failures", t.failures},
       {"outcomes", t.outcomes},
       {"failure_rate", failure_rate_to(t.failure_rate)},
       {"classification", std::string(to_string(t.classification))},
       {"retries_needed", retries["k"]},
       {"retries", retries},
       {"duration", t.duration},
       {"failing_runs", failing},
       {"timeline", timeline},
       {"timeline_truncated", t.timeline_truncated}};
  core::merge_extra(j, t.extra);
}

Ablation ablation_from_json(const json& j) {
  core::FieldReader r(j, "/ablation");
  Ablation a;
  a.reference = r.string("reference");
  a.settings = r.strings("settings");
  const json tests = r.take("tests", json::array());
  for (const auto& t : tests) {
    core::FieldReader tr(t, "/ablation/tests");
    AblationTest at;
    at.name = tr.string("name");
    at.summary = tr.string("summary");
    at.causes = tr.strings("causes");
    at.fixes = tr.strings("fixes");
    at.settings = tr.take("settings", json::array());
    at.extra = tr.rest();
    a.tests.push_back(at);
  }
  a.extra = r.rest();
  return a;
}

void to_json(json& j, const Ablation& a) {
  json tests = json::array();
  for (const auto& t : a.tests) {
    json tj = {
        {"name", t.name}, {"summary", t.summary}, {"causes", t.causes}, {"settings", t.settings}};
    tj["fixes"] = t.fixes;
    core::merge_extra(tj, t.extra);
    tests.push_back(tj);
  }
  j = {{"reference", a.reference}, {"settings", a.settings}, {"tests", tests}};
  core::merge_extra(j, a.extra);
}

void audit_body_from(core::FieldReader& r, Report& report) {
  AuditBody& a = report.audit;
  a.audited_command = r.strings("audited_command");
  a.runs = r.integer("runs");
  a.settings = r.strings("settings");
  // "testcases": the name hand-written reports used before "tests".
  const json tests = r.has("tests") ? r.take("tests") : r.take("testcases");
  if (!tests.is_array()) throw InputError("an 'audit' report needs a \"tests\" array");
  for (const auto& t : tests) a.tests.push_back(audit_test_from_json(t));
  const json process = r.take("process", json::array());
  for (const auto& t : process) a.process.push_back(audit_test_from_json(t));
  if (r.has("ablation")) a.ablation = ablation_from_json(r.take("ablation"));
  a.assertions = r.take("assertions");
}

void audit_body_to(const Report& report, json& j) {
  const AuditBody& a = report.audit;
  j["audited_command"] = a.audited_command;
  j["runs"] = a.runs;
  j["settings"] = a.settings;
  j["tests"] = a.tests;
  j["process"] = a.process;
  if (a.ablation) j["ablation"] = *a.ablation;
  if (!a.assertions.is_null()) j["assertions"] = a.assertions;
}

}  // namespace flakescope::model
