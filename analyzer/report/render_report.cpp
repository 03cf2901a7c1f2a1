// Format names and the choice of reporter (see analyzer/report/reporters.h).
#include "report/reporters.h"

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

std::unique_ptr<Reporter> make_reporter(ReportFormat format, const RenderOptions& options) {
  switch (format) {
    case ReportFormat::kTerminal:
      return std::make_unique<report::TerminalReporter>(options);
    case ReportFormat::kMarkdown:
      return std::make_unique<report::MarkdownReporter>();
    case ReportFormat::kHtml:
      return std::make_unique<report::HtmlReporter>();
    case ReportFormat::kJunit:
      return std::make_unique<report::JunitReporter>();
    case ReportFormat::kJson:
      break;
  }
  return std::make_unique<report::JsonReporter>();
}

std::string render_report(const model::Report& report, ReportFormat format,
                          const RenderOptions& options) {
  return make_reporter(format, options)->render(report);
}

std::string render_report(const nlohmann::json& report, ReportFormat format,
                          const RenderOptions& options) {
  return render_report(model::from_json(report), format, options);
}

namespace report {

std::string JsonReporter::render(const model::Report& report) const {
  return model::to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

}  // namespace report
}  // namespace flakescope
