#include "core/path_lookup.h"

#include <unistd.h>

namespace flakescope {

std::string find_on_path(const std::string& name, const std::string& path_value) {
  const std::string path = path_value.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_value;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = end > start ? path.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

}  // namespace flakescope
