// JUnit XML parsed back with pugixml: one testcase per probe x setting (or test, or gate check),
// failures for findings only, counts that add up.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "flakescope/reporters.h"
#include "report_test_support.h"

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
  EXPECT_EQ(root.attribute("skipped").as_int(), 1);
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

}  // namespace
}  // namespace flakescope
