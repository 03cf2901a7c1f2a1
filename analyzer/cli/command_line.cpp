#include "cli/command_line.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace po = boost::program_options;

namespace flakescope::cli {

std::string typed_number(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  char buf[48];
  const double a = std::fabs(v);
  if (v == 0 || (a >= 1e-3 && a < 1e7)) {  // fixed: "0.95", "900", "0.001"
    for (int decimals = 0; decimals <= 20; ++decimals) {
      std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
      if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
  }
  for (int digits = 0; digits <= 16; ++digits) {  // scientific, exponent compact: "1e-4"
    std::snprintf(buf, sizeof buf, "%.*e", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  const auto e = s.find('e');
  std::string exponent = s.substr(e + 1);
  const bool negative = exponent[0] == '-';
  exponent.erase(0, exponent.find_first_not_of("+-0"));
  return s.substr(0, e) + "e" + (negative ? "-" : "") + exponent;
}

std::string help_epilog(const std::vector<std::string>& examples, const ExitCodes& codes) {
  std::string s = "Examples:\n";
  for (const auto& e : examples) s += "  " + e + "\n";
  s += "\nExit codes:\n  0    " + codes.ok + "\n";
  if (!codes.finding.empty()) s += "  1    " + codes.finding + "\n";
  s += "  2    bad flag or bad input (one line on stderr)\n"
       "  3    internal error (a bug in flakescope)\n";
  if (codes.interruptible) s += "  130  interrupted (SIGINT/SIGTERM); the partial report is kept\n";
  return s;
}

bool parse_command_line(const std::vector<std::string>& args,
                        const po::options_description& visible, const char* positional_name,
                        const po::value_semantic* positional, int max_positional,
                        std::ostream& help_out, const std::string& usage,
                        const std::string& epilog) {
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
    if (!epilog.empty()) help_out << epilog;
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace flakescope::cli
