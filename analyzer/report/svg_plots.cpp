// SVG charts for the HTML report (see svg_plots.h).
#include "report/svg_plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sstream>

#include "report/report_view.h"
#include "report/sanitize.h"

namespace flakescope::report {
namespace {

constexpr int kWidth = 460, kHeight = 230;
constexpr int kLeft = 58, kRight = 16, kTop = 30, kBottom = 44;
constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;
constexpr const char* kRecommendedColor = "#c0392b";
constexpr const char* kCurrentColor = "#6c3483";

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

std::string text(double x, double y, const std::string& s, const char* anchor = "middle",
                 const char* fill = nullptr) {
  std::ostringstream o;
  o << "<text x=\"" << x << "\" y=\"" << y << "\" text-anchor=\"" << anchor << "\"";
  if (fill) o << " fill=\"" << fill << "\"";
  o << ">" << xml_escape(s) << "</text>";
  return o.str();
}

std::string line(double x1, double y1, double x2, double y2, const char* stroke,
                 const char* extra = "") {
  std::ostringstream o;
  o << "<line x1=\"" << x1 << "\" y1=\"" << y1 << "\" x2=\"" << x2 << "\" y2=\"" << y2
    << "\" stroke=\"" << stroke << "\"" << extra << "/>";
  return o.str();
}

// The frame of a plot: both axes, their labels, and the ticks given as (position, label).
using Ticks = std::vector<std::pair<double, std::string>>;
std::string axes(const std::string& x_label, const std::string& y_label, const Ticks& x_ticks,
                 const Ticks& y_ticks) {
  std::ostringstream s;
  const double x0 = kLeft, y0 = kHeight - kBottom, x1 = kWidth - kRight;
  for (const auto& [y, label] : y_ticks)
    s << line(x0, y, x1, y, "#eee") << line(x0 - 4, y, x0, y, "#333")
      << text(x0 - 6, y + 4, label, "end");
  for (const auto& [x, label] : x_ticks)
    s << line(x, y0, x, y0 + 4, "#333") << text(x, y0 + 15, label);
  s << line(x0, kTop, x0, y0, "#333") << line(x0, y0, x1, y0, "#333");
  s << text((x0 + x1) / 2.0, kHeight - 8, x_label);
  const double ym = (kTop + y0) / 2.0;
  s << "<text x=\"12\" y=\"" << ym << "\" text-anchor=\"middle\" transform=\"rotate(-90 12 " << ym
    << ")\">" << xml_escape(y_label) << "</text>";
  return s.str();
}

Ticks linear_ticks(double lo, double hi, const std::function<double(double)>& pos, int count) {
  const std::vector<double> values = nice_ticks(lo, hi, count);
  const double step = values.size() > 1 ? values[1] - values[0] : std::fabs(hi - lo);
  Ticks t;
  for (double v : values) t.emplace_back(pos(v), tick_label(v, step));
  return t;
}

std::string empty_plot(const std::string& why) {
  return open_svg(kWidth, 60) + text(kWidth / 2.0, 34, why) + "</svg>";
}

struct Marker {
  double x;
  std::string label;
  const char* color;
};

std::vector<Marker> markers_of(const BoundMarkers& m) {
  std::vector<Marker> out;
  if (m.recommended && std::isfinite(*m.recommended))
    out.push_back(
        {*m.recommended, "recommended " + tick_label(*m.recommended, 0), kRecommendedColor});
  if (m.current && std::isfinite(*m.current))
    out.push_back({*m.current, m.current_label + " " + tick_label(*m.current, 0), kCurrentColor});
  return out;
}

// Markers within `limit` are drawn to scale (the x range grows to them); the others are named at
// the right edge as off scale, so one far bound does not squash the samples into one bin.
double extend_to_markers(double hi, const std::vector<Marker>& markers, double limit) {
  double out = hi;
  for (const auto& m : markers)
    if (m.x <= limit * hi || hi <= 0) out = std::max(out, m.x);
  return out;
}

// One row of label per marker at the top, so two labels never overlap.
void draw_markers(std::ostringstream& s, const std::vector<Marker>& markers, double lo, double hi,
                  const std::function<double(double)>& px) {
  double row = 11;
  for (const auto& m : markers) {
    if (m.x < lo || m.x > hi * (1 + 1e-12)) {
      s << text(kWidth - kRight, row, m.label + " (off scale) \u2192", "end", m.color);
    } else {
      const double x = px(m.x);
      s << line(x, kTop - 2, x, kHeight - kBottom, m.color,
                " stroke-width=\"2\" stroke-dasharray=\"5,3\"");
      const bool right_half = x > kLeft + kPlotW * 0.55;
      s << text(right_half ? x - 3 : x + 3, row, m.label, right_half ? "end" : "start", m.color);
    }
    row += 12;
  }
}

}  // namespace

// SVG sits inside the HTML report: the HTML sanitizer (control characters removed, escaped).
std::string xml_escape(const std::string& s) {
  return sanitize_html(s);
}

std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  const double raw = (hi - lo) / std::max(1, count - 1);
  const int e = static_cast<int>(std::floor(std::log10(raw)));
  const double fraction = raw / std::pow(10.0, e);
  const double f = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  // k * f scaled by an exact power of ten, so the ticks are the doubles nearest 2e-6, 4e-6, ...
  const auto tick = [&](double k) {
    return e < 0 ? k * f / std::pow(10.0, -e) : k * f * std::pow(10.0, e);
  };
  const double step = tick(1);
  std::vector<double> out;
  for (double k = std::ceil(lo / step - 1e-9); tick(k) <= hi + step * 1e-9; k += 1)
    out.push_back(k == 0 ? 0.0 : tick(k));
  return out;
}

std::string tick_label(double v, double step) {
  if (v == 0) return "0";
  if (!std::isfinite(v)) return format_number(v);
  int digits = 2;  // a value on its own: two significant digits, one when that is the same
  if (step <= 0) {
    char one[40], two[40];
    std::snprintf(one, sizeof one, "%.0e", v);
    std::snprintf(two, sizeof two, "%.1e", v);
    if (std::strtod(one, nullptr) == std::strtod(two, nullptr)) digits = 1;
  } else {
    // The power of ten of the step's last significant digit (2.5 -> -1, 2e-6 -> -6).
    int last = static_cast<int>(std::floor(std::log10(step * 1.000001)));
    for (int k = 0; k < 3; ++k, --last) {
      const double q = step / std::pow(10.0, last);
      if (std::fabs(q - std::round(q)) < 1e-6 * q) break;
    }
    digits = std::clamp(static_cast<int>(std::floor(std::log10(std::fabs(v)))) - last + 1, 1, 8);
  }
  char buf[40];
  const double a = std::fabs(v);
  if (a < 1e-3 || a >= 1e5) {  // "1e-4", not "0.0001"
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strchr(buf, 'e')) std::snprintf(buf, sizeof buf, "%.0f", v);  // 130, not 1.3e+02
  }
  std::string s = buf;  // "4e-06" -> "4e-6", "1.0e+05" -> "1.0e5"
  const auto e = s.find('e');
  if (e == std::string::npos) return s;
  std::string exponent = s.substr(e + 1);
  const bool negative = exponent[0] == '-';
  exponent.erase(0, exponent.find_first_not_of("+-0"));
  return s.substr(0, e) + "e" + (negative ? "-" : "") + exponent;
}

std::string svg_histogram(const std::vector<double>& raw, const BoundMarkers& bounds,
                          const std::string& x_label) {
  const std::vector<double> v = finite_values(raw);
  if (v.empty()) return empty_plot("no finite samples");
  const std::vector<Marker> markers = markers_of(bounds);
  const double lo = std::min(0.0, *std::min_element(v.begin(), v.end()));
  const double data_hi = *std::max_element(v.begin(), v.end());
  const double data_w = data_hi > lo ? data_hi - lo : (lo == 0 ? 1 : std::fabs(lo) * 0.1);
  const double hi = std::max(lo + data_w, extend_to_markers(data_hi, markers, 4.0));
  // The bins cover the samples only; the axis may go on to a marker.
  const int bins = std::clamp(static_cast<int>(std::sqrt(v.size())) + 1, 5, 40);
  std::vector<int> counts(bins, 0);
  for (double x : v) counts[std::min(bins - 1, static_cast<int>((x - lo) / data_w * bins))]++;
  const int peak = std::max(1, *std::max_element(counts.begin(), counts.end()));
  const auto px = [&](double x) { return kLeft + (x - lo) / (hi - lo) * kPlotW; };
  const auto py = [&](double c) { return kTop + kPlotH - kPlotH * c / peak; };
  Ticks y_ticks;
  for (double c : nice_ticks(0, peak, 5))
    if (c == std::floor(c)) y_ticks.emplace_back(py(c), tick_label(c, 1));
  std::ostringstream s;
  s << open_svg() << axes(x_label, "runs", linear_ticks(lo, hi, px, 5), y_ticks);
  for (int b = 0; b < bins; ++b) {
    const double h = kPlotH * counts[b] / peak;
    const double bin_w = (px(lo + data_w) - kLeft) / bins;
    s << "<rect x=\"" << kLeft + bin_w * b + 0.5 << "\" y=\"" << kTop + kPlotH - h << "\" width=\""
      << std::max(1.0, bin_w - 1) << "\" height=\"" << h << "\" fill=\"#4a7fb5\"><title>"
      << counts[b] << " runs</title></rect>";
  }
  draw_markers(s, markers, lo, hi, px);
  s << "</svg>";
  return s.str();
}

namespace {

double tail_probability(const TailFit& fit, double x) {
  const double z = (x - fit.threshold) / fit.scale;
  const double tail = std::fabs(fit.shape) < 1e-9
                          ? std::exp(-z)
                          : std::pow(std::max(1e-300, 1 + fit.shape * z), -1 / fit.shape);
  return fit.exceedance_rate * tail;
}

// Decades from 1 down to the lowest one inside the plot, every one or every other one.
Ticks decade_ticks(double ymin, const std::function<double(double)>& py) {
  const int lowest = static_cast<int>(std::ceil(ymin));  // inside the plot
  const int stride = -lowest > 6 ? 2 : 1;
  Ticks t;
  for (int k = 0; k >= lowest; k -= stride)
    t.emplace_back(py(std::pow(10.0, k)), k == 0    ? "1"
                                          : k == -1 ? "0.1"
                                                    : "1e" + std::to_string(k));
  return t;
}

}  // namespace

std::string svg_tail(const std::vector<double>& raw, const std::optional<TailFit>& fit,
                     const BoundMarkers& bounds, const std::string& x_label) {
  std::vector<double> v = finite_values(raw);
  if (v.size() < 2) return empty_plot("too few samples for a tail plot");
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  const double lo = std::min(0.0, v.front());
  if (v.back() <= lo) return empty_plot("all samples equal: no tail");
  const std::vector<Marker> markers = markers_of(bounds);
  const double hi = extend_to_markers(v.back(), markers, 4.0);
  // Survival on log10 from 1 down to 1/n (the smallest empirical probability), or to the target
  // when the recommended bound is on the plot (where the fitted tail meets the target).
  double ymin = std::log10(1.0 / (n + 1));
  if (bounds.target && *bounds.target > 0 && bounds.recommended && *bounds.recommended <= hi)
    ymin = std::min(ymin, std::log10(*bounds.target));
  ymin -= 0.3;
  const auto px = [&](double x) { return kLeft + (x - lo) / (hi - lo) * kPlotW; };
  const auto py = [&](double p) { return kTop + (0 - std::log10(p)) / (0 - ymin) * kPlotH; };
  std::ostringstream s;
  s << open_svg()
    << axes(x_label, "P(X > x), log scale", linear_ticks(lo, hi, px, 5), decade_ticks(ymin, py));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double surv = (n - i) / (n + 1);  // plotting position, never 0
    s << "<circle cx=\"" << px(v[i]) << "\" cy=\"" << py(surv) << "\" r=\"2\" fill=\"#4a7fb5\"/>";
  }
  if (bounds.target && std::log10(*bounds.target) > ymin)
    s << line(kLeft, py(*bounds.target), kWidth - kRight, py(*bounds.target), "#999",
              " stroke-dasharray=\"2,2\"")
      << text(kLeft + 4, py(*bounds.target) - 3, "target " + tick_label(*bounds.target, 0), "start",
              "#777");
  if (fit && fit->scale > 0 && fit->threshold < hi) {
    s << "<polyline fill=\"none\" stroke=\"#e67e22\" stroke-width=\"2\" points=\"";
    const double from = std::max(fit->threshold, lo);
    for (int k = 0; k <= 60; ++k) {
      const double x = from + (hi - from) * k / 60;
      const double p = tail_probability(*fit, x);
      if (p <= 0 || std::log10(p) < ymin) break;
      s << px(x) << "," << py(p) << " ";
    }
    s << "\"/>"
      << text(kWidth - kRight - 4, kTop + 14, "\u2014 fitted tail (GPD)", "end", "#e67e22");
  }
  draw_markers(s, markers, lo, hi, px);
  s << "</svg>";
  return s.str();
}

std::string svg_bars(const std::vector<std::string>& labels, const std::vector<double>& values,
                     const std::string& x_label) {
  if (labels.empty()) return empty_plot("no settings");
  const int row = 22, label_w = 150;
  const int height = 12 + row * static_cast<int>(labels.size()) + 44;
  double lmax = -300, lmin = 300;
  for (double v : values)
    if (std::isfinite(v) && v > 0)
      lmax = std::max(lmax, std::log10(v)), lmin = std::min(lmin, std::log10(v));
  if (lmax < lmin) lmax = lmin = 0;
  lmin = std::floor(lmin) - 1, lmax = std::ceil(lmax);
  if (lmax <= lmin) lmax = lmin + 1;
  const double pw = kWidth - label_w - kRight - 50;
  const double axis_y = 12 + row * static_cast<double>(labels.size());
  std::ostringstream s;
  s << open_svg(kWidth, height) << line(label_w, 8, label_w, axis_y, "#333")
    << line(label_w, axis_y, label_w + pw, axis_y, "#333");
  const int stride = lmax - lmin > 6 ? 2 : 1;
  for (double k = lmin; k <= lmax; k += stride) {
    const double x = label_w + pw * (k - lmin) / (lmax - lmin);
    s << line(x, 8, x, axis_y, "#eee") << line(x, axis_y, x, axis_y + 4, "#333")
      << text(x, axis_y + 15, tick_label(std::pow(10.0, k), 0));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double y = 12 + row * static_cast<double>(i);
    const double v = values[i];
    double w = 0;
    if (std::isinf(v))
      w = pw;
    else if (v > 0)
      w = pw * (std::log10(v) - lmin) / (lmax - lmin);
    s << text(label_w - 6, y + 15, labels[i], "end");
    s << "<rect x=\"" << label_w << "\" y=\"" << y + 3 << "\" width=\"" << std::max(w, 0.0)
      << "\" height=\"" << row - 6 << "\" fill=\"" << (v > 0 ? "#e67e22" : "#27ae60") << "\"/>";
    s << text(label_w + w + 4, y + 15, v > 0 ? tick_label(v, 0) : "0 (bitwise)", "start");
  }
  s << text(label_w + pw / 2, height - 8, x_label + " (log scale)");
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
