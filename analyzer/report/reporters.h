#pragma once
// Reporters: every human- or CI-facing view of a report (probe, audit or gate) is rendered from the
// typed report model (report_model.h) alone, by one class per format, each in its own file in
// analyzer/report/ (google/benchmark's reporters, hyperfine's exporters). A command prints its
// summary through the terminal reporter, so `flakescope report FILE --format terminal` prints
// exactly what the command printed.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "flakescope/report_model.h"

namespace flakescope {

enum class ReportFormat { kTerminal, kMarkdown, kHtml, kJunit, kJson };

// "terminal", "md", "html", "junit", "json"; nullopt for anything else.
std::optional<ReportFormat> parse_report_format(std::string_view name);

struct RenderOptions {
  bool color = false;    // ANSI colors in the terminal format (only when stdout is a terminal)
  bool verbose = false;  // terminal: list the items that are fine too, not only their count
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  // The whole document for one report of any kind. Throws InputError for a report it cannot show.
  virtual std::string render(const model::Report& report) const = 0;
};

std::unique_ptr<Reporter> make_reporter(ReportFormat format, const RenderOptions& options = {});

// make_reporter(format, options)->render(report).
std::string render_report(const model::Report& report, ReportFormat format,
                          const RenderOptions& options = {});
// The same for a report still in JSON form (model::from_json first; InputError when it is no
// report the model can read).
std::string render_report(const nlohmann::json& report, ReportFormat format,
                          const RenderOptions& options = {});

}  // namespace flakescope
