#pragma once
// Hand-built reports for the reporter and gate tests, and golden-text matching with placeholders.
#include <cmath>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/report.h"

namespace flakescope::testing {

using nlohmann::json;

// One output's metrics from explicit per-run deviation samples (run 0 is the reference, so
// `abs` has runs - 1 values; a zero sample is a run bitwise equal to the first).
inline json metrics_from_samples(const std::vector<double>& abs) {
  const long runs = static_cast<long>(abs.size()) + 1;
  long identical = 1;
  double max_abs = 0;
  std::vector<double> distinct;
  for (double v : abs) {
    if (v == 0)
      ++identical;
    else if (std::find(distinct.begin(), distinct.end(), v) == distinct.end())
      distinct.push_back(v);
    max_abs = std::max(max_abs, v);
  }
  json ulp = json::array(), rel = json::array();
  for (double v : abs) ulp.push_back(std::round(v / 1e-7)), rel.push_back(v / 10);
  return {{"dtype", "float32"},
          {"shape", {1}},
          {"runs", runs},
          {"bitwise_identical_runs", identical},
          {"identical_to_first", double(identical) / runs},
          {"distinct_outputs", 1 + distinct.size()},
          {"distinct_outputs_capped", false},
          {"max_abs_dev", max_abs},
          {"max_rel_dev", max_abs / 10},
          {"max_ulp", std::round(max_abs / 1e-7)},
          {"samples", {{"abs", abs}, {"rel", rel}, {"ulp", ulp}, {"atol_at_rtol", abs}}}};
}

inline json setting(const std::string& name, const std::vector<double>& abs) {
  bool moves = false;
  for (double v : abs) moves = moves || v != 0;
  return {{"setting", name},
          {"runs", abs.size() + 1},
          {"verdict", moves ? "nondeterministic" : "bitwise-deterministic"},
          {"duration_seconds", 0.5},
          {"metrics", {{"out", metrics_from_samples(abs)}}}};
}

inline json probe(const std::string& name, std::vector<json> settings,
                  std::vector<std::string> causes = {}, const std::string& summary = "") {
  return {{"name", name},
          {"description", "hand-built probe " + name},
          {"device", "cpu"},
          {"outputs", {"out"}},
          {"settings", settings},
          {"diagnosis", {{"causes", causes}, {"summary", summary}, {"fixes", json::array()}}}};
}

inline json probe_report(std::vector<json> probes) {
  json r = {{"schema", "flakescope.report/1"},
            {"kind", "probe"},
            {"tool", {{"name", "flakescope"}, {"version", "0.1.0"}}},
            {"created", "2026-11-25T21:04:05Z"},
            {"machine", {{"cpu", "test cpu"}, {"hardware_threads", 2}, {"arch", "x86_64"}}},
            {"libtorch", {{"version", "1.13.1"}, {"cuda", false}}},
            {"command", {"flakescope", "probe"}},
            {"partial", false},
            {"config", json::object()}};
  r["probes"] = probes;
  return r;
}

// An audited test in the audit engine's shape: counts per outcome, the timeline as letters.
inline json audit_test(const std::string& name, const std::string& classification,
                       const std::vector<std::string>& outcomes,
                       const std::string& setting = "controlled") {
  long failures = 0;
  json timeline = json::array();
  json counts = {{"pass", 0}, {"fail", 0}, {"error", 0}};
  for (const auto& o : outcomes) {
    failures += o != "pass";
    counts[o] = counts.value(o, 0) + 1;
    timeline.push_back(o == "pass" ? "P" : o == "fail" ? "F" : "E");
  }
  const double n = static_cast<double>(outcomes.size());
  return {{"name", name},
          {"setting", setting},
          {"classification", classification},
          {"runs", outcomes.size()},
          {"failures", failures},
          {"outcomes", counts},
          {"failure_rate",
           {{"failures", failures},
            {"trials", outcomes.size()},
            {"point", failures / n},
            {"lower", 0.0},
            {"upper", 0.3}}},
          {"retries_needed", failures ? json(3) : json(0)},
          {"timeline", timeline}};
}

inline json audit_report(std::vector<json> tests) {
  json r = probe_report({});
  r.erase("probes");
  r["kind"] = "audit";
  r["tests"] = tests;
  return r;
}

// n draws of a "racy" deviation: zero with probability p_zero, else |N(0, scale)|.
inline std::vector<double> noisy_samples(std::mt19937_64& rng, int n, double scale,
                                         double p_zero = 0.3) {
  std::normal_distribution<double> normal(0, scale);
  std::bernoulli_distribution zero(p_zero);
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(zero(rng) ? 0.0 : std::fabs(normal(rng)) + 1e-12);
  return out;
}

// Golden comparison: `expected` lines may contain %num (blanks, then a number, "inf" or "n/a")
// and %any (any text); everything else must match exactly.
inline void expect_matches_golden(const std::string& actual, const std::string& expected) {
  std::istringstream a(actual), e(expected);
  std::string al, el;
  int line = 0;
  while (std::getline(e, el)) {
    ++line;
    ASSERT_TRUE(static_cast<bool>(std::getline(a, al))) << "missing line " << line << ": " << el;
    std::string pattern;
    for (std::size_t i = 0; i < el.size();) {
      if (el.compare(i, 4, "%num") == 0) {
        pattern += " *([-+0-9.e]+%?|inf|n/a)";
        i += 4;
      } else if (el.compare(i, 4, "%any") == 0) {
        pattern += ".*";
        i += 4;
      } else {
        const char c = el[i++];
        if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) pattern += '\\';
        pattern += c;
      }
    }
    EXPECT_TRUE(std::regex_match(al, std::regex(pattern)))
        << "line " << line << "\n  actual:   '" << al << "'\n  expected: '" << el << "'";
  }
  EXPECT_FALSE(static_cast<bool>(std::getline(a, al))) << "extra line: " << al;
}

}  // namespace flakescope::testing
