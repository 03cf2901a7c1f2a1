// Format names and the dispatch from a report to its renderer (see include/flakescope/reporters.h).
#include "flakescope/reporters.h"

#include "report/format_renderers.h"

namespace flakescope {

std::optional<ReportFormat> parse_report_format(std::string_view name) {
  if (name == "terminal") return ReportFormat::kTerminal;
  if (name == "md" || name == "markdown") return ReportFormat::kMarkdown;
  if (name == "html") return ReportFormat::kHtml;
  if (name == "junit") return ReportFormat::kJunit;
  if (name == "json") return ReportFormat::kJson;
  return std::nullopt;
}

std::string render_report(const nlohmann::json& report, ReportFormat format,
                          const RenderOptions& options) {
  if (format == ReportFormat::kJson) return report.dump(2) + "\n";
  const report::ReportView view = report::make_view(report);
  switch (format) {
    case ReportFormat::kTerminal: return report::render_terminal(view, options);
    case ReportFormat::kMarkdown: return report::render_markdown(view);
    case ReportFormat::kHtml: return report::render_html(view, report);
    case ReportFormat::kJunit: return report::render_junit(view);
    case ReportFormat::kJson: break;
  }
  return report.dump(2) + "\n";
}

}  // namespace flakescope
