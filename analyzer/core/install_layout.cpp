#include "core/install_layout.h"

#include <filesystem>
#include <system_error>

#include "core/subprocess.h"

namespace flakescope {

std::string find_data_dir(const std::string& what, const std::string& marker,
                          const std::string& exe) {
  namespace fs = std::filesystem;
  const fs::path self = exe.empty() ? fs::path(self_executable_path()) : fs::path(exe);
  if (self.empty()) return {};
  const fs::path bin = self.parent_path();
  for (const fs::path& candidate :
       {bin.parent_path() / "share" / "flakescope" / what, bin / "share" / "flakescope" / what}) {
    std::error_code ec;
    if (fs::is_regular_file(candidate / marker, ec)) return candidate.lexically_normal().string();
  }
  return {};
}

}  // namespace flakescope
