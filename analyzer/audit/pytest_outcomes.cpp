#include "audit/pytest_outcomes.h"

#include "audit/json_lines_follower.h"

#include <fstream>
#include <set>

namespace flakescope::audit {
namespace {

constexpr std::size_t kMaxMessage = 300;  // as the JUnit reader keeps

}  // namespace

std::optional<Outcome> parse_pytest_outcome(std::string_view name) {
  if (name == "xpass") return Outcome::kPass;
  const auto o = parse_outcome(name);
  if (!o || *o == Outcome::kCrash || *o == Outcome::kTimeout) return std::nullopt;
  return o;  // crash and timeout are the audit's verdicts, never the plugin's
}

std::optional<PytestOutcome> pytest_outcome_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto test = j.find("test");
  const auto repeat = j.find("repeat");
  const auto outcome = j.find("outcome");
  if (test == j.end() || !test->is_string() || repeat == j.end() || !repeat->is_number_unsigned() ||
      outcome == j.end() || !outcome->is_string())
    return std::nullopt;
  const auto o = parse_pytest_outcome(outcome->get<std::string>());
  if (!o) return std::nullopt;
  PytestOutcome out;
  out.test = test->get<std::string>();
  out.repeat = repeat->get<std::size_t>();
  out.outcome = *o;
  const auto duration = j.find("duration");
  if (duration != j.end() && duration->is_number()) out.duration = duration->get<double>();
  const auto message = j.find("message");
  if (message != j.end() && message->is_string()) {
    out.message = message->get<std::string>();
    if (out.message.size() > kMaxMessage) out.message = out.message.substr(0, kMaxMessage) + "...";
  }
  testcase_extras_from_json(j, out.extras);
  if (j.contains("knobs") && j["knobs"].is_object()) out.knobs = j["knobs"];
  return out;
}

PytestOutcomes read_pytest_outcomes(const std::string& path) {
  return pytest_outcomes_from(JsonLinesFollower(path).finish());
}

PytestOutcomes pytest_outcomes_from(const std::vector<nlohmann::json>& lines) {
  PytestOutcomes out;
  for (const nlohmann::json& j : lines) {
    if (auto o = pytest_outcome_from_json(j))
      out.lines.push_back(std::move(*o));
    else
      ++out.malformed;
  }
  return out;
}

std::optional<std::vector<std::string>> read_pytest_collected(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("collected") || !j["collected"].is_array()) return std::nullopt;
  std::vector<std::string> ids;
  for (const auto& id : j["collected"]) {
    if (!id.is_string()) return std::nullopt;
    ids.push_back(id.get<std::string>());
  }
  return ids;
}

TestcaseResult testcase_of(const PytestOutcome& line) {
  TestcaseResult tc = line.extras;
  tc.name = line.test;
  tc.outcome = line.outcome;
  tc.duration = line.duration;
  tc.message = line.message;
  return tc;
}

std::vector<TestcaseResult> testcases_of_run(
    const PytestOutcomes& outcomes, const std::optional<std::vector<std::string>>& collected,
    std::optional<Outcome> died) {
  std::vector<TestcaseResult> out;
  std::set<std::string> seen;
  for (const auto& line : outcomes.lines)
    if (line.repeat == 0 && seen.insert(line.test).second) out.push_back(testcase_of(line));
  if (died && collected)
    for (const auto& test : *collected)
      if (!seen.count(test)) {
        TestcaseResult tc;
        tc.name = test;
        tc.outcome = *died;
        tc.message = "the process ended (" + std::string(outcome_name(*died)) +
                     ") while this test was running";
        out.push_back(std::move(tc));
        break;  // the tests after it never ran
      }
  return out;
}

std::string junit_name_of_nodeid(std::string_view nodeid) {
  // pytest's junitxml: names = path.split("::") of the id before its first "["; the file part
  // gets "/" -> "." and loses ".py"; the parameters go back on the last name; classname is the
  // names but the last joined with ".".
  const std::size_t bracket = std::min(nodeid.find('['), nodeid.size());
  const std::string_view path = nodeid.substr(0, bracket);
  std::vector<std::string> names;
  for (std::size_t start = 0;;) {
    const std::size_t sep = path.find("::", start);
    names.emplace_back(path.substr(start, sep == std::string_view::npos ? sep : sep - start));
    if (sep == std::string_view::npos) break;
    start = sep + 2;
  }
  for (char& c : names[0])
    if (c == '/') c = '.';
  if (names[0].size() >= 3 && names[0].compare(names[0].size() - 3, 3, ".py") == 0)
    names[0].resize(names[0].size() - 3);
  names.back() += std::string(nodeid.substr(bracket));
  std::string classname;
  for (std::size_t i = 0; i + 1 < names.size(); ++i) classname += (i ? "." : "") + names[i];
  const std::string& name = names.back();
  // As the JUnit reader names a testcase (junit_xml.cpp).
  if (classname.empty() || classname == name) return name;
  return classname + "::" + name;
}

}  // namespace flakescope::audit
