// The failure rate of given tolerances (see analyzer/stats/failure_rate.h).
#include "stats/failure_rate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/report.h"
#include "flakescope/error.h"
#include "stats/tail_model.h"

namespace flakescope::stats {
namespace {

void validate(const std::vector<double>& samples, double atol, const FailureRateOptions& o) {
  if (samples.empty()) throw InputError("no samples: a failure rate needs at least one run");
  if (!(atol >= 0)) throw InputError("atol must be a number >= 0");
  if (!(o.confidence > 0 && o.confidence < 1)) throw InputError("confidence must be in (0, 1)");
  for (double v : samples) {
    if (std::isnan(v)) throw InputError("a deviation sample is NaN");
  }
}

// Two significant digits, without an exponent from 10% up ("1e+02%" would read as a typo).
std::string percent(double v) {
  char buf[40];
  if (v == 0) return "0%";
  // A tail model's estimate far below what any number of runs could check says "tiny", not
  // "8.6e-08%".
  if (100 * v < 0.001) return "<0.001%";
  std::snprintf(buf, sizeof buf, 100 * v >= 10 ? "%.0f%%" : "%.2g%%", 100 * v);
  return buf;
}

// The tail estimate at `atol` (no run fails there). Returns false when the model does not fit.
bool tail_rate(const std::vector<double>& positive, std::size_t runs, double atol,
               const FailureRateOptions& options, FailureRate* out) {
  TailOptions tail;
  tail.seed = options.seed;
  tail.confidence = options.confidence;
  const TailModel model = fit_tail_model(positive, tail);
  if (!model.fitted) {
    out->reason = "no run fails at this atol; no tail model: " + model.failure;
    return false;
  }
  const double alpha = 1 - options.confidence;
  const std::size_t above = model.excesses.size();
  const RateEstimate share = estimate_rate(above, runs, 1 - alpha / 2);
  const double zeta = static_cast<double>(above) / static_cast<double>(runs);
  const double z = atol - model.threshold;
  SurvivalInterval s{1, 1};
  double s_hat = 1;
  if (z > 0) {
    s_hat = gpd_survival(z, model.shape, model.scale);
    // The upper end keeps the model's shape floor (an assumption that can only raise it); the
    // lower end lets the shape go down to -1, since a lighter tail than the floor is what makes
    // the rate small.
    s.upper = gpd_survival_interval(model.excesses, model.fit, z, 1 - alpha / 2, model.min_shape,
                                    model.max_shape)
                  .upper;
    s.lower =
        gpd_survival_interval(model.excesses, model.free_fit, z, 1 - alpha / 2, kMinShape).lower;
  }
  out->method = "tail";
  out->point = zeta * s_hat;
  out->interval = {share.clopper_pearson.lower * s.lower, share.clopper_pearson.upper * s.upper};
  out->threshold = model.threshold;
  out->exceedances = above;
  out->shape = model.shape;
  out->scale = model.scale;
  char buf[160];
  std::snprintf(
      buf, sizeof buf,
      "no run of %zu fails; generalized Pareto tail above the top %zu runs (shape %.3g%s)", runs,
      above, model.shape, model.bounded_tail ? ", bounded tail" : ", shape >= 0 assumed");
  out->reason = buf;
  return true;
}

// A separate component below atol (tail_model.h): its own tail beyond atol is unknown, so the
// upper end takes its whole rate (two-sided Clopper-Pearson) on top of the rest's tail.
void add_component(const SeparateComponent& c, const FailureRateOptions& options,
                   FailureRate* out) {
  const RateEstimate rate = estimate_rate(c.count, out->runs, options.confidence);
  out->interval.upper = std::min(1.0, out->interval.upper + rate.clopper_pearson.upper);
  out->component_count = c.count;
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "; a separate component of %zu runs (from %.3g) lies beyond the rest's tail: its "
                "own tail beyond atol is unknown, so the upper end includes its rate (up to %s)",
                c.count, c.start, percent(rate.clopper_pearson.upper).c_str());
  out->reason += buf;
}

// A refuted tail estimate: its model fields cleared, and why (the counts take its place).
void set_aside_tail(FailureRate* r) {
  r->reason = "no run of " + std::to_string(r->runs) + " fails; the tail fitted above the top " +
              std::to_string(r->exceedances) + " runs (its rate at least " +
              percent(r->interval.lower) + ") contradicts that, so the counts decide";
  r->threshold = r->shape = r->scale = 0;
  r->exceedances = r->component_count = 0;
}

}  // namespace

FailureRate estimate_failure_rate(const std::vector<double>& needed_atol, double atol,
                                  const FailureRateOptions& options) {
  validate(needed_atol, atol, options);
  FailureRate r;
  r.atol = atol;
  r.confidence = options.confidence;
  r.runs = needed_atol.size();
  std::vector<double> positive;
  positive.reserve(needed_atol.size());  // no doubling slack on 10 M samples
  for (double v : needed_atol) {
    r.failures += v > atol ? 1 : 0;
    if (v > 0 && std::isfinite(v)) positive.push_back(v);
  }
  const RateEstimate counts = estimate_rate(r.failures, r.runs, options.confidence);
  r.counts_interval = counts.clopper_pearson;
  if (!positive.empty()) std::sort(positive.begin(), positive.end());
  if (r.failures == 0 && !positive.empty() && positive.front() == positive.back()) {
    // One value on every run that deviated (a seeded test's constant error): nothing varies,
    // so there is no tail to extrapolate; the counts say what the runs show.
    r.reason = positive.size() == 1
                   ? "only one run deviated: no tail to fit"
                   : "the " + std::to_string(positive.size()) +
                         " runs that deviated all deviated by the same amount: no tail to fit";
  } else if (r.failures == 0 && !positive.empty()) {
    TailOptions detect;
    detect.seed = options.seed;
    const SeparateComponent c = detect_separate_component(positive, detect);
    if (c.detected) positive.resize(positive.size() - c.count);
    if (tail_rate(positive, r.runs, atol, options, &r)) {
      if (c.detected) add_component(c, options, &r);
      // A tail whose whole interval lies above what 0 failures in these runs allow is refuted by
      // them: deviations on a few rounding levels (the largest one repeated) fit no continuous
      // tail, and such a fit put a 45% rate on an atol no run of 30 reached.
      if (r.interval.lower <= counts.clopper_pearson.upper) return r;
      set_aside_tail(&r);
    }
  } else if (r.failures == 0) {
    r.reason = options.zero_sample_is.empty() ? "no run changed"
                                              : "every run was " + options.zero_sample_is;
  } else {
    r.reason = std::to_string(r.failures) + " of " + std::to_string(r.runs) +
               " runs fail at this atol (Clopper-Pearson)";
  }
  r.method = "counts";
  r.point = counts.point;
  r.interval = counts.clopper_pearson;
  return r;
}

std::string describe_failure_rate(const FailureRate& rate) {
  char level[16];
  std::snprintf(level, sizeof level, "%g%%", 100 * rate.confidence);
  return "fails an estimated " + percent(rate.point) + " of runs, " + level + " CI [" +
         percent(rate.interval.lower) + ", " + percent(rate.interval.upper) + "]";
}

nlohmann::json to_json(const FailureRate& rate) {
  nlohmann::json j = {
      {"atol", rate.atol},
      {"method", rate.method},
      {"reason", rate.reason},
      {"confidence", rate.confidence},
      {"failure_rate", rate.point},
      {"interval", {rate.interval.lower, rate.interval.upper}},
      {"runs", rate.runs},
      {"failures", rate.failures},
      {"clopper_pearson", {rate.counts_interval.lower, rate.counts_interval.upper}}};
  if (rate.component_count > 0) j["separate_component_runs"] = rate.component_count;
  if (rate.method == "tail") {
    j["tail"] = {{"threshold", rate.threshold},
                 {"exceedances", rate.exceedances},
                 {"shape", rate.shape},
                 {"scale", rate.scale}};
  }
  return j;
}

}  // namespace flakescope::stats
