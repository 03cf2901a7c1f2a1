// Field-by-field reading of report objects (see json_fields.h).
#include "core/json_fields.h"

#include "core/report.h"
#include "flakescope/error.h"

namespace flakescope::core {

using nlohmann::json;

FieldReader::FieldReader(const json& object, std::string path)
    : rest_(object.is_object() ? object : json::object()), path_(std::move(path)) {
  if (!object.is_object() && !object.is_null())
    throw InputError("field " + (path_.empty() ? std::string("/") : path_) + " is not an object");
}

void FieldReader::wrong(const char* key, const char* expected) const {
  throw InputError("field " + path_ + "/" + key + " is not " + expected);
}

std::optional<std::string> FieldReader::opt_string(const char* key) {
  auto it = rest_.find(key);
  if (it == rest_.end()) return std::nullopt;
  if (!it->is_string()) wrong(key, "a string");
  std::string v = it->get<std::string>();
  rest_.erase(it);
  return v;
}

std::string FieldReader::string(const char* key, const std::string& fallback) {
  return opt_string(key).value_or(fallback);
}

std::optional<std::string> FieldReader::nullable_string(const char* key) {
  auto it = rest_.find(key);
  if (it != rest_.end() && it->is_null()) {
    rest_.erase(it);
    return std::nullopt;
  }
  return opt_string(key);
}

std::optional<long> FieldReader::opt_integer(const char* key) {
  auto it = rest_.find(key);
  if (it == rest_.end()) return std::nullopt;
  if (it->is_null()) {  // e.g. retries.k: no count helps
    rest_.erase(it);
    return std::nullopt;
  }
  if (!it->is_number_integer()) wrong(key, "an integer");
  const long v = it->get<long>();
  rest_.erase(it);
  return v;
}

long FieldReader::integer(const char* key, long fallback) {
  return opt_integer(key).value_or(fallback);
}

std::optional<double> FieldReader::opt_number(const char* key) {
  auto it = rest_.find(key);
  if (it == rest_.end()) return std::nullopt;
  if (!it->is_number() && !it->is_null() && !it->is_string()) wrong(key, "a number");
  const double v = number_from_json(*it);
  rest_.erase(it);
  return v;
}

double FieldReader::number(const char* key, double fallback) {
  return opt_number(key).value_or(fallback);
}

std::optional<double> FieldReader::nullable_number(const char* key) {
  auto it = rest_.find(key);
  if (it != rest_.end() && it->is_null()) {
    rest_.erase(it);
    return std::nullopt;
  }
  return opt_number(key);
}

bool FieldReader::boolean(const char* key, bool fallback) {
  auto it = rest_.find(key);
  if (it == rest_.end()) return fallback;
  if (!it->is_boolean()) wrong(key, "true or false");
  const bool v = it->get<bool>();
  rest_.erase(it);
  return v;
}

std::vector<std::string> FieldReader::strings(const char* key) {
  std::vector<std::string> out;
  auto it = rest_.find(key);
  if (it == rest_.end()) return out;
  if (!it->is_array()) wrong(key, "a list of strings");
  for (const auto& e : *it) {
    if (!e.is_string()) wrong(key, "a list of strings");
    out.push_back(e.get<std::string>());
  }
  rest_.erase(it);
  return out;
}

std::vector<double> FieldReader::numbers(const char* key) {
  std::vector<double> out;
  auto it = rest_.find(key);
  if (it == rest_.end()) return out;
  if (!it->is_array()) wrong(key, "a list of numbers");
  for (const auto& e : *it) out.push_back(number_from_json(e));
  rest_.erase(it);
  return out;
}

std::map<std::string, long> FieldReader::counts(const char* key) {
  std::map<std::string, long> out;
  const json j = take(key);
  if (j.is_null()) return out;
  if (!j.is_object()) wrong(key, "an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number_integer())
      throw InputError("field " + path_ + "/" + key + "/" + it.key() + " is not an integer");
    out[it.key()] = it.value().get<long>();
  }
  return out;
}

json FieldReader::take(const char* key, json fallback) {
  auto it = rest_.find(key);
  if (it == rest_.end()) return fallback;
  json v = std::move(*it);
  rest_.erase(it);
  return v;
}

json nullable_number(const std::optional<double>& v) {
  return v ? json_number(*v) : json(nullptr);
}

void merge_extra(json& j, const json& extra) {
  if (!extra.is_object()) return;
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
}

}  // namespace flakescope::core
