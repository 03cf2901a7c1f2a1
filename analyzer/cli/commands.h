#pragma once
// Subcommands of the `flakescope` CLI. Each lives in its own cmd_<name>.cpp, parses its own
// options (Boost.Program_options) into one options struct, validates at the edge, and returns an
// exit code. Errors propagate as exceptions: flakescope::InputError and Boost.Program_options
// errors become one line on stderr and exit 2 in main(); anything else is exit 3.
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace flakescope::cli {

struct CommandArgs {
  std::vector<std::string> args;  // the arguments after the subcommand name
  std::ostream& out;              // stdout: results, machine-readable output
  std::ostream& err;              // stderr: progress, warnings, errors
  std::vector<std::string> argv;  // the whole command line, for the report's "command"
};

int cmd_list(const CommandArgs& a);
int cmd_probe(const CommandArgs& a);
int cmd_worker(const CommandArgs& a);  // internal: `flakescope __worker ...`
int cmd_audit(const CommandArgs& a);
int cmd_tolerance(const CommandArgs& a);
int cmd_gate(const CommandArgs& a);
int cmd_report(const CommandArgs& a);
int cmd_merge(const CommandArgs& a);
int cmd_fix(const CommandArgs& a);

// A new report header for this build: new_report() plus the LibTorch version and CUDA device
// (implemented in the LibTorch-aware part of the CLI).
nlohmann::json new_cli_report(const std::string& kind, const std::vector<std::string>& argv);

}  // namespace flakescope::cli
