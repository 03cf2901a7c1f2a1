#include "cli/commands.h"
#include "core/report.h"

namespace flakescope::cli {

// The LibTorch-free commands (audit, merge) record the machine but no LibTorch: they run test
// commands, whatever those link. flakescope-torch's probe reports use cli_context_torch.cpp.
nlohmann::json new_cli_report(const std::string& kind, const std::vector<std::string>& argv) {
  return new_report(kind, argv, nlohmann::json::object());
}

}  // namespace flakescope::cli
