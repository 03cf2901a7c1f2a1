// The summary users see after every `probe`, `audit` and `gate`: findings first, compact, 100
// columns, colors only when asked.
#include <sstream>

#include "report/format_renderers.h"
#include "report/report_tables.h"

namespace flakescope::report {
namespace {

std::string label(Severity s, bool color) {
  switch (s) {
    case Severity::kFinding: return paint("FINDING", Tone::kBad, color);
    case Severity::kWarning: return paint("WARNING", Tone::kWarn, color);
    case Severity::kNote: return paint("varies ", Tone::kWarn, color);
    case Severity::kOk: return paint("ok     ", Tone::kGood, color);
  }
  return "";
}

void render_probes(const ReportView& view, const RenderOptions& o, std::ostringstream& out) {
  for (const auto& p : view.probes) {
    out << label(p.severity, o.color) << " " << p.name;
    if (!p.causes.empty()) {
      out << "  (cause:";
      for (const auto& c : p.causes) out << " " << c;
      out << ")";
    }
    out << "\n" << render_aligned(probe_settings_table(p), "    ", o.color);
    for (const auto& s : p.settings)
      if (!s.error.empty()) out << "    " << s.setting << ": " << s.error << "\n";
    if (!p.diagnosis.empty()) out << "    " << p.diagnosis << "\n";
    for (const auto& fix : p.fixes) out << "    fix: " << fix << "\n";
  }
}

void render_tests(const ReportView& view, const RenderOptions& o, std::ostringstream& out) {
  out << render_aligned(audit_tests_table(view.tests), "", o.color);
  for (const auto& t : view.tests)
    if (t.severity == Severity::kFinding && !t.cause.empty())
      out << t.name << ": " << t.cause << "\n";
}

}  // namespace

std::string render_terminal(const ReportView& view, const RenderOptions& o) {
  std::ostringstream out;
  out << "flakescope " << view.kind << " report";
  if (!view.libtorch.empty()) out << " · LibTorch " << view.libtorch;
  if (!view.created.empty()) out << " · " << view.created;
  out << "\n";
  if (view.kind == "probe") render_probes(view, o, out);
  if (view.kind == "audit") render_tests(view, o, out);
  if (view.kind == "gate") {
    if (!view.gate_baseline.empty()) out << "baseline: " << view.gate_baseline << "\n";
    const TextTable table = gate_checks_table(view.checks, /*include_passes=*/false);
    if (!table.rows.empty()) out << render_aligned(table, "", o.color);
    out << passed_checks_line(view.checks) << "\n";
    const bool passed = view.gate_verdict == "pass";
    out << "gate: " << paint(passed ? "PASS" : "FAIL", passed ? Tone::kGood : Tone::kBad, o.color)
        << "\n";
  }
  out << summary_line(view) << "\n";
  return out.str();
}

}  // namespace flakescope::report
