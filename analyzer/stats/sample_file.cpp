// Reading deviation samples from files (see include/flakescope/stats/sample_file.h).
#include "flakescope/stats/sample_file.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "flakescope/error.h"
#include "flakescope/report.h"

namespace flakescope::stats {
namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

void check_sample(double v, const std::string& where) {
  if (std::isnan(v)) throw InputError(where + ": NaN is not a deviation");
  if (v < 0) throw InputError(where + ": a deviation cannot be negative");
}

std::vector<NamedSeries> from_report(const std::string& path) {
  const nlohmann::json report = load_report(path);
  std::vector<NamedSeries> out;
  if (!report.contains("probes") || !report["probes"].is_array()) {
    throw InputError(path + ": not a probe report (no probes[])");
  }
  for (const auto& probe : report["probes"]) {
    const std::string probe_name = probe.value("name", std::string("?"));
    if (!probe.contains("settings") || !probe["settings"].is_array()) continue;
    for (const auto& setting : probe["settings"]) {
      if (!setting.contains("metrics") || !setting["metrics"].is_object()) continue;
      const std::string setting_name = setting.value("setting", std::string("?"));
      for (const auto& [output, metrics] : setting["metrics"].items()) {
        if (!metrics.is_object() || !metrics.contains("samples")) continue;
        const std::string name = probe_name + " / " + setting_name + " / " + output;
        try {
          out.push_back({name, series_from_metrics(metrics)});
        } catch (const InputError& e) {
          throw InputError(path + ": " + name + ": " + e.what());
        }
      }
    }
  }
  if (out.empty()) throw InputError(path + ": the report holds no deviation samples");
  return out;
}

}  // namespace

std::optional<double> parse_sample(const std::string& text) {
  const std::string t = trim(text);
  if (t == "inf" || t == "+inf" || t == "Infinity") return std::numeric_limits<double>::infinity();
  if (t.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || std::isnan(v)) return std::nullopt;
  if (std::isinf(v) && t.find_first_of("iI") == std::string::npos) return std::nullopt;  // overflow
  return v;
}

std::vector<NamedSeries> read_sample_series(const std::string& path, const std::string& field,
                                            std::optional<DType> dtype) {
  const std::string content = read_file(path);
  std::istringstream lines(content);
  std::string line;
  // A report is one JSON document with a schema string.
  const std::string head = trim(content.substr(0, 4096));
  if (!head.empty() && head.front() == '{') {
    try {
      const auto doc = nlohmann::json::parse(content);
      if (doc.is_object() && doc.contains("schema")) return from_report(path);
    } catch (const nlohmann::json::parse_error&) {
      // Several objects: JSON lines.
    }
  }
  NamedSeries series;
  series.series.dtype = dtype;
  std::size_t number = 0;
  while (std::getline(lines, line)) {
    ++number;
    const std::string t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    const std::string where = path + ":" + std::to_string(number);
    double v = 0;
    if (t.front() == '{') {
      nlohmann::json object;
      try {
        object = nlohmann::json::parse(t);
      } catch (const nlohmann::json::parse_error&) {
        throw InputError(where + ": not a JSON object");
      }
      const nlohmann::json* value = nullptr;
      std::string used = field;
      if (!field.empty()) {
        if (object.contains(field)) value = &object[field];
      } else {
        for (const char* name : {"value", "abs", "max_abs"}) {
          if (object.contains(name)) {
            value = &object[name];
            used = name;
            break;
          }
        }
      }
      if (!value) {
        throw InputError(
            where + ": no field " +
            (field.empty() ? std::string("value, abs or max_abs") : "'" + field + "'"));
      }
      series.name = used;
      v = number_from_json(*value);
      if (std::isnan(v)) throw InputError(where + ": field '" + used + "' is not a number");
    } else {
      const auto parsed = parse_sample(t);
      if (!parsed) throw InputError(where + ": not a number: '" + t + "'");
      v = *parsed;
      series.name = "values";
    }
    check_sample(v, where);
    series.series.abs.push_back(v);
  }
  if (series.series.abs.empty()) throw InputError(path + ": no samples");
  return {series};
}

}  // namespace flakescope::stats
