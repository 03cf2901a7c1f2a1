#include "cli/step_summary.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/hash.h"

namespace flakescope::cli {
namespace {

// Closes the descriptor (and so releases its flock) on every path.
struct Descriptor {
  int fd = -1;
  ~Descriptor() {
    if (fd >= 0) close(fd);
  }
};

std::string read_all(int fd) {
  std::string text;
  char buf[65536];
  if (lseek(fd, 0, SEEK_SET) < 0) return text;
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

bool write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

StepSummary warn(const std::string& command, const std::string& path, const std::string& why,
                 std::ostream& err) {
  err << "flakescope " << command << ": warning: cannot append to $GITHUB_STEP_SUMMARY (" << path
      << "): " << why << "; the command's result is unaffected\n";
  return StepSummary::kFailed;
}

}  // namespace

std::string step_summary_marker(const std::string& markdown) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(hash_bytes(markdown.data(), markdown.size())));
  return std::string("<!-- flakescope summary ") + hex + " -->";
}

StepSummary append_step_summary(const std::string& command, const std::string& markdown,
                                std::ostream& err) {
  const char* env = std::getenv("GITHUB_STEP_SUMMARY");
  if (!env || !*env) return StepSummary::kNotRequested;
  const std::string path = env;
  // Only ever a regular file: never write into a device, a FIFO or a directory named by mistake.
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return warn(command, path, "not a regular file", err);
  Descriptor file;
  file.fd = open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
  if (file.fd < 0) return warn(command, path, std::strerror(errno), err);
  if (fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode))
    return warn(command, path, "not a regular file", err);
  // Two flakescope commands of one step running at once append one after the other.
  while (flock(file.fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  const std::string marker = step_summary_marker(markdown);
  if (read_all(file.fd).find(marker) != std::string::npos) {
    err << "flakescope " << command
        << ": this report is already in $GITHUB_STEP_SUMMARY; not appended again\n";
    return StepSummary::kAlreadyThere;
  }
  std::string block = marker + "\n" + markdown;
  if (block.empty() || block.back() != '\n') block += '\n';
  block += '\n';
  if (!write_all(file.fd, block)) return warn(command, path, std::strerror(errno), err);
  err << "flakescope " << command << ": appended to $GITHUB_STEP_SUMMARY\n";
  return StepSummary::kAppended;
}

}  // namespace flakescope::cli
