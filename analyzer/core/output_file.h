#pragma once
// Every file flakescope writes (reports, gate results, baselines, run logs, worker results) goes
// through here. flakescope runs as root in CI and containers, so a path given by the user is never
// blindly replaced:
//   - a new path, or a regular file: written to a temporary file beside it, fsynced, renamed over
//     it (readers see the old or the new content, never half of it);
//   - a symbolic link: followed to its target, which is then treated by these rules;
//   - a character device (/dev/null, /dev/stdout, a tty) or a FIFO: written in place;
//   - a directory, a block device or a socket: refused.
// Every write, fsync and close is checked, so /dev/full or a full disk is an error, never
// "report written".
#include <string>
#include <string_view>

namespace flakescope {

enum class OutputKind { kNewFile, kRegularFile, kInPlace };

struct OutputTarget {
  std::string path;      // as given
  std::string resolved;  // symlinks followed, folder made absolute
  OutputKind kind = OutputKind::kNewFile;
};

// Resolves `path` and checks that it can be written (its folder exists and is writable, it is not
// a directory, ...). Throws InputError naming the path and the reason. Call it before long work, so
// a bad --out fails at once.
OutputTarget check_output_path(const std::string& path);

// Writes `content` to `path` by the rules above. Throws InputError on any failure.
void write_output_file(const std::string& path, std::string_view content);

// True when `a` and `b` name the same file: the same inode when both exist, else the same resolved
// path.
bool same_output_file(const std::string& a, const std::string& b);

// Throws InputError "<label_a> and <label_b> are the same file (PATH)" when they are.
void check_distinct_outputs(const std::string& label_a, const std::string& a,
                            const std::string& label_b, const std::string& b);

}  // namespace flakescope
