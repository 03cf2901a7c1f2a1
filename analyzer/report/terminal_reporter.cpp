// The summary users see after every `probe`, `audit` and `gate`, and `report --format terminal`:
// findings first, items that are fine collapsed to one count line (all of them with --verbose),
// 100 columns, colors only when asked.
#include <set>
#include <sstream>
#include <utility>

#include "report/assertion_section.h"
#include "report/format_renderers.h"
#include "report/report_tables.h"
#include "report/sanitize.h"

namespace flakescope::report {
namespace {

constexpr std::size_t kColumns = 100;

std::string label(Severity s, bool color) {
  switch (s) {
    case Severity::kFinding:
      return paint("FINDING", Tone::kBad, color);
    case Severity::kWarning:
      return paint("WARNING", Tone::kWarn, color);
    case Severity::kNote:
      return paint("varies ", Tone::kWarn, color);
    case Severity::kOk:
      return paint("ok     ", Tone::kGood, color);
  }
  return "";
}

void render_probe(const ProbeView& p, const RenderOptions& o, std::ostringstream& out) {
  out << label(p.severity, o.color) << " " << sanitize_terminal(p.name);
  if (!p.causes.empty()) {
    out << "  (cause:";
    for (const auto& c : p.causes) out << " " << sanitize_terminal(c);
    out << ")";
  }
  out << "\n" << render_aligned(probe_settings_table(p), "    ", o.color);
  for (const auto& s : p.settings)
    if (!s.error.empty())
      out << "    " << sanitize_terminal(s.setting) << ": " << sanitize_terminal(s.error) << "\n";
  if (!p.diagnosis.empty()) out << "    " << sanitize_terminal(p.diagnosis) << "\n";
  for (const auto& fix : p.fixes) out << "    fix: " << sanitize_terminal(fix) << "\n";
}

void render_probes(const ReportView& view, const RenderOptions& o, std::ostringstream& out) {
  std::size_t fine = 0;
  for (const auto& p : view.probes) {
    if (p.severity == Severity::kOk && !o.verbose) {
      ++fine;
      continue;
    }
    render_probe(p, o, out);
  }
  if (fine > 0)
    out << label(Severity::kOk, o.color) << " " << fine << (fine == 1 ? " probe" : " probes")
        << " bitwise-deterministic under every setting (report --verbose lists them)\n";
}

// Retry decorators measured per attempt, with the paste-ready verdict; failures of the machine.
void render_retries_and_environment(const ReportView& view, std::ostringstream& out) {
  if (!view.retries_measured.empty())
    out << "\nretry decorators, measured one attempt at a time:\n";
  for (const auto& r : view.retries_measured)
    out << "  " << sanitize_terminal(r.test)
        << (view.several_settings ? " (" + sanitize_terminal(r.setting) + ")" : std::string())
        << ": " << sanitize_terminal(r.decorator) << ", " << attempts_text(r) << ": "
        << sanitize_terminal(r.verdict) << "\n";
  bool header = false;
  for (const auto& t : view.tests) {
    const std::string env = environment_text(t);
    if (env.empty()) continue;
    if (!header)
      out << "\nfailures of the machine or of the controlled setting, not of the test:\n";
    header = true;
    out << "  " << sanitize_terminal(t.name) << ": " << sanitize_terminal(env) << "\n";
  }
}

// Replay lines, retry advice, the ablation: what a reader of the table needs next.
void render_audit_details(const ReportView& view, std::ostringstream& out) {
  // Process isolation is the default and says nothing; in-process repetition changes what a run
  // is, so the summary says so.
  if (view.isolation == "inprocess")
    out << "isolation: inprocess (" << view.isolation_jobs
        << " pytest process(es) per setting, each repeating the tests for a block of runs)\n";
  std::set<std::string> replayed;
  for (const auto& t : view.tests) {
    // (A repeat-dependent test passes alone in a fresh process: its replay would show nothing.)
    if (t.replay.empty() || t.classification == model::TestClass::kRepeatDependent ||
        replayed.size() >= 5 || !replayed.insert(t.test).second)
      continue;
    if (replayed.size() == 1) out << "\nreplay a failing run:\n";
    out << "  " << sanitize_terminal(t.test) << " (" << t.replay_outcome
        << "): " << sanitize_terminal(t.replay) << "\n";
  }
  for (const auto& t : view.tests)
    if (t.classification == model::TestClass::kRepeatDependent)
      out << "\n"
          << sanitize_terminal(t.test)
          << (view.several_settings ? " (" + t.setting + ")" : std::string()) << ": "
          << sanitize_terminal(t.retries_statement) << "\n";
  bool retries_header = false;
  for (const auto& t : view.tests)
    if (t.severity == Severity::kFinding && !t.retries_statement.empty())
      out << (std::exchange(retries_header, true) ? "" : "\nretries:\n") << "  "
          << sanitize_terminal(t.test)
          << (view.several_settings ? " (" + t.setting + ")" : std::string()) << ": "
          << t.retries_statement << "\n";
  render_retries_and_environment(view, out);
  if (!view.ablation.empty()) {
    out << "\nablation";
    if (!view.ablation_reference.empty())
      out << " (" << view.ablation_reference << " against all controlled)";
    out << ":\n";
    for (const auto& [test, summary] : view.ablation)
      out << "  " << sanitize_terminal(test) << ": " << sanitize_terminal(summary) << "\n";
  } else {
    for (const auto& t : view.tests)
      if (t.severity == Severity::kFinding && !t.cause.empty())
        out << sanitize_terminal(t.name) << ": " << sanitize_terminal(t.cause) << "\n";
  }
}

void render_tests(const ReportView& view, const RenderOptions& o, std::ostringstream& out) {
  std::vector<TestView> shown;
  // The fine ones by what they did: a skipped or xfailed test did not pass.
  std::size_t passed = 0, skipped = 0, xfailed = 0;
  for (const auto& t : view.tests) {
    if (t.severity != Severity::kOk || o.verbose)
      shown.push_back(t);
    else if (t.classification == model::TestClass::kSkipped)
      ++skipped;
    else if (t.classification == model::TestClass::kXfail ||
             t.classification == model::TestClass::kXfailFlaky)
      ++xfailed;
    else
      ++passed;
  }
  if (!shown.empty()) {
    TextTable table = audit_tests_table(shown, view.confidence, view.several_settings);
    fit_width(table, 1, kColumns);
    out << render_aligned(table, "", o.color);
  }
  std::vector<std::string> fine;
  if (passed > 0)
    fine.push_back(std::to_string(passed) + (passed == 1 ? " test" : " tests") +
                   " passed every run");
  if (xfailed > 0) fine.push_back(std::to_string(xfailed) + " xfailed as expected");
  if (skipped > 0) fine.push_back(std::to_string(skipped) + " skipped in every run");
  if (!fine.empty()) {
    out << paint(passed > 0 ? "stable-pass" : "fine", Tone::kGood, o.color) << " ";
    for (std::size_t i = 0; i < fine.size(); ++i) out << (i ? ", " : "") << fine[i];
    out << " (report --verbose lists them)\n";
  }
  render_audit_details(view, out);
}

void render_gate(const ReportView& view, const RenderOptions& o, std::ostringstream& out) {
  if (!view.gate_baseline.empty())
    out << "baseline: " << sanitize_terminal(view.gate_baseline) << "\n";
  const TextTable table = gate_checks_table(view.checks, /*include_passes=*/o.verbose);
  if (!table.rows.empty()) out << render_aligned(table, "", o.color);
  out << passed_checks_line(view.checks) << "\n";
  out << "gate: "
      << paint(view.gate_passed ? "PASS" : "FAIL", view.gate_passed ? Tone::kGood : Tone::kBad,
               o.color)
      << "\n";
}

}  // namespace

std::string TerminalReporter::render(const model::Report& report) const {
  const ReportView view = make_view(report);
  std::ostringstream out;
  out << "flakescope " << kind_word(view.kind) << " report";
  if (view.kind == model::ReportKind::kAudit && view.audit_runs > 0)
    out << " · " << view.audit_runs << " runs";
  if (!view.libtorch.empty()) out << " · LibTorch " << view.libtorch;
  if (!view.created.empty()) out << " · " << view.created;
  out << "\n";
  switch (view.kind) {
    case model::ReportKind::kProbe:
      render_probes(view, options_, out);
      break;
    case model::ReportKind::kAudit:
      render_tests(view, options_, out);
      out << assertion_section(report.audit, ReportFormat::kTerminal);
      break;
    case model::ReportKind::kGate:
      render_gate(view, options_, out);
      break;
  }
  for (const auto& w : view.input_warnings)
    out << label(Severity::kWarning, options_.color) << " " << sanitize_terminal(w) << "\n";
  out << summary_line(view) << "\n";
  return out.str();
}

}  // namespace flakescope::report
