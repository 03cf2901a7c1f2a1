// JUnit XML parsed back with pugixml: one testcase per probe x setting (or test, or gate check),
// failures for findings only, counts that add up.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "gate/gate.h"
#include "gate_test_support.h"
#include "report/reporters.h"

namespace flakescope {
namespace {

using namespace flakescope::testing;

pugi::xml_document parse(const std::string& xml) {
  pugi::xml_document doc;
  const auto ok = doc.load_string(xml.c_str());
  EXPECT_TRUE(ok) << ok.description() << "\n" << xml;
  return doc;
}

TEST(JunitReport, ProbeSettingsAreTestcasesAndControlledNondeterminismFails) {
  json r = probe_report(
      {probe("ops/sum", {setting("controlled", {0, 0}), setting("free:threads", {0, 1e-5})},
             {"threads"}),
       probe("calibration/racy <&>", {setting("controlled", {1e-6, 2e-6})}, {}, "racy adds")});
  r["probes"][0]["settings"].push_back(
      {{"setting", "free"}, {"runs", 0}, {"verdict", "unavailable"}, {"error", "no CUDA"}});
  const auto doc = parse(render_report(r, ReportFormat::kJunit));
  const auto root = doc.child("testsuites");
  EXPECT_EQ(root.attribute("tests").as_int(), 4);
  EXPECT_EQ(root.attribute("failures").as_int(), 1);
  // <testsuites> takes no "skipped" in the Jenkins xunit schema; the suites carry it.
  EXPECT_FALSE(root.attribute("skipped"));
  int skipped = 0;
  for (auto s : root.children("testsuite")) skipped += s.attribute("skipped").as_int();
  EXPECT_EQ(skipped, 1);
  int suites = 0;
  for (auto s : root.children("testsuite")) {
    ++suites;
    int cases = 0;
    for (auto tc : s.children("testcase")) {
      ++cases;
      EXPECT_STREQ(tc.attribute("classname").value(), s.attribute("name").value());
    }
    EXPECT_EQ(s.attribute("tests").as_int(), cases);
  }
  EXPECT_EQ(suites, 2);
  const auto racy = root.find_child_by_attribute("testsuite", "name", "calibration/racy <&>");
  ASSERT_TRUE(racy);
  const auto failure = racy.child("testcase").child("failure");
  ASSERT_TRUE(failure);
  EXPECT_STREQ(failure.attribute("message").value(),
               "nondeterministic although every knob is controlled");
  EXPECT_NE(std::string(failure.text().get()).find("racy adds"), std::string::npos);
  // Nondeterminism under a freed knob is the ablation's information, not a failing testcase.
  const auto sum = root.find_child_by_attribute("testsuite", "name", "ops/sum");
  const auto freed = sum.find_child_by_attribute("testcase", "name", "free:threads");
  EXPECT_FALSE(freed.child("failure"));
  EXPECT_TRUE(sum.find_child_by_attribute("testcase", "name", "free").child("skipped"));
}

TEST(JunitReport, AuditedTestsFailWhenFlaky) {
  const json r = audit_report({audit_test("t::ok", "stable-pass", {"pass", "pass"}),
                               audit_test("t::flaky", "flaky", {"fail", "pass"})});
  const auto doc = parse(render_report(r, ReportFormat::kJunit));
  const auto suite = doc.child("testsuites").child("testsuite");
  EXPECT_EQ(suite.attribute("tests").as_int(), 2);
  EXPECT_EQ(suite.attribute("failures").as_int(), 1);
  EXPECT_TRUE(suite.find_child_by_attribute("testcase", "name", "t::flaky").child("failure"));
  EXPECT_FALSE(suite.find_child_by_attribute("testcase", "name", "t::ok").child("failure"));
}

// A test that failed every run is broken (a warning of the audit, not a flake), and a dashboard
// must not show it green.
TEST(JunitReport, AStableFailureIsAFailureOfItsOwnType) {
  const json r = audit_report({audit_test("t::broken", "stable-fail", {"fail", "fail"})});
  const auto doc = parse(render_report(r, ReportFormat::kJunit));
  const auto failure = doc.child("testsuites")
                           .child("testsuite")
                           .find_child_by_attribute("testcase", "name", "t::broken")
                           .child("failure");
  ASSERT_TRUE(failure);
  EXPECT_STREQ(failure.attribute("type").value(), "flakescope.stable-fail");
}

}  // namespace
}  // namespace flakescope

namespace flakescope {
namespace {

using namespace flakescope::testing;

// Every JUnit document flakescope writes (probe, audit, gate) against the Jenkins xunit schema,
// with xmllint (Debian libxml2-utils). Skipped, with the reason, where either is missing.
class JunitSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("xmllint --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no xmllint";
    if (!std::ifstream(FLAKESCOPE_JUNIT_XSD)) GTEST_SKIP() << "no " << FLAKESCOPE_JUNIT_XSD;
  }
  void expect_valid(const std::string& xml, const std::string& name) {
    const std::string path = ::testing::TempDir() + "flakescope-" + name + ".xml";
    std::ofstream(path) << xml;
    const std::string log = path + ".log";
    const int rc = std::system(("xmllint --noout --schema '" + std::string(FLAKESCOPE_JUNIT_XSD) +
                                "' '" + path + "' >'" + log + "' 2>&1")
                                   .c_str());
    std::ifstream in(log);
    const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(rc, 0) << name << ": " << out << "\n" << xml;
  }
};

TEST_F(JunitSchema, ProbeAuditAndGateDocumentsAreValid) {
  json probe_r = probe_report(
      {probe("ops/sum", {setting("controlled", {0, 0}), setting("free:threads", {0, 1e-5})}),
       probe("calibration/racy\x01<&>\xff", {setting("controlled", {1e-6, 2e-6})}, {},
             "racy\x02")});
  probe_r["probes"][0]["settings"].push_back(
      {{"setting", "free"}, {"runs", 0}, {"verdict", "unavailable"}, {"error", "no CUDA"}});
  probe_r["probes"][0]["settings"].push_back(
      {{"setting", "free:uninit"}, {"runs", 0}, {"verdict", "error"}, {"error", "SIGSEGV\x1b[0m"}});
  expect_valid(render_report(probe_r, ReportFormat::kJunit), "probe");

  json flaky = audit_test("t::flaky\x07", "flaky", {"fail", "pass"});
  flaky["duration"] = {{"mean", 0.25}};
  const json audit_r = audit_report({audit_test("t::ok", "stable-pass", {"pass", "pass"}), flaky});
  const std::string audit_xml = render_report(audit_r, ReportFormat::kJunit);
  expect_valid(audit_xml, "audit");
  const auto doc = parse(audit_xml);
  const auto suite = doc.child("testsuites").child("testsuite");
  EXPECT_STREQ(suite.attribute("timestamp").value(), "2026-11-25T21:04:05");
  EXPECT_TRUE(suite.attribute("hostname"));
  EXPECT_STREQ(suite.attribute("time").value(), "0.500");
  const auto failure =
      suite.find_child_by_attribute("testcase", "name", "t::flaky").child("failure");
  EXPECT_STREQ(failure.attribute("type").value(), "flakescope.flaky");
  EXPECT_STREQ(
      suite.find_child_by_attribute("testcase", "name", "t::flaky").attribute("time").value(),
      "0.500");

  const json base = probe_report({probe("ops/a", {setting("controlled", {0, 0, 0})})});
  const json cur = probe_report({probe("ops/a", {setting("controlled", {0, 1e-6, 0})})});
  const GatePolicy policy;
  const json gate = gate_report_json(base, cur, policy);
  expect_valid(render_report(gate, ReportFormat::kJunit), "gate");
}

}  // namespace
}  // namespace flakescope
