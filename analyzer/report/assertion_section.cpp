// The assertions section (see assertion_section.h).
#include "report/assertion_section.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/report.h"
#include "report/report_view.h"
#include "report/sanitize.h"
#include "report/svg_plots.h"

namespace flakescope::report {
namespace {

std::string num(double v) {
  if (!std::isfinite(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", v);
  return buffer;
}

// As the tests' table writes rates (format_percent: 0.25%, not 0.2%; "<0.01%" below the usual
// 1e-4 target).
std::string percent(double p) {
  return format_percent(p);
}

using model::AssertionAction;
using model::AssertionSite;

// What the maintainer reads first: loosen, fix, review, negated, keep.
std::string action_of(const AssertionSite& e) {
  const AssertionAction action = e.recommendation.action;
  if (e.cls == model::AssertionClass::kNegated)
    return action == AssertionAction::kReview ? "negated: review" : "negated";
  if (e.at_risk()) return "at risk";
  // ("none" in the JSON: no run failed and the runs are too few for a bound.)
  if (action == AssertionAction::kNone) return "no bound yet";
  return std::string(model::to_string(action));
}

// numpy's assert_array_almost_equal / assert_almost_equal: `decimal=d`, the bound 1.5 * 10^-d.
bool takes_decimal(const AssertionSite& e) {
  return e.api == "numpy.testing.assert_array_almost_equal" ||
         e.api == "numpy.testing.assert_almost_equal";
}

std::string decimal_text(double bound) {
  const long d = bound > 0 ? std::lround(std::log10(1.5 / bound)) : 16;
  return "decimal=" + std::to_string(d) + " (atol " + num(bound) + ")";
}

std::string current_args(const AssertionSite& e) {
  if (e.cls == model::AssertionClass::kThresholdVariable)
    return e.op.value_or("<") + " a per-run bound";
  if (e.api == "threshold") return e.op.value_or("<") + " " + num(e.atol);
  if (e.hidden_tolerance) return "its own tolerance (let " + num(e.atol) + " pass)";
  if (e.api == "pytest.approx") return "rel=" + num(e.rtol) + ", abs=" + num(e.atol);
  if (takes_decimal(e)) return decimal_text(e.atol);
  return "rtol=" + num(e.rtol) + ", atol=" + num(e.atol);
}

std::string recommended_args(const AssertionSite& e) {
  const model::AssertionRecommendation& rec = e.recommendation;
  if (!rec.atol) return "-";
  if (e.api == "threshold") return e.op.value_or("") + " " + num(*rec.atol);
  if (e.api == "pytest.approx") return "rel=" + num(rec.rtol) + ", abs=" + num(*rec.atol);
  if (takes_decimal(e)) return decimal_text(*rec.atol);
  return "rtol=" + num(rec.rtol) + ", atol=" + num(*rec.atol);
}

// "1.3% [0.5%, 3.1%] (2/60 runs)": the estimate of P(this call fails) when the report has one,
// else the observed rate with its Clopper-Pearson interval.
std::string rate_text(const AssertionSite& e) {
  const model::FailureRate& fr = e.failure_rate;
  // The test never sees a discarded result: count what the call said, not test failures.
  if (e.cls == model::AssertionClass::kUnchecked)
    return "returned False in " + std::to_string(fr.failures) + "/" + std::to_string(fr.trials) +
           " runs (never checked)";
  double point = fr.point, lower = fr.cp_lower, upper = fr.cp_upper;
  std::string modelled;
  if (e.estimated_failure_rate) {
    point = e.estimated_failure_rate->point;
    lower = e.estimated_failure_rate->lower;
    upper = e.estimated_failure_rate->upper;
    // "2.2% (0/30 runs failed)" needs to say the 2.2% is the tail model's, not a count.
    if (e.estimated_failure_rate->method != "counts") modelled = "est. ";
  }
  return modelled + percent(point) + " [" + percent(lower) + ", " + percent(upper) + "] (" +
         std::to_string(fr.failures) + "/" + std::to_string(fr.trials) + " runs failed)";
}

// The site, with what tells apart several entries of one line (dtype, helper line).
std::string site_of(const AssertionSite& e) {
  std::string site = e.site;
  if (e.argument_sets_at_site > 1 || e.mixed_arguments) {
    if (e.api == "threshold")  // `assert 0 <= x and x < 0.9`: told apart by its comparison
      site += " [" + e.op.value_or("<") + " " + num(e.atol) + "]";
    else
      site +=
          " [" + e.dtype.value_or("?") + ", rtol=" + num(e.rtol) + ", atol=" + num(e.atol) + "]";
  }
  return site;
}

std::string note_of(const AssertionSite& e) {
  std::string note = e.suggestion.empty() ? e.verdict : e.suggestion;
  if (e.via) {
    note += " [via " + e.via->frame;
    if (e.via->comparison() != e.via->frame) note += ", compared at " + e.via->comparison();
    note += "]";
  }
  return note;
}

std::size_t undecided_count(const std::vector<AssertionSite>& sites) {
  std::size_t n = 0;
  for (const auto& e : sites)
    if (!e.needs_action() && !e.at_risk() && e.recommendation.action == AssertionAction::kNone) ++n;
  return n;
}

std::size_t at_risk_count(const std::vector<const AssertionSite*>& listed) {
  return static_cast<std::size_t>(std::count_if(
      listed.begin(), listed.end(), [](const AssertionSite* e) { return e->at_risk(); }));
}

// " (on 2 lines)" when the entries are the cases of fewer lines (a parametrized test, a helper's
// callers: torchkbnufft's "8 sites need action" were 2 lines).
std::string lines_note(const std::vector<const AssertionSite*>& entries) {
  std::set<std::string> lines;
  for (const AssertionSite* e : entries) lines.insert(e->site);
  if (lines.size() >= entries.size()) return "";
  return " (on " + std::to_string(lines.size()) + (lines.size() == 1 ? " line)" : " lines)");
}

// "3 need action, 2 at risk (...)": the sites listed, by why.
std::string listed_text(const std::vector<const AssertionSite*>& sites, bool sentence) {
  const std::size_t risky = at_risk_count(sites), acting = sites.size() - risky;
  std::vector<const AssertionSite*> acting_sites;
  for (const AssertionSite* e : sites)
    if (!e->at_risk()) acting_sites.push_back(e);
  std::string t = std::to_string(acting) +
                  (sentence ? (acting == 1 ? " site needs" : " sites need") : " need") + " action" +
                  lines_note(acting_sites);
  if (risky > 0)
    t += ", " + std::to_string(risky) +
         " at risk (no run failed, but the estimated failure rate is above the target or the "
         "worst run used over half the tolerance)";
  return t;
}

std::string fine_text(std::size_t fine, std::size_t undecided,
                      const std::vector<AssertionSite>& sites) {
  std::vector<const AssertionSite*> fine_sites;
  for (const auto& e : sites)
    if (!e.needs_action() && !e.at_risk()) fine_sites.push_back(&e);
  std::string t = std::to_string(fine) + " fine" + lines_note(fine_sites);
  if (undecided > 0) {
    t += " (" + std::to_string(undecided) + " of them passed every run but " +
         (undecided == 1 ? "has" : "have") + " too few runs for a bound)";
  }
  return t;
}

std::vector<const AssertionSite*> listed(const std::vector<AssertionSite>& sites,
                                         std::size_t* fine) {
  std::vector<const AssertionSite*> out;
  *fine = 0;
  std::vector<const AssertionSite*> risky;
  for (const auto& e : sites) {
    if (e.needs_action()) {
      out.push_back(&e);
    } else if (e.at_risk()) {
      risky.push_back(&e);
    } else {
      ++*fine;
    }
  }
  out.insert(out.end(), risky.begin(), risky.end());  // after the ones that need action
  return out;
}

// Text in a Markdown table cell: escaped as any Markdown text, on one line.
std::string md_cell(const std::string& s) {
  std::string out = sanitize_markdown(s);
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

// Text inside a code span in a table cell: literal (no entity would be decoded there), on one
// line; only the cell separator is escaped (GFM splits cells before it parses code spans).
std::string md_code_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else
      out += c == '\n' || c == '\r' ? ' ' : c;
  }
  return out;
}

// The advice as prose and `code` spans (the arguments to write), split at its backticks; a lone
// backtick stays prose.
std::vector<std::pair<bool, std::string>> code_spans(const std::string& note) {
  std::vector<std::pair<bool, std::string>> out;
  std::size_t at = 0;
  while (at < note.size()) {
    const std::size_t open = note.find('`', at);
    const std::size_t close = open == std::string::npos ? open : note.find('`', open + 1);
    if (close == std::string::npos) {
      out.emplace_back(false, note.substr(at));
      break;
    }
    if (open > at) out.emplace_back(false, note.substr(at, open - at));
    out.emplace_back(true, note.substr(open + 1, close - open - 1));
    at = close + 1;
  }
  return out;
}

// Advice in a Markdown table cell: code spans kept as code (where `<` is literal; only the cell
// separator is escaped), the prose escaped as any cell.
std::string md_note(const std::string& note) {
  std::string out;
  for (const auto& [code, text] : code_spans(note)) {
    if (!code) {
      out += md_cell(text);
      continue;
    }
    out += "`" + md_code_text(text) + "`";
  }
  return out;
}

// Advice in an HTML cell: code spans as <code>, everything escaped.
std::string html_note(const std::string& note) {
  std::string out;
  for (const auto& [code, text] : code_spans(note))
    out += code ? "<code>" + xml_escape(text) + "</code>" : xml_escape(text);
  return out;
}

std::string terminal(const std::vector<const AssertionSite*>& sites, const std::string& fine) {
  std::ostringstream o;
  o << "\nAssertions: " << listed_text(sites, false) << ", " << fine << "\n";
  for (const AssertionSite* e : sites) {
    o << "  " << site_of(*e) << "  " << action_of(*e) << "  (" << e->test << ")\n"
      << "    current: " << current_args(*e) << "  recommended: " << recommended_args(*e)
      << "  failure rate: " << rate_text(*e) << "\n"
      << "    " << note_of(*e) << "\n";
  }
  return o.str();
}

std::string markdown(const std::vector<const AssertionSite*>& sites, const std::string& fine) {
  std::ostringstream o;
  o << "\n### Assertions\n\n"
    << md_cell(listed_text(sites, true)) << ", " << md_cell(fine) << ".\n\n";
  if (sites.empty()) return o.str();
  o << "| Site | Test | Action | Current | Recommended | Failure rate | Advice |\n"
    << "|---|---|---|---|---|---|---|\n";
  for (const AssertionSite* e : sites) {
    o << "| `" << md_code_text(site_of(*e)) << "` | " << md_cell(e->test) << " | "
      << md_cell(action_of(*e)) << " | " << md_cell(current_args(*e)) << " | "
      << md_cell(recommended_args(*e)) << " | " << md_cell(rate_text(*e)) << " | "
      << md_note(note_of(*e)) << " |\n";
  }
  return o.str();
}

// Histogram of the per-run deviations with the current (grey) and recommended (green) bound.
std::string margins_histogram(const AssertionSite& e) {
  std::vector<double> values;
  for (double x : e.samples.atol_needed) {
    if (std::isfinite(x)) values.push_back(x);
  }
  if (values.empty()) return "";
  const double current = e.atol;
  const double recommended = e.recommendation.atol.value_or(std::nan(""));
  double top = *std::max_element(values.begin(), values.end());
  for (double m : {current, recommended}) {
    if (std::isfinite(m)) top = std::max(top, m);
  }
  top = top > 0 ? top * 1.05 : 1;
  constexpr int kBins = 30;
  constexpr double kWidth = 420, kHeight = 120, kLeft = 10;
  std::vector<int> counts(kBins, 0);
  for (double x : values) ++counts[std::min(kBins - 1, static_cast<int>(x / top * kBins))];
  const int most = *std::max_element(counts.begin(), counts.end());
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth + 20 << "\" height=\""
    << kHeight + 30 << "\" role=\"img\"><title>per-run deviation (atol needed)</title>";
  const double bar = kWidth / kBins;
  for (int i = 0; i < kBins; ++i) {
    const double h = most ? kHeight * counts[i] / most : 0;
    o << "<rect x=\"" << kLeft + i * bar << "\" y=\"" << kHeight - h << "\" width=\"" << bar - 1
      << "\" height=\"" << h << "\" fill=\"#4a78b5\"/>";
  }
  auto marker = [&](double m, const char* color, const char* label) {
    if (!std::isfinite(m)) return;
    const double x = kLeft + m / top * kWidth;
    o << "<line x1=\"" << x << "\" x2=\"" << x << "\" y1=\"0\" y2=\"" << kHeight << "\" stroke=\""
      << color << "\" stroke-width=\"2\"/><text x=\"" << x + 2 << "\" y=\"" << kHeight + 14
      << "\" font-size=\"10\" fill=\"" << color << "\">" << label << " " << num(m) << "</text>";
  };
  marker(current, "#777", "current");
  if (recommended != current) marker(recommended, "#2a8a2a", "recommended");
  o << "<text x=\"" << kLeft << "\" y=\"" << kHeight + 28 << "\" font-size=\"10\">0 .. " << num(top)
    << " (atol needed per run)</text></svg>";
  return o.str();
}

std::string html(const std::vector<const AssertionSite*>& sites, const std::string& fine) {
  std::ostringstream o;
  o << "<h2>Assertions</h2><p>" << xml_escape(listed_text(sites, true)) << ", " << xml_escape(fine)
    << ".</p>";
  if (sites.empty()) return o.str();
  o << "<table><tr><th>Site</th><th>Test</th><th>Action</th><th>Current</th><th>Recommended</th>"
       "<th>Failure rate</th><th>Advice</th></tr>";
  for (const AssertionSite* e : sites) {
    o << "<tr><td><code>" << xml_escape(site_of(*e)) << "</code></td><td>" << xml_escape(e->test)
      << "</td><td>" << xml_escape(action_of(*e)) << "</td><td>" << xml_escape(current_args(*e))
      << "</td><td>" << xml_escape(recommended_args(*e)) << "</td><td>" << xml_escape(rate_text(*e))
      << "</td><td>" << html_note(note_of(*e)) << "</td></tr>";
  }
  o << "</table><div class=\"plots\">";
  for (const AssertionSite* e : sites) {
    const std::string svg = margins_histogram(*e);
    if (!svg.empty()) {
      o << "<figure><figcaption><code>" << xml_escape(site_of(*e)) << "</code></figcaption>" << svg
        << "</figure>";
    }
  }
  o << "</div>";
  return o.str();
}

}  // namespace

namespace {

// The tests that ran: a pass or a failure in some run (in any setting).
std::set<std::string> tests_that_ran(const model::AuditBody& audit) {
  std::set<std::string> ran;
  for (const auto& t : audit.tests) {
    const auto count = [&](const char* outcome) {
      const auto it = t.outcomes.find(outcome);
      return it == t.outcomes.end() ? 0L : it->second;
    };
    if (count("pass") + count("fail") > 0) ran.insert(t.name);
  }
  return ran;
}

// The tests that ran without a captured comparison.
std::vector<std::string> tests_without_sites(const model::AuditBody& audit) {
  std::set<std::string> with_sites;
  for (const auto& site : *audit.assertions) with_sites.insert(site.test);
  std::vector<std::string> without;
  for (const std::string& name : tests_that_ran(audit))
    if (!with_sites.count(name)) without.push_back(name);
  return without;
}

std::string uncaptured_line(const std::vector<std::string>& tests, std::size_t ran,
                            ReportFormat format) {
  if (tests.empty()) return "";
  std::string examples;
  for (std::size_t i = 0; i < tests.size() && i < 3; ++i) examples += (i ? ", " : "") + tests[i];
  if (tests.size() > 3) examples += " and " + std::to_string(tests.size() - 3) + " more";
  const std::string text =
      std::to_string(tests.size()) + " of " + std::to_string(ran) +
      " tests that ran made no comparison the capture recognises (for example only a bare assert "
      "of a boolean, a pytest.raises, an element-wise check of two tensors such as `(a <= "
      "b).all()` or any `.any()`, a helper that compares element by element itself, or a check "
      "inside the library's own code rather than the tests'): their tolerances are not "
      "measured (" +
      examples + ")";
  switch (format) {
    case ReportFormat::kTerminal:
      return "  " + sanitize_terminal(text) + "\n";
    case ReportFormat::kMarkdown:
      return "\n" + sanitize_markdown(text) + "\n";
    case ReportFormat::kHtml:
      return "<p>" + xml_escape(text) + "</p>";
    default:
      return "";
  }
}

}  // namespace

// A capture that recognised no comparison at all (curvlinops: every check inside the library's
// own helper) says so, instead of printing nothing.
std::string nothing_captured(ReportFormat format) {
  switch (format) {
    case ReportFormat::kTerminal:
      return "\nAssertions: none captured\n";
    case ReportFormat::kMarkdown:
      return "\n### Assertions\n\nNone captured.\n";
    case ReportFormat::kHtml:
      return "<h2>Assertions</h2><p>None captured.</p>";
    default:
      return "";
  }
}

std::string assertion_section(const model::AuditBody& audit, ReportFormat format) {
  if (!audit.assertions) return "";
  const std::vector<std::string> without = tests_without_sites(audit);
  const std::size_t ran = tests_that_ran(audit).size();
  if (audit.assertions->empty())
    return ran == 0 ? "" : nothing_captured(format) + uncaptured_line(without, ran, format);
  return assertion_section(*audit.assertions, format) + uncaptured_line(without, ran, format);
}

std::string assertion_section(const std::vector<AssertionSite>& sites, ReportFormat format) {
  if (sites.empty()) return "";
  std::size_t fine = 0;
  const std::vector<const AssertionSite*> listed_sites = listed(sites, &fine);
  const std::string fine_line = fine_text(fine, undecided_count(sites), sites);
  switch (format) {
    case ReportFormat::kTerminal:
      return terminal(listed_sites, fine_line);
    case ReportFormat::kMarkdown:
      return markdown(listed_sites, fine_line);
    case ReportFormat::kHtml:
      return html(listed_sites, fine_line);
    default:
      return "";
  }
}

std::string assertion_note(const AssertionSite& e) {
  return note_of(e);
}

std::string assertion_site_label(const AssertionSite& e) {
  return site_of(e);
}

}  // namespace flakescope::report
