#include "cli/audit_output.h"

#include "audit/capture_analysis.h"
#include "cli/report_output.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "report/assertion_section.h"
#include "report/reporters.h"
#include "stats/recommend.h"

namespace flakescope::cli {

model::Report write_audit_report(const audit::AuditReportInputs& in,
                                 const std::vector<audit::RunRecord>& records, bool capture,
                                 const std::string& out_path, std::ostream& out,
                                 const std::function<void(model::Report&)>& amend) {
  model::Report report = audit::build_audit_report(in, records);
  if (capture) {
    stats::ToleranceOptions t;
    t.target = in.target;
    t.confidence = in.confidence;
    report.audit.assertions = analyze_record_captures(records, t);
    annotate_test_causes(report.audit);
    hold_repeat_dependent_sites(report.audit);
    note_checks_a_failure_hid(report.audit);
  }
  if (amend) amend(report);  // sections of one caller, e.g. merge's per-environment rates
  write_file_atomic(
      out_path,
      model::to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");

  // The terminal reporter, as `flakescope report AUDIT.json --format terminal` prints it.
  RenderOptions render;
  render.color = wants_color(out);
  out << render_report(report, ReportFormat::kTerminal, render);
  return report;
}

}  // namespace flakescope::cli
