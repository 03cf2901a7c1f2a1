// Gate policies: parsing, validation and the per-target rule lookup (see
// analyzer/gate/gate.h).
#include <fnmatch.h>

#include <set>

#include "core/report.h"
#include "flakescope/error.h"
#include "gate/gate.h"

namespace flakescope {
namespace {

using nlohmann::json;

const std::set<std::string> kRuleFields = {"bitwise",     "max_dev_factor",   "deviation",
                                           "rate_margin", "max_failure_rate", "new_cause",
                                           "new",         "missing"};

[[noreturn]] void bad(const std::string& origin, const std::string& what) {
  throw InputError(origin + ": policy " + what);
}

GateAction parse_action(const json& v, const std::string& origin, const std::string& key) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "fail") return GateAction::kFail;
    if (s == "warn") return GateAction::kWarn;
    if (s == "ignore") return GateAction::kIgnore;
  }
  bad(origin, "'" + key + "' must be \"fail\", \"warn\" or \"ignore\"");
}

// A positive number, or null to switch the rule off.
std::optional<double> parse_optional_positive(const json& v, const std::string& origin,
                                              const std::string& key) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_number() || !(v.get<double>() > 0))
    bad(origin, "'" + key + "' must be a positive number or null");
  return v.get<double>();
}

void validate_fields(const json& fields, const std::string& origin) {
  for (const auto& [key, value] : fields.items()) {
    if (!kRuleFields.count(key)) bad(origin, "has an unknown field '" + key + "'");
  }
}

void apply_fields(const json& f, const std::string& origin, GateRuleSettings& s) {
  for (const auto& [key, v] : f.items()) {
    if (key == "bitwise") {
      if (v.is_boolean())
        s.bitwise = v.get<bool>() ? "always" : "off";
      else if (v.is_string() && (v == "baseline" || v == "always" || v == "off"))
        s.bitwise = v.get<std::string>();
      else
        bad(origin, "'bitwise' must be \"baseline\", \"always\", \"off\" or a boolean");
    } else if (key == "max_dev_factor") {
      s.max_dev_factor = parse_optional_positive(v, origin, key);
      if (s.max_dev_factor && *s.max_dev_factor < 1) bad(origin, "'max_dev_factor' must be >= 1");
    } else if (key == "deviation") {
      if (!(v.is_string() && (v == "abs" || v == "rel" || v == "ulp")))
        bad(origin, "'deviation' must be \"abs\", \"rel\" or \"ulp\"");
      s.deviation = v.get<std::string>();
    } else if (key == "rate_margin") {
      if (v.is_null())
        s.rate_margin.reset();
      else if (!v.is_number() || v.get<double>() < 0 || v.get<double>() >= 1)
        bad(origin, "'rate_margin' must be in [0, 1) or null");
      else
        s.rate_margin = v.get<double>();
    } else if (key == "max_failure_rate") {
      s.max_failure_rate = parse_optional_positive(v, origin, key);
      if (s.max_failure_rate && *s.max_failure_rate > 1)
        bad(origin, "'max_failure_rate' must be <= 1");
    } else if (key == "new_cause") {
      s.new_cause = parse_action(v, origin, key);
    } else if (key == "new") {
      s.new_target = parse_action(v, origin, key);
    } else if (key == "missing") {
      s.missing = parse_action(v, origin, key);
    } else {
      bad(origin, "has an unknown field '" + key + "'");
    }
  }
}

bool glob(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

}  // namespace

GateRuleSettings GatePolicy::settings_for(const std::string& target,
                                          const std::string& setting) const {
  GateRuleSettings s = defaults;
  for (const auto& rule : rules)
    if (glob(rule.match, target) && glob(rule.setting, setting))
      apply_fields(rule.fields, "rule", s);
  return s;
}

GatePolicy parse_gate_policy(const json& j, const std::string& origin) {
  if (!j.is_object()) bad(origin, "must be a JSON object");
  GatePolicy policy;
  policy.source = j;
  for (const auto& [key, v] : j.items()) {
    if (key == "schema") {
      if (v != kGatePolicySchema)
        bad(origin, "schema must be \"" + std::string(kGatePolicySchema) + "\"");
    } else if (key == "description") {
      // free text for people
    } else if (key == "alpha") {
      if (!v.is_number() || !(v.get<double>() > 0 && v.get<double>() < 0.5))
        bad(origin, "'alpha' must be in (0, 0.5)");
      policy.alpha = v.get<double>();
    } else if (key == "confidence") {
      if (!v.is_number() || !(v.get<double>() > 0 && v.get<double>() < 1))
        bad(origin, "'confidence' must be in (0, 1)");
      policy.confidence = v.get<double>();
    } else if (key == "defaults") {
      if (!v.is_object()) bad(origin, "'defaults' must be an object");
      validate_fields(v, origin);
      apply_fields(v, origin, policy.defaults);
    } else if (key == "rules") {
      if (!v.is_array()) bad(origin, "'rules' must be an array");
      for (const auto& r : v) {
        if (!r.is_object()) bad(origin, "rules must be objects");
        GateRule rule;
        json fields = r;
        for (const char* k : {"match", "probe", "test"}) {
          if (!fields.contains(k)) continue;
          if (!fields[k].is_string()) bad(origin, std::string("rule '") + k + "' must be a string");
          rule.match = fields[k].get<std::string>();
          fields.erase(k);
        }
        if (fields.contains("setting")) {
          if (!fields["setting"].is_string()) bad(origin, "rule 'setting' must be a string");
          rule.setting = fields["setting"].get<std::string>();
          fields.erase("setting");
        }
        validate_fields(fields, origin);
        GateRuleSettings check;
        apply_fields(fields, origin, check);  // reject bad values now, not at lookup time
        rule.fields = fields;
        policy.rules.push_back(rule);
      }
    } else {
      bad(origin, "has an unknown field '" + key + "'");
    }
  }
  return policy;
}

GatePolicy load_gate_policy(const std::string& path) {
  json j = json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw InputError(path + ": policy is not a JSON document");
  return parse_gate_policy(j, path);
}

}  // namespace flakescope
