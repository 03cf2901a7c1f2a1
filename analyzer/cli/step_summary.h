#pragma once
// The GitHub Actions step summary: `audit`, `probe`, `gate`, `merge` and `report --format md`
// append their report's Markdown to the file named by $GITHUB_STEP_SUMMARY, once.
//
// Once per invocation: a command appends after its report is complete, and the flakescope
// processes it starts itself (gate --run-suite's probe) get the variable unset. Not twice: each
// appended block starts with an invisible marker, an HTML comment holding a hash of the Markdown;
// a command whose block is already in the file (`gate`, then `report gate.json --format md` in the
// same step) leaves the file alone. The summary is a courtesy: a file that cannot be written is a
// warning on stderr, never a failed command.
#include <ostream>
#include <string>

namespace flakescope::cli {

enum class StepSummary { kNotRequested, kAppended, kAlreadyThere, kFailed };

// `command` names the subcommand in messages ("gate"). Messages go to `err`: a note when appended
// or already there, a warning when the file cannot be appended to.
StepSummary append_step_summary(const std::string& command, const std::string& markdown,
                                std::ostream& err);

// The marker line the block for `markdown` starts with.
std::string step_summary_marker(const std::string& markdown);

}  // namespace flakescope::cli
