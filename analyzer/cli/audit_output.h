#pragma once
// Shared by `audit` and `merge`: an audit report built from run records (with the assertion
// analysis when captures were recorded), written atomically, and its terminal summary printed.
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit_report.h"

namespace flakescope::cli {

model::Report write_audit_report(const audit::AuditReportInputs& in,
                                 const std::vector<audit::RunRecord>& records, bool capture,
                                 const std::string& out_path, std::ostream& out,
                                 const std::function<void(model::Report&)>& amend = {});

}  // namespace flakescope::cli
