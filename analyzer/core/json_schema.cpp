// The schema subset checker (see json_schema.h).
#include "core/json_schema.h"

#include <regex>

#include "flakescope/report_schema_text.h"

namespace flakescope::core {
namespace {

using nlohmann::json;

std::string short_dump(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

bool has_type(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "number") return v.is_number();
  if (type == "integer")
    return v.is_number_integer() || (v.is_number_float() && v.get<double>() == double(v.get<long long>()));
  return true;
}

std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

class Checker {
 public:
  explicit Checker(const json& root) : root_(root) {}

  std::optional<SchemaViolation> check(const json& v, const json& s, const std::string& path) {
    if (s.is_boolean()) {
      if (s.get<bool>()) return std::nullopt;
      return SchemaViolation{path, "is not allowed here"};
    }
    if (!s.is_object()) return std::nullopt;
    if (auto r = check_ref(v, s, path)) return r;
    if (auto r = check_type(v, s, path)) return r;
    if (auto r = check_value(v, s, path)) return r;
    if (v.is_object())
      if (auto r = check_object(v, s, path)) return r;
    if (v.is_array())
      if (auto r = check_array(v, s, path)) return r;
    return check_combinators(v, s, path);
  }

 private:
  std::optional<SchemaViolation> check_ref(const json& v, const json& s, const std::string& path) {
    if (!s.contains("$ref")) return std::nullopt;
    const std::string ref = s["$ref"].get<std::string>();
    const std::string prefix = "#/$defs/";
    if (ref.rfind(prefix, 0) != 0) return std::nullopt;
    const json& defs = root_.at("$defs");
    return check(v, defs.at(ref.substr(prefix.size())), path);
  }

  std::optional<SchemaViolation> check_type(const json& v, const json& s, const std::string& path) {
    if (!s.contains("type")) return std::nullopt;
    std::vector<std::string> types;
    if (s["type"].is_string()) types.push_back(s["type"].get<std::string>());
    else
      for (const auto& t : s["type"]) types.push_back(t.get<std::string>());
    for (const auto& t : types)
      if (has_type(v, t)) return std::nullopt;
    std::string expected;
    for (const auto& t : types) expected += (expected.empty() ? "" : " or ") + t;
    return SchemaViolation{path, "is " + short_dump(v) + ", expected " + expected};
  }

  std::optional<SchemaViolation> check_value(const json& v, const json& s, const std::string& path) {
    if (s.contains("const") && v != s["const"])
      return SchemaViolation{path, "is " + short_dump(v) + ", expected " + short_dump(s["const"])};
    if (s.contains("enum")) {
      bool found = false;
      for (const auto& e : s["enum"]) found = found || v == e;
      if (!found) {
        std::string names;
        for (const auto& e : s["enum"]) names += (names.empty() ? "" : ", ") + e.dump();
        return SchemaViolation{path, "is " + short_dump(v) + ", expected one of " + names};
      }
    }
    if (v.is_number()) {
      const double x = v.get<double>();
      if (s.contains("minimum") && x < s["minimum"].get<double>())
        return SchemaViolation{path, "is " + short_dump(v) + ", below the minimum " + s["minimum"].dump()};
      if (s.contains("maximum") && x > s["maximum"].get<double>())
        return SchemaViolation{path, "is " + short_dump(v) + ", above the maximum " + s["maximum"].dump()};
    }
    if (v.is_string() && s.contains("pattern") &&
        !std::regex_search(v.get<std::string>(), std::regex(s["pattern"].get<std::string>())))
      return SchemaViolation{path, "is " + short_dump(v) + ", not of the form " + s["pattern"].dump()};
    return std::nullopt;
  }

  std::optional<SchemaViolation> check_object(const json& v, const json& s, const std::string& path) {
    if (s.contains("required"))
      for (const auto& key : s["required"])
        if (!v.contains(key.get<std::string>()))
          return SchemaViolation{path + "/" + pointer_token(key.get<std::string>()),
                                 "is missing (\"" + key.get<std::string>() + "\" is required)"};
    const json props = s.value("properties", json::object());
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string child = path + "/" + pointer_token(it.key());
      if (props.contains(it.key())) {
        if (auto r = check(it.value(), props[it.key()], child)) return r;
      } else if (s.contains("additionalProperties")) {
        if (auto r = check(it.value(), s["additionalProperties"], child)) return r;
      }
    }
    return std::nullopt;
  }

  std::optional<SchemaViolation> check_array(const json& v, const json& s, const std::string& path) {
    if (s.contains("minItems") && v.size() < s["minItems"].get<std::size_t>())
      return SchemaViolation{path, "has " + std::to_string(v.size()) + " items, at least " +
                                       s["minItems"].dump() + " expected"};
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<std::size_t>())
      return SchemaViolation{path, "has " + std::to_string(v.size()) + " items, at most " +
                                       s["maxItems"].dump() + " expected"};
    if (s.contains("items"))
      for (std::size_t i = 0; i < v.size(); ++i)
        if (auto r = check(v[i], s["items"], path + "/" + std::to_string(i))) return r;
    return std::nullopt;
  }

  std::optional<SchemaViolation> check_combinators(const json& v, const json& s,
                                                   const std::string& path) {
    if (s.contains("allOf"))
      for (const auto& sub : s["allOf"])
        if (auto r = check(v, sub, path)) return r;
    if (s.contains("if") && !check(v, s["if"], path) && s.contains("then"))
      if (auto r = check(v, s["then"], path)) return r;
    if (s.contains("oneOf")) {
      int matches = 0;
      for (const auto& sub : s["oneOf"]) matches += !check(v, sub, path);
      if (matches != 1)
        return SchemaViolation{path, "is " + short_dump(v) + ", which matches " +
                                         std::to_string(matches) + " of the allowed forms, not one"};
    }
    return std::nullopt;
  }

  const json& root_;
};

}  // namespace

std::optional<SchemaViolation> check_schema(const json& doc, const json& schema) {
  return Checker(schema).check(doc, schema, "");
}

const json& report_schema() {
  static const json schema = json::parse(kReportSchemaText);
  return schema;
}

}  // namespace flakescope::core
