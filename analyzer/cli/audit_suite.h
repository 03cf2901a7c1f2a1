#pragma once
// `audit --runs auto --isolation inprocess`: adaptive runs per test over a pytest suite
// (include/flakescope/audit/suite_allocation.h), reported as an audit report with an
// "allocation" section.
#include <atomic>
#include <optional>

#include "cli/commands.h"
#include "flakescope/audit/audit_options.h"
#include "flakescope/audit/run_log.h"

namespace flakescope::cli {

// Runs the allocation, writes the report to `out_path` (and the runs to `log`, may be null),
// prints the summary; returns the exit code.
int run_suite_audit(const CommandArgs& a, const audit::AuditOptions& o, const nlohmann::json& config,
                    audit::RunLogWriter* log, const std::string& out_path,
                    const std::atomic<bool>* cancel);

}  // namespace flakescope::cli
