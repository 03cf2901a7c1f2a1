// Assertion capture analysis (see include/flakescope/capture_analysis.h).
#include "flakescope/capture_analysis.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "audit/assertion_rewrite.h"
#include "flakescope/dtype.h"
#include "flakescope/error.h"
#include "flakescope/report.h"
#include "flakescope/stats/rates.h"
#include "flakescope/stats/recommend.h"

namespace flakescope {
namespace {

namespace ci = capture_internal;
constexpr double kInf = std::numeric_limits<double>::infinity();

// The worst of one site's calls within one trial.
struct TrialSample {
  double atol_needed = 0;
  double max_abs = 0;
  double max_rel = 0;
  bool measured = false;  // at least one call carried the measurements
  bool failed = false;
  bool nonfinite_mismatch = false;
};

struct SiteAccumulator {
  nlohmann::json first_call;  // api, name, dtype, shape come from here
  std::size_t calls = 0;
  std::size_t unmeasured_calls = 0;  // the plugin recorded {"error": ...} instead
  std::map<std::pair<double, double>, std::size_t> arguments;     // (rtol, atol) -> calls
  std::map<std::pair<long long, long long>, TrialSample> trials;  // (run, repeat) -> worst call
};

// A sample value: "inf"/"-inf" strings and null (a NaN the plugin could not write) mean the run
// could not be compared, which no tolerance fixes: +inf.
double sample_value(const nlohmann::json& line, const char* key) {
  if (!line.contains(key)) return kInf;
  const double v = number_from_json(line[key]);
  if (std::isnan(v)) return kInf;
  return std::max(0.0, v);
}

long long integer_or(const nlohmann::json& j, const char* key, long long fallback) {
  if (j.is_object() && j.contains(key) && j[key].is_number_integer()) {
    return j[key].get<long long>();
  }
  return fallback;
}

void add_call(SiteAccumulator& site, const nlohmann::json& line, long long run) {
  if (site.calls == 0) site.first_call = line;
  ++site.calls;
  TrialSample& trial = site.trials[{run, integer_or(line, "repeat", 0)}];
  const bool passed =
      line.contains("passed") && line["passed"].is_boolean() ? line["passed"].get<bool>() : false;
  trial.failed = trial.failed || !passed;
  if (line.contains("error") || !line.contains("atol_needed")) {
    ++site.unmeasured_calls;
    return;
  }
  if (line.contains("rtol") && line.contains("atol") && line["rtol"].is_number() &&
      line["atol"].is_number()) {
    ++site.arguments[{line["rtol"].get<double>(), line["atol"].get<double>()}];
  }
  trial.measured = true;
  trial.atol_needed = std::max(trial.atol_needed, sample_value(line, "atol_needed"));
  trial.max_abs = std::max(trial.max_abs, sample_value(line, "max_abs"));
  trial.max_rel = std::max(trial.max_rel, sample_value(line, "max_rel"));
  if (line.value("nonfinite_mismatch", false)) trial.nonfinite_mismatch = true;
}

nlohmann::json interval(const stats::Interval& i) {
  return {i.lower, i.upper};
}

std::string format_target(double target) {
  const double exponent = std::round(std::log10(target));
  if (std::abs(target - std::pow(10.0, exponent)) <= 1e-12 * target) {
    return "1e" + std::to_string(static_cast<int>(exponent));
  }
  return ci::format_tolerance(target);
}

std::string format_confidence(double confidence) {
  return ci::format_tolerance(std::round(confidence * 1e6) / 1e4) + "%";
}

std::pair<std::string, std::size_t> split_site(const std::string& site) {
  const auto colon = site.rfind(':');
  if (colon == std::string::npos || colon + 1 == site.size()) return {site, 0};
  const std::string digits = site.substr(colon + 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos) return {site, 0};
  return {site.substr(0, colon), static_cast<std::size_t>(std::stoull(digits))};
}

// Line `number` (1-based) of `path`, or nullopt.
std::optional<std::string> read_source_line(const std::string& path, std::size_t number) {
  if (number == 0) return std::nullopt;
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string line;
  for (std::size_t i = 1; std::getline(in, line); ++i) {
    if (i == number) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
  }
  return std::nullopt;
}

std::string source_path(const std::string& root, const std::string& file) {
  if (file.empty() || file[0] == '/' || root.empty()) return file;
  return root.back() == '/' ? root + file : root + "/" + file;
}

// Fills "suggestion" and "diff" from the recommendation.
void suggest(nlohmann::json& entry, const std::string& api, const std::string& file,
             std::size_t line_number, const CaptureAnalysisOptions& capture_options,
             const stats::ToleranceOptions& options) {
  entry["diff"] = nullptr;
  const nlohmann::json& rec = entry["recommendation"];
  const std::string keeps = " keeps failures <= " + format_target(options.target) + " at " +
                            format_confidence(options.confidence);
  std::string retry_text;
  if (!entry["retries"].is_null()) {
    const auto k = entry["retries"].get<std::size_t>();
    retry_text = k == 0 ? ""
                        : "; or keep the arguments and retry up to " + std::to_string(k) +
                              (k == 1 ? " time" : " times");
  }
  if (rec["atol"].is_null()) {
    entry["suggestion"] = "no tolerance can be recommended from " +
                          std::to_string(entry["trials"].get<std::size_t>()) +
                          " trials: " + rec.value("reason", std::string("no bound")) + retry_text;
    return;
  }
  const double rtol = rec["rtol"].get<double>();
  const double atol = rec["atol"].get<double>();
  if (rec["action"] == "keep") {
    entry["suggestion"] =
        "the current arguments (rtol=" + ci::format_tolerance(entry["rtol"].get<double>()) +
        ", atol=" + ci::format_tolerance(entry["atol"].get<double>()) + ")" + keeps +
        " (atol=" + ci::format_tolerance(atol) + " would suffice)";
    return;
  }
  const auto source = read_source_line(source_path(capture_options.source_root, file), line_number);
  std::optional<ci::AssertionCall> call;
  if (source) call = ci::find_assertion_call(*source, api);
  if (!call) {
    entry["suggestion"] = "`" + ci::canonical_call(api, rtol, atol) + "`" + keeps + retry_text;
    return;
  }
  const std::string new_call = ci::rewrite_call(*call, api, rtol, atol);
  const std::string new_line =
      source->substr(0, call->begin) + new_call + source->substr(call->end);
  entry["suggestion"] = "`" + new_call + "`" + keeps + retry_text;
  entry["diff"] = ci::one_line_diff(file, line_number, *source, new_line);
}

// The "recommendation" object: atol from the statistics engine's pair rule at the current rtol.
nlohmann::json recommendation(const SiteAccumulator& site, const std::vector<TrialSample>& trials,
                              double current_rtol, double current_atol,
                              const stats::ToleranceOptions& options) {
  stats::DeviationSeries series;
  for (const TrialSample& t : trials) {
    if (!t.measured) continue;
    series.abs.push_back(t.max_abs);
    series.rel.push_back(t.max_rel);
    series.atol_at_rtol.push_back(t.atol_needed);
  }
  series.rtol_for_margin = current_rtol;
  if (site.first_call.contains("dtype") && site.first_call["dtype"].is_string()) {
    series.dtype = parse_dtype(site.first_call["dtype"].get<std::string>());
  }
  nlohmann::json rec = {{"rtol", current_rtol},
                        {"atol", nullptr},
                        {"target", options.target},
                        {"confidence", options.confidence},
                        {"action", "none"}};
  if (series.atol_at_rtol.empty()) {
    rec["method"] = "none";
    rec["reason"] = "no call at this site carried measurements";
    return rec;
  }
  try {
    const stats::Recommendation r = stats::recommend(series, options);
    rec["details"] = stats::to_json(r);
    const stats::TailBound& pair = *r.pair_atol;
    rec["method"] = pair.method;
    rec["reason"] = pair.reason;
    rec["runs_needed"] = pair.runs_needed;
    if (pair.has_bound && std::isfinite(pair.bound)) {
      const double atol = ci::round_up_two_digits(pair.bound);
      rec["atol"] = atol;
      rec["atol_bound"] = pair.bound;
      rec["action"] = pair.bound <= current_atol ? "keep" : "loosen";
    }
  } catch (const InputError& e) {
    rec["method"] = "none";
    rec["reason"] = e.what();
  }
  return rec;
}

nlohmann::json analyze_site(const std::string& test, const std::string& site_name,
                            const SiteAccumulator& site, const stats::ToleranceOptions& options,
                            const CaptureAnalysisOptions& capture_options) {
  const auto [file, line_number] = split_site(site_name);
  const nlohmann::json& first = site.first_call;
  const std::string api = first.value("api", std::string());
  nlohmann::json entry = {{"test", test},
                          {"site", site_name},
                          {"file", file},
                          {"line", line_number},
                          {"api", api},
                          {"name", first.value("name", nlohmann::json())},
                          {"dtype", first.value("dtype", nlohmann::json())},
                          {"shape", first.value("shape", nlohmann::json())},
                          {"calls", site.calls},
                          {"unmeasured_calls", site.unmeasured_calls},
                          {"trials", site.trials.size()}};
  // The arguments in force: the most frequent pair (a site called with several is flagged).
  double rtol = 0;
  double atol = 0;
  std::size_t best = 0;
  for (const auto& [pair, count] : site.arguments) {
    if (count > best) std::tie(rtol, atol, best) = std::tuple(pair.first, pair.second, count);
  }
  entry["rtol"] = rtol;
  entry["atol"] = atol;
  entry["mixed_arguments"] = site.arguments.size() > 1;

  std::vector<TrialSample> trials;
  nlohmann::json atol_needed = nlohmann::json::array();
  nlohmann::json max_abs = nlohmann::json::array();
  nlohmann::json max_rel = nlohmann::json::array();
  std::size_t failures = 0;
  std::size_t nonfinite = 0;
  for (const auto& [key, trial] : site.trials) {
    trials.push_back(trial);
    failures += trial.failed ? 1 : 0;
    nonfinite += trial.nonfinite_mismatch ? 1 : 0;
    if (!trial.measured) continue;
    atol_needed.push_back(json_number(trial.atol_needed));
    max_abs.push_back(json_number(trial.max_abs));
    max_rel.push_back(json_number(trial.max_rel));
  }
  entry["samples"] = {{"atol_needed", atol_needed}, {"max_abs", max_abs}, {"max_rel", max_rel}};
  entry["nonfinite_mismatches"] = nonfinite;

  const stats::RateEstimate rate =
      stats::estimate_rate(failures, trials.size(), options.confidence);
  entry["failure_rate"] = {{"failures", failures},
                           {"trials", trials.size()},
                           {"point", rate.point},
                           {"wilson", interval(rate.wilson)},
                           {"clopper_pearson", interval(rate.clopper_pearson)},
                           {"upper_one_sided", rate.upper_one_sided},
                           {"confidence", options.confidence}};
  const std::size_t retries = stats::retries_needed(rate.upper_one_sided, options.target);
  entry["retries"] = retries == std::numeric_limits<std::size_t>::max() ? nlohmann::json(nullptr)
                                                                        : nlohmann::json(retries);
  entry["recommendation"] = recommendation(site, trials, rtol, atol, options);
  suggest(entry, api, file, line_number, capture_options, options);
  return entry;
}

}  // namespace

nlohmann::json analyze_captures(const std::vector<nlohmann::json>& run_records,
                                const stats::ToleranceOptions& options) {
  return analyze_captures(run_records, options, CaptureAnalysisOptions{});
}

nlohmann::json analyze_captures(const std::vector<nlohmann::json>& run_records,
                                const stats::ToleranceOptions& options,
                                const CaptureAnalysisOptions& capture_options) {
  std::map<std::pair<std::string, std::string>, SiteAccumulator> sites;
  std::size_t dropped = 0;
  for (std::size_t index = 0; index < run_records.size(); ++index) {
    const nlohmann::json& record = run_records[index];
    if (!record.is_object() || !record.contains("captures") || !record["captures"].is_array()) {
      continue;
    }
    const long long run = integer_or(record, "run", static_cast<long long>(index));
    for (const nlohmann::json& line : record["captures"]) {
      if (!line.is_object() || !line.contains("site") || !line["site"].is_string()) {
        ++dropped;
        continue;
      }
      const std::string test = line.contains("test") && line["test"].is_string()
                                   ? line["test"].get<std::string>()
                                   : std::string();
      add_call(sites[{test, line["site"].get<std::string>()}], line, run);
    }
  }
  nlohmann::json assertions = nlohmann::json::array();
  for (const auto& [key, site] : sites) {
    assertions.push_back(analyze_site(key.first, key.second, site, options, capture_options));
  }
  std::stable_sort(
      assertions.begin(), assertions.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
        return a["failure_rate"]["point"].get<double>() > b["failure_rate"]["point"].get<double>();
      });
  if (dropped > 0) {
    // Lines naming no site cannot be attributed; the count goes on every entry's evidence.
    for (auto& entry : assertions) entry["dropped_captures"] = dropped;
  }
  return assertions;
}

CaptureFile read_capture_file(const std::string& path) {
  CaptureFile result;
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    if (errno == ENOENT) return result;  // the target made no assertion call
    throw InputError(path + ": cannot read the capture file: " + std::strerror(errno));
  }
  std::fclose(file);
  if (std::filesystem::is_directory(path)) {
    throw InputError(path + ": cannot read the capture file: it is a directory");
  }
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      result.captures.push_back(std::move(j));
    } else {
      ++result.malformed_lines;
    }
  }
  return result;
}

}  // namespace flakescope
