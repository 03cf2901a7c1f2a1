#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "audit/junit_plan.h"
#include "audit/junit_xml.h"
#include "audit/pytest_plugin.h"

namespace flakescope::audit {
namespace {

TEST(AuditJunit, PytestDialectWithSkipXfailAndFailure) {
  const char* xml = R"(<?xml version="1.0" encoding="utf-8"?><testsuites>
<testsuite name="pytest" errors="0" failures="1" skipped="2" tests="4">
<testcase classname="test_mod" name="test_ok" time="0.010"/>
<testcase classname="test_mod" name="test_bad" time="0.5"><failure message="AssertionError: x&#10;more">trace</failure></testcase>
<testcase classname="test_mod" name="test_skip" time="0"><skipped type="pytest.skip" message="no gpu">x</skipped></testcase>
<testcase classname="test_mod.TestC" name="test_xf" time="0"><skipped type="pytest.xfail" message="known bug"/></testcase>
<testcase classname="test_mod" name="test_err" time="0"><error message="fixture 'db' not found"/></testcase>
</testsuite></testsuites>)";
  const JunitParse p = parse_junit_xml(xml);
  ASSERT_FALSE(p.error) << *p.error;
  ASSERT_EQ(p.testcases.size(), 5u);
  EXPECT_EQ(p.testcases[0].name, "test_mod::test_ok");
  EXPECT_EQ(p.testcases[0].outcome, Outcome::kPass);
  EXPECT_DOUBLE_EQ(p.testcases[0].duration, 0.010);
  EXPECT_EQ(p.testcases[1].outcome, Outcome::kFail);
  EXPECT_EQ(p.testcases[1].message, "AssertionError: x");
  EXPECT_EQ(p.testcases[2].outcome, Outcome::kSkip);
  EXPECT_EQ(p.testcases[2].message, "no gpu");
  EXPECT_EQ(p.testcases[3].name, "test_mod.TestC::test_xf");
  EXPECT_EQ(p.testcases[3].outcome, Outcome::kXfail);
  EXPECT_EQ(p.testcases[4].outcome, Outcome::kError);
}

TEST(AuditJunit, GtestDialectWithSkippedAndDisabled) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="4" failures="1" disabled="1" errors="0" name="AllTests">
  <testsuite name="Seeded" tests="3">
    <testcase name="Fails" status="run" result="completed" time="0.001" classname="Seeded">
      <failure message="x.cpp:4&#x0A;Expected equality" type=""><![CDATA[x.cpp:4
Expected equality]]></failure>
    </testcase>
    <testcase name="Passes" status="run" result="completed" time="0.002" classname="Seeded"/>
    <testcase name="Skips" status="run" result="skipped" time="0" classname="Seeded"><skipped message="why"/></testcase>
    <testcase name="DISABLED_Off" status="notrun" result="suppressed" time="0" classname="Seeded"/>
  </testsuite>
</testsuites>)";
  const JunitParse p = parse_junit_xml(xml);
  ASSERT_FALSE(p.error);
  ASSERT_EQ(p.testcases.size(), 4u);
  EXPECT_EQ(p.testcases[0].name, "Seeded::Fails");
  EXPECT_EQ(p.testcases[0].outcome, Outcome::kFail);
  EXPECT_EQ(p.testcases[0].message, "x.cpp:4");
  EXPECT_EQ(p.testcases[1].outcome, Outcome::kPass);
  EXPECT_EQ(p.testcases[2].outcome, Outcome::kSkip);
  EXPECT_EQ(p.testcases[3].outcome, Outcome::kSkip);
}

TEST(AuditJunit, CtestDialect) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="Linux-c++" tests="3" failures="1" disabled="1" skipped="0" hostname="" time="0" timestamp="">
	<testcase name="unit" classname="unit" time="0.1" status="run"><system-out>ok</system-out></testcase>
	<testcase name="e2e" classname="e2e" time="0.2" status="fail"><failure message="Failed"/><system-out>x</system-out></testcase>
	<testcase name="off" classname="off" time="0" status="disabled"><skipped message="Disabled"/></testcase>
</testsuite>)";
  const JunitParse p = parse_junit_xml(xml);
  ASSERT_FALSE(p.error);
  ASSERT_EQ(p.testcases.size(), 3u);
  EXPECT_EQ(p.testcases[0].name, "unit");
  EXPECT_EQ(p.testcases[0].outcome, Outcome::kPass);
  EXPECT_EQ(p.testcases[1].outcome, Outcome::kFail);
  EXPECT_EQ(p.testcases[2].outcome, Outcome::kSkip);
}

TEST(AuditJunit, MalformedInputIsAnErrorNotACrash) {
  const std::string good =
      R"(<testsuites><testsuite><testcase name="a"/><testcase name="b"/></testsuite></testsuites>)";
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    const JunitParse p = parse_junit_xml(std::string_view(good).substr(0, cut));
    EXPECT_TRUE(p.error.has_value()) << "cut at " << cut;
    EXPECT_TRUE(p.testcases.empty());
  }
  EXPECT_TRUE(parse_junit_xml("").error);
  EXPECT_TRUE(parse_junit_xml("\x01\xff\xfe garbage").error);
  const JunitParse other = parse_junit_xml("<html><body/></html>");
  ASSERT_TRUE(other.error);
  EXPECT_NE(other.error->find("not JUnit"), std::string::npos);
  const JunitParse missing = parse_junit_file("/nonexistent/flakescope/junit.xml");
  ASSERT_TRUE(missing.error);
  EXPECT_NE(missing.error->find("did not write"), std::string::npos);
}

TEST(AuditJunit, TruncatedFileNamesItsPath) {
  const std::string path = ::testing::TempDir() + "/audit_truncated.xml";
  std::ofstream(path) << "<testsuites><testsuite><testcase name=\"a\"";
  const JunitParse p = parse_junit_file(path);
  ASSERT_TRUE(p.error);
  EXPECT_NE(p.error->find(path), std::string::npos);
}

TEST(AuditJunit, GtestConsoleAttributesTheCrashToTheRunningTest) {
  const char* out =
      "Running main() from gtest_main.cc\n"
      "[==========] Running 3 tests from 2 test suites.\n"
      "[ RUN      ] Stable.Passes\n"
      "[       OK ] Stable.Passes (0 ms)\n"
      "[ RUN      ] Seeded.Fails\n"
      "x.cpp:3: Failure\n"
      "[  FAILED  ] Seeded.Fails (1 ms)\n"
      "[ RUN      ] Seeded.Aborts\n";
  const auto tcs = parse_gtest_console(out, Outcome::kCrash);
  ASSERT_EQ(tcs.size(), 3u);
  EXPECT_EQ(tcs[0].name, "Stable::Passes");
  EXPECT_EQ(tcs[0].outcome, Outcome::kPass);
  EXPECT_EQ(tcs[1].outcome, Outcome::kFail);
  EXPECT_DOUBLE_EQ(tcs[1].duration, 0.001);
  EXPECT_EQ(tcs[2].name, "Seeded::Aborts");
  EXPECT_EQ(tcs[2].outcome, Outcome::kCrash);
  EXPECT_TRUE(parse_gtest_console("plain output\nno gtest here\n", Outcome::kCrash).empty());
}

TEST(AuditJunitPlan, RecognisesEachRunnerAndAddsItsFlag) {
  const JunitPlan py =
      plan_junit({"/usr/bin/python3", "-m", "pytest", "-q", "t.py"}, JunitMode::kAuto, "", "/s");
  EXPECT_EQ(py.dialect, JunitDialect::kPytest);
  EXPECT_EQ(py.argv.back(), "--junitxml=/s/junit.xml");
  EXPECT_EQ(py.xml_path, "/s/junit.xml");
  EXPECT_TRUE(py.xml_expected);

  const JunitPlan ct = plan_junit({"ctest", "-R", "x"}, JunitMode::kAuto, "", "/s");
  EXPECT_EQ(ct.dialect, JunitDialect::kCtest);
  ASSERT_GE(ct.argv.size(), 2u);
  EXPECT_EQ(ct.argv[ct.argv.size() - 2], "--output-junit");

  const JunitPlan gt = plan_junit({"./t", "--gtest_filter=A.*", "--gtest_output=json:x"},
                                  JunitMode::kAuto, "", "/s");
  EXPECT_EQ(gt.dialect, JunitDialect::kGtest);
  EXPECT_EQ(gt.argv, (std::vector<std::string>{"./t", "--gtest_filter=A.*",
                                               "--gtest_output=xml:/s/junit.xml"}));

  const JunitPlan unknown = plan_junit({"./t"}, JunitMode::kAuto, "", "/s");
  EXPECT_EQ(unknown.argv, (std::vector<std::string>{"./t"}));
  ASSERT_EQ(unknown.env.size(), 1u);
  EXPECT_EQ(unknown.env[0].first, "GTEST_OUTPUT");
  EXPECT_FALSE(unknown.xml_expected);

  const JunitPlan placeholder =
      plan_junit({"runner", "--xml={junit}", "-m", "pytest"}, JunitMode::kAuto, "", "/s");
  EXPECT_EQ(placeholder.argv,
            (std::vector<std::string>{"runner", "--xml=/s/junit.xml", "-m", "pytest"}));

  const JunitPlan none = plan_junit({"pytest"}, JunitMode::kNone, "", "/s");
  EXPECT_EQ(none.argv, (std::vector<std::string>{"pytest"}));
  EXPECT_TRUE(none.xml_path.empty());
}

}  // namespace
}  // namespace flakescope::audit

namespace flakescope::audit {
namespace {

TEST(AuditPytestPlugin, InsertedAfterThePytestTokenWithPythonPath) {
  std::vector<std::string> argv = {"/usr/bin/python3", "-m", "pytest", "-q", "t.py"};
  EnvChanges env;
  ASSERT_TRUE(add_pytest_plugin(argv, env));
  EXPECT_EQ(argv, (std::vector<std::string>{"/usr/bin/python3", "-m", "pytest", "-p",
                                            "flakescope_pytest", "-q", "t.py"}));
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[0].first, "PYTHONPATH");
  EXPECT_EQ(env[0].second->rfind(pytest_plugin_dir(), 0), 0u);
  // The build tree's native measurement, beside the plugin the build copied.
  EXPECT_EQ(env[1].first, "FLAKESCOPE_MEASURE_LIBRARY");
  ASSERT_TRUE(env[1].second.has_value());
  EXPECT_TRUE(std::filesystem::is_regular_file(*env[1].second)) << *env[1].second;

  std::vector<std::string> direct = {"pytest", "t.py"};
  EnvChanges env2;
  ASSERT_TRUE(add_pytest_plugin(direct, env2));
  EXPECT_EQ(direct, (std::vector<std::string>{"pytest", "-p", "flakescope_pytest", "t.py"}));

  std::vector<std::string> other = {"./gtest_binary"};
  EnvChanges env3;
  EXPECT_FALSE(add_pytest_plugin(other, env3));
  EXPECT_EQ(other.size(), 1u);
  EXPECT_TRUE(env3.empty());
}

TEST(AuditPytestPlugin, TheUsersMeasureLibraryStands) {
  ::setenv("FLAKESCOPE_MEASURE_LIBRARY", "off", 1);
  std::vector<std::string> argv = {"pytest", "t.py"};
  EnvChanges env;
  ASSERT_TRUE(add_pytest_plugin(argv, env));
  ::unsetenv("FLAKESCOPE_MEASURE_LIBRARY");
  for (const auto& [name, value] : env) EXPECT_NE(name, "FLAKESCOPE_MEASURE_LIBRARY");
}

}  // namespace
}  // namespace flakescope::audit
