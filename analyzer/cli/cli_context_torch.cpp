#include "cli/commands.h"
#include "engine/probe_runner.h"
#include "flakescope/report.h"

namespace flakescope::cli {

nlohmann::json new_cli_report(const std::string& kind, const std::vector<std::string>& argv) {
  return new_report(kind, argv, torch_build_context());
}

}  // namespace flakescope::cli
