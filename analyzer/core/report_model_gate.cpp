// The gate part of the report model: verdict, counts, where baseline and current came from, and
// one record per check.
#include "core/json_fields.h"
#include "flakescope/error.h"
#include "flakescope/report_model.h"

namespace flakescope::model {
namespace {

GateOrigin origin_from(const json& j, const char* which) {
  core::FieldReader r(j, std::string("/") + which);
  GateOrigin o;
  o.path = r.string("path");
  o.extra = r.rest();
  return o;
}

json origin_to(const GateOrigin& o) {
  json j = {{"path", o.path}};
  core::merge_extra(j, o.extra);
  return j;
}

}  // namespace

GateCheck gate_check_from_json(const json& j) {
  core::FieldReader r(j, "/checks");
  GateCheck c;
  c.target = r.string("target", "?");
  c.setting = r.string("setting");
  c.output = r.string("output");
  c.rule = r.string("rule", "?");
  c.message = r.string("message");
  const std::string status = r.string("status");
  const auto s = parse_gate_status(status);
  if (!s) throw InputError("gate check of '" + c.target + "': unknown status '" + status + "'");
  c.status = *s;
  c.extra = r.rest();
  return c;
}

void to_json(json& j, const GateCheck& c) {
  j = {{"target", c.target}, {"setting", c.setting}, {"output", c.output},
       {"rule", c.rule},     {"message", c.message}, {"status", std::string(to_string(c.status))}};
  core::merge_extra(j, c.extra);
}

void gate_body_from(core::FieldReader& r, Report& report) {
  GateBody& g = report.gate;
  g.verdict = r.string("verdict") == "pass" ? GateVerdict::kPass : GateVerdict::kFail;
  core::FieldReader s(r.take("summary", json::object()), "/summary");
  g.regressions = s.integer("regressions");
  g.improvements = s.integer("improvements");
  g.warnings = s.integer("warnings");
  g.passes = s.integer("passes");
  g.summary_extra = s.rest();
  g.baseline = origin_from(r.take("baseline", json::object()), "baseline");
  g.current = origin_from(r.take("current", json::object()), "current");
  g.policy = r.take("policy");
  const json checks = r.take("checks");
  if (!checks.is_array()) throw InputError("a 'gate' report needs a \"checks\" array");
  for (const auto& c : checks) g.checks.push_back(gate_check_from_json(c));
}

void gate_body_to(const Report& report, json& j) {
  const GateBody& g = report.gate;
  j["verdict"] = std::string(to_string(g.verdict));
  j["summary"] = {{"regressions", g.regressions},
                  {"improvements", g.improvements},
                  {"warnings", g.warnings},
                  {"passes", g.passes}};
  core::merge_extra(j["summary"], g.summary_extra);
  j["baseline"] = origin_to(g.baseline);
  j["current"] = origin_to(g.current);
  if (!g.policy.is_null()) j["policy"] = g.policy;
  j["checks"] = g.checks;
}

}  // namespace flakescope::model
