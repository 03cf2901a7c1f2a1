#pragma once
// Per-testcase outcomes from the JUnit XML that pytest (--junitxml), gtest (--gtest_output=xml)
// and ctest (--output-junit) write, and from gtest's console output when a run died before it
// could write its XML. A file that is missing, empty, truncated or not JUnit is reported through
// `error`, never thrown: one bad run must not end an audit of hundreds.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/run_record.h"

namespace flakescope::audit {

struct JunitParse {
  std::vector<TestcaseResult> testcases;
  std::optional<std::string> error;  // set when the XML could not be read (testcases then empty)
};

// Dialects differ only in details this handles: pytest's <skipped type="pytest.xfail">, gtest's
// result="skipped"/status="notrun", ctest's status="notrun"/"disabled". Names are
// "classname::name" (just "name" when the classname is empty or the same).
JunitParse parse_junit_xml(std::string_view xml);
JunitParse parse_junit_file(const std::string& path);

// gtest's "[ RUN      ] Suite.Test" / "[       OK ] ..." / "[  FAILED  ] ..." lines. The testcase
// that was running when the process died gets `died_as` (crash or timeout); testcases that finished
// get their own outcome. Output that is not gtest's yields nothing.
std::vector<TestcaseResult> parse_gtest_console(std::string_view output, Outcome died_as);

}  // namespace flakescope::audit
