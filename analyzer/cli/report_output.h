#pragma once
// Shared by `report` and `gate`: where rendered output goes (a file or stdout). The GitHub Actions
// step summary is cli/step_summary.h.
#include <ostream>
#include <string>

namespace flakescope::cli {

// True when `out` is std::cout and stdout is a terminal (colors are then welcome), unless
// $NO_COLOR.
bool wants_color(const std::ostream& out);

}  // namespace flakescope::cli
