#pragma once
// A compact terminal table of an audit report (what `audit` and `merge` print on stdout).
#include <string>

#include <nlohmann/json.hpp>

namespace flakescope::audit {

std::string render_audit_table(const nlohmann::json& report);

}  // namespace flakescope::audit
