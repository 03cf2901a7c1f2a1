// Output helpers shared by `report` and `gate` (see report_output.h).
#include "cli/report_output.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "flakescope/error.h"

namespace flakescope::cli {

bool append_step_summary(const std::string& markdown) {
  const char* path = std::getenv("GITHUB_STEP_SUMMARY");
  if (!path || !*path) return false;
  std::ofstream out(path, std::ios::app | std::ios::binary);
  if (!out) throw InputError(std::string(path) + ": cannot append the step summary");
  out << markdown << "\n";
  return true;
}

bool wants_color(const std::ostream& out) {
  if (std::getenv("NO_COLOR")) return false;
  return &out == &std::cout && isatty(STDOUT_FILENO);
}

}  // namespace flakescope::cli
