#pragma once
// Small SVG charts drawn by flakescope itself (no plotting library, no script): the HTML report
// embeds them inline so the page is one self-contained file.
#include <optional>
#include <string>
#include <vector>

namespace flakescope::report {

// A generalized Pareto tail fitted above `threshold`: P(X > x) = rate * (1 + shape (x-u)/scale)^(-1/shape).
struct TailFit {
  double threshold = 0;
  double scale = 1;
  double shape = 0;
  double exceedance_rate = 1;  // fraction of samples above the threshold
};

// Histogram of `values` (finite ones) with an optional vertical marker (the recommended bound).
std::string svg_histogram(const std::vector<double>& values, std::optional<double> marker,
                          const std::string& x_label);

// Empirical tail P(X > x) on a log scale, with the fitted tail drawn over it when given.
std::string svg_tail(const std::vector<double>& values, const std::optional<TailFit>& fit,
                     const std::string& x_label);

// Horizontal bars on a log scale (zero drawn as an empty bar labelled "0"), one per label.
std::string svg_bars(const std::vector<std::string>& labels, const std::vector<double>& values,
                     const std::string& x_label);

// One square per run, colored by outcome (pass green, fail red, other grey), in run order.
std::string svg_timeline(const std::vector<std::string>& outcomes);

// Escapes &, <, >, " for XML text and attributes.
std::string xml_escape(const std::string& s);

}  // namespace flakescope::report
