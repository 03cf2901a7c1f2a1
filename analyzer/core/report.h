#pragma once
// The JSON report: flakescope's source of truth. Every renderer (terminal, Markdown, HTML, JUnit),
// the gate, `tolerance` and `merge` read this document; nothing reads the engine's internals.
// The schema is reports/schema/report.schema.json.
#include <cstdint>
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

// The size limit of whole-document inputs (reports, run logs, gate policies): parsing JSON costs a
// multiple of the text, so larger files are refused with one line instead of exhausting memory.
inline constexpr std::uintmax_t kMaxDocumentBytes = std::uintmax_t{512} << 20;

// Throws InputError when `path` is missing, a directory, or a regular file above `limit` bytes
// (`what` names the kind of input in the message).
void check_input_file(const std::string& path, std::uintmax_t limit, const char* what);

// Reads a whole file (at most kMaxDocumentBytes); throws InputError naming the file when it cannot.
std::string read_file(const std::string& path);

// Writes by the safe output-file rules of output_file.h (atomic rename onto a regular file or a new
// path, devices and FIFOs in place, symlinks followed, directories refused, every write checked).
void write_file_atomic(const std::string& path, std::string_view content);

// JSON numbers for doubles that may be infinite or NaN ("inf", "-inf", null), and back.
nlohmann::json json_number(double v);
double number_from_json(const nlohmann::json& j);

}  // namespace flakescope
