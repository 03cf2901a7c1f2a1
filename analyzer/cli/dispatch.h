#pragma once
// Subcommand tables and the one place their errors become exit codes. Both executables use it:
// `flakescope` (LibTorch-free: audit, tolerance, gate, report, merge) and `flakescope-torch` (the
// LibTorch engine: list, probe and the probe workers), which `flakescope` execs for those commands.
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace flakescope::cli {

struct Subcommand {
  const char* name;
  int (*run)(const CommandArgs&);  // null: handled by the LibTorch engine executable
  const char* summary;
  bool hidden;
};

// Runs `body`, turning errors into one line on `err` and an exit code: InputError and
// Boost.Program_options errors exit 2 (usage or bad input), anything else exits 3 (internal).
int run_guarded(const std::string& command, const std::function<int()>& body, std::ostream& err);

// The name of the engine executable, looked up beside the running one.
inline constexpr const char* kEngineExecutable = "flakescope-torch";

// Replaces this process with the engine executable for `argv` (argv[0] is kept, so reports record
// the command as the user typed it). Returns only on failure, with exit code 2 and one line on
// `err` naming what is missing.
// After a command: flushes stdout and turns a failed write (a closed pipe, /dev/full) into one
// line on stderr and exit 2, instead of a silent exit 0. Returns `code` when stdout was fine.
int finish_stdout(const std::string& command, int code, std::ostream& err);

int exec_engine(const std::vector<std::string>& argv, std::ostream& err);

}  // namespace flakescope::cli
