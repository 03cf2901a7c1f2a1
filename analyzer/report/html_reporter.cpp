// A single self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched): the tables
// of the other formats plus the plots: per output the deviation histogram with the recommended
// bound, the fitted against the empirical tail, the ablation bars, and per audited test the
// outcome timeline.
#include <cmath>
#include <sstream>

#include "flakescope/report.h"
#include "report/format_renderers.h"
#include "report/report_tables.h"
#include "report/svg_plots.h"

namespace flakescope::report {
namespace {

using nlohmann::json;

const char* kStyle =
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 8px;border-bottom:1px solid #ddd;"
    "text-align:left}th{background:#f4f4f4}.finding{color:#c0392b;font-weight:bold}"
    ".warning{color:#d68910}.note{color:#d68910}.ok{color:#27ae60}"
    ".plots{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.plot{border:1px solid #eee;padding:4px}"
    ".plot h4{margin:2px 0;font-size:12px;font-weight:normal}";

std::string esc(const std::string& s) { return xml_escape(s); }

std::string html_table(const TextTable& t) {
  std::ostringstream o;
  o << "<table><tr>";
  for (const auto& h : t.header) o << "<th>" << esc(h) << "</th>";
  o << "</tr>";
  for (const auto& row : t.rows) {
    o << "<tr>";
    for (const auto& c : row) {
      const char* cls = c.tone == Tone::kBad    ? " class=\"finding\""
                        : c.tone == Tone::kWarn ? " class=\"warning\""
                        : c.tone == Tone::kGood ? " class=\"ok\""
                                                : "";
      o << "<td" << cls << ">" << esc(c.text) << "</td>";
    }
    o << "</tr>";
  }
  o << "</table>";
  return o.str();
}

std::vector<double> samples(const json& metric, const char* which) {
  std::vector<double> out;
  const json s = metric.value("samples", json::object());
  if (!s.is_object() || !s.contains(which) || !s[which].is_array()) return out;
  for (const auto& v : s[which]) out.push_back(number_from_json(v));
  return out;
}

// The statistics engine's recommendation for an absolute bound (include/flakescope/stats/
// recommend.h): "atol": {"bound", "n", "tail": {"threshold", "exceedances", "shape", "scale"}}.
std::optional<double> recommended_bound(const json& rec) {
  const json atol = rec.value("atol", json::object());
  if (atol.is_object() && atol.contains("bound") && !atol["bound"].is_null())
    return number_from_json(atol["bound"]);
  return std::nullopt;
}

// The fitted tail: P(X > x) = exceedances / n * GPD survival above the threshold.
std::optional<TailFit> tail_fit(const json& rec) {
  const json atol = rec.value("atol", json::object());
  if (!atol.is_object() || !atol.contains("tail") || !atol["tail"].is_object()) return std::nullopt;
  const json& t = atol["tail"];
  const double n = number_from_json(atol.value("n", json(0)));
  TailFit fit;
  fit.threshold = number_from_json(t.value("threshold", json()));
  fit.scale = number_from_json(t.value("scale", json()));
  fit.shape = number_from_json(t.value("shape", json(0)));
  fit.exceedance_rate = n > 0 ? number_from_json(t.value("exceedances", json(0))) / n : NAN;
  if (std::isfinite(fit.threshold) && std::isfinite(fit.scale) && std::isfinite(fit.exceedance_rate))
    return fit;
  return std::nullopt;
}

std::string plot(const std::string& title, const std::string& svg) {
  return "<div class=\"plot\"><h4>" + esc(title) + "</h4>" + svg + "</div>";
}

void probe_section(const ProbeView& p, const json& raw, std::ostringstream& o) {
  o << "<h2 class=\"" << severity_word(p.severity) << "\">" << esc(p.name) << "</h2>";
  if (!p.description.empty()) o << "<p>" << esc(p.description) << "</p>";
  if (!p.diagnosis.empty()) o << "<p><b>Diagnosis:</b> " << esc(p.diagnosis) << "</p>";
  if (!p.fixes.empty()) {
    o << "<ul>";
    for (const auto& f : p.fixes) o << "<li>fix: " << esc(f) << "</li>";
    o << "</ul>";
  }
  o << html_table(probe_settings_table(p));
  if (!raw.contains("settings") || !raw["settings"].is_array()) return;
  // Ablation: which setting moves which output, by how much.
  std::vector<std::string> outputs;
  for (const auto& s : raw["settings"])
    if (s.contains("metrics") && s["metrics"].is_object())
      for (const auto& [name, m] : s["metrics"].items())
        if (std::find(outputs.begin(), outputs.end(), name) == outputs.end()) outputs.push_back(name);
  o << "<div class=\"plots\">";
  for (const auto& out : outputs) {
    std::vector<std::string> labels;
    std::vector<double> values;
    for (const auto& s : raw["settings"]) {
      const json m = s.value("metrics", json::object()).value(out, json());
      if (!m.is_object()) continue;
      labels.push_back(s.value("setting", "?"));
      values.push_back(number_from_json(m.value("max_abs_dev", json(0))));
    }
    o << plot("ablation: max |dev| of '" + out + "' per setting", svg_bars(labels, values, "max abs dev"));
    for (const auto& s : raw["settings"]) {
      const json m = s.value("metrics", json::object()).value(out, json());
      if (!m.is_object()) continue;
      const std::vector<double> abs = samples(m, "abs");
      bool moves = false;
      for (double v : abs) moves = moves || v != 0;
      if (!moves) continue;  // bitwise-identical runs: nothing to plot
      const json rec = m.value("recommendation", json::object());
      const std::string where = "'" + out + "' under " + s.value("setting", "?");
      o << plot("per-run |dev| of " + where, svg_histogram(abs, recommended_bound(rec), "max |a - e| per run"));
      o << plot("tail of " + where, svg_tail(abs, tail_fit(rec), "max |a - e| per run"));
    }
  }
  o << "</div>";
}

}  // namespace

std::string render_html(const ReportView& view, const json& report) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>flakescope "
    << esc(view.kind) << " report</title><style>" << kStyle << "</style></head><body>";
  o << "<h1>flakescope " << esc(view.kind) << " report";
  if (view.kind == "gate")
    o << ": <span class=\"" << (view.gate_verdict == "pass" ? "ok\">pass" : "finding\">FAIL")
      << "</span>";
  o << "</h1><p>" << esc(summary_line(view));
  if (!view.libtorch.empty()) o << " · LibTorch " << esc(view.libtorch);
  if (!view.machine.empty()) o << " · " << esc(view.machine);
  if (!view.created.empty()) o << " · " << esc(view.created);
  o << "</p>";
  if (view.kind == "probe") {
    for (const auto& p : view.probes) {
      json raw;
      for (const auto& r : report["probes"])
        if (r.value("name", "") == p.name) raw = r;
      probe_section(p, raw, o);
    }
  } else if (view.kind == "audit") {
    if (view.isolation == "inprocess")
      o << "<p>Isolation: in-process (pytest repetitions inside one interpreter per job)</p>";
    o << html_table(audit_tests_table(view.tests));
    o << "<h2>Outcome timelines</h2><div class=\"plots\">";
    for (const auto& t : view.tests)
      o << plot(t.name + " (" + t.classification + ")", svg_timeline(t.outcomes));
    o << "</div>";
  } else {
    if (!view.gate_baseline.empty()) o << "<p>Baseline: <code>" << esc(view.gate_baseline) << "</code></p>";
    o << html_table(gate_checks_table(view.checks));
  }
  o << "</body></html>\n";
  return o.str();
}

}  // namespace flakescope::report
