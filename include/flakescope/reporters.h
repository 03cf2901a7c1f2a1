#pragma once
// Reporters: every human- or CI-facing view of a report (probe, audit or gate) is rendered from the
// JSON report alone. One file per format in analyzer/report/; the terminal and Markdown tables
// share one table model.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace flakescope {

enum class ReportFormat { kTerminal, kMarkdown, kHtml, kJunit, kJson };

// "terminal", "md", "html", "junit", "json"; nullopt for anything else.
std::optional<ReportFormat> parse_report_format(std::string_view name);

struct RenderOptions {
  bool color = false;  // ANSI colors in the terminal format (only when stdout is a terminal)
};

// Renders any report kind ("probe", "audit", "gate"). Throws InputError when the report lacks the
// fields its kind needs. `probe` and `audit` print render_report(report, kTerminal) as their summary.
std::string render_report(const nlohmann::json& report, ReportFormat format,
                          const RenderOptions& options = {});

}  // namespace flakescope
