#pragma once
// Reading a JSON object field by field into the report model (include/flakescope/report_model.h):
// each read removes the key from `rest`, so what is left is the object's unmodelled fields, kept
// in the model's `extra` and written back unchanged. Types were checked by the schema; a field of
// the wrong type here is an InputError naming its path.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flakescope::core {

class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::string path);

  bool has(const char* key) const { return rest_.contains(key); }
  std::optional<std::string> opt_string(const char* key);
  std::string string(const char* key, const std::string& fallback = "");
  // A string that may be written as null (absent and null both read as nullopt).
  std::optional<std::string> nullable_string(const char* key);
  std::optional<long> opt_integer(const char* key);
  long integer(const char* key, long fallback = 0);
  // Numbers as the report writes them: finite, "inf"/"-inf", or null (NaN).
  std::optional<double> opt_number(const char* key);
  double number(const char* key, double fallback = 0);
  // A number that may be written as null for "none" (absent and null both read as nullopt).
  std::optional<double> nullable_number(const char* key);
  bool boolean(const char* key, bool fallback = false);
  std::vector<std::string> strings(const char* key);
  std::vector<double> numbers(const char* key);
  // An object of integers ({"pass": 3, "fail": 1}); empty when absent or null.
  std::map<std::string, long> counts(const char* key);
  nlohmann::json take(const char* key, nlohmann::json fallback = nullptr);
  std::string child(const char* key) const { return path_ + "/" + key; }

  // The fields not read (an object).
  const nlohmann::json& rest() const { return rest_; }

 private:
  [[noreturn]] void wrong(const char* key, const char* expected) const;
  nlohmann::json rest_;
  std::string path_;
};

// The number, or null for nullopt (the writing side of FieldReader::nullable_number).
nlohmann::json nullable_number(const std::optional<double>& v);

// Writes `extra`'s fields into `j` (the unmodelled fields read by FieldReader).
void merge_extra(nlohmann::json& j, const nlohmann::json& extra);

}  // namespace flakescope::core
