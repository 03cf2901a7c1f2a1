#pragma once
// Where flakescope's data files (the pytest plugin, ...) are, found relative to the running
// executable, never through a path compiled into it:
//   install tree   <prefix>/bin/flakescope  ->  <prefix>/share/flakescope/<what>
//   build tree     <build>/flakescope       ->  <build>/share/flakescope/<what>  (copied by the
//   build)
// The build tree's tests run from <build>/tests/, whose parent is <build>: the install-tree rule
// finds the build tree's copy for them.
#include <string>

namespace flakescope {

// The first of <dir(exe)>/../share/flakescope/<what> and <dir(exe)>/share/flakescope/<what> that
// contains `marker` (a file name), or "" when neither does. `exe` defaults to this process's
// executable (/proc/self/exe).
std::string find_data_dir(const std::string& what, const std::string& marker,
                          const std::string& exe = {});

}  // namespace flakescope
