// The recommendations of an audit report as a patch and as text (see assertion_patch.h).
#include "cli/assertion_patch.h"

#include <fstream>
#include <map>
#include <ostream>
#include <sstream>

#include "flakescope/error.h"
#include "flakescope/report.h"
#include "flakescope/reporters.h"
#include "report/assertion_section.h"

namespace flakescope::cli {
namespace {

struct Hunk {
  std::string before, after, site;
};

// The "-" and "+" lines of a one-line diff as the capture analysis writes it.
bool parse_one_line_diff(const std::string& diff, std::string* file, std::size_t* line,
                         Hunk* hunk) {
  std::istringstream in(diff);
  std::string minus, plus, at, before, after;
  if (!std::getline(in, minus) || !std::getline(in, plus) || !std::getline(in, at) ||
      !std::getline(in, before) || !std::getline(in, after)) {
    return false;
  }
  if (minus.rfind("--- ", 0) != 0 || at.rfind("@@ -", 0) != 0 || before.empty() ||
      after.empty() || before[0] != '-' || after[0] != '+') {
    return false;
  }
  *file = minus.substr(4);
  *line = std::strtoull(at.c_str() + 4, nullptr, 10);
  hunk->before = before.substr(1);
  hunk->after = after.substr(1);
  return *line > 0;
}

std::string source_line(const std::string& root, const std::string& file, std::size_t number) {
  std::string path = file.rfind("a/", 0) == 0 ? file.substr(2) : file;
  if (!path.empty() && path[0] != '/' && !root.empty()) path = root + "/" + path;
  std::ifstream in(path);
  std::string text;
  for (std::size_t i = 1; std::getline(in, text); ++i) {
    if (i == number) return text;
  }
  return "\x01";  // no such line: never equal to a recorded one
}

}  // namespace

AssertionPatch assertion_patch(const nlohmann::json& report, const std::string& root) {
  AssertionPatch patch;
  // file -> line -> hunk; a line edited twice (differently) is ambiguous and left out.
  std::map<std::string, std::map<std::size_t, Hunk>> files;
  std::map<std::pair<std::string, std::size_t>, bool> conflicting;
  for (const auto& e : report.value("assertions", nlohmann::json::array())) {
    if (!e.is_object() || !e.contains("diff") || !e["diff"].is_string()) continue;
    std::string file;
    std::size_t line = 0;
    Hunk hunk;
    hunk.site = e.value("site", std::string());
    if (!parse_one_line_diff(e["diff"].get<std::string>(), &file, &line, &hunk)) {
      patch.skipped.push_back(hunk.site + ": its diff is not a one-line diff");
      continue;
    }
    if (source_line(root, file, line) != hunk.before) {
      patch.skipped.push_back(hunk.site + ": the line changed since the audit (re-run it)");
      continue;
    }
    auto [it, fresh] = files[file].try_emplace(line, hunk);
    if (!fresh && it->second.after != hunk.after) conflicting[{file, line}] = true;
  }
  for (auto& [file, hunks] : files) {
    std::string section;
    for (const auto& [line, hunk] : hunks) {
      if (conflicting.count({file, line})) {
        patch.skipped.push_back(hunk.site + ": two argument sets recommend different edits of "
                                            "this line; edit it by hand");
        continue;
      }
      const std::string n = std::to_string(line);
      section += "@@ -" + n + " +" + n + " @@\n-" + hunk.before + "\n+" + hunk.after + "\n";
      ++patch.hunks;
    }
    if (section.empty()) continue;
    const std::string b = file.rfind("a/", 0) == 0 ? "b/" + file.substr(2) : file;
    patch.diff += "--- " + file + "\n+++ " + b + "\n" + section;
  }
  return patch;
}

bool print_audit_tolerances(const std::string& path, bool json, std::ostream& out) {
  std::ifstream in(path);
  if (!in) return false;
  const nlohmann::json report = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!report.is_object() || report.value("kind", std::string()) != "audit") return false;
  if (!report.contains("assertions") || !report["assertions"].is_array()) {
    throw InputError(path + ": an audit report without assertions (run audit --capture)");
  }
  if (json) {
    nlohmann::json sites = nlohmann::json::array();
    for (const auto& e : report["assertions"]) {
      sites.push_back({{"site", e.value("site", "")},
                       {"test", e.value("test", "")},
                       {"class", e.value("class", "")},
                       {"rtol", e.value("rtol", nlohmann::json())},
                       {"atol", e.value("atol", nlohmann::json())},
                       {"recommendation", e.value("recommendation", nlohmann::json())},
                       {"suggestion", e.value("suggestion", "")}});
    }
    out << nlohmann::json({{"source", path}, {"assertions", sites}}).dump(2) << "\n";
    return true;
  }
  out << report::assertion_section(report, ReportFormat::kTerminal);
  // The section collapses fine sites to a count; `tolerance` lists every one.
  for (const auto& e : report["assertions"]) {
    if (report::assertion_needs_action(e)) continue;
    out << "  " << e.value("site", "") << "  keep  (" << e.value("test", "") << ")\n    "
        << e.value("suggestion", "") << "\n";
  }
  return true;
}

}  // namespace flakescope::cli
