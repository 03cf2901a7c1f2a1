#pragma once
// Where a command name without '/' is found, as execvp would find it: the first executable
// DIR/NAME over the entries of `path` (an empty entry is the current folder; an empty `path`
// is the default /usr/local/bin:/usr/bin:/bin). Empty when none. One lookup for run_process
// (which resolves on the child's PATH), for `audit`'s check before hundreds of runs, and for the
// pytest script whose shebang names the interpreter the platform record describes.
#include <string>

namespace flakescope {

std::string find_on_path(const std::string& name, const std::string& path);

}  // namespace flakescope
