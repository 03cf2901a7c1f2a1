// The probe part of the report model: probes -> settings -> per-output metrics.
#include <algorithm>

#include "core/json_fields.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "flakescope/report_model.h"

namespace flakescope::model {
namespace {

json numbers_to_json(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(json_number(x));
  return a;
}

void put_number(json& j, const char* key, const std::optional<double>& v) {
  if (v) j[key] = json_number(*v);
}

}  // namespace

const std::vector<double>* DeviationSamples::by_name(std::string_view which) const {
  if (which == "abs") return &abs;
  if (which == "rel") return &rel;
  if (which == "ulp") return &ulp;
  if (which == "atol_at_rtol") return &atol_at_rtol;
  return nullptr;
}

std::optional<AtolRecommendation> atol_recommendation(const OutputMetrics& m) {
  if (!m.recommendation.is_object() || !m.recommendation.contains("atol") ||
      !m.recommendation["atol"].is_object())
    return std::nullopt;
  const json& a = m.recommendation["atol"];
  AtolRecommendation out;
  if (a.contains("bound") && !a["bound"].is_null()) out.bound = number_from_json(a["bound"]);
  out.n = a.contains("n") ? number_from_json(a["n"]) : 0;
  out.status = a.value("method", std::string());
  out.reason = a.value("reason", std::string());
  if (a.contains("runs_needed") && a["runs_needed"].is_number())
    out.runs_needed = number_from_json(a["runs_needed"]);
  if (m.recommendation.contains("target") && m.recommendation["target"].is_number())
    out.target = number_from_json(m.recommendation["target"]);
  if (a.contains("tail") && a["tail"].is_object()) {
    const json& t = a["tail"];
    AtolTail tail;
    tail.threshold = number_from_json(t.value("threshold", json()));
    tail.scale = number_from_json(t.value("scale", json()));
    tail.shape = number_from_json(t.value("shape", json(0)));
    tail.exceedances = number_from_json(t.value("exceedances", json(0)));
    out.tail = tail;
  }
  return out;
}

std::optional<DefaultToleranceCheck> default_tolerance_check(const OutputMetrics& m) {
  if (!m.recommendation.is_object()) return std::nullopt;
  const json& d = m.recommendation.value("default_tolerance", json());
  if (!d.is_object() || !d.contains("atol") || !d["atol"].is_number()) return std::nullopt;
  DefaultToleranceCheck out;
  out.atol = number_from_json(d["atol"]);
  out.rtol = d.contains("rtol") && d["rtol"].is_number() ? number_from_json(d["rtol"]) : 0;
  return out;
}

OutputMetrics output_metrics_from_json(const std::string& name, const json& j) {
  core::FieldReader r(j, "/metrics/" + name);
  OutputMetrics m;
  m.name = name;
  m.runs = r.integer("runs");
  m.bitwise_identical_runs = r.opt_integer("bitwise_identical_runs");
  m.distinct_outputs = r.opt_integer("distinct_outputs");
  m.max_abs_dev = r.opt_number("max_abs_dev");
  m.max_rel_dev = r.opt_number("max_rel_dev");
  m.max_ulp = r.opt_number("max_ulp");
  m.dtype = r.opt_string("dtype");
  if (r.has("shift_from_controlled")) {
    core::FieldReader s(r.take("shift_from_controlled"), r.child("shift_from_controlled"));
    Shift shift;
    shift.max_abs = s.number("max_abs");
    shift.max_rel = s.number("max_rel");
    shift.max_ulp = s.number("max_ulp");
    shift.extra = s.rest();
    m.shift = shift;
  }
  if (r.has("samples")) {
    core::FieldReader s(r.take("samples"), r.child("samples"));
    DeviationSamples d;
    d.abs = s.numbers("abs");
    d.rel = s.numbers("rel");
    d.ulp = s.numbers("ulp");
    d.atol_at_rtol = s.numbers("atol_at_rtol");
    m.samples = d;
  }
  m.recommendation = r.take("recommendation");
  m.extra = r.rest();
  return m;
}

void to_json(json& j, const OutputMetrics& m) {
  j = json::object();
  j["runs"] = m.runs;
  if (m.bitwise_identical_runs) j["bitwise_identical_runs"] = *m.bitwise_identical_runs;
  if (m.distinct_outputs) j["distinct_outputs"] = *m.distinct_outputs;
  put_number(j, "max_abs_dev", m.max_abs_dev);
  put_number(j, "max_rel_dev", m.max_rel_dev);
  put_number(j, "max_ulp", m.max_ulp);
  if (m.dtype) j["dtype"] = *m.dtype;
  if (m.shift) {
    json s = {{"max_abs", json_number(m.shift->max_abs)},
              {"max_rel", json_number(m.shift->max_rel)},
              {"max_ulp", json_number(m.shift->max_ulp)}};
    core::merge_extra(s, m.shift->extra);
    j["shift_from_controlled"] = s;
  }
  if (m.samples)
    j["samples"] = {{"abs", numbers_to_json(m.samples->abs)},
                    {"rel", numbers_to_json(m.samples->rel)},
                    {"ulp", numbers_to_json(m.samples->ulp)},
                    {"atol_at_rtol", numbers_to_json(m.samples->atol_at_rtol)}};
  if (!m.recommendation.is_null()) j["recommendation"] = m.recommendation;
  core::merge_extra(j, m.extra);
}

ProbeSetting probe_setting_from_json(const json& j) {
  core::FieldReader r(j, "/settings");
  ProbeSetting s;
  s.setting = r.string("setting", "?");
  const std::string verdict = r.string("verdict");
  const auto v = parse_probe_verdict(verdict);
  if (!v) throw InputError("setting '" + s.setting + "': unknown verdict '" + verdict + "'");
  s.verdict = *v;
  s.runs = r.opt_integer("runs");
  s.error = r.opt_string("error");
  if (r.has("metrics")) {
    s.has_metrics = true;
    const json metrics = r.take("metrics");
    for (auto it = metrics.begin(); it != metrics.end(); ++it)
      s.metrics.push_back(output_metrics_from_json(it.key(), it.value()));
  }
  s.extra = r.rest();
  return s;
}

void to_json(json& j, const ProbeSetting& s) {
  j = json::object();
  j["setting"] = s.setting;
  j["verdict"] = std::string(to_string(s.verdict));
  if (s.runs) j["runs"] = *s.runs;
  if (s.error) j["error"] = *s.error;
  if (s.has_metrics) {
    json metrics = json::object();
    for (const auto& m : s.metrics) to_json(metrics[m.name], m);
    j["metrics"] = metrics;
  }
  core::merge_extra(j, s.extra);
}

const ProbeSetting* ProbeResult::find_setting(std::string_view name) const {
  for (const auto& s : settings)
    if (s.setting == name) return &s;
  return nullptr;
}

ProbeResult probe_result_from_json(const json& j) {
  core::FieldReader r(j, "/probes");
  ProbeResult p;
  p.name = r.string("name", "?");
  p.description = r.string("description");
  const json settings = r.take("settings", json::array());
  if (!settings.is_array()) throw InputError("probe '" + p.name + "': settings is not a list");
  for (const auto& s : settings) p.settings.push_back(probe_setting_from_json(s));
  if (r.has("diagnosis")) {
    core::FieldReader d(r.take("diagnosis"), r.child("diagnosis"));
    Diagnosis diag;
    diag.causes = d.strings("causes");
    diag.fixes = d.strings("fixes");
    diag.summary = d.string("summary");
    if (d.has("raises_when_controlled"))
      diag.raises_when_controlled = d.boolean("raises_when_controlled");
    diag.extra = d.rest();
    p.diagnosis = diag;
  }
  p.extra = r.rest();
  return p;
}

void to_json(json& j, const ProbeResult& p) {
  j = json::object();
  j["name"] = p.name;
  if (!p.description.empty()) j["description"] = p.description;
  j["settings"] = json::array();
  for (const auto& s : p.settings) j["settings"].push_back(s);
  if (p.diagnosis) {
    json d = {{"causes", p.diagnosis->causes},
              {"fixes", p.diagnosis->fixes},
              {"summary", p.diagnosis->summary}};
    if (p.diagnosis->raises_when_controlled)
      d["raises_when_controlled"] = *p.diagnosis->raises_when_controlled;
    core::merge_extra(d, p.diagnosis->extra);
    j["diagnosis"] = d;
  }
  core::merge_extra(j, p.extra);
}

void probe_body_from(core::FieldReader& r, Report& report) {
  const json probes = r.take("probes");
  if (!probes.is_array()) throw InputError("a 'probe' report needs a \"probes\" array");
  for (const auto& p : probes) report.probes.push_back(probe_result_from_json(p));
}

void probe_body_to(const Report& report, json& j) {
  j["probes"] = json::array();
  for (const auto& p : report.probes) j["probes"].push_back(p);
}

}  // namespace flakescope::model
