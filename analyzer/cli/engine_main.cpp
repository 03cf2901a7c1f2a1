// flakescope-torch: the LibTorch half of flakescope. `flakescope list|probe` exec it (keeping
// argv[0], so reports show the command as typed), and `probe` runs its workers as
// `flakescope-torch __worker`. Other commands live in the LibTorch-free `flakescope`.
#include <c10/util/Exception.h>

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/dispatch.h"
#include "flakescope/error.h"
#include "flakescope/version.h"

namespace {

using flakescope::cli::CommandArgs;
using flakescope::cli::Subcommand;

const Subcommand kEngineSubcommands[] = {
    {"list", flakescope::cli::cmd_list, "", false},
    {"probe", flakescope::cli::cmd_probe, "", false},
    {"__worker", flakescope::cli::cmd_worker, "", true},
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> all(argv, argv + argc);
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "--version" || cmd == "-V") {
    std::cout << "flakescope-torch " FLAKESCOPE_VERSION << "\n";
    return flakescope::kExitOk;
  }
  for (const auto& c : kEngineSubcommands) {
    if (cmd != c.name) continue;
    CommandArgs args{std::vector<std::string>(all.begin() + 2, all.end()), std::cout, std::cerr,
                     all};
    return flakescope::cli::run_guarded(
        cmd,
        [&] {
          try {
            return c.run(args);
          } catch (const c10::Error& e) {
            // LibTorch's own message without its C++ backtrace.
            throw std::runtime_error(e.what_without_backtrace());
          }
        },
        std::cerr);
  }
  std::cerr << "flakescope-torch: error: '" << cmd
            << "' is not an engine command (list, probe); run it through flakescope\n";
  return flakescope::kExitUsage;
}
