#pragma once
// Makes a test command write JUnit XML to a per-run path: `--junit auto` recognises pytest
// (adds --junitxml=PATH), ctest (--output-junit PATH) and gtest binaries (--gtest_output=xml:PATH,
// or GTEST_OUTPUT in the environment when nothing on the command line says gtest); `{junit}`
// written anywhere in the command is replaced by the path instead.
#include <string>
#include <vector>

#include "audit/run_environment.h"

namespace flakescope::audit {

enum class JunitMode { kAuto, kPath, kNone };
enum class JunitDialect { kUnknown, kPytest, kGtest, kCtest };

std::string_view junit_dialect_name(JunitDialect dialect);
JunitDialect detect_junit_dialect(const std::vector<std::string>& command);

inline constexpr std::string_view kJunitPlaceholder = "{junit}";

struct JunitPlan {
  std::vector<std::string> argv;  // the command to execute
  EnvChanges env;                 // added to the run's environment
  std::string xml_path;           // where to read the XML after the run; empty: none
  JunitDialect dialect = JunitDialect::kUnknown;
  // True when the command was told to write XML, so a missing file is worth a junit_error. False
  // for the GTEST_OUTPUT guess on an unrecognised command.
  bool xml_expected = false;
};

// `scratch_dir` is the run's own folder (absolute); `user_path` is used with JunitMode::kPath.
JunitPlan plan_junit(const std::vector<std::string>& command, JunitMode mode,
                     const std::string& user_path, const std::string& scratch_dir);

}  // namespace flakescope::audit
