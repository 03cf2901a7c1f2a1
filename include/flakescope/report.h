#pragma once
// The JSON report: flakescope's source of truth. Every renderer (terminal, Markdown, HTML, JUnit),
// the gate, `tolerance` and `merge` read this document; nothing reads the engine's internals.
// The schema is reports/schema/report.schema.json.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace flakescope {

inline constexpr std::string_view kReportSchema = "flakescope.report/1";

// A new report with schema, kind ("probe", "audit", "gate"), tool version, machine, creation time
// and the command line. `context` (e.g. the LibTorch version, added by the LibTorch-aware CLI) is
// merged in at the top level.
nlohmann::json new_report(std::string_view kind, const std::vector<std::string>& command,
                          const nlohmann::json& context = nlohmann::json::object());

// CPU model, hardware threads, OS.
nlohmann::json machine_info();

// UTC time as "2026-11-25T21:04:05Z".
std::string utc_timestamp();

// Reads a report and checks it is one (schema string, kind). Throws InputError with one line naming
// the file: missing, unreadable, not JSON, or another schema.
nlohmann::json load_report(const std::string& path);

// Reads a whole file; throws InputError naming the file when it cannot.
std::string read_file(const std::string& path);

// Writes via a temporary file in the same folder and rename(2), so a reader never sees half a file
// and an interrupted write leaves the old one. Throws InputError when the folder is not writable.
void write_file_atomic(const std::string& path, std::string_view content);

// JSON numbers for doubles that may be infinite or NaN ("inf", "-inf", null), and back.
nlohmann::json json_number(double v);
double number_from_json(const nlohmann::json& j);

}  // namespace flakescope
