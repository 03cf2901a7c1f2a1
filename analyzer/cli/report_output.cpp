// Output helpers shared by `report` and `gate` (see report_output.h).
#include "cli/report_output.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "flakescope/error.h"

namespace flakescope::cli {

bool wants_color(const std::ostream& out) {
  // no-color.org: set and non-empty turns colors off.
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  return &out == &std::cout && isatty(STDOUT_FILENO);
}

}  // namespace flakescope::cli
