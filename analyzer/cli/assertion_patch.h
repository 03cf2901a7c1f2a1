#pragma once
// The audit's per-assertion recommendations as one unified diff (`flakescope fix`) and as text
// (`flakescope tolerance AUDIT.json`). LibTorch-free.
#include <iosfwd>
#include <string>
#include <vector>

#include "flakescope/report_model.h"

namespace flakescope::cli {

struct AssertionPatch {
  std::string diff;  // one file section per file, hunks by line; empty: nothing
  std::size_t hunks = 0;
  std::vector<std::string> skipped;  // why a recommended edit was left out (one line each)
  std::size_t missing_files = 0;     // edits left out because their file is not under the root
};

// The "diff" of every assertion entry that loosens, checked against the source under `root`
// (the folder the audit ran in): a line that changed since the audit, or two edits of one line,
// is left out and said why.
// A recommendation backed by no bound at the target (the worst observed run, no more: too few
// runs) is left out and said so, unless `include_weak`: written, the next slightly worse run
// fails the edited test again.
AssertionPatch assertion_patch(const std::vector<model::AssertionSite>& sites,
                               const std::string& root, bool include_weak = false);

// The report's assertion sites; an InputError naming `path` when it is no audit report or has none.
const std::vector<model::AssertionSite>& audit_assertions(const model::Report& report,
                                                          const std::string& path);

// Whether `path` is a flakescope audit report (its per-site recommendations are the audit's).
bool is_audit_report(const std::string& path);

// True (and the per-site recommendations printed) when `path` is an audit report.
bool print_audit_tolerances(const std::string& path, bool json, std::ostream& out);

}  // namespace flakescope::cli
