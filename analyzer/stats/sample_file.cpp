// Reading deviation samples from files (see analyzer/stats/sample_file.h).
#include "stats/sample_file.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/report.h"
#include "flakescope/error.h"
#include "flakescope/report_model.h"

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
  const model::Report report = model::load_report_model(path);
  if (report.kind() != model::ReportKind::kProbe)
    throw InputError(path + ": not a probe report (no probes[])");
  std::vector<NamedSeries> out;
  for (const auto& probe : report.probes)
    for (const auto& setting : probe.settings)
      for (const auto& metrics : setting.metrics) {
        if (!metrics.samples) continue;
        const std::string name = probe.name + " / " + setting.setting + " / " + metrics.name;
        try {
          out.push_back({name, series_from_metrics(metrics)});
        } catch (const InputError& e) {
          throw InputError(path + ": " + name + ": " + e.what());
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

namespace {

// Sample files are streamed: memory is the samples (8 bytes each), never a copy of the text.
constexpr std::uintmax_t kMaxSampleFileBytes = std::uintmax_t{4} << 30;
constexpr std::size_t kMaxLineBytes = 1 << 20;

// Lines in a regular file, so the sample vector is allocated once (no doubling: 10 M samples cost
// 80 MB, not up to 3x that while growing).
std::size_t count_lines(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  std::size_t lines = 1;
  char buf[1 << 16];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
    for (const char* p = buf; (p = static_cast<const char*>(std::memchr(p, '\n', buf + n - p)));
         ++p)
      ++lines;
  std::fclose(f);
  return lines;
}

double value_from_json_line(const std::string& t, const std::string& field,
                            const std::string& where, std::string& used) {
  nlohmann::json object = nlohmann::json::parse(t, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) throw InputError(where + ": not a JSON object");
  const nlohmann::json* value = nullptr;
  used = field;
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
  if (!value)
    throw InputError(
        where + ": no field " +
        (field.empty() ? std::string("value, abs or max_abs") : "'" + excerpt(field) + "'"));
  const double v = number_from_json(*value);
  if (std::isnan(v)) throw InputError(where + ": field '" + excerpt(used) + "' is not a number");
  return v;
}

// A flakescope report is one JSON document: pretty-printed (its first line is a lone "{") or
// compact, with "schema" among its first fields. Decided from the head of the file, so that a
// compact 100 MB report is not read (and parsed) whole as a "first line" before it is loaded.
bool looks_like_report(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  const auto first = head.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || head[first] != '{') return false;
  const auto end_of_line = head.find('\n', first);
  if (trim(head.substr(first, end_of_line == std::string::npos ? std::string::npos
                                                               : end_of_line - first)) == "{")
    return true;
  const std::string line = head.substr(
      first, end_of_line == std::string::npos ? std::string::npos : end_of_line - first);
  return line.find("\"schema\"") != std::string::npos;
}

}  // namespace

std::vector<NamedSeries> read_sample_series(const std::string& path, const std::string& field,
                                            std::optional<DType> dtype) {
  check_input_file(path, kMaxSampleFileBytes, "sample files");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open (missing or unreadable)");
  std::string line;
  std::size_t number = 0;
  NamedSeries series;
  series.series.dtype = dtype;
  if (looks_like_report(path)) return from_report(path);
  series.series.abs.reserve(count_lines(path));
  while (std::getline(in, line)) {
    ++number;
    const std::string where = path + ":" + std::to_string(number);
    if (line.size() > kMaxLineBytes) throw InputError(where + ": line longer than 1 MiB");
    const std::string t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    double v = 0;
    if (t.front() == '{') {
      v = value_from_json_line(t, field, where, series.name);
    } else {
      const auto parsed = parse_sample(t);
      if (!parsed) throw InputError(where + ": not a number: '" + excerpt(t) + "'");
      v = *parsed;
      series.name = "values";
    }
    check_sample(v, where);
    series.series.abs.push_back(v);
  }
  if (in.bad()) throw InputError(path + ": read error");
  if (series.series.abs.empty()) throw InputError(path + ": no samples");
  // Moved, not `return {series}`: an initializer list copies, twice (10 M samples: +160 MB).
  std::vector<NamedSeries> out;
  out.push_back(std::move(series));
  return out;
}

}  // namespace flakescope::stats
