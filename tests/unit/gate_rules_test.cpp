// Gate decisions on hand-built report pairs, one or more per policy rule.
#include "gate/gate.h"

#include <gtest/gtest.h>

#include "flakescope/error.h"
#include "gate_test_support.h"

namespace flakescope {
namespace {

using namespace flakescope::testing;

std::vector<json> with_status(const GateResult& r, const std::string& rule,
                              const std::string& status) {
  std::vector<json> out;
  for (const auto& c : r.checks)
    if (c.rule == rule && model::to_string(c.status) == status) out.push_back(json(c));
  return out;
}

std::vector<double> constant(int n, double v) {
  return std::vector<double>(n, v);
}

json one(const std::string& name, std::vector<json> settings,
         std::vector<std::string> causes = {}) {
  return probe_report({probe(name, settings, causes)});
}

TEST(GateBitwise, DeterministicBaselineMustStayDeterministic) {
  const json base = one("ops/a", {setting("controlled", constant(29, 0))});
  const json same = one("ops/a", {setting("controlled", constant(29, 0))});
  std::vector<double> moved = constant(29, 0);
  moved[17] = 1e-7;  // one run of 30 differs: bitwise determinism is broken
  const json broken = one("ops/a", {setting("controlled", moved)});
  EXPECT_TRUE(gate_json(base, same, GatePolicy{}).passed);
  const GateResult r = gate_json(base, broken, GatePolicy{});
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(with_status(r, "bitwise", "regression").size(), 1u);
  EXPECT_NE(with_status(r, "bitwise", "regression")[0]["message"].get<std::string>().find(
                "was bitwise-deterministic, now 2 distinct outputs in 30 runs"),
            std::string::npos);
}

TEST(GateBitwise, AlwaysRuleFailsANondeterministicProbeWhateverTheBaseline) {
  const json racy = one("ops/a", {setting("controlled", {1e-6, 2e-6, 0, 1e-6})});
  GatePolicy policy = parse_gate_policy(
      json{{"rules", {{{"match", "ops/*"}, {"setting", "controlled"}, {"bitwise", "always"}}}}},
      "p");
  EXPECT_TRUE(gate_json(racy, racy, GatePolicy{}).passed);
  EXPECT_FALSE(gate_json(racy, racy, policy).passed);
  policy = parse_gate_policy(json{{"rules", {{{"match", "other/*"}, {"bitwise", "always"}}}}}, "p");
  EXPECT_TRUE(gate_json(racy, racy, policy).passed);  // the pattern does not match
}

TEST(GateBitwise, BecomingDeterministicIsAnImprovement) {
  const json racy = one("ops/a", {setting("controlled", {1e-6, 2e-6, 0, 1e-6})});
  const json fixed = one("ops/a", {setting("controlled", constant(4, 0))});
  const GateResult r = gate_json(racy, fixed, GatePolicy{});
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(with_status(r, "bitwise", "improvement").size(), 1u);
}

TEST(GateDeviation, SignificantGrowthBeyondTheFactorFails) {
  std::mt19937_64 rng(11);
  const json base = one("ops/a", {setting("controlled", noisy_samples(rng, 99, 1e-6))});
  const json grown = one("ops/a", {setting("controlled", noisy_samples(rng, 99, 1e-4))});
  const GateResult r = gate_json(base, grown, GatePolicy{});
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(with_status(r, "max_dev_factor", "regression").size(), 1u);
  // The other way round it is an improvement.
  const GateResult back = gate_json(grown, base, GatePolicy{});
  EXPECT_TRUE(back.passed);
  EXPECT_EQ(with_status(back, "max_dev_factor", "improvement").size(), 1u);
}

TEST(GateDeviation, GrowthWithinTheFactorPasses) {
  std::mt19937_64 rng(12);
  const json base = one("ops/a", {setting("controlled", noisy_samples(rng, 99, 1e-6))});
  const json grown = one("ops/a", {setting("controlled", noisy_samples(rng, 99, 3e-6))});
  EXPECT_TRUE(gate_json(base, grown, GatePolicy{}).passed);
  // A tighter factor turns the same pair into a regression.
  const GatePolicy tight = parse_gate_policy(json{{"defaults", {{"max_dev_factor", 1.5}}}}, "p");
  EXPECT_FALSE(gate_json(base, grown, tight).passed);
}

TEST(GateDeviation, OneLargeOutlierInFewRunsIsNotSignificant) {
  // The maximum grew 100x, but from a single run: not evidence of a shift.
  std::vector<double> base = {1e-6, 0, 2e-6, 1e-6, 0, 1e-6};
  std::vector<double> cur = {1e-6, 0, 2e-6, 1e-4, 0, 1e-6};
  const GateResult r = gate_json(one("ops/a", {setting("controlled", base)}),
                                 one("ops/a", {setting("controlled", cur)}), GatePolicy{});
  EXPECT_TRUE(r.passed);
}

TEST(GateRate, SignificantRiseInChangedRunsFails) {
  std::vector<double> base = constant(99, 0), cur = constant(99, 0);
  for (int i = 0; i < 5; ++i) base[i * 10] = 1e-6;  // 5% of runs differ
  for (int i = 0; i < 80; ++i) cur[i] = 1e-6;       // 80% of runs differ, same size
  const GateResult r = gate_json(one("ops/a", {setting("controlled", base)}),
                                 one("ops/a", {setting("controlled", cur)}), GatePolicy{});
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(with_status(r, "change_rate", "regression").size(), 1u);
  EXPECT_EQ(with_status(r, "max_dev_factor", "pass").size(), 1u);
}

TEST(GateRate, UpperBoundMustStayUnderTheLimit) {
  const GatePolicy policy =
      parse_gate_policy(json{{"rules", {{{"test", "t::*"}, {"max_failure_rate", 0.05}}}}}, "p");
  std::vector<std::string> clean(100, "pass"), one_fail(100, "pass");
  one_fail[3] = "fail";
  const json base = audit_report({audit_test("t::a", "stable-pass", clean)});
  // 0/100: upper bound ~3% < 5%; 1/100 fails: upper bound ~4.7% < 5%; 3/100: ~7.6% fails.
  EXPECT_TRUE(gate_json(base, base, policy).passed);
  EXPECT_TRUE(
      gate_json(base, audit_report({audit_test("t::a", "flaky", one_fail)}), policy).passed);
  one_fail[5] = one_fail[7] = "fail";
  const GateResult r =
      gate_json(base, audit_report({audit_test("t::a", "flaky", one_fail)}), policy);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(with_status(r, "max_failure_rate", "regression").size(), 1u);
}

TEST(GateCauses, ANewKnobAmongTheCausesFails) {
  const json base = one("ops/a", {setting("controlled", constant(9, 0))}, {"threads"});
  const json more = one("ops/a", {setting("controlled", constant(9, 0))}, {"generator", "threads"});
  const GateResult r = gate_json(base, more, GatePolicy{});
  EXPECT_FALSE(r.passed);
  const auto reg = with_status(r, "new_cause", "regression");
  ASSERT_EQ(reg.size(), 1u);
  EXPECT_EQ(reg[0]["message"], "new cause of nondeterminism: generator");
  EXPECT_EQ(with_status(gate_json(more, base, GatePolicy{}), "new_cause", "improvement").size(),
            1u);
  const GatePolicy warn = parse_gate_policy(json{{"defaults", {{"new_cause", "warn"}}}}, "p");
  const GateResult w = gate_json(base, more, warn);
  EXPECT_TRUE(w.passed);
  EXPECT_EQ(w.warnings, 1);
}

TEST(GateAudit, TestsAreMatchedPerSettingAndANewAblationCauseFails) {
  std::vector<std::string> clean(40, "pass"), flaky(40, "pass");
  for (int i = 0; i < 20; ++i) flaky[2 * i] = "fail";
  json base = audit_report({audit_test("t::a", "stable-pass", clean, "controlled"),
                            audit_test("t::a", "stable-pass", clean, "free:threads")});
  json cur = audit_report({audit_test("t::a", "stable-pass", clean, "controlled"),
                           audit_test("t::a", "flaky", flaky, "free:threads")});
  GateResult r = gate_json(base, cur, GatePolicy{});
  EXPECT_FALSE(r.passed);
  const auto reg = with_status(r, "failure_rate", "regression");
  ASSERT_EQ(reg.size(), 1u);
  EXPECT_EQ(reg[0]["setting"], "free:threads");
  // The same pair where only the ablation names a new knob.
  base["ablation"] = {{"tests", {{{"name", "t::a"}, {"causes", json::array()}}}}};
  cur = base;
  cur["ablation"]["tests"][0]["causes"] = {"threads"};
  r = gate_json(base, cur, GatePolicy{});
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(with_status(r, "new_cause", "regression").size(), 1u);
}

TEST(GateCauses, ANewlyNamedKnobCountsOnlyIfItsOwnSettingChangesSignificantlyMoreOften) {
  std::vector<double> one_change = constant(19, 0), two_changes = constant(19, 0);
  one_change[4] = 1e-6;
  two_changes[4] = two_changes[9] = 1e-6;
  // A rarely racy probe: the ablation named "generator" this time by chance.
  const json base =
      one("ops/r", {setting("controlled", constant(19, 0)), setting("free:generator", one_change)});
  const json chance =
      one("ops/r", {setting("controlled", constant(19, 0)), setting("free:generator", two_changes)},
          {"generator"});
  GateResult r = gate_json(base, chance, GatePolicy{});
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(with_status(r, "new_cause", "pass").size(), 1u);
  // A real new cause: every run moves once the generator is free.
  const json real =
      one("ops/r",
          {setting("controlled", constant(19, 0)), setting("free:generator", constant(19, 1e-3))},
          {"generator"});
  r = gate_json(base, real, GatePolicy{});
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(with_status(r, "new_cause", "regression").size(), 1u);
  EXPECT_EQ(
      with_status(r, "new_cause", "regression")[0]["message"],
      "new cause of nondeterminism: generator (1/20 -> 19/20 runs differ with generator free)");
}

TEST(GateTargets, NewProbeWarnsMissingProbeWarnsAndPolicyCanFailThem) {
  const json base = probe_report({probe("ops/a", {setting("controlled", constant(4, 0))})});
  const json cur = probe_report({probe("ops/b", {setting("controlled", constant(4, 0))})});
  const GateResult r = gate_json(base, cur, GatePolicy{});
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(with_status(r, "baseline", "warning").size(), 1u);
  EXPECT_EQ(with_status(r, "missing", "warning").size(), 1u);
  const GatePolicy strict = parse_gate_policy(json{{"defaults", {{"new", "fail"}}}}, "p");
  EXPECT_FALSE(gate_json(base, cur, strict).passed);
}

TEST(GateErrors, AProbeErrorIsARegressionAndADifferentLibTorchAWarning) {
  json base = one("ops/a", {setting("controlled", constant(4, 0))});
  json cur = base;
  cur["probes"][0]["settings"][0]["verdict"] = "error";
  cur["probes"][0]["settings"][0]["error"] = "worker crashed";
  cur["libtorch"]["version"] = "2.5.0";
  const GateResult r = gate_json(base, cur, GatePolicy{});
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(with_status(r, "verdict", "regression").size(), 1u);
  EXPECT_EQ(with_status(r, "libtorch.version", "warning").size(), 1u);
}

TEST(GateErrors, MismatchedKindsAndMissingArraysAreBadInput) {
  const json probe_rep = one("ops/a", {setting("controlled", constant(4, 0))});
  const json audit_rep = audit_report({audit_test("t", "stable-pass", {"pass"})});
  EXPECT_THROW(gate_json(probe_rep, audit_rep, GatePolicy{}), InputError);
  json broken = probe_rep;
  broken.erase("probes");
  EXPECT_THROW(gate_json(probe_rep, broken, GatePolicy{}), InputError);
  json gate = probe_rep;
  gate["kind"] = "gate";
  EXPECT_THROW(gate_json(gate, gate, GatePolicy{}), InputError);
}

TEST(GatePolicyParsing, RejectsTyposAndBadValuesWithOneLine) {
  auto bad = [](const json& j) {
    try {
      parse_gate_policy(j, "policy.json");
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find('\n'), std::string::npos);
      EXPECT_EQ(what.rfind("policy.json: ", 0), 0u) << what;
      return true;
    }
    return false;
  };
  EXPECT_TRUE(bad(json{{"alhpa", 0.01}}));
  EXPECT_TRUE(bad(json{{"alpha", 0.9}}));
  EXPECT_TRUE(bad(json{{"rules", {{{"match", "*"}, {"max_dev_factr", 2}}}}}));
  EXPECT_TRUE(bad(json{{"rules", {{{"match", "*"}, {"max_dev_factor", 0.5}}}}}));
  EXPECT_TRUE(bad(json{{"defaults", {{"new_cause", "explode"}}}}));
  EXPECT_TRUE(bad(json{{"schema", "other/1"}}));
  EXPECT_TRUE(bad(json::array()));
  EXPECT_FALSE(bad(json{{"schema", kGatePolicySchema}, {"alpha", 0.01}}));
}

TEST(GatePolicyParsing, LaterRulesOverrideEarlierOnesFieldByField) {
  const GatePolicy p = parse_gate_policy(
      json{{"defaults", {{"max_dev_factor", 4}}},
           {"rules",
            {{{"match", "ops/*"}, {"bitwise", "always"}, {"max_dev_factor", 8}},
             {{"match", "ops/racy*"}, {"setting", "controlled"}, {"bitwise", false}}}}},
      "p");
  EXPECT_EQ(p.settings_for("models/x", "controlled").max_dev_factor, 4.0);
  EXPECT_EQ(p.settings_for("ops/sum", "controlled").bitwise, "always");
  EXPECT_EQ(p.settings_for("ops/racy_sum", "controlled").bitwise, "off");
  EXPECT_EQ(p.settings_for("ops/racy_sum", "controlled").max_dev_factor, 8.0);
  EXPECT_EQ(p.settings_for("ops/racy_sum", "free").bitwise, "always");
}

TEST(GateReportBody, CarriesVerdictSummaryAndOrigins) {
  const json base = one("ops/a", {setting("controlled", constant(4, 0))});
  const GatePolicy policy;
  const GateResult r = gate_json(base, base, policy);
  const json body = gate_report_json(base, base, policy, "b.json", "c.json");
  EXPECT_EQ(body["verdict"], "pass");
  EXPECT_EQ(body["baseline"]["path"], "b.json");
  EXPECT_EQ(body["baseline"]["libtorch"], "1.13.1");
  EXPECT_EQ(body["summary"]["regressions"], 0);
  EXPECT_EQ(body["checks"].size(), r.checks.size());
}

}  // namespace
}  // namespace flakescope
