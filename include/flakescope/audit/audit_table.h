#pragma once
// A compact terminal table of an audit report (what `audit` and `merge` print on stdout).
#include <string>

#include <nlohmann/json.hpp>

namespace flakescope::audit {

std::string render_audit_table(const nlohmann::json& report);

// What the shared terminal reporter does not show: a replay line per failing test, the retry
// statements, and the ablation diagnosis. Empty when there is nothing to say.
std::string render_audit_details(const nlohmann::json& report);

}  // namespace flakescope::audit
