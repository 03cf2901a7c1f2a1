// Tolerance and retry recommendations (see analyzer/stats/recommend.h).
#include "stats/recommend.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/report.h"
#include "flakescope/error.h"
#include "stats/number_text.h"

namespace flakescope::stats {
namespace {

std::optional<TailBound> bound_if_present(const std::vector<double>& samples,
                                          const TailOptions& options) {
  if (samples.empty()) return std::nullopt;
  return bound_tail_quantile(samples, options);
}

DefaultToleranceOutcome default_outcome(const DeviationSeries& s, Tolerance tol,
                                        const ToleranceOptions& options) {
  DefaultToleranceOutcome outcome;
  outcome.tolerance = tol;
  // The margin samples already subtract rtol |e| when they were measured with the default rtol;
  // otherwise only max |a - e| is known and rtol |e| is ignored (it can only turn fails to passes).
  const bool margin_matches =
      !s.atol_at_rtol.empty() && s.rtol_for_margin && *s.rtol_for_margin == tol.rtol;
  const std::vector<double>& deviations = margin_matches ? s.atol_at_rtol : s.abs;
  outcome.rtol_ignored = !margin_matches && tol.rtol > 0;
  std::size_t failures = 0;
  for (double d : deviations) failures += d > tol.atol ? 1 : 0;
  outcome.failure_rate = estimate_rate(failures, deviations.size(), options.confidence);
  outcome.retries = retries_needed(outcome.failure_rate.upper_one_sided, options.target);
  return outcome;
}

nlohmann::json interval_json(const Interval& i) {
  return {i.lower, i.upper};
}

}  // namespace

std::string zero_within_rtol(const DeviationSeries& s, double rtol) {
  if (rtol <= 0) return {};  // atol needed = |a - e|: zero is equality
  for (double d : s.abs)
    if (d != 0) return "within rtol=" + format_number(rtol) + " (no atol needed)";
  return {};  // every |a - e| was zero: bitwise identical says more
}

Recommendation recommend(const DeviationSeries& s, const ToleranceOptions& options) {
  if (s.abs.empty() && s.rel.empty() && s.ulp.empty() && s.atol_at_rtol.empty()) {
    throw InputError("no deviation samples: a recommendation needs at least one run");
  }
  TailOptions tail;
  tail.target = options.target;
  tail.confidence = options.confidence;
  tail.seed = options.seed;
  tail.assume_light_tail = options.assume_light_tail;
  Recommendation r;
  r.options = options;
  r.atol = bound_if_present(s.abs, tail);
  r.rtol = bound_if_present(s.rel, tail);
  r.pair_rtol = s.rtol_for_margin.value_or(s.dtype ? default_tolerance(*s.dtype).rtol : 0);
  TailOptions pair_tail = tail;
  pair_tail.zero_sample_is = zero_within_rtol(s, r.pair_rtol);
  if (r.pair_rtol > 0)
    pair_tail.positive_samples_are = "runs needing atol beyond rtol=" + format_number(r.pair_rtol);
  r.pair_atol = bound_if_present(s.atol_at_rtol, pair_tail);
  r.ulp = bound_if_present(s.ulp, tail);
  if (s.dtype && (!s.abs.empty() || !s.atol_at_rtol.empty())) {
    r.defaults = default_outcome(s, default_tolerance(*s.dtype), options);
  }
  for (const auto* b : {&r.atol, &r.rtol, &r.pair_atol, &r.ulp}) {
    if (*b) r.runs_needed = std::max(r.runs_needed, (*b)->runs_needed);
  }
  return r;
}

nlohmann::json to_json(const Recommendation& r) {
  nlohmann::json j = {{"target", r.options.target}, {"confidence", r.options.confidence}};
  if (r.options.assume_light_tail) j["assumption"] = "light tail (shape <= 0), --assume light-tail";
  if (r.atol) j["atol"] = to_json(*r.atol);
  if (r.rtol) j["rtol"] = to_json(*r.rtol);
  if (r.pair_atol) {
    j["pair"] = to_json(*r.pair_atol);
    j["pair"]["rtol"] = r.pair_rtol;
    j["pair"]["atol"] = j["pair"]["bound"];
    j["pair"]["rule"] =
        "rtol fixed at the dtype's torch.testing default; atol = upper bound of "
        "max(0, |a-e| - rtol*|e|)";
  }
  if (r.ulp) j["ulp"] = to_json(*r.ulp);
  if (r.defaults) {
    const auto& d = *r.defaults;
    const bool never = d.retries == std::numeric_limits<std::size_t>::max();
    j["default_tolerance"] = {
        {"rtol", d.tolerance.rtol},
        {"atol", d.tolerance.atol},
        {"rtol_ignored", d.rtol_ignored},
        {"failures", d.failure_rate.failures},
        {"runs", d.failure_rate.trials},
        {"failure_rate", d.failure_rate.point},
        {"clopper_pearson", interval_json(d.failure_rate.clopper_pearson)},
        {"wilson", interval_json(d.failure_rate.wilson)},
        {"upper_one_sided", d.failure_rate.upper_one_sided},
        {"retries", never ? nlohmann::json(nullptr) : nlohmann::json(d.retries)}};
  }
  j["runs_needed"] = r.runs_needed;
  return j;
}

DeviationSeries series_from_metrics(const model::OutputMetrics& metrics) {
  if (!metrics.samples) throw InputError("no samples in this output");
  DeviationSeries s;
  const auto read = [](const char* name, const std::vector<double>& in, std::vector<double>* out) {
    for (double x : in)
      if (std::isnan(x)) throw InputError(std::string("samples.") + name + " holds a non-number");
    *out = in;
  };
  read("abs", metrics.samples->abs, &s.abs);
  read("rel", metrics.samples->rel, &s.rel);
  read("ulp", metrics.samples->ulp, &s.ulp);
  read("atol_at_rtol", metrics.samples->atol_at_rtol, &s.atol_at_rtol);
  if (metrics.dtype) s.dtype = parse_dtype(*metrics.dtype);
  const auto& rtol = metrics.extra.find("rtol_for_margin");
  if (rtol != metrics.extra.end() && rtol->is_number()) s.rtol_for_margin = rtol->get<double>();
  return s;
}

void attach_recommendations(std::vector<model::ProbeResult>& probes,
                            const ToleranceOptions& options) {
  for (auto& probe : probes)
    for (auto& setting : probe.settings)
      for (auto& metrics : setting.metrics) {
        if (!metrics.samples) continue;
        try {
          metrics.recommendation = to_json(recommend(series_from_metrics(metrics), options));
        } catch (const std::exception& e) {
          metrics.recommendation = {{"error", e.what()}};
        }
      }
}

}  // namespace flakescope::stats
