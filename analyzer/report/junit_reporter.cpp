// JUnit XML so that any CI shows flakescope's findings natively: one testcase per probe x setting,
// per audited test, or per gate check; findings are <failure>s, errors <error>s.
#include <pugixml.hpp>
#include <sstream>

#include "report/format_renderers.h"

namespace flakescope::report {
namespace {

struct SuiteCounts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
};

pugi::xml_node add_case(pugi::xml_node suite, const std::string& classname,
                        const std::string& name, SuiteCounts& counts) {
  pugi::xml_node tc = suite.append_child("testcase");
  tc.append_attribute("classname") = classname.c_str();
  tc.append_attribute("name") = name.c_str();
  ++counts.tests;
  return tc;
}

void add_result(pugi::xml_node tc, const char* kind, const std::string& message,
                const std::string& body, SuiteCounts& counts) {
  pugi::xml_node n = tc.append_child(kind);
  n.append_attribute("message") = message.c_str();
  if (!body.empty()) n.text() = body.c_str();
  if (std::string(kind) == "failure") ++counts.failures;
  else if (std::string(kind) == "error") ++counts.errors;
  else ++counts.skipped;
}

void set_counts(pugi::xml_node suite, const SuiteCounts& c) {
  suite.append_attribute("tests") = c.tests;
  suite.append_attribute("failures") = c.failures;
  suite.append_attribute("errors") = c.errors;
  suite.append_attribute("skipped") = c.skipped;
}

void probe_suites(const ReportView& view, pugi::xml_node root, SuiteCounts& total) {
  for (const auto& p : view.probes) {
    pugi::xml_node suite = root.append_child("testsuite");
    suite.append_attribute("name") = p.name.c_str();
    SuiteCounts counts;
    for (const auto& s : p.settings) {
      pugi::xml_node tc = add_case(suite, p.name, s.setting, counts);
      std::ostringstream detail;
      detail << s.verdict << ": " << s.runs << " runs, " << s.distinct_outputs
             << " distinct outputs, max abs dev " << format_number(s.max_abs_dev) << ", max ULP "
             << format_number(s.max_ulp);
      if (s.verdict == "error") {
        add_result(tc, "error", s.error.empty() ? "probe failed" : s.error, "", counts);
      } else if (s.verdict == "unavailable") {
        add_result(tc, "skipped", s.error.empty() ? "unavailable" : s.error, "", counts);
      } else if (s.finding) {
        add_result(tc, "failure", "nondeterministic although every knob is controlled",
                   detail.str() + (p.diagnosis.empty() ? "" : "\n" + p.diagnosis), counts);
      } else {
        tc.append_child("system-out").text() = detail.str().c_str();
      }
    }
    set_counts(suite, counts);
    total.tests += counts.tests, total.failures += counts.failures;
    total.errors += counts.errors, total.skipped += counts.skipped;
  }
}

void flat_suite(const ReportView& view, pugi::xml_node root, SuiteCounts& counts) {
  pugi::xml_node suite = root.append_child("testsuite");
  suite.append_attribute("name") = ("flakescope." + view.kind).c_str();
  if (view.kind == "audit") {
    for (const auto& t : view.tests) {
      pugi::xml_node tc = add_case(suite, "flakescope.audit", t.name, counts);
      std::ostringstream detail;
      detail << t.classification << ": " << t.failures << "/" << t.runs << " runs failed, rate "
             << format_percent(t.rate) << " [" << format_percent(t.rate_lower) << ", "
             << format_percent(t.rate_upper) << "]";
      if (t.retries >= 0) detail << ", retries needed " << t.retries;
      if (t.severity == Severity::kFinding)
        add_result(tc, "failure", t.classification + ": " + format_percent(t.rate) + " of runs fail",
                   detail.str() + (t.cause.empty() ? "" : "\n" + t.cause), counts);
      else
        tc.append_child("system-out").text() = detail.str().c_str();
    }
  } else {
    for (const auto& c : view.checks) {
      std::string name = c.target;
      if (!c.setting.empty()) name += " [" + c.setting + "]";
      if (!c.output.empty()) name += " " + c.output;
      name += " " + c.rule;
      pugi::xml_node tc = add_case(suite, "flakescope.gate", name, counts);
      if (c.severity == Severity::kFinding) add_result(tc, "failure", c.message, "", counts);
      else tc.append_child("system-out").text() = (c.status + ": " + c.message).c_str();
    }
  }
  set_counts(suite, counts);
}

}  // namespace

std::string render_junit(const ReportView& view) {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = doc.append_child("testsuites");
  root.append_attribute("name") = ("flakescope " + view.kind).c_str();
  SuiteCounts total;
  if (view.kind == "probe") probe_suites(view, root, total);
  else flat_suite(view, root, total);
  set_counts(root, total);
  std::ostringstream out;
  doc.save(out, "  ");
  return out.str();
}

}  // namespace flakescope::report
