#pragma once
// Small SVG charts drawn by flakescope itself (no plotting library, no script): the HTML report
// embeds them inline so the page is one self-contained file. Every chart has labelled axes with
// several round tick values ("0", "2e-6", "4e-6", ...), not just the extremes.
#include <optional>
#include <string>
#include <vector>

namespace flakescope::report {

// A generalized Pareto tail fitted above `threshold`: P(X > x) = rate * (1 + shape
// (x-u)/scale)^(-1/shape).
struct TailFit {
  double threshold = 0;
  double scale = 1;
  double shape = 0;
  double exceedance_rate = 1;  // fraction of samples above the threshold
};

// The bounds drawn over the samples of a deviation plot, as vertical lines.
struct BoundMarkers {
  std::optional<double> recommended;  // the statistics engine's bound at the target rate
  std::optional<double> current;      // the bound in use (e.g. the dtype's default atol)
  std::string current_label = "current";
  std::optional<double> target;  // per-run failure rate the recommendation keeps to (tail plot)
};

// Round tick values covering [lo, hi]: 1, 2 or 5 times a power of ten apart, about `count` of them.
std::vector<double> nice_ticks(double lo, double hi, int count = 5);
// A tick value with as many digits as `step` needs, exponents compact: "0", "2.5", "4e-6".
std::string tick_label(double v, double step);

// Histogram of `values` (finite ones) with the markers; x: `x_label`, y: runs.
std::string svg_histogram(const std::vector<double>& values, const BoundMarkers& markers,
                          const std::string& x_label);

// Empirical tail P(X > x) on a log scale, with the fitted tail drawn over it when given (and
// extended to the recommended bound when that lies within 4x the largest sample).
std::string svg_tail(const std::vector<double>& values, const std::optional<TailFit>& fit,
                     const BoundMarkers& markers, const std::string& x_label);

// Horizontal bars on a log scale (zero drawn as an empty bar labelled "0"), one per label, with
// decade ticks.
std::string svg_bars(const std::vector<std::string>& labels, const std::vector<double>& values,
                     const std::string& x_label);

// One square per run, colored by outcome (pass green, fail red, other grey), in run order.
std::string svg_timeline(const std::vector<std::string>& outcomes);

// Escapes &, <, >, " for XML text and attributes.
std::string xml_escape(const std::string& s);

}  // namespace flakescope::report
