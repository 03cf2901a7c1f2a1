#pragma once
// An audit's scratch folders (TMPDIR/flakescope-audit-XXXXXX) are removed when it ends; one killed
// with kill -9 cannot. Each folder records its owner (pid and process start time, so a reused pid
// is not mistaken for it), and the next audit or --resume removes the folders of owners that are
// gone, and kills what their runs left behind.
#include <string>

namespace flakescope::audit {

inline constexpr const char* kScratchPrefix = "flakescope-audit-";
inline constexpr const char* kScratchOwnerFile = ".flakescope-owner";

// Writes the owner file into `scratch_root` (this process).
void mark_scratch_owner(const std::string& scratch_root);

// Removes the scratch folders in `tmp_dir` whose owner is no longer running; folders without an
// owner file, or of a running owner, are left alone. Returns how many were removed.
std::size_t remove_stale_scratch(const std::string& tmp_dir);

}  // namespace flakescope::audit
