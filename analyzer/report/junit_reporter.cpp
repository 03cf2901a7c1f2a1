// JUnit XML so that any CI shows flakescope's findings natively: one testcase per probe x setting,
// per audited test, or per gate check; findings are <failure>s, errors <error>s. Valid against
// the Jenkins xunit JUnit schema (junit-10.xsd): time per testcase and suite, timestamp and
// hostname per suite, type and message on every failure, nothing XML 1.0 forbids.
#include <cmath>
#include <cstdio>
#include <pugixml.hpp>
#include <sstream>

#include "report/format_renderers.h"
#include "report/report_tables.h"
#include "report/sanitize.h"

namespace flakescope::report {
namespace {

using model::ProbeVerdict;

// Drops what XML 1.0 cannot carry: control characters other than tab, newline and carriage
// return, U+FFFE/U+FFFF, and bytes that are not UTF-8 (each becomes U+FFFD).
std::string xml_safe(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += static_cast<char>(c);
      ++i;
      continue;
    }
    const std::size_t len = c >= 0xF0 && c < 0xF5   ? 4
                            : c >= 0xE0             ? 3
                            : c >= 0xC2 && c < 0xE0 ? 2
                                                    : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len == 3) {  // no surrogates, no U+FFFE/U+FFFF
      const unsigned cp = ((c & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
      ok = cp >= 0x800 && !(cp >= 0xD800 && cp <= 0xDFFF) && cp != 0xFFFE && cp != 0xFFFF;
    }
    if (ok)
      out.append(s, i, len);
    else
      out += "\xEF\xBF\xBD";
    i += ok ? len : 1;
  }
  return out;
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s > 0 && std::isfinite(s) ? s : 0.0);
  return buf;
}

struct SuiteCounts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  double time = 0;
  void add(const SuiteCounts& c) {
    tests += c.tests, failures += c.failures, errors += c.errors, skipped += c.skipped;
    time += c.time;
  }
};

struct Context {
  std::string timestamp, hostname;
};

void set_attr(pugi::xml_node n, const char* name, const std::string& value) {
  n.append_attribute(name) = xml_safe(value).c_str();
}

pugi::xml_node add_case(pugi::xml_node suite, const std::string& classname, const std::string& name,
                        double time, SuiteCounts& counts) {
  pugi::xml_node tc = suite.append_child("testcase");
  set_attr(tc, "classname", classname);
  set_attr(tc, "name", name);
  set_attr(tc, "time", seconds(time));
  ++counts.tests;
  counts.time += time > 0 && std::isfinite(time) ? time : 0;
  return tc;
}

void add_result(pugi::xml_node tc, const char* kind, const std::string& type,
                const std::string& message, const std::string& body, SuiteCounts& counts) {
  pugi::xml_node n = tc.append_child(kind);
  set_attr(n, "type", type);
  set_attr(n, "message", message);
  if (!body.empty()) n.text() = xml_safe(body).c_str();
  if (std::string(kind) == "failure")
    ++counts.failures;
  else if (std::string(kind) == "error")
    ++counts.errors;
  else
    ++counts.skipped;
}

void add_output(pugi::xml_node tc, const std::string& text) {
  tc.append_child("system-out").text() = xml_safe(text).c_str();
}

pugi::xml_node open_suite(pugi::xml_node root, const std::string& name, const Context& ctx) {
  pugi::xml_node suite = root.append_child("testsuite");
  set_attr(suite, "name", name);
  return suite;
}

// Attributes in the schema's order of interest; counts known only once the cases are in.
void close_suite(pugi::xml_node suite, const SuiteCounts& c, const Context& ctx) {
  suite.append_attribute("tests") = c.tests;
  suite.append_attribute("failures") = c.failures;
  suite.append_attribute("errors") = c.errors;
  suite.append_attribute("skipped") = c.skipped;
  set_attr(suite, "time", seconds(c.time));
  set_attr(suite, "timestamp", ctx.timestamp);
  set_attr(suite, "hostname", ctx.hostname);
}

double setting_seconds(const ProbeView& p, const SettingRow& s) {
  if (!p.source) return 0;
  const model::ProbeSetting* raw = p.source->find_setting(s.setting);
  if (!raw || !raw->extra.contains("duration_seconds")) return 0;
  const auto& d = raw->extra["duration_seconds"];
  return d.is_number() ? d.get<double>() : 0;
}

void probe_suites(const ReportView& view, pugi::xml_node root, const Context& ctx,
                  SuiteCounts& total) {
  for (const auto& p : view.probes) {
    pugi::xml_node suite = open_suite(root, p.name, ctx);
    SuiteCounts counts;
    for (const auto& s : p.settings) {
      pugi::xml_node tc = add_case(suite, p.name, s.setting, setting_seconds(p, s), counts);
      std::ostringstream detail;
      detail << model::to_string(s.verdict) << ": " << s.runs << " runs, " << s.distinct_outputs
             << " distinct outputs, max abs dev " << format_number(s.max_abs_dev) << ", max ULP "
             << format_number(s.max_ulp);
      if (s.verdict == ProbeVerdict::kError) {
        add_result(tc, "error", "flakescope.probe-error",
                   s.error.empty() ? "probe failed" : s.error, "", counts);
      } else if (s.verdict == ProbeVerdict::kUnavailable) {
        add_result(tc, "skipped", "flakescope.unavailable",
                   s.error.empty() ? "unavailable" : s.error, "", counts);
      } else if (s.finding) {
        add_result(tc, "failure", "flakescope.nondeterministic",
                   "nondeterministic although every knob is controlled",
                   detail.str() + (p.diagnosis.empty() ? "" : "\n" + p.diagnosis), counts);
      } else {
        add_output(tc, detail.str());
      }
    }
    close_suite(suite, counts, ctx);
    total.add(counts);
  }
}

void audit_suite(const ReportView& view, pugi::xml_node suite, const model::Report& report,
                 SuiteCounts& counts) {
  for (const auto& t : view.tests) {
    double time = 0;
    for (const auto& raw : report.audit.tests)
      if (raw.name == t.test && raw.setting == t.setting && raw.duration && raw.duration->mean)
        time = *raw.duration->mean * double(raw.runs);
    pugi::xml_node tc = add_case(suite, "flakescope.audit", t.name, time, counts);
    std::ostringstream detail;
    detail << model::to_string(t.classification) << ": " << t.failures << "/" << t.runs
           << " runs failed, rate " << format_percent(t.rate) << " ["
           << format_percent(t.rate_lower) << ", " << format_percent(t.rate_upper) << "], retries "
           << retries_text(t);
    if (!t.replay.empty()) detail << "\nreplay: " << t.replay;
    // A test that failed every run is broken, not flaky (a warning of the audit), but a CI
    // dashboard showing it green would hide it: it is a failure of its own type here.
    if (t.severity == Severity::kFinding || t.classification == model::TestClass::kStableFail)
      add_result(tc, "failure", "flakescope." + std::string(model::to_string(t.classification)),
                 std::string(model::to_string(t.classification)) + ": " + format_percent(t.rate) +
                     " of runs fail",
                 detail.str() + (t.cause.empty() ? "" : "\n" + t.cause), counts);
    else
      add_output(tc, detail.str());
  }
}

void gate_suite(const ReportView& view, pugi::xml_node suite, SuiteCounts& counts) {
  for (const auto& c : view.checks) {
    std::string name = c.target;
    if (!c.setting.empty()) name += " [" + c.setting + "]";
    if (!c.output.empty()) name += " " + c.output;
    name += " " + c.rule;
    pugi::xml_node tc = add_case(suite, "flakescope.gate", name, 0, counts);
    if (c.severity == Severity::kFinding)
      add_result(tc, "failure", "flakescope.regression." + c.rule, c.message, "", counts);
    else
      add_output(tc, std::string(model::to_string(c.status)) + ": " + c.message);
  }
}

Context context_of(const model::Report& report) {
  Context ctx;
  ctx.timestamp = report.header.created;
  if (!ctx.timestamp.empty() && ctx.timestamp.back() == 'Z') ctx.timestamp.pop_back();
  ctx.hostname = "unknown";
  if (report.header.machine) {
    const auto& extra = report.header.machine->extra;
    if (extra.contains("hostname") && extra["hostname"].is_string())
      ctx.hostname = extra["hostname"].get<std::string>();
  }
  return ctx;
}

// Every attribute and text node is untrusted text (test names, messages, output): characters XML
// 1.0 forbids are removed before saving (pugixml would write them as &#27;, which strict parsers
// reject).
void scrub_xml(pugi::xml_node node) {
  for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute())
    a.set_value(sanitize_xml(a.value()).c_str());
  for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata)
      child.set_value(sanitize_xml(child.value()).c_str());
    else
      scrub_xml(child);
  }
}

}  // namespace

std::string JunitReporter::render(const model::Report& report) const {
  const ReportView view = make_view(report);
  const Context ctx = context_of(report);
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = doc.append_child("testsuites");
  set_attr(root, "name", "flakescope " + kind_word(view.kind));
  SuiteCounts total;
  if (view.kind == model::ReportKind::kProbe) {
    probe_suites(view, root, ctx, total);
  } else {
    pugi::xml_node suite = open_suite(root, "flakescope." + kind_word(view.kind), ctx);
    if (view.kind == model::ReportKind::kAudit)
      audit_suite(view, suite, report, total);
    else
      gate_suite(view, suite, total);
    close_suite(suite, total, ctx);
  }
  // <testsuites> takes no "skipped" in the Jenkins xunit schema.
  root.append_attribute("tests") = total.tests;
  root.append_attribute("failures") = total.failures;
  root.append_attribute("errors") = total.errors;
  set_attr(root, "time", seconds(total.time));
  scrub_xml(root);
  std::ostringstream out;
  doc.save(out, "  ");
  return out.str();
}

}  // namespace flakescope::report
