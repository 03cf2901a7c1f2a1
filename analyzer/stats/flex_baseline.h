#pragma once
// A FLEX-style bound (Dutta, Shi, Misailovic, FSE 2021), the baseline flakescope is measured
// against: variance < 1e-20 means deterministic (bound = max); otherwise peaks over threshold with
// at least 50 exceedances, thresholds from highest to lowest (about 20 candidates), a GPD fit
// accepted by Anderson-Darling at 5%; a positive shape significant against the exponential
// (likelihood ratio) is a rejected heavy tail; the lowest accepted threshold wins; the bound is the
// threshold plus the 0.9999 quantile of the fitted excess distribution. No confidence is attached.
// FLEX falls back to Box-Cox when no threshold is accepted; here that counts as a refusal.
#include <string>
#include <vector>

namespace flakescope::stats {

struct FlexBound {
  bool has_bound = false;
  double bound = 0;
  std::string reason;
  double threshold = 0;
  std::size_t exceedances = 0;
  double shape = 0;
};

FlexBound flex_style_bound(const std::vector<double>& samples);

}  // namespace flakescope::stats
