// Stale scratch folders of dead audits (see scratch_cleanup.h).
#include "audit/scratch_cleanup.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace flakescope::audit {
namespace {

namespace fs = std::filesystem;

// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
std::string start_time_of(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return "";
  const auto close = text.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i)
    if (i == 22) return field;
  return "";
}

// A zombie (dead, not yet reaped by its parent) is not running either.
bool is_zombie(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  const auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

bool owner_alive(long pid, const std::string& start) {
  if (pid <= 0) return true;  // unreadable owner: leave the folder alone
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  if (is_zombie(pid)) return false;
  const std::string now = start_time_of(pid);
  return now.empty() || now == start;
}

}  // namespace

void mark_scratch_owner(const std::string& scratch_root) {
  const long self = static_cast<long>(::getpid());
  std::ofstream(fs::path(scratch_root) / kScratchOwnerFile)
      << self << " " << start_time_of(self) << "\n";
}

std::size_t remove_stale_scratch(const std::string& tmp_dir) {
  std::size_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(tmp_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(kScratchPrefix, 0) != 0 || it->is_symlink(ec) || !it->is_directory(ec)) continue;
    std::ifstream owner(it->path() / kScratchOwnerFile);
    long pid = 0;
    std::string start;
    if (!(owner >> pid >> start)) continue;
    if (owner_alive(pid, start)) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    if (!rm) ++removed;
  }
  return removed;
}

}  // namespace flakescope::audit
