// Safe output files (see output_file.h): what is at the path decides how it is written.
#include "core/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "flakescope/error.h"

namespace flakescope {
namespace {

std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string errno_text() {
  return std::strerror(errno);
}

// Follows symbolic links by hand, so a dangling link resolves to the file it would create.
std::string follow_links(std::string path) {
  for (int hop = 0; hop < 40; ++hop) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    char buf[PATH_MAX];
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n < 0) throw InputError(path + ": cannot read the symbolic link: " + errno_text());
    std::string target(buf, static_cast<std::size_t>(n));
    if (target.empty()) throw InputError(path + ": empty symbolic link");
    path = target[0] == '/' ? target : folder_of(path) + "/" + target;
  }
  throw InputError(path + ": too many levels of symbolic links");
}

std::string resolve(const std::string& given) {
  if (given.empty()) throw InputError("an output path is empty");
  const std::string followed = follow_links(given);
  const std::string name = name_of(followed);
  if (name.empty() || name == "." || name == "..")
    throw InputError(given + ": is a directory, not a file to write");
  const std::string folder = folder_of(followed);
  char real[PATH_MAX];
  if (!::realpath(folder.c_str(), real))
    throw InputError(given + ": cannot write: folder " + folder + ": " + errno_text());
  const std::string base(real);
  return (base == "/" ? base : base + "/") + name;
}

void write_all(int fd, std::string_view content, const std::string& path) {
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw InputError(path + ": write failed: " + (n < 0 ? errno_text() : "no progress"));
    done += static_cast<std::size_t>(n);
  }
}

void close_checked(int fd, const std::string& path) {
  if (::close(fd) != 0 && errno != EINTR)
    throw InputError(path + ": write failed on close: " + errno_text());
}

void write_in_place(const OutputTarget& t, std::string_view content) {
  const int fd = ::open(t.resolved.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) throw InputError(t.path + ": cannot open for writing: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
    ::close(fd);
    throw InputError(t.path + ": changed while being written; not written");
  }
  try {
    write_all(fd, content, t.path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  close_checked(fd, t.path);
}

// The temporary file is made beside the target, so the rename stays on one file system.
void write_by_rename(const OutputTarget& t, std::string_view content) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp = folder_of(t.resolved) + "/." + name_of(t.resolved) + ".tmp." +
                          std::to_string(::getpid()) + "." + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(t.path + ": cannot write (" + tmp + "): " + errno_text());
  try {
    struct stat old {};
    if (t.kind == OutputKind::kRegularFile && ::stat(t.resolved.c_str(), &old) == 0)
      (void)::fchmod(fd, old.st_mode & 0777);  // keep the mode the user gave the file
    write_all(fd, content, t.path);
    if (::fsync(fd) != 0) throw InputError(t.path + ": fsync failed: " + errno_text());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  try {
    close_checked(fd, t.path);
    // The target must still be a regular file or absent: never rename over what appeared since.
    struct stat now {};
    if (::lstat(t.resolved.c_str(), &now) == 0 && !S_ISREG(now.st_mode))
      throw InputError(t.path + ": changed into something other than a file; not written");
    if (::rename(tmp.c_str(), t.resolved.c_str()) != 0)
      throw InputError(t.path + ": cannot replace the file: " + errno_text());
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

}  // namespace

OutputTarget check_output_path(const std::string& path) {
  OutputTarget t;
  t.path = path;
  t.resolved = resolve(path);
  struct stat st {};
  if (::stat(t.resolved.c_str(), &st) != 0) {
    if (errno != ENOENT) throw InputError(path + ": cannot write: " + errno_text());
    t.kind = OutputKind::kNewFile;
  } else if (S_ISREG(st.st_mode)) {
    t.kind = OutputKind::kRegularFile;
  } else if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
    t.kind = OutputKind::kInPlace;
    if (::access(t.resolved.c_str(), W_OK) != 0)
      throw InputError(path + ": cannot write: " + errno_text());
    return t;
  } else if (S_ISDIR(st.st_mode)) {
    throw InputError(path + ": is a directory, not a file to write");
  } else {
    throw InputError(path +
                     ": is a block device or socket; flakescope writes only files, "
                     "character devices and FIFOs");
  }
  const std::string folder = folder_of(t.resolved);
  if (::access(folder.c_str(), W_OK | X_OK) != 0)
    throw InputError(path + ": cannot write: folder " + folder + ": " + errno_text());
  return t;
}

void write_output_file(const std::string& path, std::string_view content) {
  const OutputTarget t = check_output_path(path);
  if (t.kind == OutputKind::kInPlace)
    write_in_place(t, content);
  else
    write_by_rename(t, content);
}

bool same_output_file(const std::string& a, const std::string& b) {
  std::string ra, rb;
  try {
    ra = resolve(a);
    rb = resolve(b);
  } catch (const InputError&) {
    return false;  // a path that cannot be resolved is reported by its own check
  }
  struct stat sa {
  }, sb{};
  if (::stat(ra.c_str(), &sa) == 0 && ::stat(rb.c_str(), &sb) == 0)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  return ra == rb;
}

void check_distinct_outputs(const std::string& label_a, const std::string& a,
                            const std::string& label_b, const std::string& b) {
  if (same_output_file(a, b))
    throw InputError(label_a + " and " + label_b + " are the same file (" + a +
                     "); give them different paths");
}

// The historical name, used by every writer.
void write_file_atomic(const std::string& path, std::string_view content) {
  write_output_file(path, content);
}

}  // namespace flakescope
