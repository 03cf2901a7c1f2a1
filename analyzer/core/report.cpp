#include "core/report.h"

#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "core/json_schema.h"
#include "flakescope/error.h"
#include "flakescope/version.h"

namespace flakescope {

std::string utc_timestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json machine_info() {
  std::string cpu = "unknown";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) cpu = line.substr(line.find_first_not_of(" \t", colon + 1));
      break;
    }
  }
  utsname u{};
  uname(&u);
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return {{"cpu", cpu},
          {"hardware_threads", std::thread::hardware_concurrency()},
          {"os", std::string(u.sysname) + " " + u.release},
          {"arch", std::string(u.machine)},
          {"hostname", std::string(host)}};  // JUnit's testsuite hostname
}

nlohmann::json new_report(std::string_view kind, const std::vector<std::string>& command,
                          const nlohmann::json& context) {
  nlohmann::json r = {
      {"schema", std::string(kReportSchema)},
      {"kind", std::string(kind)},
      {"tool", {{"name", "flakescope"}, {"version", FLAKESCOPE_VERSION}}},
      {"created", utc_timestamp()},
      {"machine", machine_info()},
      {"command", command},
      {"partial", false},
  };
  for (auto it = context.begin(); it != context.end(); ++it) {
    if (it.key() == "machine" && r["machine"].is_object())
      r["machine"].update(it.value());
    else
      r[it.key()] = it.value();
  }
  return r;
}

void check_input_file(const std::string& path, std::uintmax_t limit, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path + ": cannot open (missing or unreadable)");
  if (S_ISDIR(st.st_mode)) throw InputError(path + ": is a directory, not a file");
  if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) > limit)
    throw InputError(path + ": " + std::to_string(st.st_size >> 20) + " MiB is above the " +
                     std::to_string(limit >> 20) + " MiB flakescope reads for " + what);
}

std::string read_file(const std::string& path) {
  check_input_file(path, kMaxDocumentBytes, "reports, run logs and policies");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open (missing or unreadable)");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(path + ": read error");
  return ss.str();
}

nlohmann::json load_report(const std::string& path) {
  // Parsed from the stream: memory is the document, not the document plus a copy of its text.
  check_input_file(path, kMaxDocumentBytes, "reports, run logs and policies");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open (missing or unreadable)");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (in.bad()) throw InputError(path + ": read error");
  if (j.is_discarded()) throw InputError(path + ": not a JSON document");
  if (!j.is_object() || !j.contains("schema") || !j["schema"].is_string())
    throw InputError(path + ": not a flakescope report (no \"schema\" field)");
  const std::string schema = j["schema"].get<std::string>();
  if (schema != kReportSchema)
    throw InputError(path + ": schema '" + schema + "' is not supported (expected '" +
                     std::string(kReportSchema) + "')");
  if (!j.contains("kind") || !j["kind"].is_string())
    throw InputError(path + ": report has no \"kind\"");
  // A hand-edited or foreign file is refused with the field that is wrong, instead of being read
  // with silent defaults by the report model.
  if (auto v = core::check_schema(j, core::report_schema()))
    throw InputError(path + ": field " + (v->path.empty() ? std::string("/") : v->path) + " " +
                     v->message + " (reports/schema/report.schema.json)");
  return j;
}

// write_file_atomic is in output_file.cpp (the safe output-file rules).

nlohmann::json json_number(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

double number_from_json(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace flakescope
