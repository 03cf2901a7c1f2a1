// The suite-level parts of an audit report: the adaptive allocation of `audit --runs auto` and the
// environment matrix of `merge` (see include/flakescope/report_model.h).
#include "core/json_fields.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "flakescope/report_model.h"

namespace flakescope::model {
namespace {

AllocatedTest allocated_test_from(const json& j) {
  core::FieldReader r(j, "/allocation/tests");
  AllocatedTest t;
  t.test = r.string("test");
  t.name = r.string("name");
  t.verdict = r.string("verdict");
  t.evidence = r.string("evidence");
  t.reason = r.string("reason");
  t.runs = r.integer("runs");
  t.failures = r.integer("failures");
  t.margin_bound = r.opt_number("margin_bound");
  t.margin_method = r.opt_string("margin_method");
  return t;
}

json allocated_test_to(const AllocatedTest& t) {
  json j = {{"test", t.test},         {"name", t.name},     {"verdict", t.verdict},
            {"evidence", t.evidence}, {"reason", t.reason}, {"runs", t.runs},
            {"failures", t.failures}};
  if (t.margin_bound) j["margin_bound"] = json_number(*t.margin_bound);
  if (t.margin_method) j["margin_method"] = *t.margin_method;
  return j;
}

MatrixTest matrix_test_from(const json& j) {
  core::FieldReader r(j, "/matrix/tests");
  MatrixTest t;
  t.name = r.string("name");
  t.setting = r.string("setting");
  for (const auto& e : r.take("environments", json::array())) {
    core::FieldReader er(e, "/matrix/tests/environments");
    MatrixRate m;
    m.environment = er.string("environment");
    m.failures = er.integer("failures");
    m.trials = er.integer("trials");
    m.rate = er.nullable_number("rate");
    const std::vector<double> cp = er.numbers("clopper_pearson");
    if (cp.size() == 2) m.cp_lower = cp[0], m.cp_upper = cp[1];
    t.environments.push_back(m);
  }
  t.p_value = r.nullable_number("p_value");
  t.p_adjusted = r.nullable_number("p_adjusted");
  t.flagged = r.boolean("flagged");
  t.statement = r.opt_string("statement");
  return t;
}

json matrix_test_to(const MatrixTest& t) {
  json environments = json::array();
  for (const auto& m : t.environments)
    environments.push_back({{"environment", m.environment},
                            {"failures", m.failures},
                            {"trials", m.trials},
                            {"rate", core::nullable_number(m.rate)},
                            {"clopper_pearson", {m.cp_lower, m.cp_upper}}});
  json j = {{"name", t.name},
            {"setting", t.setting},
            {"environments", environments},
            {"p_value", core::nullable_number(t.p_value)},
            {"p_adjusted", core::nullable_number(t.p_adjusted)},
            {"flagged", t.flagged}};
  if (t.statement) j["statement"] = *t.statement;
  return j;
}

}  // namespace

Allocation allocation_from_json(const json& j) {
  core::FieldReader r(j, "/allocation");
  Allocation a;
  a.method = r.string("method");
  a.screening_runs = r.integer("screening_runs");
  a.margin_runs = r.integer("margin_runs");
  a.max_runs = r.integer("max_runs");
  a.count_runs = r.integer("count_runs");
  a.rate_floor = r.number("rate_floor");
  a.confidence = r.number("confidence", 0.95);
  a.executions = r.integer("executions");
  a.batches = r.integer("batches");
  a.baseline_runs_per_test = r.integer("baseline_runs_per_test");
  a.baseline_executions = r.integer("baseline_executions");
  a.verdicts = r.counts("verdicts");
  const json evidence = r.take("evidence", json::object());
  for (auto it = evidence.begin(); it != evidence.end(); ++it) {
    core::FieldReader er(it.value(), "/allocation/evidence/" + it.key());
    a.evidence[it.key()] = {er.integer("tests"), er.integer("runs"),
                            er.number("runs_saved_vs_baseline")};
  }
  for (const auto& t : r.take("tests", json::array())) a.tests.push_back(allocated_test_from(t));
  a.extra = r.rest();
  return a;
}

void to_json(json& j, const Allocation& a) {
  json evidence = json::object(), tests = json::array();
  for (const auto& [kind, e] : a.evidence)
    evidence[kind] = {
        {"tests", e.tests}, {"runs", e.runs}, {"runs_saved_vs_baseline", e.runs_saved_vs_baseline}};
  for (const auto& t : a.tests) tests.push_back(allocated_test_to(t));
  j = {{"method", a.method},
       {"screening_runs", a.screening_runs},
       {"margin_runs", a.margin_runs},
       {"max_runs", a.max_runs},
       {"rate_floor", a.rate_floor},
       {"confidence", a.confidence},
       {"count_runs", a.count_runs},
       {"executions", a.executions},
       {"batches", a.batches},
       {"baseline_runs_per_test", a.baseline_runs_per_test},
       {"baseline_executions", a.baseline_executions},
       {"verdicts", a.verdicts},
       {"evidence", evidence},
       {"tests", tests}};
  core::merge_extra(j, a.extra);
}

Matrix matrix_from_json(const json& j) {
  core::FieldReader r(j, "/matrix");
  Matrix m;
  for (const auto& e : r.take("environments", json::array())) {
    core::FieldReader er(e, "/matrix/environments");
    MatrixEnvironment env;
    env.label = er.string("label");
    env.platform = er.take("platform");
    env.logs = er.strings("logs");
    env.runs = er.integer("runs");
    m.environments.push_back(env);
  }
  m.homogeneity_test = r.string("homogeneity_test");
  m.multiple_testing = r.string("multiple_testing");
  m.alpha = r.number("alpha", 0.05);
  m.flagged = r.strings("flagged");
  for (const auto& t : r.take("tests", json::array())) m.tests.push_back(matrix_test_from(t));
  m.extra = r.rest();
  return m;
}

void to_json(json& j, const Matrix& m) {
  json environments = json::array(), tests = json::array();
  for (const auto& e : m.environments)
    environments.push_back(
        {{"label", e.label}, {"platform", e.platform}, {"logs", e.logs}, {"runs", e.runs}});
  for (const auto& t : m.tests) tests.push_back(matrix_test_to(t));
  j = {{"environments", environments},
       {"homogeneity_test", m.homogeneity_test},
       {"multiple_testing", m.multiple_testing},
       {"alpha", m.alpha},
       {"flagged", m.flagged},
       {"tests", tests}};
  core::merge_extra(j, m.extra);
}

}  // namespace flakescope::model
