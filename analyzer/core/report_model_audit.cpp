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

}  // namespace

FailureRate failure_rate_from_json(const json& j, long failures, long trials) {
  return failure_rate_from(j, "/failure_rate", failures, trials);
}

void to_json(json& j, const FailureRate& f) {
  j = {{"failures", f.failures},
       {"trials", f.trials},
       {"confidence", f.confidence},
       {"point", f.point},
       {"wilson", {f.wilson_lower, f.wilson_upper}},
       {"clopper_pearson", {f.cp_lower, f.cp_upper}},
       {"upper_one_sided", f.upper_one_sided}};
  core::merge_extra(j, f.extra);
}

namespace {

FailingRun failing_run_from(const json& j) {
  core::FieldReader r(j, "/failing_runs");
  FailingRun f;
  f.run = r.integer("run");
  const json seed = r.take("seed", 0);
  f.seed = seed.is_number_unsigned()
               ? seed.get<std::uint64_t>()
               : static_cast<std::uint64_t>(seed.is_number() ? seed.get<long long>() : 0);
  f.setting = r.opt_string("setting");
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
  if (f.setting) j["setting"] = *f.setting;
  core::merge_extra(j, f.extra);
  return j;
}

Duration duration_from(const json& j, const std::string& path) {
  core::FieldReader r(j, path);
  Duration d;
  d.mean = r.nullable_number("mean");
  d.min = r.nullable_number("min");
  d.max = r.nullable_number("max");
  d.stddev = r.nullable_number("stddev");
  return d;
}

json duration_to(const Duration& d) {
  return {{"mean", core::nullable_number(d.mean)},
          {"min", core::nullable_number(d.min)},
          {"max", core::nullable_number(d.max)},
          {"stddev", core::nullable_number(d.stddev)}};
}

RetryMark retry_mark_from(const json& j, const std::string& path) {
  core::FieldReader r(j, path);
  RetryMark m;
  m.mechanism = r.string("mechanism");
  m.decorator = r.string("decorator");
  m.attempts = r.opt_integer("attempts");
  m.extra = r.rest();
  return m;
}

json retry_mark_to(const RetryMark& m) {
  json j = {{"mechanism", m.mechanism}, {"decorator", m.decorator}};
  if (m.attempts) j["attempts"] = *m.attempts;
  core::merge_extra(j, m.extra);
  return j;
}

// What the pytest plugin adds to a test's entry (see AuditTest).
void plugin_fields_from(core::FieldReader& r, AuditTest& t) {
  t.environment_errors = r.counts("environment_errors");
  if (r.has("drew_random")) {
    core::FieldReader d(r.take("drew_random"), r.child("drew_random"));
    t.drew_random = std::pair(d.integer("runs"), d.integer("of"));
  }
  if (r.has("retry_mark"))
    t.retry_mark = retry_mark_from(r.take("retry_mark"), r.child("retry_mark"));
}

void plugin_fields_to(const AuditTest& t, json& j) {
  if (!t.environment_errors.empty()) j["environment_errors"] = t.environment_errors;
  if (t.drew_random)
    j["drew_random"] = {{"runs", t.drew_random->first}, {"of", t.drew_random->second}};
  if (t.retry_mark) j["retry_mark"] = retry_mark_to(*t.retry_mark);
}

}  // namespace

AuditTest audit_test_from_json(const json& j) {
  core::FieldReader r(j, "/tests");
  AuditTest t;
  t.name = r.string("name", "?");
  t.setting = r.string("setting");
  t.runs = r.integer("runs");
  t.failures = r.integer("failures");
  t.outcomes = r.counts("outcomes");
  t.failure_rate = failure_rate_from(r.take("failure_rate", json::object()),
                                     r.child("failure_rate"), t.failures, t.runs);
  const std::string c = r.string("classification");
  const auto cls = parse_test_class(c);
  if (!cls) throw InputError("test '" + t.name + "': unknown classification '" + c + "'");
  t.classification = *cls;
  t.cause = r.opt_string("cause");
  r.take("retries_needed");  // the same as retries.k
  const json retries = r.take("retries", json::object());
  if (retries.is_object()) {
    core::FieldReader rr(retries, r.child("retries"));
    t.retries_k = rr.opt_integer("k");
    t.retries_target = rr.opt_number("target");
    t.retries_statement = rr.string("statement");
    t.retries_extra = rr.rest();
  }
  if (!t.retries_k && j.contains("retries_needed") && j["retries_needed"].is_number_integer())
    t.retries_k = j["retries_needed"].get<long>();
  if (r.has("duration")) t.duration = duration_from(r.take("duration"), r.child("duration"));
  const json failing = r.take("failing_runs", json::array());
  for (const auto& f : failing) t.failing_runs.push_back(failing_run_from(f));
  for (const auto& letter : r.strings("timeline"))
    if (auto o = parse_outcome_letter(letter)) t.timeline.push_back(*o);
  t.timeline_truncated = r.boolean("timeline_truncated");
  plugin_fields_from(r, t);
  t.extra = r.rest();
  return t;
}

void to_json(json& j, const AuditTest& t) {
  json retries = {{"k", t.retries_k ? json(*t.retries_k) : json(nullptr)},
                  {"statement", t.retries_statement}};
  if (t.retries_target) retries["target"] = *t.retries_target;
  core::merge_extra(retries, t.retries_extra);
  json failing = json::array(), timeline = json::array();
  for (const auto& f : t.failing_runs) failing.push_back(failing_run_to(f));
  for (RunOutcome o : t.timeline) timeline.push_back(std::string(1, outcome_letter(o)));
  j = {{"name", t.name},
       {"setting", t.setting},
       {"runs", t.runs},
       {"failures", t.failures},
       {"outcomes", t.outcomes},
       {"failure_rate", t.failure_rate},
       {"classification", std::string(to_string(t.classification))},
       {"retries_needed", retries["k"]},
       {"retries", retries},
       {"failing_runs", failing},
       {"timeline", timeline},
       {"timeline_truncated", t.timeline_truncated}};
  if (t.duration) j["duration"] = duration_to(*t.duration);
  if (t.cause) j["cause"] = *t.cause;
  plugin_fields_to(t, j);
  core::merge_extra(j, t.extra);
}

namespace {

AblationRate ablation_rate_from(const json& j) {
  core::FieldReader r(j, "/ablation/tests/settings");
  AblationRate a;
  a.setting = r.string("setting");
  a.runs = r.integer("runs");
  a.trials = r.integer("trials", a.runs);
  a.failures = r.integer("failures");
  a.failure_rate = r.number("failure_rate");
  const std::vector<double> cp = r.numbers("clopper_pearson");
  if (cp.size() == 2) std::tie(a.cp_lower, a.cp_upper) = std::pair(cp[0], cp[1]);
  a.extra = r.rest();
  return a;
}

json ablation_rate_to(const AblationRate& a) {
  json j = {{"setting", a.setting},
            {"runs", a.runs},
            {"trials", a.trials},
            {"failures", a.failures},
            {"failure_rate", a.failure_rate},
            {"clopper_pearson", {a.cp_lower, a.cp_upper}}};
  core::merge_extra(j, a.extra);
  return j;
}

AblationTest ablation_test_from(const json& t) {
  core::FieldReader tr(t, "/ablation/tests");
  AblationTest at;
  at.name = tr.string("name");
  at.summary = tr.string("summary");
  at.causes = tr.strings("causes");
  at.fixes = tr.strings("fixes");
  for (const auto& row : tr.take("settings", json::array()))
    at.settings.push_back(ablation_rate_from(row));
  const json p = tr.take("p_values", json::object());
  for (auto it = p.begin(); it != p.end(); ++it) at.p_values[it.key()] = number_from_json(*it);
  at.extra = tr.rest();
  return at;
}

}  // namespace

Ablation ablation_from_json(const json& j) {
  core::FieldReader r(j, "/ablation");
  Ablation a;
  a.reference = r.string("reference");
  a.settings = r.strings("settings");
  a.test = r.string("test");
  a.level = r.opt_number("level");
  for (const auto& t : r.take("tests", json::array())) a.tests.push_back(ablation_test_from(t));
  a.extra = r.rest();
  return a;
}

void to_json(json& j, const Ablation& a) {
  json tests = json::array();
  for (const auto& t : a.tests) {
    json rows = json::array();
    for (const auto& row : t.settings) rows.push_back(ablation_rate_to(row));
    json tj = {{"name", t.name},
               {"summary", t.summary},
               {"causes", t.causes},
               {"settings", rows},
               {"fixes", t.fixes}};
    if (!t.p_values.empty()) tj["p_values"] = t.p_values;
    core::merge_extra(tj, t.extra);
    tests.push_back(tj);
  }
  j = {{"reference", a.reference}, {"settings", a.settings}, {"tests", tests}};
  if (!a.test.empty()) j["test"] = a.test;
  if (a.level) j["level"] = *a.level;
  core::merge_extra(j, a.extra);
}

namespace {

std::map<std::string, AuditBody::Environment> environment_from(const json& j,
                                                               const std::string& path) {
  std::map<std::string, AuditBody::Environment> out;
  if (!j.is_object()) throw InputError("field " + path + " is not an object");
  for (auto s = j.begin(); s != j.end(); ++s) {
    if (!s.value().is_object())
      throw InputError("field " + path + "/" + s.key() + " is not an object");
    AuditBody::Environment& env = out[s.key()];
    for (auto v = s.value().begin(); v != s.value().end(); ++v) {
      if (v.value().is_string())
        env[v.key()] = v.value().get<std::string>();
      else if (v.value().is_null())
        env[v.key()] = std::nullopt;
      else
        throw InputError("field " + path + "/" + s.key() + "/" + v.key() + " is not a string");
    }
  }
  return out;
}

json environment_to(const std::map<std::string, AuditBody::Environment>& environment) {
  json out = json::object();
  for (const auto& [setting, env] : environment) {
    json e = json::object();
    for (const auto& [key, value] : env) e[key] = value ? json(*value) : json(nullptr);
    out[setting] = e;
  }
  return out;
}

JunitErrors junit_errors_from(const json& j, const std::string& path) {
  core::FieldReader r(j, path);
  JunitErrors e;
  e.count = r.integer("count");
  for (const auto& x : r.take("examples", json::array())) {
    core::FieldReader xr(x, path + "/examples");
    e.examples.push_back({xr.integer("run"), xr.string("setting"), xr.string("error")});
  }
  return e;
}

json junit_errors_to(const JunitErrors& e) {
  json examples = json::array();
  for (const auto& x : e.examples)
    examples.push_back({{"run", x.run}, {"setting", x.setting}, {"error", x.error}});
  return {{"count", e.count}, {"examples", examples}};
}

TracebackCost traceback_cost_from(const json& j, const std::string& path) {
  core::FieldReader r(j, path);
  return {r.number("report_seconds"), r.number("test_seconds"), r.number("share"),
          r.string("advice")};
}

json traceback_cost_to(const TracebackCost& c) {
  return {{"report_seconds", c.report_seconds},
          {"test_seconds", c.test_seconds},
          {"share", c.share},
          {"advice", c.advice}};
}

RetryMeasured retry_measured_from(const json& j) {
  core::FieldReader r(j, "/retries_measured");
  RetryMeasured m;
  m.name = r.string("name");
  m.setting = r.string("setting");
  m.mechanism = r.string("mechanism");
  m.decorator = r.string("decorator");
  m.attempts_declared = r.integer("attempts_declared", 1);
  m.failures = r.integer("failures");
  m.trials = r.integer("trials");
  m.per_attempt_rate = r.number("per_attempt_rate");
  m.upper_one_sided = r.number("upper_one_sided", 1);
  m.target = r.number("target", 1e-4);
  m.attempts_needed = r.opt_integer("attempts_needed");
  m.verdict = r.string("verdict");
  m.extra = r.rest();
  return m;
}

}  // namespace

void to_json(json& j, const RetryMeasured& m) {
  j = {{"name", m.name},
       {"setting", m.setting},
       {"mechanism", m.mechanism},
       {"decorator", m.decorator},
       {"attempts_declared", m.attempts_declared},
       {"failures", m.failures},
       {"trials", m.trials},
       {"per_attempt_rate", m.per_attempt_rate},
       {"upper_one_sided", m.upper_one_sided},
       {"target", m.target},
       {"attempts_needed", m.attempts_needed ? json(*m.attempts_needed) : json(nullptr)},
       {"verdict", m.verdict}};
  core::merge_extra(j, m.extra);
}

// The audit's sections besides the tests: the environment per setting, JUnit trouble, the
// traceback cost, the measured retry marks, the knobs the plugin read back.
void audit_sections_from(core::FieldReader& r, AuditBody& a) {
  if (r.has("environment")) a.environment = environment_from(r.take("environment"), "/environment");
  a.environment_note = r.opt_string("environment_note");
  if (r.has("summary")) a.summary = r.counts("summary");
  if (r.has("junit_errors"))
    a.junit_errors = junit_errors_from(r.take("junit_errors"), "/junit_errors");
  a.junit_fallback = r.opt_string("junit_fallback");
  a.collection_warning = r.opt_string("collection_warning");
  if (r.has("traceback_cost"))
    a.traceback_cost = traceback_cost_from(r.take("traceback_cost"), "/traceback_cost");
  for (const auto& m : r.take("retries_measured", json::array()))
    a.retries_measured.push_back(retry_measured_from(m));
  a.knobs_applied = r.take("knobs_applied");
  if (r.has("allocation")) a.allocation = allocation_from_json(r.take("allocation"));
  if (r.has("matrix")) a.matrix = matrix_from_json(r.take("matrix"));
}

void audit_sections_to(const AuditBody& a, json& j) {
  if (a.environment) j["environment"] = environment_to(*a.environment);
  if (a.environment_note) j["environment_note"] = *a.environment_note;
  if (a.summary) j["summary"] = *a.summary;
  if (a.junit_errors) j["junit_errors"] = junit_errors_to(*a.junit_errors);
  if (a.junit_fallback) j["junit_fallback"] = *a.junit_fallback;
  if (a.collection_warning) j["collection_warning"] = *a.collection_warning;
  if (a.traceback_cost) j["traceback_cost"] = traceback_cost_to(*a.traceback_cost);
  if (!a.retries_measured.empty()) j["retries_measured"] = a.retries_measured;
  if (!a.knobs_applied.is_null()) j["knobs_applied"] = a.knobs_applied;
  if (a.allocation) j["allocation"] = *a.allocation;
  if (a.matrix) j["matrix"] = *a.matrix;
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
  audit_sections_from(r, a);
  if (r.has("assertions")) {
    a.assertions.emplace();
    for (const auto& e : r.take("assertions", json::array()))
      a.assertions->push_back(assertion_site_from_json(e));
  }
}

void audit_body_to(const Report& report, json& j) {
  const AuditBody& a = report.audit;
  j["audited_command"] = a.audited_command;
  j["runs"] = a.runs;
  j["settings"] = a.settings;
  j["tests"] = a.tests;
  j["process"] = a.process;
  if (a.ablation) j["ablation"] = *a.ablation;
  audit_sections_to(a, j);
  if (a.assertions) j["assertions"] = *a.assertions;
}

}  // namespace flakescope::model
