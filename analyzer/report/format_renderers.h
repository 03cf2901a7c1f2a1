#pragma once
// One renderer per format, each in its own file; render_report() dispatches to them.
#include <string>

#include <nlohmann/json.hpp>

#include "flakescope/reporters.h"
#include "report/report_view.h"

namespace flakescope::report {

std::string render_terminal(const ReportView& view, const RenderOptions& options);
std::string render_markdown(const ReportView& view);
std::string render_junit(const ReportView& view);
// HTML needs the raw samples and recommendations for its plots, so it also gets the report.
std::string render_html(const ReportView& view, const nlohmann::json& report);

}  // namespace flakescope::report
