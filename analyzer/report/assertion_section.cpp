// The assertions section (see assertion_section.h).
#include "report/assertion_section.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

#include "core/report.h"
#include "report/svg_plots.h"

namespace flakescope::report {
namespace {

using nlohmann::json;

std::string num(double v) {
  if (!std::isfinite(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", v);
  return buffer;
}

std::string percent(double p) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, p < 0.001 && p > 0 ? "%.2g%%" : "%.1f%%", p * 100);
  return buffer;
}

std::string str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

double number(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

// What the maintainer reads first: loosen, fix, review, negated, keep.
std::string action_of(const json& e) {
  const std::string action = e.contains("recommendation") ? str(e["recommendation"], "action") : "";
  if (str(e, "class") == "negated") return action == "review" ? "negated: review" : "negated";
  return action.empty() ? "none" : action;
}

std::string current_args(const json& e) {
  if (str(e, "api") == "threshold")
    return std::string(str(e, "op").empty() ? "<" : str(e, "op")) + " " + num(number(e, "atol"));
  return "rtol=" + num(number(e, "rtol")) + ", atol=" + num(number(e, "atol"));
}

std::string recommended_args(const json& e) {
  const json& rec = e["recommendation"];
  if (!rec.contains("atol") || !rec["atol"].is_number()) return "-";
  if (str(e, "api") == "threshold") return str(e, "op") + " " + num(rec["atol"].get<double>());
  return "rtol=" + num(number(rec, "rtol")) + ", atol=" + num(rec["atol"].get<double>());
}

// "1.3% [0.5%, 3.1%] (2/60 runs)": the estimate of P(this call fails) when the report has one
// ("estimated_failure_rate"), else the observed rate with its Clopper-Pearson interval.
std::string rate_text(const json& e) {
  const json& source =
      e.contains("estimated_failure_rate") && e["estimated_failure_rate"].is_object()
          ? e["estimated_failure_rate"]
          : e["failure_rate"];
  const json& fr = e["failure_rate"];
  std::string text = percent(number(source, "point"));
  const json& ci = source.contains("interval") ? source["interval"] : source["clopper_pearson"];
  if (ci.is_array() && ci.size() == 2 && ci[0].is_number() && ci[1].is_number()) {
    text += " [" + percent(ci[0].get<double>()) + ", " + percent(ci[1].get<double>()) + "]";
  }
  return text + " (" + std::to_string(fr["failures"].get<std::size_t>()) + "/" +
         std::to_string(fr["trials"].get<std::size_t>()) + " runs failed)";
}

std::string note_of(const json& e) {
  std::string note = str(e, "suggestion");
  if (note.empty()) note = str(e, "verdict");
  if (!str(e, "via").empty()) note += " [via " + str(e, "via") + "]";
  return note;
}

std::size_t undecided_count(const json& report) {
  std::size_t n = 0;
  for (const auto& e : report["assertions"]) {
    if (e.is_object() && e.contains("recommendation") && !assertion_needs_action(e) &&
        str(e["recommendation"], "action") == "none") {
      ++n;
    }
  }
  return n;
}

std::string fine_text(std::size_t fine, std::size_t undecided) {
  std::string t = std::to_string(fine) + " fine";
  if (undecided > 0) {
    t += " (" + std::to_string(undecided) +
         " of them passed every run but have too few runs for "
         "a bound)";
  }
  return t;
}

std::vector<const json*> listed(const json& report, std::size_t* fine) {
  std::vector<const json*> out;
  *fine = 0;
  if (!report.contains("assertions") || !report["assertions"].is_array()) return out;
  for (const auto& e : report["assertions"]) {
    if (!e.is_object() || !e.contains("failure_rate") || !e.contains("recommendation")) continue;
    if (assertion_needs_action(e)) {
      out.push_back(&e);
    } else {
      ++*fine;
    }
  }
  return out;
}

std::string md_cell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

std::string terminal(const std::vector<const json*>& sites, const std::string& fine) {
  std::ostringstream o;
  o << "\nAssertions: " << sites.size() << " need action, " << fine << "\n";
  for (const json* e : sites) {
    o << "  " << str(*e, "site") << "  " << action_of(*e) << "  (" << str(*e, "test") << ")\n"
      << "    current: " << current_args(*e) << "  recommended: " << recommended_args(*e)
      << "  failure rate: " << rate_text(*e) << "\n"
      << "    " << note_of(*e) << "\n";
  }
  return o.str();
}

std::string markdown(const std::vector<const json*>& sites, const std::string& fine) {
  std::ostringstream o;
  o << "\n### Assertions\n\n" << sites.size() << " sites need action, " << md_cell(fine) << ".\n\n";
  if (sites.empty()) return o.str();
  o << "| Site | Test | Action | Current | Recommended | Failure rate | Advice |\n"
    << "|---|---|---|---|---|---|---|\n";
  for (const json* e : sites) {
    o << "| `" << md_cell(str(*e, "site")) << "` | " << md_cell(str(*e, "test")) << " | "
      << md_cell(action_of(*e)) << " | " << md_cell(current_args(*e)) << " | "
      << md_cell(recommended_args(*e)) << " | " << md_cell(rate_text(*e)) << " | "
      << md_cell(note_of(*e)) << " |\n";
  }
  return o.str();
}

// Histogram of the per-run deviations with the current (grey) and recommended (green) bound.
std::string margins_histogram(const json& e) {
  std::vector<double> values;
  for (const auto& v : e["samples"]["atol_needed"]) {
    const double x = number_from_json(v);
    if (std::isfinite(x)) values.push_back(x);
  }
  if (values.empty()) return "";
  const double current = number(e, "atol");
  const double recommended = number(e["recommendation"], "atol");
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

std::string html(const std::vector<const json*>& sites, const std::string& fine) {
  std::ostringstream o;
  o << "<h2>Assertions</h2><p>" << sites.size() << " sites need action, " << xml_escape(fine)
    << ".</p>";
  if (sites.empty()) return o.str();
  o << "<table><tr><th>Site</th><th>Test</th><th>Action</th><th>Current</th><th>Recommended</th>"
       "<th>Failure rate</th><th>Advice</th></tr>";
  for (const json* e : sites) {
    o << "<tr><td><code>" << xml_escape(str(*e, "site")) << "</code></td><td>"
      << xml_escape(str(*e, "test")) << "</td><td>" << xml_escape(action_of(*e)) << "</td><td>"
      << xml_escape(current_args(*e)) << "</td><td>" << xml_escape(recommended_args(*e))
      << "</td><td>" << xml_escape(rate_text(*e)) << "</td><td>" << xml_escape(note_of(*e))
      << "</td></tr>";
  }
  o << "</table><div class=\"plots\">";
  for (const json* e : sites) {
    const std::string svg = margins_histogram(*e);
    if (!svg.empty()) {
      o << "<figure><figcaption><code>" << xml_escape(str(*e, "site")) << "</code></figcaption>"
        << svg << "</figure>";
    }
  }
  o << "</div>";
  return o.str();
}

}  // namespace

bool assertion_needs_action(const json& e) {
  const std::string action = e.contains("recommendation") ? str(e["recommendation"], "action") : "";
  if (str(e, "class") == "negated") return true;
  const json& fr = e["failure_rate"];
  const bool failed = fr.contains("failures") && fr["failures"].is_number() &&
                      fr["failures"].get<std::size_t>() > 0;
  // "none" without a failure: too few runs for a bound, nothing to change yet.
  return failed || action == "loosen" || action == "tighten" || action == "fix" ||
         action == "review";
}

std::string assertion_section(const json& report, ReportFormat format) {
  if (!report.contains("assertions") || !report["assertions"].is_array() ||
      report["assertions"].empty()) {
    return "";
  }
  std::size_t fine = 0;
  const std::vector<const json*> sites = listed(report, &fine);
  const std::string fine_line = fine_text(fine, undecided_count(report));
  switch (format) {
    case ReportFormat::kTerminal:
      return terminal(sites, fine_line);
    case ReportFormat::kMarkdown:
      return markdown(sites, fine_line);
    case ReportFormat::kHtml:
      return html(sites, fine_line);
    default:
      return "";
  }
}

}  // namespace flakescope::report
