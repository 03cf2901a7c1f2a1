// `flakescope gate` and `flakescope report` as a user runs them: exit codes, one-line errors, the
// deliberate regression (a probe switched to the unseeded generator through the test hook) failing
// the gate against its clean baseline, and --update-baseline.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "core/report.h"
#include "core/subprocess.h"

namespace flakescope {
namespace {

const std::string kData = std::string(FLAKESCOPE_TEST_DATA) + "/reports/";
const std::string kPolicy = std::string(FLAKESCOPE_SOURCE_DIR) + "/reports/policy/default.json";

using Cli = e2e::CliResult;

// The gate appends Markdown to $GITHUB_STEP_SUMMARY when set: keep CI's own summary out of it.
Cli run_cli(std::vector<std::string> args, e2e::EnvChanges env = {}) {
  env.emplace_back("GITHUB_STEP_SUMMARY", std::nullopt);
  return e2e::run_cli(std::move(args), "", std::move(env), 300);
}

std::string temp_dir() {
  std::string tmpl = ::testing::TempDir() + "flakescope-gate-e2e-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  EXPECT_NE(mkdtemp(buf.data()), nullptr);
  return buf.data();
}

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

void expect_bad_input(const Cli& r, const std::string& mentions) {
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(mentions), std::string::npos) << r.err;
}

TEST(GateCli, BadInputIsExitTwoWithOneLine) {
  const std::string good = kData + "probe_small.json";
  expect_bad_input(run_cli({"gate", "--baseline", kData + "nope.json", good}), "nope.json");
  expect_bad_input(run_cli({"gate", "--baseline", kData + "truncated.json", good}), "not a JSON");
  expect_bad_input(run_cli({"gate", "--baseline", kData + "wrong_schema.json", good}),
                   "somebody-else/3");
  expect_bad_input(run_cli({"gate", "--baseline", kData + "audit_small.json", good}),
                   "cannot gate a 'probe' report against a 'audit' baseline");
  expect_bad_input(run_cli({"gate", "--baseline", good, kData + "probe_without_probes.json"}),
                   "\"probes\"");
  expect_bad_input(
      run_cli({"gate", "--baseline", good, "--policy", kData + "policy_typo.json", good}),
      "max_dev_factr");
  expect_bad_input(run_cli({"gate", good}), "--baseline");
  expect_bad_input(run_cli({"report", kData + "truncated.json", "--format", "md"}), "not a JSON");
  expect_bad_input(run_cli({"report", kData + "probe_small.json", "--format", "pdf"}), "pdf");
}

TEST(GateCli, AReportAgainstItselfPassesAndRendersEveryFormat) {
  const std::string dir = temp_dir();
  const std::string good = kData + "probe_small.json";
  const Cli r =
      run_cli({"gate", "--baseline", good, "--policy", kPolicy, "--out", dir + "/gate.json", good});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("gate: PASS"), std::string::npos) << r.out;
  const nlohmann::json gate = load_report(dir + "/gate.json");
  EXPECT_EQ(gate["kind"], "gate");
  EXPECT_EQ(gate["verdict"], "pass");

  const Cli md = run_cli({"report", dir + "/gate.json", "--format", "md"});
  EXPECT_EQ(md.code, 0);
  EXPECT_EQ(md.out.rfind("## flakescope gate: ✅ pass", 0), 0u) << md.out;
  const Cli junit =
      run_cli({"report", dir + "/gate.json", "--format", "junit", "--out", dir + "/gate.xml"});
  EXPECT_EQ(junit.code, 0);
  const std::string xml = read_file(dir + "/gate.xml");  // parsed back in the unit tests
  EXPECT_EQ(xml.rfind("<?xml", 0), 0u) << xml;
  EXPECT_NE(xml.find("<testsuites name=\"flakescope gate\""), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<failure"), std::string::npos) << xml;
  const Cli html = run_cli({"report", good, "--format", "html", "--out", dir + "/p.html"});
  EXPECT_EQ(html.code, 0);
  EXPECT_EQ(read_file(dir + "/p.html").rfind("<!DOCTYPE html>", 0), 0u);
}

TEST(GateCli, MarkdownIsAppendedToTheStepSummary) {
  const std::string dir = temp_dir();
  const std::string summary = dir + "/summary.md";
  { std::ofstream(summary) << "earlier step\n"; }
  ProcessSpec spec;
  spec.argv = {FLAKESCOPE_CLI, "report", kData + "audit_small.json", "--format", "md"};
  spec.env = {{"GITHUB_STEP_SUMMARY", summary}};
  const ProcessResult p = run_process(spec);
  ASSERT_TRUE(p.succeeded()) << p.stderr_tail;
  const std::string text = read_file(summary);
  EXPECT_EQ(text.rfind("earlier step\n<!-- flakescope summary ", 0), 0u) << text;
  EXPECT_NE(text.find("-->\n## flakescope audit"), std::string::npos) << text;
  EXPECT_NE(text.find("tests/test_model.py::test_loss"), std::string::npos);
}

TEST(GateCli, UpdateBaselineReplacesItOnlyWhenTheGatePasses) {
  const std::string dir = temp_dir();
  const std::string base = dir + "/base.json";
  { std::ofstream(base) << read_file(kData + "probe_small.json"); }
  nlohmann::json current = load_report(kData + "probe_small.json");
  current["created"] = "2026-11-26T00:00:00Z";
  { std::ofstream(dir + "/cur.json") << current.dump(); }
  EXPECT_EQ(run_cli({"gate", "--baseline", base, "--update-baseline", dir + "/cur.json"}).code, 0);
  EXPECT_EQ(load_report(base)["created"], "2026-11-26T00:00:00Z");
  // A regression: the controlled setting is no longer bitwise-deterministic.
  current["probes"][0]["settings"][0] = current["probes"][0]["settings"][1];
  current["probes"][0]["settings"][0]["setting"] = "controlled";
  current["created"] = "2026-11-27T00:00:00Z";
  { std::ofstream(dir + "/bad.json") << current.dump(); }
  const Cli r = run_cli({"gate", "--baseline", base, "--update-baseline", dir + "/bad.json"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_EQ(load_report(base)["created"], "2026-11-26T00:00:00Z");  // untouched
}

TEST(GateCli, DeliberateRegressionUnseededGeneratorFailsTheGate) {
  const std::string dir = temp_dir();
  const std::vector<std::string> probe = {
      "probe", "calibration/seeded_noise", "--settings", "controlled", "--runs", "20"};
  auto with_out = [&](const std::string& out) {
    std::vector<std::string> a = probe;
    a.insert(a.end(), {"--out", out});
    return a;
  };
  const Cli clean = run_cli(with_out(dir + "/clean.json"));
  ASSERT_EQ(clean.code, 0) << clean.err;
  const Cli again = run_cli(with_out(dir + "/again.json"));
  ASSERT_EQ(again.code, 0) << again.err;
  const Cli injected =
      run_cli(with_out(dir + "/injected.json"),
              {{"FLAKESCOPE_ENGINE", FLAKESCOPE_FAULTS_ENGINE},
               {"FLAKESCOPE_TEST_INJECT", "unseeded-generator:calibration/seeded_noise"}});
  ASSERT_EQ(injected.code, 0) << injected.err;

  const Cli pass = run_cli(
      {"gate", "--baseline", dir + "/clean.json", "--policy", kPolicy, dir + "/again.json"});
  EXPECT_EQ(pass.code, 0) << pass.out << pass.err;
  const Cli fail = run_cli({"gate", "--baseline", dir + "/clean.json", "--policy", kPolicy, "--out",
                            dir + "/gate.json", dir + "/injected.json"});
  EXPECT_EQ(fail.code, 1) << fail.out << fail.err;
  EXPECT_NE(fail.out.find("regression"), std::string::npos) << fail.out;
  const nlohmann::json gate = load_report(dir + "/gate.json");
  bool bitwise_regression = false;
  for (const auto& c : gate["checks"])
    bitwise_regression |= c["rule"] == "bitwise" && c["status"] == "regression" &&
                          c["target"] == "calibration/seeded_noise";
  EXPECT_TRUE(bitwise_regression) << gate.dump(1);
}

}  // namespace
}  // namespace flakescope
