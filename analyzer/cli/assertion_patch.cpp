// The recommendations of an audit report as a patch and as text (see assertion_patch.h).
#include "cli/assertion_patch.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
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

// Lines [line, line + before.size()) of a file replaced by `after`.
struct Hunk {
  std::vector<std::string> before, after;
  std::string site;
  double atol = 0;     // the recommended atol (or threshold) the edit writes
  bool above = false;  // a threshold the value must stay above: a lower one is looser
};

// The hunk of a diff as the capture analysis writes it: "--- a/F", "+++ b/F", "@@ -N[,K] +N[,M]
// @@", then K "-" lines and M "+" lines (one line, or a call spread over several).
bool parse_site_diff(const std::string& diff, std::string* file, std::size_t* line, Hunk* hunk) {
  std::istringstream in(diff);
  std::string minus, plus, at;
  if (!std::getline(in, minus) || !std::getline(in, plus) || !std::getline(in, at)) return false;
  if (minus.rfind("--- ", 0) != 0 || plus.rfind("+++ ", 0) != 0 || at.rfind("@@ -", 0) != 0)
    return false;
  char* end = nullptr;
  *line = std::strtoull(at.c_str() + 4, &end, 10);
  std::size_t removed = 1, added = 1;
  if (*end == ',') removed = std::strtoull(end + 1, &end, 10);
  const auto plus_at = at.find(" +");
  if (plus_at == std::string::npos) return false;
  const char* after_count = std::strchr(at.c_str() + plus_at + 2, ',');
  if (after_count && after_count < at.c_str() + at.find(" @@"))
    added = std::strtoull(after_count + 1, nullptr, 10);
  std::string text;
  while (std::getline(in, text)) {
    if (!text.empty() && text[0] == '-' && hunk->after.empty())
      hunk->before.push_back(text.substr(1));
    else if (!text.empty() && text[0] == '+')
      hunk->after.push_back(text.substr(1));
    else
      return false;
  }
  *file = minus.substr(4);
  if (*line == 0 || hunk->before.size() != removed || hunk->after.size() != added || removed == 0)
    return false;
  // A call spread over several lines is written whole; the patch keeps only the lines it changes.
  while (hunk->before.size() > 1 && hunk->after.size() > 1 &&
         hunk->before.front() == hunk->after.front()) {
    hunk->before.erase(hunk->before.begin());
    hunk->after.erase(hunk->after.begin());
    ++*line;
  }
  while (hunk->before.size() > 1 && hunk->after.size() > 1 &&
         hunk->before.back() == hunk->after.back()) {
    hunk->before.pop_back();
    hunk->after.pop_back();
  }
  return true;
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

// Unified-diff hunks with three lines of context (git apply refuses context-free hunks) for the
// replacements `edits` (first line, 1-based -> hunk) of `file`, which do not overlap.
std::string hunks_of(const SourceFile& file, const std::map<std::size_t, const Hunk*>& edits) {
  constexpr std::size_t kContext = 3;
  const std::size_t n = file.lines.size();
  std::string out;
  auto emit = [&](char mark, std::size_t line, const std::string& text) {
    out += mark + text + "\n";
    if (line == n && !file.final_newline) out += "\\ No newline at end of file\n";
  };
  const auto last_of = [](const auto& it) { return it->first + it->second->before.size() - 1; };
  auto it = edits.begin();
  while (it != edits.end()) {
    const std::size_t first = it->first > kContext ? it->first - kContext : 1;
    std::size_t last = std::min(n, last_of(it) + kContext);
    auto end = std::next(it);
    while (end != edits.end() && end->first <= last + kContext + 1) {
      last = std::min(n, last_of(end) + kContext);
      ++end;
    }
    std::size_t new_count = last - first + 1;
    for (auto e = it; e != end; ++e)
      new_count = new_count - e->second->before.size() + e->second->after.size();
    const std::size_t old_count = last - first + 1;
    out += "@@ -" + std::to_string(first) + "," + std::to_string(old_count) + " +" +
           std::to_string(first) + "," + std::to_string(new_count) + " @@\n";
    for (std::size_t line = first; line <= last;) {
      const auto edit = edits.find(line);
      if (edit == edits.end()) {
        emit(' ', line, file.lines[line - 1]);
        ++line;
        continue;
      }
      for (const auto& b : edit->second->before) emit('-', line++, b);
      for (const auto& a : edit->second->after) out += "+" + a + "\n";
    }
    it = end;
  }
  return out;
}

// Whether the source still holds the hunk's lines where the audit saw them.
bool source_matches(const SourceFile& source, std::size_t line, const Hunk& hunk) {
  if (line + hunk.before.size() - 1 > source.lines.size()) return false;
  for (std::size_t i = 0; i < hunk.before.size(); ++i)
    if (source.lines[line - 1 + i] != hunk.before[i]) return false;
  return true;
}

// Why a site with advice to change its line has no edit of it, from what its advice says.
std::string why_no_edit(const model::AssertionSite& e) {
  const auto says = [&](const char* text) { return e.suggestion.find(text) != std::string::npos; };
  if (says("the tolerance lives in the helper")) return "the tolerance lives in the helper";
  if (says("a tolerance that is not the compared one"))
    return "the helper does not pass the line's tolerance on as it is";
  if (says(" is given as `")) return "the tolerance is given as a name, not a number";
  if (e.argument_sets_at_site > 1 || e.mixed_arguments)
    return "the line runs with several argument sets";
  if (e.api == "threshold")  // `< concentration * 0.001`: no literal to replace
    return "its threshold is not a number written on that line (a name or an expression): "
           "change it where it is computed";
  return "the call on that line was not recognised";
}

// Why `fix` leaves a site's edit out unless --include-weak, or "" when it does not.
std::string weak_reason(const model::AssertionSite& e) {
  if (e.recommendation.extra.value("lower_bound", std::string()) == "stopped")
    return "in some runs the test stopped before the rest of this line's calls, so the value is "
           "a lower bound of what they needed (apply it by hand and audit again, or pass "
           "--include-weak to write it anyway)";
  if (e.recommendation.extra.value("lower_bound", std::string()) == "loop")
    return "its line is in a loop that stopped at a failing pass in every run, so the value is a "
           "lower bound of what the loop needs (apply it by hand and audit again, or pass "
           "--include-weak to write it anyway)";
  if (e.recommendation.method == "observed maximum")
    return "its value covers the worst of " + std::to_string(e.trials) +
           " runs, no more; a bound at the target needs about " +
           std::to_string(e.recommendation.runs_needed.value_or(0)) +
           " runs (audit with more --runs, or pass --include-weak to write it anyway)";
  if (e.recommendation.extrapolation) {
    // pyro: atol=110 where the worst of 20 runs needed 0.09, a check that can no longer fail.
    char factor[32];
    std::snprintf(factor, sizeof factor, "%.3g", *e.recommendation.extrapolation);
    const bool spreads =
        e.recommendation.extra.value("extrapolation_from", std::string()) == "smallest run";
    return std::string("its value is ") + factor +
           (spreads ? " times as far beyond the smallest run as the largest of "
                    : " times the largest deviation of ") +
           std::to_string(e.trials) +
           " runs, mostly extrapolation (audit with more --runs to tighten it, or pass "
           "--include-weak to write it anyway)";
  }
  return "";
}

// One site's edit, read from its diff and checked against the source.
struct Candidate {
  std::string file;
  std::size_t line = 0;
  Hunk hunk;
  std::string action, weak;  // weak: why it is left out unless --include-weak ("" if it is not)
};

// Whether `a` writes a looser bound than `b` (a lower one for a threshold to stay above).
bool looser(const Hunk& a, const Hunk& b) {
  return a.above ? a.atol < b.atol : a.atol > b.atol;
}

}  // namespace

AssertionPatch assertion_patch(const std::vector<model::AssertionSite>& sites,
                               const std::string& root, bool include_weak) {
  AssertionPatch patch;
  // A definition a negated check reads (it wants the values apart): loosening it for another
  // comparison could make that check fail.
  // definition "file:line" -> (the check, the atol its closest run needed to count as close)
  std::map<std::string, std::pair<std::string, double>> negated_reads;
  for (const auto& e : sites)
    if (e.cls == model::AssertionClass::kNegated && e.extra.contains("tolerance_definition") &&
        e.extra["tolerance_definition"].is_string()) {
      double closest = 0;  // (no sample: nothing shows the separation)
      if (!e.samples.atol_needed.empty())
        closest = *std::min_element(e.samples.atol_needed.begin(), e.samples.atol_needed.end());
      auto& entry = negated_reads[e.extra["tolerance_definition"].get<std::string>()];
      if (entry.first.empty() || closest < entry.second) entry = {e.site, closest};
    }
  // (file, first line) -> the edits of that line, in report order.
  std::map<std::pair<std::string, std::size_t>, std::vector<Candidate>> by_line;
  for (const auto& e : sites) {
    const std::string action(model::to_string(e.recommendation.action));
    if (!e.diff) {
      // Advice to change the line, but no edit of it: say so, or "nothing to change" would hide it.
      const auto act = e.recommendation.action;
      if (act == model::AssertionAction::kLoosen || act == model::AssertionAction::kTighten)
        patch.skipped.push_back(e.site + " (" + action +
                                "): no edit of its line could be written: " + why_no_edit(e) +
                                "; change it by hand as its advice says");
      continue;
    }
    if (e.extra.contains("tolerance_definition") && e.extra["tolerance_definition"].is_string()) {
      // (A site with a definition edits the definition.) Loosened to half of what the negated
      // check's closest run needed to count as close, it still fails there (backpack: 524x).
      const auto reader = negated_reads.find(e.extra["tolerance_definition"].get<std::string>());
      const double loosened = e.recommendation.atol.value_or(0);
      if (reader != negated_reads.end() && !(loosened * 2 <= reader->second.second)) {
        patch.skipped.push_back(e.site + " (" + action + "): its tolerance is defined at " +
                                reader->first + ", which the negated check at " +
                                reader->second.first +
                                " reads too; loosening it there could make that check fail");
        continue;
      }
    }
    Candidate c;
    c.action = action;
    c.weak = include_weak ? "" : weak_reason(e);
    c.hunk.site = e.site;
    c.hunk.atol = e.recommendation.atol.value_or(0);
    c.hunk.above = e.direction.value_or("") == "above";
    if (!parse_site_diff(*e.diff, &c.file, &c.line, &c.hunk)) {
      patch.skipped.push_back(e.site + ": its diff is not one the analysis writes");
      continue;
    }
    const std::string path = source_path(root, c.file);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      patch.skipped.push_back(e.site + ": " + path +
                              " is not a file from here (run fix where the audit ran, or give "
                              "--root the folder the sites are relative to)");
      ++patch.missing_files;
      continue;
    }
    if (!source_matches(read_lines(path), c.line, c.hunk)) {
      patch.skipped.push_back(e.site + ": the line changed since the audit (re-run it)");
      continue;
    }
    by_line[{c.file, c.line}].push_back(std::move(c));
  }
  // One line, several recommendations for the same text: the cases of a parametrized test, the
  // callers of a helper, or the comparisons one helper call reaches. The loosest covers them all,
  // so it decides: when it is weak, a tighter edit of the line would leave the test failing where
  // the loosest was needed (normflows: atol=1.5e-06 written for one of a helper's two
  // comparisons, the other needing 7.8e-06), and the line is left out whole. (A line run with
  // several tolerances has no edit: its values are not literals; one run with several dtypes and
  // the same literals has one edit per dtype.)
  std::map<std::string, std::map<std::size_t, Hunk>> files;
  std::map<std::pair<std::string, std::size_t>, bool> conflicting;
  for (const auto& [where, candidates] : by_line) {
    const Candidate* loosest = &candidates.front();
    for (const Candidate& c : candidates) {
      if (c.hunk.before != loosest->hunk.before) conflicting[where] = true;
      if (c.hunk.after != loosest->hunk.after && looser(c.hunk, loosest->hunk)) loosest = &c;
    }
    if (conflicting.count(where)) {
      files[where.first].try_emplace(where.second, loosest->hunk);
      continue;
    }
    for (const Candidate& c : candidates)  // the same edit backed by a bound is not weak
      if (c.hunk.after == loosest->hunk.after && c.weak.empty()) loosest = &c;
    if (!loosest->weak.empty()) {
      for (const Candidate& c : candidates)
        patch.skipped.push_back(c.hunk.site + " (" + c.action + "): " +
                                (c.hunk.after == loosest->hunk.after
                                     ? loosest->weak
                                     : "the loosest recommendation for the same edited "
                                       "line, which covers this one, is left out: " +
                                           loosest->weak));
      continue;
    }
    files[where.first].emplace(where.second, loosest->hunk);
  }
  for (auto& [file, hunks] : files) {
    std::map<std::size_t, const Hunk*> edits;
    std::size_t covered_to = 0;  // the last line of the previous edit
    for (const auto& [line, hunk] : hunks) {
      if (conflicting.count({file, line}) || line <= covered_to) {
        patch.skipped.push_back(hunk.site +
                                ": two argument sets recommend different edits of "
                                "this line; edit it by hand");
        continue;
      }
      edits[line] = &hunk;
      covered_to = line + hunk.before.size() - 1;
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
bool looks_like_audit_report(const std::string& path) {
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

bool is_audit_report(const std::string& path) {
  return looks_like_audit_report(path);
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
  // (With no site, the audit's section says none was captured and which tests ran without one.)
  std::string section = sites.empty()
                            ? report::assertion_section(report.audit, ReportFormat::kTerminal)
                            : report::assertion_section(sites, ReportFormat::kTerminal);
  if (section.empty()) section = "Assertions: none captured\n";
  if (!section.empty() && section.front() == '\n') section.erase(0, 1);  // (a report's spacing)
  out << section;
  // The section collapses fine sites to a count; `tolerance` lists every one.
  for (const auto& e : sites) {
    if (e.needs_action() || e.at_risk()) continue;  // (listed by the section)
    const bool undecided = e.recommendation.action == model::AssertionAction::kNone;
    out << "  " << report::assertion_site_label(e) << "  "
        << (undecided ? "no bound yet" : model::to_string(e.recommendation.action)) << "  ("
        << e.test << ")\n    " << report::assertion_note(e) << "\n";
  }
  return true;
}

}  // namespace flakescope::cli
