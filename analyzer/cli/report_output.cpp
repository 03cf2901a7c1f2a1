// Output helpers shared by `report` and `gate` (see report_output.h).
#include "cli/report_output.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "flakescope/error.h"

namespace flakescope::cli {

bool wants_color(const std::ostream& out) {
  if (std::getenv("NO_COLOR")) return false;
  return &out == &std::cout && isatty(STDOUT_FILENO);
}

}  // namespace flakescope::cli
