// flakescope: run ML code many times under controlled determinism settings and tell the truth
// about how much its output moves, how often its tests fail, and what tolerance would hold.
//
// This executable is LibTorch-free, so `audit`, `tolerance`, `gate`, `report` and `merge` start in
// milliseconds (loading LibTorch alone costs ~0.5 s, which an audit of a short test would pay per
// invocation). `list` and `probe` need LibTorch: they are handed to flakescope-torch with exec.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/dispatch.h"
#include "flakescope/error.h"
#include "flakescope/version.h"

namespace {

using flakescope::cli::CommandArgs;
using flakescope::cli::Subcommand;

const Subcommand kSubcommands[] = {
    {"list", nullptr, "list probes, knobs, settings and report formats", false},
    {"probe", nullptr,
     "run probes (built-in ops/models or a TorchScript file) under the settings matrix", false},
    {"audit", flakescope::cli::cmd_audit, "run a test command repeatedly and measure its flakiness",
     false},
    {"tolerance", flakescope::cli::cmd_tolerance,
     "recommend atol/rtol or retries from recorded deviation samples", false},
    {"gate", flakescope::cli::cmd_gate, "compare a report with a baseline (pre-merge gate)", false},
    {"report", flakescope::cli::cmd_report, "render a report as terminal, md, html or junit",
     false},
    {"merge", flakescope::cli::cmd_merge, "combine audit run logs from several shards", false},
    {"fix", flakescope::cli::cmd_fix, "write an audit's tolerance recommendations as a patch",
     false},
    {"__worker", nullptr, "internal: one probe's runs in a fresh process", true},
};

void print_usage(std::ostream& os) {
  os << "flakescope " FLAKESCOPE_VERSION
        " - determinism and flakiness analyzer for ML code\n\n"
        "usage: flakescope <command> [options]   (flakescope <command> --help for its options)\n\n"
        "commands:\n";
  for (const auto& c : kSubcommands)
    if (!c.hidden)
      os << "  " << c.name << std::string(12 - std::strlen(c.name), ' ') << c.summary << "\n";
  os << "\nexamples:\n"
        "  flakescope probe --suite default\n"
        "  flakescope audit --runs 200 --jobs 2 -- python3 -m pytest tests/test_model.py\n"
        "  flakescope gate --baseline base.json current.json\n"
        "\nexit codes: 0 ok, 1 finding (nondeterminism where determinism was expected, flaky, "
        "gate\n"
        "failed), 2 usage or bad input, 3 internal error, 130 interrupted\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> all(argv, argv + argc);
  if (argc < 2) {
    print_usage(std::cerr);
    return flakescope::kExitUsage;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    print_usage(std::cout);
    return flakescope::kExitOk;
  }
  if (cmd == "--version" || cmd == "-V") {
    std::cout << "flakescope " FLAKESCOPE_VERSION << "\n";
    return flakescope::kExitOk;
  }
  for (const auto& c : kSubcommands) {
    if (cmd != c.name) continue;
    if (!c.run) return flakescope::cli::exec_engine(all, std::cerr);
    CommandArgs args{std::vector<std::string>(all.begin() + 2, all.end()), std::cout, std::cerr,
                     all};
    const int code = flakescope::cli::run_guarded(
        cmd, [&] { return c.run(args); }, std::cerr);
    return flakescope::cli::finish_stdout(cmd, code, std::cerr);
  }
  std::cerr << "flakescope: error: unknown command '" << cmd
            << "' (commands: list, probe, audit, tolerance, gate, report, merge, fix)\n";
  return flakescope::kExitUsage;
}
