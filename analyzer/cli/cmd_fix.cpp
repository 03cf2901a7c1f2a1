// `flakescope fix REPORT [--out PATCH] [--root DIR]`: the audit's per-assertion recommendations
// (`audit --capture`) as one unified diff for the maintainer to review and apply with `git apply`.
// Never edits a source file; --out never replaces an existing file.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ostream>

#include <fcntl.h>
#include <unistd.h>

#include <boost/program_options.hpp>

#include "cli/assertion_patch.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "core/report.h"
#include "flakescope/error.h"

namespace po = boost::program_options;

namespace flakescope::cli {
namespace {

// O_EXCL: an existing file (or a link planted under that name) is never replaced or followed.
void write_new_file(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw InputError(path + ": cannot create it (" + std::strerror(errno) +
                     "); flakescope fix writes only a new file");
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(path.c_str());
      throw InputError(path + ": write failed (disk full?)");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw InputError(path + ": write failed");
}

}  // namespace

int cmd_fix(const CommandArgs& a) {
  std::string report_path, out_path, root = ".";
  bool include_weak = false;
  po::options_description desc(
      "usage: flakescope fix REPORT [--out PATCH] [--root DIR] [--include-weak]\n\n"
      "REPORT: an audit report written with --capture. Writes its tolerance recommendations\n"
      "(the lines to loosen) as a unified diff, to stdout or to PATCH (a new file), for review "
      "and\n"
      "`git apply PATCH`. Source files are never edited. Lines that changed since the audit are\n"
      "left out and listed on stderr",
      kHelpColumns, kHelpColumns / 2);
  desc.add_options()("help,h", "show this help")("out,o", po::value(&out_path),
                                                 "write the patch to this new file")(
      "root", defaulted(&root),
      "folder the report's file:line sites are relative to (where the audit ran)")(
      "include-weak", po::bool_switch(&include_weak),
      "also write recommendations that only cover the worst observed run (too few runs for a "
      "bound at the target) or that are mostly extrapolation (over 10 times the largest "
      "deviation seen); left out by default");
  const std::string epilog = help_epilog(
      {"flakescope audit --capture --runs 60 -- python3 -m pytest tests/",
       "flakescope fix flakescope-audit.json --out fix.patch && git apply fix.patch",
       "flakescope fix audit.json --root ../checkout      (sites relative to another folder)"},
      {"done (also when no assertion needs a change)", "", false});
  if (!parse_command_line(a.args, desc, "report", po::value(&report_path), 1, a.out, "", epilog)) {
    return kExitOk;
  }
  if (report_path.empty()) throw InputError("give a REPORT (see --help)");
  const model::Report report = model::load_report_model(report_path);
  const AssertionPatch patch =
      assertion_patch(audit_assertions(report, report_path), root, include_weak);
  // The cases of a parametrized test leave out one line for the same reason: said once.
  std::vector<std::pair<std::string, std::size_t>> reasons;
  for (const auto& why : patch.skipped) {
    auto same =
        std::find_if(reasons.begin(), reasons.end(), [&](const auto& r) { return r.first == why; });
    if (same == reasons.end())
      reasons.emplace_back(why, 1);
    else
      ++same->second;
  }
  for (const auto& [why, times] : reasons)
    a.err << "flakescope fix: left out " << why
          << (times > 1 ? " (" + std::to_string(times) + " cases of this line)" : "") << "\n";
  if (patch.hunks == 0 && patch.missing_files > 0) {
    // Edits were due and none could be read: the folder is wrong, not the report.
    throw InputError("no edit written: the files of " + std::to_string(patch.missing_files) +
                     (patch.missing_files == 1 ? " site are" : " sites are") + " not under " +
                     (root == "." ? std::string("the current folder") : "--root " + root) +
                     " (run fix where the audit ran, or give --root the folder the sites are "
                     "relative to)");
  }
  if (patch.hunks == 0) {
    // No file: an empty patch is one `git apply` rejects ("No valid patches in input").
    a.err << "flakescope fix: "
          << (patch.skipped.empty()
                  ? std::string(audit_assertions(report, report_path).empty()
                                    ? "the audit captured no assertion, so there is nothing to "
                                      "change (its report lists the tests that ran without one)"
                                    : "no assertion needs its arguments changed")
                  : "no edit could be written (" + std::to_string(patch.skipped.size()) +
                        " left out, above)")
          << (out_path.empty() ? "" : "; nothing written to " + out_path) << "\n";
    return kExitOk;
  }
  if (out_path.empty()) {
    a.out << patch.diff;
  } else {
    write_new_file(out_path, patch.diff);
    a.err << "flakescope fix: " << patch.hunks << (patch.hunks == 1 ? " edit" : " edits")
          << " written to " << out_path << " (review, then `git apply " << out_path << "`)\n";
  }
  return kExitOk;
}

}  // namespace flakescope::cli
