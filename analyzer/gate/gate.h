#pragma once
// The pre-merge determinism gate: compares a fresh report with a stored baseline under a policy.
// It must not itself be flaky, so every rule that looks at sampled quantities (rates of changed
// runs, deviation sizes) needs both a statistically significant difference (Fisher's exact test,
// Mann-Whitney U; the level is Bonferroni-split over all such comparisons in one gate run) and an
// effect beyond a margin. Rules on exact facts (bitwise determinism, the knobs named as causes)
// need neither. Improvements are reported the same way.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flakescope/report_model.h"

namespace flakescope {

inline constexpr const char* kGatePolicySchema = "flakescope.gate-policy/1";

// What to do about a finding of a rule: fail the gate, warn, or say nothing.
enum class GateAction { kFail, kWarn, kIgnore };

// The rule settings in force for one probe x setting (or one audited test). Every field is
// optional in a policy rule: a later matching rule overrides only the fields it names.
struct GateRuleSettings {
  // "baseline": bitwise-deterministic in the baseline must stay so; "always": must be bitwise
  // deterministic whatever the baseline says; "off": not checked.
  std::string bitwise = "baseline";
  // Max deviation may not grow by more than this factor (significantly); nullopt: not checked.
  std::optional<double> max_dev_factor = 10.0;
  std::string deviation = "abs";  // which per-run samples: abs, rel, ulp
  // The rate of changed runs (probe) or failing runs (audit) may not rise (significantly) by more
  // than this absolute margin; nullopt: not checked.
  std::optional<double> rate_margin = 0.2;
  // The one-sided upper confidence bound of that rate must stay under this; nullopt: not checked.
  std::optional<double> max_failure_rate;
  GateAction new_cause = GateAction::kFail;   // a knob newly among the diagnosed causes
  GateAction new_target = GateAction::kWarn;  // a probe, setting or test without a baseline
  GateAction missing = GateAction::kWarn;     // in the baseline but not in the current report
};

struct GateRule {
  std::string match = "*";    // glob on the probe or test name
  std::string setting = "*";  // glob on the setting name (probe reports)
  nlohmann::json fields;      // the fields this rule sets (validated)
};

struct GatePolicy {
  double alpha = 0.001;      // family-wise false-alarm level of the statistical rules
  double confidence = 0.95;  // of the upper bounds in max_failure_rate
  GateRuleSettings defaults;
  std::vector<GateRule> rules;                       // in order; later rules override earlier ones
  nlohmann::json source = nlohmann::json::object();  // as given, echoed into the gate report

  // The settings for one target: the defaults, then every matching rule in order.
  GateRuleSettings settings_for(const std::string& target, const std::string& setting) const;
};

// Throws InputError (one line naming `origin`) for unknown keys, wrong types, bad values.
GatePolicy parse_gate_policy(const nlohmann::json& policy, const std::string& origin);
GatePolicy load_gate_policy(const std::string& path);

struct GateResult {
  bool passed = true;
  std::vector<model::GateCheck> checks;  // in the order they were settled
  int regressions = 0, improvements = 0, warnings = 0, passes = 0;
  int statistical_comparisons = 0;  // the Bonferroni divisor of alpha
};

// Compares two reports of the same kind (probe or audit). Throws InputError for mismatched kinds
// or a gate report.
GateResult gate_reports(const model::Report& baseline, const model::Report& current,
                        const GatePolicy& policy);

// The gate report's body: verdict, summary, checks, policy, and where baseline and current came
// from.
model::GateBody gate_body(const GateResult& result, const GatePolicy& policy,
                          const model::Report& baseline, const std::string& baseline_path,
                          const model::Report& current, const std::string& current_path);

}  // namespace flakescope
