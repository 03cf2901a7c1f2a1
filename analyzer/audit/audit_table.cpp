#include "flakescope/audit/audit_table.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

namespace flakescope::audit {
namespace {

std::string cell(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "-";
  return j.dump();
}

std::string rate_text(const nlohmann::json& fr) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f [%.3f, %.3f]", fr.value("point", 0.0),
                fr["clopper_pearson"][0].get<double>(), fr["clopper_pearson"][1].get<double>());
  return buf;
}

}  // namespace

std::string render_audit_table(const nlohmann::json& report) {
  const nlohmann::json tests = report.value("tests", nlohmann::json::array());
  const bool several_settings = report.value("settings", nlohmann::json::array()).size() > 1;
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"TEST", "SETTING", "RUNS", "PASS", "FAIL", "CRASH", "TIMEOUT", "SKIP",
                  "FAIL RATE [95% CP]", "CLASS", "RETRIES"});
  for (const auto& t : tests) {
    const auto& o = t["outcomes"];
    rows.push_back({cell(t["name"]), cell(t["setting"]), cell(t["runs"]),
                    std::to_string(o.value("pass", 0) + o.value("xfail", 0)),
                    std::to_string(o.value("fail", 0) + o.value("error", 0)), cell(o["crash"]),
                    cell(o["timeout"]), cell(o["skip"]), rate_text(t["failure_rate"]),
                    cell(t["classification"]), cell(t["retries"]["k"])});
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::ostringstream out;
  out << "flakescope audit: " << report.value("runs", 0) << " runs"
      << (report.value("partial", false) ? " (PARTIAL: interrupted)" : "") << "\n";
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (i == 1 && !several_settings) continue;
      out << r[i] << std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << "\n";
  }
  out << render_audit_details(report);
  return out.str();
}

std::string render_audit_details(const nlohmann::json& report) {
  const nlohmann::json tests = report.value("tests", nlohmann::json::array());
  const bool several_settings = report.value("settings", nlohmann::json::array()).size() > 1;
  std::ostringstream out;
  // Process isolation is the default and says nothing; in-process repetition changes what a run
  // is, so the summary says so.
  const nlohmann::json config = report.value("config", nlohmann::json::object());
  if (config.is_object() && config.value("isolation", std::string()) == "inprocess")
    out << "isolation: inprocess (" << cell(config.value("jobs", nlohmann::json(1)))
        << " pytest process(es) per setting, each repeating the tests for a block of runs)\n";
  bool header = false;
  std::set<std::string> replayed;
  for (const auto& t : tests) {
    const auto& failing = t["failing_runs"];
    if (failing.empty() || !replayed.insert(cell(t["name"])).second || replayed.size() > 5)
      continue;
    if (!header) out << "\nreplay a failing run:\n";
    header = true;
    out << "  " << cell(t["name"]) << " (" << cell(failing[0]["outcome"])
        << "): " << cell(failing[0]["replay"]) << "\n";
  }
  for (const auto& t : tests) {
    const std::string c = t.value("classification", std::string());
    if (c == "flaky" || c == "crashing" || c == "timing-out")
      out << "  " << cell(t["name"])
          << (several_settings ? " (" + cell(t["setting"]) + ")" : std::string()) << ": "
          << cell(t["retries"]["statement"]) << "\n";
  }
  if (report.contains("ablation")) {
    out << "\nablation (" << cell(report["ablation"]["test"]) << " against all controlled):\n";
    for (const auto& d : report["ablation"]["tests"])
      out << "  " << cell(d["name"]) << ": " << cell(d["summary"]) << "\n";
  }
  return out.str();
}

}  // namespace flakescope::audit
