// A single self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched) that a
// reviewer can attach to a pull request: a summary on top (counts by verdict, the findings, the
// recommendations), a table of contents, the findings open and everything else in <details>.
// Plots are drawn only for what moved, so the page grows with the findings, not with the probes:
// per output and setting the deviation histogram (with the recommended bound) next to the fitted
// against the empirical tail of the same samples, the ablation bars, and per audited test with
// failures the outcome timeline.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <sstream>

#include "core/report.h"
#include "report/assertion_section.h"
#include "report/format_renderers.h"
#include "report/report_tables.h"
#include "report/sanitize.h"
#include "report/svg_plots.h"

namespace flakescope::report {
namespace {

using model::ReportKind;

const char* kStyle =
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 8px;border-bottom:1px solid "
    "#ddd;"
    "text-align:left}th{background:#f4f4f4}.finding{color:#c0392b;font-weight:bold}"
    ".warning{color:#d68910}.note{color:#d68910}.ok{color:#27ae60}"
    ".summary{background:#f8f8f8;border:1px solid #ddd;padding:.5em 1em}"
    "details{margin:.4em 0}summary{cursor:pointer;font-weight:bold}"
    ".plots{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
    ".pair{display:flex;gap:6px;border:1px solid #eee;padding:4px}"
    ".plot h4{margin:2px 0;font-size:12px;font-weight:normal}.why{color:#777;font-size:12px}"
    ".plotnote{width:440px;border:1px dashed #ccc;padding:8px;margin:0}";

// Untrusted text: control characters removed, then escaped.
std::string esc(const std::string& s) {
  return sanitize_html(s);
}

std::string anchor(const std::string& name) {
  std::string out = "i-";
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  return out;
}

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

std::string plot(const std::string& title, const std::string& svg) {
  return "<div class=\"plot\"><h4>" + esc(title) + "</h4>" + svg + "</div>";
}

std::optional<TailFit> tail_fit(const model::AtolRecommendation& rec) {
  if (!rec.tail || rec.n <= 0) return std::nullopt;
  TailFit fit;
  fit.threshold = rec.tail->threshold;
  fit.scale = rec.tail->scale;
  fit.shape = rec.tail->shape;
  fit.exceedance_rate = rec.tail->exceedances / rec.n;
  if (std::isfinite(fit.threshold) && std::isfinite(fit.scale) &&
      std::isfinite(fit.exceedance_rate))
    return fit;
  return std::nullopt;
}

// Fewer moving runs than this draw no tail plot (a column of dots says nothing about a tail).
constexpr std::size_t kMinTailPoints = 16;

std::string runs_hint(const std::optional<model::AtolRecommendation>& rec) {
  if (!rec || !rec->runs_needed || *rec->runs_needed <= rec->n + 1) return "";
  const std::string runs = format_number(std::ceil(*rec->runs_needed + 1));
  return "; about " + runs + " runs would give one (--runs " + runs + ", or --runs auto)";
}

std::string plot_note(const std::string& title, const std::string& why) {
  return "<div class=\"plot\"><h4>" + esc(title) + "</h4><p class=\"why plotnote\">" + esc(why) +
         "</p></div>";
}

// The histogram and the tail of one output under one setting, side by side in one box, so the
// two plots of the same samples stay together however the page wraps; the recommended bound and
// the dtype's default atol are marked on both, and a note says why a plot or a marker is missing.
void output_plots(const model::OutputMetrics& m, const std::string& setting,
                  std::ostringstream& o) {
  if (!m.samples) return;
  const std::vector<double>& abs = m.samples->abs;
  std::size_t moved = 0;
  for (double v : abs) moved += v != 0;
  if (moved == 0) return;  // bitwise-identical runs: nothing to plot
  const auto rec = model::atol_recommendation(m);
  const auto defaults = model::default_tolerance_check(m);
  BoundMarkers markers;
  if (rec) markers.recommended = rec->bound, markers.target = rec->target;
  if (defaults && defaults->atol > 0) {
    markers.current = defaults->atol;
    markers.current_label = (m.dtype ? *m.dtype + " " : std::string()) + "default atol";
  }
  const std::string x_label = "max |a \u2212 e| per run" +
                              (m.dtype ? ", " + *m.dtype : std::string()) +
                              " (absolute, output units)";
  const std::string where = "'" + m.name + "' under " + setting;
  o << "<div class=\"pair\">";
  o << plot("per-run |dev| of " + where, svg_histogram(abs, markers, x_label));
  if (moved >= kMinTailPoints) {
    o << plot("tail of " + where,
              svg_tail(abs, rec ? tail_fit(*rec) : std::nullopt, markers, x_label));
  } else {
    o << plot_note("tail of " + where, "Too few runs for a tail plot: " + std::to_string(moved) +
                                           " of " + std::to_string(abs.size()) +
                                           " runs moved from the first, a tail needs at least " +
                                           std::to_string(kMinTailPoints) + runs_hint(rec) + ".");
  }
  o << "</div>";
  if (rec && !rec->bound)
    o << "<p class=\"why\">No recommended-bound marker for " << esc(where) << ": "
      << esc(rec->reason.empty() ? "the statistics engine gave no bound" : rec->reason) << " ("
      << format_number(rec->n) << " runs" << esc(runs_hint(rec)) << ").</p>";
  else if (!rec)
    o << "<p class=\"why\">No recommended-bound marker for " << esc(where)
      << ": the report has no recommendation for this output.</p>";
}

// Per probe, the detail plots of at most this many (setting, output) pairs: a finding's, and one
// for a probe that only moves under a knob (its cause is named), so the page grows with the
// findings.
constexpr std::size_t kPairsPerFinding = 3, kPairsPerNote = 1;

struct MovedOutput {
  const model::OutputMetrics* metrics;
  std::string setting;
};

// The output that moved most under each setting, controlled first, then by max |dev|.
std::vector<MovedOutput> moved_outputs(const model::ProbeResult& probe) {
  std::vector<MovedOutput> out;
  for (const auto& s : probe.settings) {
    const model::OutputMetrics* worst = nullptr;
    for (const auto& m : s.metrics)
      if (m.max_abs_dev.value_or(0) > 0 && (!worst || *m.max_abs_dev > *worst->max_abs_dev))
        worst = &m;
    if (worst) out.push_back({worst, s.setting});
  }
  std::stable_sort(out.begin(), out.end(), [](const MovedOutput& a, const MovedOutput& b) {
    const bool ca = a.setting == "controlled", cb = b.setting == "controlled";
    if (ca != cb) return ca;
    return *a.metrics->max_abs_dev > *b.metrics->max_abs_dev;
  });
  return out;
}

void probe_plots(const ProbeView& p, std::ostringstream& o) {
  if (!p.source) return;
  std::size_t outputs = 0;
  std::vector<std::string> labels;
  std::vector<double> values;
  for (const auto& row : p.settings)
    labels.push_back(row.setting), values.push_back(row.max_abs_dev);
  for (const auto& s : p.source->settings) outputs = std::max(outputs, s.metrics.size());
  o << "<div class=\"plots\">";
  o << plot(outputs > 1 ? "ablation: max |dev| per setting (largest of " + std::to_string(outputs) +
                              " outputs)"
                        : "ablation: max |dev| per setting",
            svg_bars(labels, values, "max |a \u2212 e| over the runs (output units)"));
  const std::vector<MovedOutput> moved = moved_outputs(*p.source);
  const std::size_t cap = p.severity == Severity::kFinding ? kPairsPerFinding : kPairsPerNote;
  for (std::size_t i = 0; i < moved.size() && i < cap; ++i)
    output_plots(*moved[i].metrics, moved[i].setting, o);
  o << "</div>";
  if (moved.size() > cap) {
    o << "<p class=\"why\">Plots for the output that moved most under "
      << (cap == 1 ? "the first setting" : "the first " + std::to_string(cap) + " settings")
      << "; also moved:";
    for (std::size_t i = cap; i < moved.size(); ++i)
      o << (i == cap ? " " : ", ") << "'" << esc(moved[i].metrics->name) << "' under "
        << esc(moved[i].setting) << " (" << format_number(*moved[i].metrics->max_abs_dev) << ")";
    o << " (the JSON report has every sample; <code>flakescope tolerance REPORT</code> gives "
         "each one's bound).</p>";
  }
}

void probe_section(const ProbeView& p, std::ostringstream& o) {
  const bool open = p.severity != Severity::kOk;
  o << "<details id=\"" << anchor(p.name) << "\"" << (open ? " open=\"open\"" : "")
    << "><summary class=\"" << severity_word(p.severity) << "\">" << esc(p.name) << " — "
    << severity_word(p.severity) << "</summary>";
  if (!p.description.empty()) o << "<p>" << esc(p.description) << "</p>";
  if (!p.diagnosis.empty()) o << "<p><b>Diagnosis:</b> " << esc(p.diagnosis) << "</p>";
  if (!p.fixes.empty()) {
    o << "<ul>";
    for (const auto& f : p.fixes) o << "<li>fix: " << esc(f) << "</li>";
    o << "</ul>";
  }
  o << html_table(probe_settings_table(p));
  if (open) probe_plots(p, o);
  o << "</details>";
}

// Recommended atol per probe that moved, for the summary: the largest of its outputs and settings
// (the probe's section lists the rest), so the summary stays short for a model with many outputs.
void recommendations(const ReportView& view, std::ostringstream& o) {
  std::ostringstream items;
  for (const auto& p : view.probes) {
    if (!p.source || p.severity == Severity::kOk) continue;
    double largest = 0;
    std::string where;
    std::size_t count = 0;
    for (const auto& s : p.source->settings)
      for (const auto& m : s.metrics) {
        const auto rec = model::atol_recommendation(m);
        if (!rec || !rec->bound || *rec->bound <= 0) continue;
        ++count;
        if (*rec->bound > largest)
          largest = *rec->bound, where = "'" + m.name + "' under " + s.setting;
      }
    if (count == 0) continue;
    items << "<li><code>" << esc(p.name) << "</code>: atol " << tick_label(largest, 0) << " ("
          << esc(where);
    if (count > 1) items << "; the largest of " << count << " outputs x settings";
    items << ")</li>";
  }
  if (!items.str().empty())
    o << "<p><b>Recommended atol</b> (rtol 0):</p><ul>" << items.str() << "</ul>";
}

// One or two warnings are shown as they are; more are one collapsed line (a crashing test leaves
// one unreadable JUnit file per crash) so they do not push the summary off the first screen.
void input_warnings(const std::vector<std::string>& warnings, std::ostringstream& o) {
  if (warnings.size() <= 2) {
    for (const auto& w : warnings) o << "<p class=\"warning\">warning: " << esc(w) << "</p>";
    return;
  }
  o << "<details><summary class=\"warning\">" << warnings.size()
    << " warnings (first: " << esc(warnings.front()) << ")</summary><ul>";
  for (const auto& w : warnings) o << "<li class=\"warning\">" << esc(w) << "</li>";
  o << "</ul></details>";
}

template <typename Item>
void summary_and_toc(const ReportView& view, const std::vector<Item>& items,
                     std::ostringstream& o) {
  std::map<std::string, int> by_severity;
  for (const auto& i : items) ++by_severity[severity_word(i.severity)];
  o << "<div class=\"summary\"><p><b>" << esc(summary_line(view)) << "</b></p><p>";
  for (const auto& [word, n] : by_severity)
    o << "<span class=\"" << word << "\">" << n << " " << word
      << (n != 1 && word != "ok" ? "s" : "") << "</span> ";
  o << "</p>";
  if (view.kind == ReportKind::kProbe) recommendations(view, o);
  o << "<p><b>Contents:</b> ";
  for (const auto& i : items)
    if (i.severity != Severity::kOk)
      o << "<a href=\"#" << anchor(i.name) << "\">" << esc(i.name) << "</a> ";
  o << "<a href=\"#rest\">everything else</a></p></div>";
}

void retries_measured(const ReportView& view, std::ostringstream& o) {
  if (view.retries_measured.empty()) return;
  o << "<h2>Retry decorators, measured one attempt at a time</h2><ul>";
  for (const auto& r : view.retries_measured)
    o << "<li><b>" << esc(r.test) << "</b>: <code>" << esc(r.decorator) << "</code>, "
      << esc(attempts_text(r)) << ": " << esc(r.verdict) << "</li>";
  o << "</ul>";
}

void audit_body(const ReportView& view, std::ostringstream& o) {
  if (view.isolation == "inprocess")
    o << "<p>Isolation: in-process (pytest repetitions inside one interpreter per job)</p>";
  std::vector<TestView> findings, rest;
  for (const auto& t : view.tests) (t.severity == Severity::kOk ? rest : findings).push_back(t);
  if (!findings.empty()) {
    o << "<h2>Findings</h2>"
      << html_table(audit_tests_table(findings, view.confidence, view.several_settings));
    o << "<ul>";
    for (const auto& t : findings) {
      o << "<li id=\"" << anchor(t.name) << "\"><b>" << esc(t.name)
        << "</b>: " << esc(t.retries_statement);
      if (!t.replay.empty()) o << "<br/>replay: <code>" << esc(t.replay) << "</code>";
      if (!t.cause.empty()) o << "<br/>cause: " << esc(t.cause);
      if (!t.environment_errors.empty()) o << "<br/>" << esc(environment_text(t));
      o << "</li>";
    }
    o << "</ul><h2>Outcome timelines</h2><div class=\"plots\">";
    for (const auto& t : findings) {
      std::vector<std::string> words;
      for (auto oc : t.outcomes) words.emplace_back(model::to_string(oc));
      o << plot(t.name + " (" + std::string(model::to_string(t.classification)) + ")",
                svg_timeline(words));
    }
    o << "</div><p class=\"why\">One square per run, in run order: <span class=\"ok\">&#9632; "
         "pass</span> "
         "<span class=\"finding\">&#9632; fail, crash, timeout or error</span> &#9632; other "
         "(skip, "
         "...); each square's tooltip names the run.</p>";
  }
  retries_measured(view, o);
  o << "<details id=\"rest\"><summary>" << rest.size() << (rest.size() == 1 ? " test" : " tests")
    << " without failures</summary>"
    << html_table(audit_tests_table(rest, view.confidence, view.several_settings)) << "</details>";
}

}  // namespace

std::string HtmlReporter::render(const model::Report& report) const {
  const ReportView view = make_view(report);
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>flakescope "
    << esc(kind_word(view.kind)) << " report</title><style>" << kStyle << "</style></head><body>";
  o << "<h1>flakescope " << esc(kind_word(view.kind)) << " report";
  if (view.kind == ReportKind::kGate)
    o << ": <span class=\"" << (view.gate_passed ? "ok\">pass" : "finding\">FAIL") << "</span>";
  o << "</h1><p>";
  if (!view.libtorch.empty()) o << "LibTorch " << esc(view.libtorch) << " · ";
  if (!view.machine.empty()) o << esc(view.machine) << " · ";
  o << esc(view.created) << "</p>";
  input_warnings(view.input_warnings, o);
  if (view.kind == ReportKind::kProbe) {
    summary_and_toc(view, view.probes, o);
    bool rest_open = false;
    for (const auto& p : view.probes) {
      if (p.severity == Severity::kOk && !rest_open) {
        o << "<h2 id=\"rest\">Bitwise-deterministic under every setting</h2>";
        rest_open = true;
      }
      probe_section(p, o);
    }
  } else if (view.kind == ReportKind::kAudit) {
    summary_and_toc(view, view.tests, o);
    audit_body(view, o);
    o << assertion_section(report.audit, ReportFormat::kHtml);
  } else {
    o << "<div class=\"summary\"><p><b>" << esc(summary_line(view)) << "</b></p></div>";
    if (!view.gate_baseline.empty())
      o << "<p>Baseline: <code>" << esc(view.gate_baseline) << "</code></p>";
    o << html_table(gate_checks_table(view.checks, /*include_passes=*/false));
    o << "<details id=\"rest\"><summary>" << esc(passed_checks_line(view.checks)) << "</summary>"
      << html_table(gate_checks_table(view.checks)) << "</details>";
  }
  o << "</body></html>\n";
  return o.str();
}

}  // namespace flakescope::report
