#pragma once
// The one way subcommands parse their arguments: visible options plus one positional option,
// `--help` printed from the same descriptions the parser uses (help text is never kept apart from
// the flags), and Boost.Program_options errors left to main() (one line, exit 2).
#include <boost/program_options.hpp>

#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

namespace flakescope::cli {

// --help is laid out for 100 columns (descriptions from column 50), as the reports are.
inline constexpr unsigned kHelpColumns = 100;

// A number as a person types it: the shortest text that reads back as the same double ("0.95",
// "0.0001", "900"), never 0.94999999999999996.
std::string typed_number(double v);

// po::value(storage) with *storage as the default, shown in --help as typed (typed_number for
// floating-point defaults; Boost prints doubles with 17 significant digits).
template <typename T>
boost::program_options::typed_value<T>* defaulted(T* storage) {
  if constexpr (std::is_floating_point_v<T>) {
    return boost::program_options::value(storage)->default_value(*storage, typed_number(*storage));
  } else {
    return boost::program_options::value(storage)->default_value(*storage);
  }
}

// What a subcommand's exit codes 1 and 130 mean there; 0, 2 and 3 mean the same everywhere.
struct ExitCodes {
  std::string ok = "done";
  std::string finding;         // empty: the command never exits 1
  bool interruptible = false;  // exits 130 on SIGINT/SIGTERM, keeping a partial report
};

// The end of every --help: "Examples:" (one command per line) and "Exit codes:".
std::string help_epilog(const std::vector<std::string>& examples, const ExitCodes& codes);

// Parses `args` against `visible` plus a hidden positional option `positional_name` (taking up to
// `max_positional` values; -1 for any number) whose storage is `positional`. Returns false when
// --help was given: `usage`, the options and `epilog` have then been printed to `help_out`.
bool parse_command_line(const std::vector<std::string>& args,
                        const boost::program_options::options_description& visible,
                        const char* positional_name,
                        const boost::program_options::value_semantic* positional,
                        int max_positional, std::ostream& help_out, const std::string& usage = "",
                        const std::string& epilog = "");

}  // namespace flakescope::cli
