#pragma once
// `audit --runs auto --isolation inprocess`: adaptive runs per test over a pytest suite
// (analyzer/audit/suite_allocation.h), reported as an audit report with an
// "allocation" section.
#include <atomic>
#include <optional>

#include "audit/audit_options.h"
#include "audit/run_log.h"
#include "cli/commands.h"

namespace flakescope::cli {

// Runs the allocation, writes the report to `out_path` (and the runs to `log`, may be null),
// prints the summary; returns the exit code.
int run_suite_audit(const CommandArgs& a, const audit::AuditOptions& o,
                    const nlohmann::json& config, audit::RunLogWriter* log,
                    const std::string& out_path, const std::atomic<bool>* cancel);

}  // namespace flakescope::cli
