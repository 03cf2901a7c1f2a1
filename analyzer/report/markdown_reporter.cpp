// Markdown for a pull-request comment or a CI step summary: verdict first, findings first, short.
#include <sstream>

#include "report/assertion_section.h"
#include "report/format_renderers.h"
#include "report/report_tables.h"
#include "report/sanitize.h"

namespace flakescope::report {
namespace {

// A GitHub comment or step summary holds at most 65,536 characters.
constexpr std::size_t kMaxMarkdown = 65536;

// Cuts `md` at a line boundary so that it and the pointer to the full report fit.
std::string fit_github(std::string md) {
  if (md.size() <= kMaxMarkdown) return md;
  const std::string pointer =
      "\n… truncated to fit a GitHub comment: the full report is the JSON file "
      "(`flakescope report REPORT.json --format html` renders all of it)\n";
  std::size_t cut = md.rfind('\n', kMaxMarkdown - pointer.size());
  if (cut == std::string::npos) cut = kMaxMarkdown - pointer.size();
  // Never end inside a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(md[cut]) & 0xC0) == 0x80) --cut;
  md.resize(cut);
  return md + pointer;
}

// Probes without anything to say are listed in one line, not one table each.
void render_probes(const ReportView& view, std::ostringstream& out) {
  std::vector<std::string> quiet;
  for (const auto& p : view.probes) {
    if (p.severity == Severity::kOk) {
      quiet.push_back(markdown_code(p.name));
      continue;
    }
    out << "### " << (p.severity == Severity::kFinding ? "❌ " : "⚠️ ") << markdown_code(p.name)
        << "\n\n";
    if (!p.diagnosis.empty()) out << sanitize_markdown(p.diagnosis) << "\n\n";
    out << render_markdown_table(probe_settings_table(p)) << "\n";
    for (const auto& fix : p.fixes) out << "- fix: " << sanitize_markdown(fix) << "\n";
    if (!p.fixes.empty()) out << "\n";
  }
  if (!quiet.empty()) {
    out << "Bitwise-deterministic under every setting: ";
    for (std::size_t i = 0; i < quiet.size(); ++i) out << (i ? ", " : "") << quiet[i];
    out << "\n";
  }
}

void render_audit(const ReportView& view, std::ostringstream& out) {
  // In-process repetition changes what a run is (one interpreter, reseeded), so say so.
  if (view.isolation == "inprocess")
    out << "Isolation: in-process (pytest repetitions inside one interpreter per job)\n\n";
  // The tests that need a look first; the ones that are fine go last, folded, so that a long
  // suite's passing rows are what a GitHub comment's size limit cuts, not the assertions.
  std::vector<TestView> shown;
  for (const auto& t : view.tests)
    if (t.severity != Severity::kOk) shown.push_back(t);
  if (!shown.empty())
    out << render_markdown_table(audit_tests_table(shown, view.confidence, view.several_settings));
  const std::size_t fine = view.tests.size() - shown.size();
  if (fine > 0)
    out << (shown.empty() ? "" : "\n") << fine << (fine == 1 ? " test" : " tests")
        << " with nothing to report (listed at the end).\n";
  bool header = false;
  for (const auto& t : view.tests) {
    if (t.severity != Severity::kFinding || t.replay.empty()) continue;
    if (!header) out << "\nReplay a failing run:\n\n";
    header = true;
    out << "- " << markdown_code(t.name) << " (" << t.replay_outcome
        << "): " << markdown_code(t.replay) << "\n";
  }
  if (!view.retries_measured.empty())
    out << "\nRetry decorators, measured one attempt at a time:\n\n";
  for (const auto& r : view.retries_measured)
    out << "- " << markdown_code(r.test) << ": " << markdown_code(r.decorator) << ", "
        << attempts_text(r) << ": " << sanitize_markdown(r.verdict) << "\n";
  header = false;
  for (const auto& t : view.tests) {
    const std::string env = environment_text(t);
    if (env.empty()) continue;
    if (!header)
      out << "\nFailures of the machine or of the controlled setting, not of the test:\n\n";
    header = true;
    out << "- " << markdown_code(t.name) << ": " << sanitize_markdown(env) << "\n";
  }
}

// The tests with nothing to report, folded.
void render_fine_tests(const ReportView& view, std::ostringstream& out) {
  std::vector<TestView> fine;
  for (const auto& t : view.tests)
    if (t.severity == Severity::kOk) fine.push_back(t);
  if (fine.empty()) return;
  out << "\n<details><summary>" << fine.size() << (fine.size() == 1 ? " test" : " tests")
      << " with nothing to report</summary>\n\n"
      << render_markdown_table(audit_tests_table(fine, view.confidence, view.several_settings))
      << "\n</details>\n";
}

void render_gate(const ReportView& view, std::ostringstream& out) {
  if (!view.gate_baseline.empty())
    out << "Baseline: " << markdown_code(view.gate_baseline) << "\n\n";
  const TextTable table = gate_checks_table(view.checks, /*include_passes=*/false);
  if (!table.rows.empty()) out << render_markdown_table(table) << "\n";
  out << passed_checks_line(view.checks)
      << " (all checks: `flakescope report GATE.json --format html`)\n";
}

}  // namespace

std::string MarkdownReporter::render(const model::Report& report) const {
  const ReportView view = make_view(report);
  std::ostringstream out;
  out << "## flakescope " << kind_word(view.kind);
  if (view.kind == model::ReportKind::kGate)
    out << ": " << (view.gate_passed ? "✅ pass" : "❌ FAIL");
  out << "\n\n**" << summary_line(view) << "**";
  if (!view.libtorch.empty()) out << " · LibTorch " << view.libtorch;
  if (!view.created.empty()) out << " · " << view.created;
  out << "\n\n";
  for (const auto& w : view.input_warnings) out << "- ⚠️ " << sanitize_markdown(w) << "\n";
  if (!view.input_warnings.empty()) out << "\n";
  switch (view.kind) {
    case model::ReportKind::kProbe:
      render_probes(view, out);
      break;
    case model::ReportKind::kAudit:
      render_audit(view, out);
      out << assertion_section(report.audit, ReportFormat::kMarkdown);
      render_fine_tests(view, out);
      break;
    case model::ReportKind::kGate:
      render_gate(view, out);
      break;
  }
  return fit_github(out.str());
}

}  // namespace flakescope::report
