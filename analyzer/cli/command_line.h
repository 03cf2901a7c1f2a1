#pragma once
// The one way subcommands parse their arguments: visible options plus one positional option,
// `--help` printed from the same descriptions the parser uses (help text is never kept apart from
// the flags), and Boost.Program_options errors left to main() (one line, exit 2).
#include <boost/program_options.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace flakescope::cli {

// Parses `args` against `visible` plus a hidden positional option `positional_name` (taking up to
// `max_positional` values; -1 for any number) whose storage is `positional`. Returns false when
// --help was given: `usage` and the options have then been printed to `help_out`.
bool parse_command_line(const std::vector<std::string>& args,
                        const boost::program_options::options_description& visible,
                        const char* positional_name,
                        const boost::program_options::value_semantic* positional,
                        int max_positional, std::ostream& help_out, const std::string& usage = "");

}  // namespace flakescope::cli
