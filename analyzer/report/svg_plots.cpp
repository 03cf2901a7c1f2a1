// SVG charts for the HTML report (see svg_plots.h).
#include "report/svg_plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "report/report_view.h"
#include "report/sanitize.h"

namespace flakescope::report {
namespace {

constexpr int kWidth = 460, kHeight = 220;
constexpr int kLeft = 56, kRight = 14, kTop = 12, kBottom = 40;

std::vector<double> finite_values(const std::vector<double>& values) {
  std::vector<double> out;
  for (double v : values)
    if (std::isfinite(v)) out.push_back(v);
  return out;
}

std::string open_svg(int width = kWidth, int height = kHeight) {
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << " " << height << "\" font-family=\"sans-serif\" "
    << "font-size=\"11\">";
  s << "<rect width=\"" << width << "\" height=\"" << height << "\" fill=\"#fff\"/>";
  return s.str();
}

std::string text(double x, double y, const std::string& s, const char* anchor = "middle") {
  std::ostringstream o;
  o << "<text x=\"" << x << "\" y=\"" << y << "\" text-anchor=\"" << anchor << "\">"
    << xml_escape(s) << "</text>";
  return o.str();
}

std::string axes(const std::string& x_label, const std::string& y_label) {
  std::ostringstream s;
  const int x0 = kLeft, y0 = kHeight - kBottom, x1 = kWidth - kRight;
  s << "<line x1=\"" << x0 << "\" y1=\"" << kTop << "\" x2=\"" << x0 << "\" y2=\"" << y0
    << "\" stroke=\"#333\"/><line x1=\"" << x0 << "\" y1=\"" << y0 << "\" x2=\"" << x1
    << "\" y2=\"" << y0 << "\" stroke=\"#333\"/>";
  s << text((x0 + x1) / 2.0, kHeight - 6, x_label);
  s << "<text x=\"12\" y=\"" << (kTop + y0) / 2 << "\" text-anchor=\"middle\" transform=\"rotate(-90 12 "
    << (kTop + y0) / 2 << ")\">" << xml_escape(y_label) << "</text>";
  return s.str();
}

std::string empty_plot(const std::string& why) {
  return open_svg(kWidth, 60) + text(kWidth / 2.0, 34, why) + "</svg>";
}

}  // namespace

// SVG sits inside the HTML report: the HTML sanitizer (control characters removed, escaped).
std::string xml_escape(const std::string& s) { return sanitize_html(s); }

std::string svg_histogram(const std::vector<double>& raw, std::optional<double> marker,
                          const std::string& x_label) {
  const std::vector<double> v = finite_values(raw);
  if (v.empty()) return empty_plot("no finite samples");
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  // A bound far beyond the data would squash the histogram into one bin: it is then named at
  // the right edge instead of drawn to scale.
  const bool off_scale = marker && std::isfinite(*marker) && *marker > 2 * hi && hi > 0;
  if (marker && std::isfinite(*marker) && !off_scale)
    hi = std::max(hi, *marker), lo = std::min(lo, *marker);
  if (hi <= lo) hi = lo + (lo == 0 ? 1 : std::fabs(lo) * 0.1);
  const int bins = std::clamp(static_cast<int>(std::sqrt(v.size())) + 1, 5, 40);
  std::vector<int> counts(bins, 0);
  for (double x : v) counts[std::min(bins - 1, static_cast<int>((x - lo) / (hi - lo) * bins))]++;
  const int peak = *std::max_element(counts.begin(), counts.end());
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (x - lo) / (hi - lo) * pw; };
  std::ostringstream s;
  s << open_svg() << axes(x_label, "runs");
  for (int b = 0; b < bins; ++b) {
    const double h = peak ? ph * counts[b] / peak : 0;
    s << "<rect x=\"" << kLeft + pw * b / bins + 0.5 << "\" y=\"" << kTop + ph - h << "\" width=\""
      << std::max(1.0, pw / bins - 1) << "\" height=\"" << h << "\" fill=\"#4a7fb5\"/>";
  }
  s << text(kLeft, kHeight - kBottom + 14, format_number(lo), "start")
    << text(kWidth - kRight, kHeight - kBottom + 14, format_number(hi), "end")
    << text(kLeft - 4, kTop + 10, std::to_string(peak), "end");
  if (off_scale) {
    s << text(kWidth - kRight, kTop + 12, "bound " + format_number(*marker) + " (off scale) →", "end");
  } else if (marker && std::isfinite(*marker)) {
    const double x = px(*marker);
    s << "<line x1=\"" << x << "\" y1=\"" << kTop << "\" x2=\"" << x << "\" y2=\""
      << kTop + ph << "\" stroke=\"#c0392b\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>"
      << (x > kLeft + pw * 0.6
              ? text(x - 4, kTop + 12, "bound " + format_number(*marker), "end")
              : text(x + 4, kTop + 12, "bound " + format_number(*marker), "start"));
  }
  s << "</svg>";
  return s.str();
}

std::string svg_tail(const std::vector<double>& raw, const std::optional<TailFit>& fit,
                     const std::string& x_label) {
  std::vector<double> v = finite_values(raw);
  if (v.size() < 2) return empty_plot("too few samples for a tail plot");
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  double lo = v.front(), hi = v.back();
  if (hi <= lo) return empty_plot("all samples equal: no tail");
  // Survival on log10 from 1 down to 1/n (the smallest empirical probability).
  const double ymin = std::log10(1.0 / (n + 1)) - 0.5;
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (x - lo) / (hi - lo) * pw; };
  auto py = [&](double p) { return kTop + (0 - std::log10(p)) / (0 - ymin) * ph; };
  std::ostringstream s;
  s << open_svg() << axes(x_label, "P(X > x), log");
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double surv = (n - i) / (n + 1);  // plotting position, never 0
    s << "<circle cx=\"" << px(v[i]) << "\" cy=\"" << py(surv) << "\" r=\"2\" fill=\"#4a7fb5\"/>";
  }
  if (fit && fit->scale > 0 && fit->threshold < hi) {
    s << "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"";
    for (int k = 0; k <= 60; ++k) {
      const double x = std::max(fit->threshold, lo) + (hi - std::max(fit->threshold, lo)) * k / 60;
      const double z = (x - fit->threshold) / fit->scale;
      const double tail = std::fabs(fit->shape) < 1e-9 ? std::exp(-z)
                                                        : std::pow(std::max(1e-300, 1 + fit->shape * z),
                                                                   -1 / fit->shape);
      const double p = fit->exceedance_rate * tail;
      if (p <= 0 || std::log10(p) < ymin) break;
      s << px(x) << "," << py(p) << " ";
    }
    s << "\"/>" << text(kWidth - kRight, kTop + 12, "— fitted tail (GPD)", "end");
  }
  s << text(kLeft, kHeight - kBottom + 14, format_number(lo), "start")
    << text(kWidth - kRight, kHeight - kBottom + 14, format_number(hi), "end")
    << text(kLeft - 4, kTop + 10, "1", "end")
    << text(kLeft - 4, kTop + ph, "1e" + std::to_string(static_cast<int>(std::floor(ymin))), "end");
  s << "</svg>";
  return s.str();
}

std::string svg_bars(const std::vector<std::string>& labels, const std::vector<double>& values,
                     const std::string& x_label) {
  if (labels.empty()) return empty_plot("no settings");
  const int row = 22, label_w = 150, height = kTop + row * static_cast<int>(labels.size()) + kBottom;
  double lmax = -300, lmin = 300;
  for (double v : values)
    if (std::isfinite(v) && v > 0) lmax = std::max(lmax, std::log10(v)), lmin = std::min(lmin, std::log10(v));
  if (lmax < lmin) lmax = lmin = 0;
  lmin = std::floor(lmin) - 1, lmax = std::ceil(lmax);
  if (lmax <= lmin) lmax = lmin + 1;
  const double pw = kWidth - label_w - kRight - 50;
  std::ostringstream s;
  s << open_svg(kWidth, height);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double y = kTop + row * static_cast<double>(i);
    const double v = values[i];
    double w = 0;
    if (std::isinf(v)) w = pw;
    else if (v > 0) w = pw * (std::log10(v) - lmin) / (lmax - lmin);
    s << text(label_w - 6, y + 15, labels[i], "end");
    s << "<rect x=\"" << label_w << "\" y=\"" << y + 3 << "\" width=\"" << std::max(w, 0.0)
      << "\" height=\"" << row - 6 << "\" fill=\"" << (v > 0 ? "#e67e22" : "#27ae60") << "\"/>";
    s << text(label_w + w + 4, y + 15, format_number(v), "start");
  }
  s << text(label_w + pw / 2, height - 8, x_label + " (log scale; 0 = bitwise identical)");
  s << "</svg>";
  return s.str();
}

std::string svg_timeline(const std::vector<std::string>& outcomes) {
  if (outcomes.empty()) return empty_plot("no per-run outcomes recorded");
  const int cell = 14, per_row = 30;
  const int rows = (static_cast<int>(outcomes.size()) + per_row - 1) / per_row;
  const int width = per_row * cell + 20, height = rows * cell + 20;
  std::ostringstream s;
  s << open_svg(width, height);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const std::string& o = outcomes[i];
    const char* color = o == "pass" ? "#27ae60"
                        : (o == "fail" || o == "crash" || o == "timeout" || o == "error")
                            ? "#c0392b"
                            : "#95a5a6";
    s << "<rect x=\"" << 10 + (i % per_row) * cell << "\" y=\"" << 10 + (i / per_row) * cell
      << "\" width=\"" << cell - 1 << "\" height=\"" << cell - 1 << "\" fill=\"" << color
      << "\"><title>run " << i << ": " << xml_escape(o) << "</title></rect>";
  }
  s << "</svg>";
  return s.str();
}

}  // namespace flakescope::report
