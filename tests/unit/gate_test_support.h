#pragma once
// The gate on hand-built JSON report pairs: the reports go through the model, as the CLI's do.
#include <string>

#include "flakescope/report_model.h"
#include "gate/gate.h"
#include "report_test_support.h"

namespace flakescope::testing {

inline GateResult gate_json(const json& baseline, const json& current, const GatePolicy& policy) {
  return gate_reports(model::from_json(baseline), model::from_json(current), policy);
}

// The whole gate report (header of probe_report({}), kind gate) as JSON.
inline json gate_report_json(const json& baseline, const json& current, const GatePolicy& policy,
                             const std::string& baseline_path = "b.json",
                             const std::string& current_path = "c.json") {
  const model::Report b = model::from_json(baseline), c = model::from_json(current);
  json header = probe_report({});
  header.erase("probes");
  header["kind"] = "gate";
  model::Report gate;
  gate.header = model::header_from_json(header);
  gate.gate = gate_body(gate_reports(b, c, policy), policy, b, baseline_path, c, current_path);
  return model::to_json(gate);
}

}  // namespace flakescope::testing
