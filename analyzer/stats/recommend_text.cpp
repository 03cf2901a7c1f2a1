// Human-readable recommendations (see analyzer/stats/recommend_text.h).
#include "stats/recommend_text.h"

#include <cstdio>
#include <limits>

namespace flakescope::stats {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g%%", 100 * v);
  return buf;
}

void bound_line(std::ostream& os, const char* label, const TailBound& b) {
  os << "  " << label;
  if (b.has_bound) {
    os << num(b.bound) << "  [" << b.method;
    if (b.method == "gpd" || b.method == "exponential")
      os << ", point estimate " << num(b.estimate);
    os << "]\n";
  } else {
    os << "none  [" << b.method << "]\n";
  }
  os << "      " << b.reason;
  if (b.runs_needed > 0) os << "; needs about " << b.runs_needed << " runs in total";
  os << "\n";
}

}  // namespace

void write_recommendation_text(std::ostream& os, const std::string& name, const Recommendation& r) {
  const TailBound* any = r.atol        ? &*r.atol
                         : r.pair_atol ? &*r.pair_atol
                         : r.rtol      ? &*r.rtol
                                       : nullptr;
  os << name;
  if (any) {
    os << "  (" << any->n << " runs, " << any->zeros << " bitwise identical";
    if (any->infinite) os << ", " << any->infinite << " not comparable";
    os << ")";
  }
  os << "\n  for a per-run failure rate <= " << num(r.options.target) << " at "
     << percent(r.options.confidence) << " confidence"
     << (r.options.assume_light_tail ? ", assuming a light tail (shape <= 0, --assume light-tail)"
                                     : "")
     << ":\n";
  if (r.atol) bound_line(os, "atol (rtol 0)      ", *r.atol);
  if (r.rtol) bound_line(os, "rtol (atol 0)      ", *r.rtol);
  if (r.pair_atol) {
    const std::string label = "pair rtol " + num(r.pair_rtol) + ", atol ";
    os << "  " << label;
    if (r.pair_atol->has_bound) {
      os << num(r.pair_atol->bound) << "  [" << r.pair_atol->method << "]\n";
    } else {
      os << "none  [" << r.pair_atol->method << ": " << r.pair_atol->reason << "]\n";
    }
    os << "      rule: rtol fixed at the dtype default, atol bounds max(0, |a-e| - rtol*|e|)\n";
  }
  if (r.ulp) bound_line(os, "ULP                ", *r.ulp);
  if (r.defaults) {
    const auto& d = *r.defaults;
    const auto& f = d.failure_rate;
    os << "  default rtol " << num(d.tolerance.rtol) << ", atol " << num(d.tolerance.atol)
       << ": would fail " << percent(f.point) << " of runs (" << f.failures << "/" << f.trials
       << "), " << percent(f.confidence) << " CI [" << percent(f.clopper_pearson.lower) << ", "
       << percent(f.clopper_pearson.upper) << "]";
    if (d.rtol_ignored) os << " (rtol ignored: only |a-e| was recorded)";
    os << "\n  retries: ";
    if (d.retries == std::numeric_limits<std::size_t>::max()) {
      os << "none helps (every run fails)\n";
    } else {
      os << d.retries << " (fail probability <= " << num(f.upper_one_sided)
         << "; p^(k+1) <= " << num(r.options.target) << ", independent attempts)\n";
    }
  }
  os << "  runs needed: ";
  if (r.runs_needed == 0) {
    os << "none beyond these for the bounds above\n";
  } else {
    os << "about " << r.runs_needed << " in total before every bound can be given\n";
  }
}

}  // namespace flakescope::stats
