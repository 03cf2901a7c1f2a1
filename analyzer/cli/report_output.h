#pragma once
// Shared by `report` and `gate`: where rendered output goes (a file or stdout), and the Markdown
// copy appended to a GitHub Actions step summary.
#include <ostream>
#include <string>

namespace flakescope::cli {

// Appends `markdown` to the file named by $GITHUB_STEP_SUMMARY when that variable is set; returns
// whether it did. Throws InputError when the file cannot be opened for appending.
bool append_step_summary(const std::string& markdown);

// True when `out` is std::cout and stdout is a terminal (colors are then welcome), unless $NO_COLOR.
bool wants_color(const std::ostream& out);

}  // namespace flakescope::cli
