#include "audit/junit_plan.h"

namespace flakescope::audit {
namespace {

std::string basename_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool replace_placeholder(std::vector<std::string>& argv, const std::string& path) {
  bool found = false;
  for (auto& arg : argv) {
    for (auto at = arg.find(kJunitPlaceholder); at != std::string::npos;
         at = arg.find(kJunitPlaceholder, at + path.size())) {
      arg.replace(at, kJunitPlaceholder.size(), path);
      found = true;
    }
  }
  return found;
}

}  // namespace

std::string_view junit_dialect_name(JunitDialect dialect) {
  switch (dialect) {
    case JunitDialect::kPytest:
      return "pytest";
    case JunitDialect::kGtest:
      return "gtest";
    case JunitDialect::kCtest:
      return "ctest";
    case JunitDialect::kUnknown:
      break;
  }
  return "unknown";
}

JunitDialect detect_junit_dialect(const std::vector<std::string>& command) {
  if (command.empty()) return JunitDialect::kUnknown;
  const std::string exe = basename_of(command[0]);
  if (exe == "pytest" || exe == "py.test" || exe == "pytest-3") return JunitDialect::kPytest;
  if (exe == "ctest") return JunitDialect::kCtest;
  for (std::size_t i = 1; i < command.size(); ++i) {
    if (command[i] == "-m" && i + 1 < command.size() &&
        (command[i + 1] == "pytest" || command[i + 1] == "py.test"))
      return JunitDialect::kPytest;
    if (starts_with(command[i], "--gtest_")) return JunitDialect::kGtest;
  }
  return JunitDialect::kUnknown;
}

JunitPlan plan_junit(const std::vector<std::string>& command, JunitMode mode,
                     const std::string& user_path, const std::string& scratch_dir) {
  JunitPlan plan;
  plan.argv = command;
  plan.dialect = detect_junit_dialect(command);
  if (mode == JunitMode::kNone) return plan;
  if (mode == JunitMode::kPath) {
    plan.xml_path = user_path;
    plan.xml_expected = true;
    return plan;
  }
  const std::string path = scratch_dir + "/junit.xml";
  plan.xml_path = path;
  plan.xml_expected = true;
  if (replace_placeholder(plan.argv, path)) return plan;
  switch (plan.dialect) {
    case JunitDialect::kPytest:
      plan.argv.push_back("--junitxml=" + path);
      break;
    case JunitDialect::kCtest:
      plan.argv.push_back("--output-junit");
      plan.argv.push_back(path);
      break;
    case JunitDialect::kGtest: {
      std::vector<std::string> kept;
      for (auto& a : plan.argv)
        if (!starts_with(a, "--gtest_output")) kept.push_back(std::move(a));
      plan.argv = std::move(kept);
      plan.argv.push_back("--gtest_output=xml:" + path);
      break;
    }
    case JunitDialect::kUnknown:
      // Any gtest binary reads GTEST_OUTPUT; other commands ignore it.
      plan.env.emplace_back("GTEST_OUTPUT", "xml:" + path);
      plan.xml_expected = false;
      break;
  }
  return plan;
}

}  // namespace flakescope::audit
