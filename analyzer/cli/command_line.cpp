#include "cli/command_line.h"

namespace po = boost::program_options;

namespace flakescope::cli {

bool parse_command_line(const std::vector<std::string>& args,
                        const po::options_description& visible, const char* positional_name,
                        const po::value_semantic* positional, int max_positional,
                        std::ostream& help_out, const std::string& usage) {
  po::options_description hidden;
  hidden.add_options()(positional_name, positional, "");
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description pos;
  pos.add(positional_name, max_positional);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  if (vm.count("help")) {
    if (!usage.empty()) help_out << usage << "\n";
    help_out << visible << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace flakescope::cli
