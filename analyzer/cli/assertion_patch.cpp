// The recommendations of an audit report as a patch and as text (see assertion_patch.h).
#include "cli/assertion_patch.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <ostream>
#include <sstream>

#include "core/report.h"
#include "flakescope/error.h"
#include "report/assertion_section.h"
#include "report/reporters.h"

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
  if (minus.rfind("--- ", 0) != 0 || at.rfind("@@ -", 0) != 0 || before.empty() || after.empty() ||
      before[0] != '-' || after[0] != '+') {
    return false;
  }
  *file = minus.substr(4);
  *line = std::strtoull(at.c_str() + 4, nullptr, 10);
  hunk->before = before.substr(1);
  hunk->after = after.substr(1);
  return *line > 0;
}

std::string source_path(const std::string& root, const std::string& file) {
  std::string path = file.rfind("a/", 0) == 0 ? file.substr(2) : file;
  if (!path.empty() && path[0] != '/' && !root.empty()) path = root + "/" + path;
  return path;
}

struct SourceFile {
  std::vector<std::string> lines;
  bool final_newline = true;
};

SourceFile read_lines(const std::string& path) {
  SourceFile f;
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string::npos) {
      f.lines.push_back(text.substr(start));
      f.final_newline = false;
      break;
    }
    f.lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return f;
}

// Unified-diff hunks with three lines of context (git apply refuses context-free hunks) for
// one-line replacements `edits` (1-based line -> new text) of `file`.
std::string hunks_of(const SourceFile& file, const std::map<std::size_t, std::string>& edits) {
  constexpr std::size_t kContext = 3;
  const std::size_t n = file.lines.size();
  std::string out;
  auto emit = [&](char mark, std::size_t line, const std::string& text) {
    out += mark + text + "\n";
    if (line == n && !file.final_newline) out += "\\ No newline at end of file\n";
  };
  auto it = edits.begin();
  while (it != edits.end()) {
    const std::size_t first = it->first > kContext ? it->first - kContext : 1;
    std::size_t last = std::min(n, it->first + kContext);
    auto end = std::next(it);
    while (end != edits.end() && end->first <= last + kContext + 1) {
      last = std::min(n, end->first + kContext);
      ++end;
    }
    const std::string range = std::to_string(first) + "," + std::to_string(last - first + 1);
    out += "@@ -" + range + " +" + range + " @@\n";
    for (std::size_t line = first; line <= last; ++line) {
      const auto edit = edits.find(line);
      if (edit == edits.end()) {
        emit(' ', line, file.lines[line - 1]);
      } else {
        emit('-', line, file.lines[line - 1]);
        emit('+', line, edit->second);
      }
    }
    it = end;
  }
  return out;
}

}  // namespace

AssertionPatch assertion_patch(const std::vector<model::AssertionSite>& sites,
                               const std::string& root) {
  AssertionPatch patch;
  // file -> line -> hunk; a line edited twice (differently) is ambiguous and left out.
  std::map<std::string, std::map<std::size_t, Hunk>> files;
  std::map<std::pair<std::string, std::size_t>, bool> conflicting;
  for (const auto& e : sites) {
    if (!e.diff) continue;
    std::string file;
    std::size_t line = 0;
    Hunk hunk;
    hunk.site = e.site;
    if (!parse_one_line_diff(*e.diff, &file, &line, &hunk)) {
      patch.skipped.push_back(hunk.site + ": its diff is not a one-line diff");
      continue;
    }
    const SourceFile source = read_lines(source_path(root, file));
    if (line > source.lines.size() || source.lines[line - 1] != hunk.before) {
      patch.skipped.push_back(hunk.site + ": the line changed since the audit (re-run it)");
      continue;
    }
    auto [it, fresh] = files[file].try_emplace(line, hunk);
    if (!fresh && it->second.after != hunk.after) conflicting[{file, line}] = true;
  }
  for (auto& [file, hunks] : files) {
    std::map<std::size_t, std::string> edits;
    for (const auto& [line, hunk] : hunks) {
      if (conflicting.count({file, line})) {
        patch.skipped.push_back(hunk.site +
                                ": two argument sets recommend different edits of "
                                "this line; edit it by hand");
        continue;
      }
      edits[line] = hunk.after;
    }
    if (edits.empty()) continue;
    patch.hunks += edits.size();
    const std::string b = file.rfind("a/", 0) == 0 ? "b/" + file.substr(2) : file;
    patch.diff +=
        "--- " + file + "\n+++ " + b + "\n" + hunks_of(read_lines(source_path(root, file)), edits);
  }
  return patch;
}

namespace {

// Whether `path` is a regular file holding a JSON object of kind "audit" (a directory, a samples
// file and the rest are left to the samples reader and its own errors).
bool is_audit_report(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream in(path);
  if (!in) return false;
  char first = 0;
  while (in.get(first) && std::isspace(static_cast<unsigned char>(first))) {
  }
  if (!in || first != '{') return false;
  in.seekg(0);
  const nlohmann::json report = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return report.is_object() && report.value("kind", std::string()) == "audit";
}

nlohmann::json site_summary(const model::AssertionSite& e) {
  const nlohmann::json full = e;
  return {{"site", e.site},
          {"test", e.test},
          {"class", std::string(model::to_string(e.cls))},
          {"rtol", e.rtol},
          {"atol", e.atol},
          {"recommendation", full["recommendation"]},
          {"suggestion", e.suggestion}};
}

}  // namespace

const std::vector<model::AssertionSite>& audit_assertions(const model::Report& report,
                                                          const std::string& path) {
  if (report.kind() != model::ReportKind::kAudit || !report.audit.assertions)
    throw InputError(path + ": not an audit report with assertions (run audit --capture)");
  return *report.audit.assertions;
}

bool print_audit_tolerances(const std::string& path, bool json, std::ostream& out) {
  if (!is_audit_report(path)) return false;
  const model::Report report = model::load_report_model(path);
  const std::vector<model::AssertionSite>& sites = audit_assertions(report, path);
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : sites) list.push_back(site_summary(e));
    out << nlohmann::json({{"source", path}, {"assertions", list}}).dump(2) << "\n";
    return true;
  }
  out << report::assertion_section(sites, ReportFormat::kTerminal);
  // The section collapses fine sites to a count; `tolerance` lists every one.
  for (const auto& e : sites) {
    if (e.needs_action()) continue;
    out << "  " << e.site << "  " << model::to_string(e.recommendation.action) << "  (" << e.test
        << ")\n    " << e.suggestion << "\n";
  }
  return true;
}

}  // namespace flakescope::cli
