#include "cli/commands.h"
#include "core/report.h"
#include "engine/probe_runner.h"

namespace flakescope::cli {

nlohmann::json new_cli_report(const std::string& kind, const std::vector<std::string>& argv) {
  return new_report(kind, argv, torch_build_context());
}

}  // namespace flakescope::cli
