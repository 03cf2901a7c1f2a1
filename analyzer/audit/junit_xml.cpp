#include "audit/junit_xml.h"

#include <fstream>
#include <sstream>

#include <pugixml.hpp>

namespace flakescope::audit {
namespace {

constexpr std::size_t kMaxMessage = 300;

std::string first_line(std::string_view text) {
  const auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return {};
  text.remove_prefix(start);
  std::string line(text.substr(0, text.find('\n')));
  if (line.size() > kMaxMessage) line = line.substr(0, kMaxMessage) + "...";
  return line;
}

std::string node_message(const pugi::xml_node& node) {
  std::string m = first_line(node.attribute("message").as_string());
  if (m.empty()) m = first_line(node.text().as_string());
  return m;
}

std::string testcase_name(const pugi::xml_node& tc) {
  std::string name = tc.attribute("name").as_string();
  std::string classname = tc.attribute("classname").as_string();
  if (classname.empty() || classname == name) return name;
  return classname + "::" + name;
}

TestcaseResult read_testcase(const pugi::xml_node& tc) {
  TestcaseResult r;
  r.name = testcase_name(tc);
  r.duration = tc.attribute("time").as_double(0.0);
  const std::string status = tc.attribute("status").as_string();
  const std::string result = tc.attribute("result").as_string();
  if (auto n = tc.child("failure")) {
    r.outcome = Outcome::kFail;
    r.message = node_message(n);
  } else if (auto e = tc.child("error")) {
    r.outcome = Outcome::kError;
    r.message = node_message(e);
  } else if (auto s = tc.child("skipped")) {
    const std::string type = s.attribute("type").as_string();
    r.outcome = type == "pytest.xfail" ? Outcome::kXfail : Outcome::kSkip;
    r.message = node_message(s);
  } else if (result == "skipped" || result == "suppressed" || status == "notrun" ||
             status == "disabled") {
    r.outcome = Outcome::kSkip;
  } else {
    r.outcome = Outcome::kPass;
  }
  return r;
}

}  // namespace

JunitParse parse_junit_xml(std::string_view xml) {
  JunitParse out;
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    out.error = "JUnit XML is empty";
    return out;
  }
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    out.error = std::string("JUnit XML is not well-formed (") + parsed.description() + " at byte " +
                std::to_string(parsed.offset) + "; truncated?)";
    return out;
  }
  const pugi::xml_node root = doc.document_element();
  const std::string root_name = root.name();
  if (root_name != "testsuites" && root_name != "testsuite") {
    out.error = "not JUnit XML (root element <" + root_name + ">)";
    return out;
  }
  for (const pugi::xpath_node& x : doc.select_nodes("//testcase"))
    out.testcases.push_back(read_testcase(x.node()));
  return out;
}

JunitParse parse_junit_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    JunitParse out;
    out.error = "no JUnit XML at " + path + " (the command did not write it)";
    return out;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  JunitParse out = parse_junit_xml(ss.str());
  if (out.error) out.error = path + ": " + *out.error;
  return out;
}

std::vector<TestcaseResult> parse_gtest_console(std::string_view output, Outcome died_as) {
  std::vector<TestcaseResult> out;
  std::string running;
  auto test_of = [](std::string_view rest) {
    // "Suite.Test (12 ms)" or "Suite.Test, where GetParam() = ..." -> "Suite::Test"
    std::string name(rest.substr(0, rest.find_first_of(" ,")));
    const auto dot = name.find('.');
    if (dot != std::string::npos) name = name.substr(0, dot) + "::" + name.substr(dot + 1);
    return name;
  };
  auto duration_of = [](std::string_view rest) {
    const auto open = rest.find(" (");
    return open == std::string_view::npos
               ? 0.0
               : std::atof(std::string(rest.substr(open + 2)).c_str()) / 1000;
  };
  std::size_t pos = 0;
  while (pos < output.size()) {
    std::size_t end = output.find('\n', pos);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() < 13 || line[0] != '[' || line[11] != ']') continue;
    const std::string_view tag = line.substr(1, 10);
    const std::string_view rest = line.substr(13);
    if (tag == " RUN      ") {
      running = test_of(rest);
      continue;
    }
    std::optional<Outcome> finished;
    if (tag == "       OK ")
      finished = Outcome::kPass;
    else if (tag == "  FAILED  ")
      finished = Outcome::kFail;
    else if (tag == "  SKIPPED ")
      finished = Outcome::kSkip;
    // The summary at the end repeats FAILED lines; only a line closing the running test counts.
    if (finished && !running.empty() && test_of(rest) == running) {
      out.push_back(make_testcase(running, *finished, duration_of(rest), ""));
      running.clear();
    }
  }
  if (!running.empty())
    out.push_back(make_testcase(running, died_as, 0.0,
                                std::string("the process ended (") +
                                    std::string(outcome_name(died_as)) +
                                    ") while this test was running"));
  return out;
}

}  // namespace flakescope::audit
