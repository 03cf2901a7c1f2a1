// Calibration study of the tolerance bounds (issue 3).
//
// For distributions with known quantiles and n in {50, 100, 200, 500}, repeats (seeded) the whole
// recommendation on fresh samples and measures, for flakescope's bound, a FLEX-style baseline and
// "max observed x 1.0":
//   coverage  = fraction of claimed bounds whose true exceedance probability is <= target
//   refusals  = repetitions where the method gave no bound (not counted in coverage)
//   tightness = median of bound / true quantile over the claimed bounds
// A second table measures the adaptive stopping rule (AdaptiveStopper) on the same distributions.
//
// A rare component (the spike mixture) that does not occur in a sample cannot be seen by any
// method: such repetitions are counted as "absent" and left out of every coverage column.
//
// A third table measures the interval of the failure rate of a given atol (estimate_failure_rate)
// at the true 1e-2, 1e-3 and 1e-4 quantiles.
//
// Usage: calibration_study [OUT_DIR] [--reps N] [--adaptive-reps N] [--rate-reps N] [--threads N]
// The defaults (200 / 100 / 100 repetitions) run in a few minutes on 2 cores; the committed table
// and the slow test use them. More repetitions narrow the Monte Carlo error (about +-0.015 on a
// coverage of 0.95 at 200): --reps 1000 --adaptive-reps 200 --rate-reps 400 for a release.
// Writes OUT_DIR/calibration.md and OUT_DIR/calibration.json (OUT_DIR defaults to
// reports/calibration under the source tree).
#include <algorithm>
#include <atomic>
#include <boost/math/distributions/students_t.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/parallel_for.h"
#include "core/report.h"
#include "stats/adaptive.h"
#include "stats/failure_rate.h"
#include "stats/flex_baseline.h"
#include "stats/tail_bound.h"

namespace fs = flakescope::stats;

namespace {

constexpr double kTarget = 1e-4;
constexpr double kConfidence = 0.95;
constexpr double kLattice = 1.0 / 8388608.0;  // 2^-23

struct Distribution {
  std::string name;
  bool light_tailed;
  std::function<double(std::mt19937_64&)> draw;
  std::function<double(double)> survival;  // P(X > x)
  // Values above this belong to a rare separate component (NaN: none). A sample without any is
  // indistinguishable from the rest alone: no coverage is claimed for it (counted as "absent").
  double component_above = NAN;
};

double abs_normal_survival(double x) {
  return x <= 0 ? 1 : std::erfc(x / std::sqrt(2.0));
}

std::vector<Distribution> distributions() {
  const boost::math::students_t t3(3), t5(5);
  return {
      {"abs_normal", true,
       [](std::mt19937_64& g) { return std::abs(std::normal_distribution<double>(0, 1)(g)); },
       abs_normal_survival},
      {"exponential", true,
       [](std::mt19937_64& g) { return std::exponential_distribution<double>(1)(g); },
       [](double x) { return x <= 0 ? 1 : std::exp(-x); }},
      {"uniform", true,
       [](std::mt19937_64& g) { return std::uniform_real_distribution<double>(0, 1)(g); },
       [](double x) { return std::clamp(1 - x, 0.0, 1.0); }},
      {"lognormal", false,
       [](std::mt19937_64& g) { return std::lognormal_distribution<double>(0, 1)(g); },
       [](double x) { return x <= 0 ? 1 : 0.5 * std::erfc(std::log(x) / std::sqrt(2.0)); }},
      {"abs_student_t5", false,
       [](std::mt19937_64& g) { return std::abs(std::student_t_distribution<double>(5)(g)); },
       [t5](double x) {
         return x <= 0 ? 1 : 2 * boost::math::cdf(boost::math::complement(t5, x));
       }},
      {"abs_student_t3", false,
       [](std::mt19937_64& g) { return std::abs(std::student_t_distribution<double>(3)(g)); },
       [t3](double x) {
         return x <= 0 ? 1 : 2 * boost::math::cdf(boost::math::complement(t3, x));
       }},
      {"zero_inflated_ulp", true,
       [](std::mt19937_64& g) {
         if (std::bernoulli_distribution(0.8)(g)) return 0.0;
         return (1 + std::geometric_distribution<int>(0.3)(g)) * kLattice;
       },
       [](double x) { return x < 0 ? 1 : 0.2 * std::pow(0.7, std::floor(x / kLattice)); }},
      {"spike_mixture", false,
       [](std::mt19937_64& g) {
         if (std::bernoulli_distribution(0.01)(g)) {
           return 100 + std::exponential_distribution<double>(1)(g);
         }
         return std::abs(std::normal_distribution<double>(0, 1)(g));
       },
       [](double x) {
         return 0.99 * abs_normal_survival(x) + 0.01 * (x < 100 ? 1 : std::exp(-(x - 100)));
       },
       50.0},
      {"constant", true, [](std::mt19937_64&) { return 0.0; },
       [](double x) { return x < 0 ? 1.0 : 0.0; }},
  };
}

// The smallest x with survival(x) <= rate (bisection; exact at lattice points from above).
double true_quantile(const Distribution& d, double rate = kTarget) {
  if (d.survival(0) <= rate) return 0;
  double lo = 0, hi = 1;
  while (d.survival(hi) > rate) hi *= 2;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (d.survival(mid) > rate ? lo : hi) = mid;
  }
  return hi;
}

struct MethodCell {
  std::size_t claimed = 0, covered = 0, refused = 0;
  std::vector<double> ratios;
  std::vector<std::string> refusal_reasons;

  void add(bool has_bound, double bound, const Distribution& d, double q, const std::string& why) {
    if (!has_bound) {
      ++refused;
      if (refusal_reasons.size() < 3 &&
          std::find(refusal_reasons.begin(), refusal_reasons.end(), why) == refusal_reasons.end()) {
        refusal_reasons.push_back(why);
      }
      return;
    }
    ++claimed;
    covered += d.survival(bound) <= kTarget ? 1 : 0;
    ratios.push_back(q > 0 ? bound / q : (bound == 0 ? 1.0 : INFINITY));
  }
  double coverage() const { return claimed ? double(covered) / double(claimed) : NAN; }
  double median_ratio() const {
    if (ratios.empty()) return NAN;
    std::vector<double> r(ratios);
    std::nth_element(r.begin(), r.begin() + static_cast<long>(r.size() / 2), r.end());
    return r[r.size() / 2];
  }
};

struct Cell {
  std::size_t dist = 0, n = 0;
  MethodCell ours, light, flex, max_observed;
  std::size_t absent = 0;                  // samples without the rare component (not counted above)
  std::size_t components = 0;              // samples where flakescope reported a separate component
  std::vector<std::size_t> method_counts;  // exact, empirical, gpd, exponential, other
};

struct AdaptiveCell {
  std::size_t dist = 0;
  std::vector<double> stop_runs;
  std::size_t capped = 0, claimed = 0, covered = 0;
  std::size_t absent = 0;  // stopped before the rare component occurred (not counted)
  std::vector<double> ratios;
};

bool component_absent(const Distribution& d, const std::vector<double>& x) {
  if (std::isnan(d.component_above)) return false;
  return std::none_of(x.begin(), x.end(), [&](double v) { return v > d.component_above; });
}

std::uint64_t seed_for(std::size_t dist, std::size_t n, std::size_t rep) {
  return 0x9E3779B97F4A7C15ULL * (dist + 1) ^ (n * 1000003ULL) ^ (rep * 7919ULL + 20261125ULL);
}

void run_cell(const Distribution& d, double q, std::size_t reps, Cell* cell, std::size_t dist) {
  cell->method_counts.assign(5, 0);
  std::vector<double> x(cell->n);
  for (std::size_t rep = 0; rep < reps; ++rep) {
    std::mt19937_64 g(seed_for(dist, cell->n, rep));
    for (double& v : x) v = d.draw(g);
    if (component_absent(d, x)) {
      ++cell->absent;
      continue;
    }
    fs::TailOptions options;
    options.target = kTarget;
    options.confidence = kConfidence;
    options.seed = seed_for(dist, cell->n, rep) + 1;
    const fs::TailBound b = fs::bound_tail_quantile(x, options);
    cell->ours.add(b.has_bound, b.bound, d, q, b.method + ": " + b.reason);
    cell->components += b.component_count > 0 ? 1 : 0;
    const char* methods[] = {"exact", "empirical", "gpd", "exponential"};
    std::size_t slot = 4;
    for (std::size_t i = 0; i < 4; ++i) slot = b.method == methods[i] ? i : slot;
    ++cell->method_counts[slot];
    options.assume_light_tail = true;
    const fs::TailBound light = fs::bound_tail_quantile(x, options);
    cell->light.add(light.has_bound, light.bound, d, q, light.method + ": " + light.reason);
    const fs::FlexBound f = fs::flex_style_bound(x);
    cell->flex.add(f.has_bound, f.bound, d, q, f.reason);
    cell->max_observed.add(true, *std::max_element(x.begin(), x.end()), d, q, "");
  }
}

void run_adaptive(const Distribution& d, double q, std::size_t reps, AdaptiveCell* cell) {
  fs::AdaptiveOptions options;  // defaults: 50 runs, batches of 50, cap 1000, 10% stability
  options.tail.target = kTarget;
  options.tail.confidence = kConfidence;
  for (std::size_t rep = 0; rep < reps; ++rep) {
    std::mt19937_64 g(seed_for(cell->dist, 999, rep));
    options.tail.seed = seed_for(cell->dist, 999, rep) + 1;
    const fs::AdaptiveStopper stopper(options);
    std::vector<double> x;
    while (true) {
      const std::size_t more = stopper.next_batch(x.size());
      for (std::size_t i = 0; i < more; ++i) x.push_back(d.draw(g));
      if (more == 0 || stopper.should_stop(x)) break;
    }
    cell->stop_runs.push_back(static_cast<double>(x.size()));
    cell->capped += x.size() >= options.max_runs ? 1 : 0;
    if (component_absent(d, x)) {
      ++cell->absent;
      continue;
    }
    const fs::TailBound b = fs::bound_tail_quantile(x, options.tail);
    if (b.has_bound) {
      ++cell->claimed;
      cell->covered += d.survival(b.bound) <= kTarget ? 1 : 0;
      cell->ratios.push_back(q > 0 ? b.bound / q : (b.bound == 0 ? 1.0 : INFINITY));
    }
  }
}

std::string fmt(double v, int precision = 3) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return "inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Failure rate of a given atol (estimate_failure_rate): the atol is the true quantile at a rate,
// so the true failure rate is d.survival(atol); coverage = share of intervals containing it.
constexpr double kRates[] = {1e-2, 1e-3, 1e-4};

struct RateCell {
  std::size_t dist = 0, n = 0, rate = 0;
  std::size_t reps = 0, covered = 0, upper_covered = 0, tail = 0;
  std::size_t absent = 0;           // samples without the rare component (not counted)
  std::vector<double> upper_ratio;  // interval upper end / true rate
};

void run_rate_cell(const Distribution& d, std::size_t reps, RateCell* cell) {
  const double atol = true_quantile(d, kRates[cell->rate]);
  const double truth = d.survival(atol);
  std::vector<double> x(cell->n);
  for (std::size_t rep = 0; rep < reps; ++rep) {
    std::mt19937_64 g(seed_for(cell->dist, cell->n, rep) ^ 0xA5A5A5A5ULL);
    for (double& v : x) v = d.draw(g);
    if (component_absent(d, x)) {
      ++cell->absent;
      continue;
    }
    fs::FailureRateOptions options;
    options.confidence = kConfidence;
    options.seed = seed_for(cell->dist, cell->n, rep) + 2;
    const fs::FailureRate r = fs::estimate_failure_rate(x, atol, options);
    ++cell->reps;
    cell->tail += r.method == "tail" ? 1 : 0;
    cell->covered += r.interval.lower <= truth && truth <= r.interval.upper ? 1 : 0;
    cell->upper_covered += truth <= r.interval.upper ? 1 : 0;
    cell->upper_ratio.push_back(r.interval.upper / truth);
  }
}

using flakescope::parallel_for;  // analyzer/core/parallel_for.h

struct StudyOptions {
  std::string out_dir = std::string(FLAKESCOPE_SOURCE_DIR) + "/reports/calibration";
  std::size_t reps = 200, adaptive_reps = 100, rate_reps = 100;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
};

// A count given on the command line; anything else is an error naming the option.
std::size_t count_option(const std::string& option, const std::string& text) {
  std::size_t used = 0;
  unsigned long value = 0;
  try {
    value = std::stoul(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || text[0] == '-')
    throw std::invalid_argument(option + " needs a count, got '" + text + "'");
  return value;
}

// Returns false after --help.
bool parse_options(int argc, char** argv, StudyOptions& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      o.reps = count_option(a, argv[++i]);
    } else if (a == "--adaptive-reps" && i + 1 < argc) {
      o.adaptive_reps = count_option(a, argv[++i]);
    } else if (a == "--rate-reps" && i + 1 < argc) {
      o.rate_reps = count_option(a, argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      o.threads = static_cast<unsigned>(count_option(a, argv[++i]));
    } else if (a == "--help") {
      std::cout
          << "usage: calibration_study [OUT_DIR] [--reps N] [--adaptive-reps N] [--rate-reps N] "
             "[--threads N]\n";
      return false;
    } else {
      o.out_dir = a;
    }
  }
  return true;
}

const std::vector<std::size_t> kSizes = {50, 100, 200, 500};

// Everything the study measured, for the tables.
struct StudyResults {
  std::vector<Distribution> dists;
  std::vector<double> quantiles;
  std::vector<Cell> cells;
  std::vector<AdaptiveCell> adaptive;
  std::vector<RateCell> rate_cells;
  double seconds = 0;
};

StudyResults run_study(const StudyOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  StudyResults r;
  r.dists = distributions();
  for (const auto& d : r.dists) r.quantiles.push_back(true_quantile(d));
  for (std::size_t di = 0; di < r.dists.size(); ++di) {
    for (std::size_t n : kSizes) {
      Cell c;
      c.dist = di;
      c.n = n;
      r.cells.push_back(c);
    }
  }
  parallel_for(r.cells.size(), o.threads, [&](std::size_t i) {
    run_cell(r.dists[r.cells[i].dist], r.quantiles[r.cells[i].dist], o.reps, &r.cells[i],
             r.cells[i].dist);
  });
  r.adaptive.resize(r.dists.size());
  for (std::size_t di = 0; di < r.dists.size(); ++di) r.adaptive[di].dist = di;
  parallel_for(r.adaptive.size(), o.threads, [&](std::size_t i) {
    run_adaptive(r.dists[i], r.quantiles[i], o.adaptive_reps, &r.adaptive[i]);
  });
  for (std::size_t di = 0; di < r.dists.size(); ++di) {
    if (r.quantiles[di] == 0) continue;  // constant: no failure to estimate
    for (std::size_t n : kSizes) {
      for (std::size_t ri = 0; ri < std::size(kRates); ++ri) {
        RateCell c;
        c.dist = di;
        c.n = n;
        c.rate = ri;
        r.rate_cells.push_back(c);
      }
    }
  }
  parallel_for(r.rate_cells.size(), o.threads, [&](std::size_t i) {
    run_rate_cell(r.dists[r.rate_cells[i].dist], o.rate_reps, &r.rate_cells[i]);
  });
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

nlohmann::json method_json(const MethodCell& mc) {
  return nlohmann::json{{"claimed", mc.claimed},
                        {"covered", mc.covered},
                        {"refused", mc.refused},
                        {"coverage", flakescope::json_number(mc.coverage())},
                        {"median_tightness", flakescope::json_number(mc.median_ratio())},
                        {"refusal_reasons", mc.refusal_reasons}};
}

void write_bounds_header(const StudyOptions& o, const StudyResults& r, std::ostream& md) {
  md << "# Calibration study: tolerance bounds\n\n"
     << "Target exceedance " << kTarget << ", confidence " << kConfidence << ", " << o.reps
     << " seeded repetitions per row, " << o.threads << " threads, " << fmt(r.seconds, 1)
     << " s. Generated by `bench/calibration_study`.\n\n"
     << "coverage = fraction of *claimed* bounds with true exceedance <= target (goal >= 0.95); "
     << "refused = repetitions without a bound; tight = median bound / true quantile over claimed "
     << "bounds (goals: <= 2.0 at n = 200 and <= 1.6 at n = 500 on abs normal, exponential and "
     << "lognormal, <= 3 on the lattice at n = 200). FLEX = FLEX-style POT+GPD, >= 50 "
     << "exceedances, 0.9999 quantile, no confidence; max = max observed x 1.0.\n\n"
     << "methods = flakescope's method counts exact/empirical/gpd/exponential/refused. light = "
     << "the same with `--assume light-tail` (shape <= 0; refused when the data show a heavier "
     << "tail); its rows are meant for the light-tailed distributions.\n\n"
     << "comp = repetitions where flakescope reported a separate component (a false alarm on "
     << "every distribution but the spike mixture). absent = spike-mixture samples in which no "
     << "spike occurred (probability 0.99^n): no method can see a component absent from the "
     << "sample, so these repetitions are not counted in any column (the output states that a "
     << "component rarer than about 3/n can be absent; see the README).\n\n"
     << "| distribution | true q | n | flakescope cov | refused | tight | methods | comp | absent "
        "| "
        "light cov | refused | tight | FLEX cov | refused | tight | max cov | tight |\n"
     << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
}

// The bound rows: flakescope's, the light-tail assumption's, the FLEX-style baseline's, the max.
void write_bound_rows(const StudyResults& r, std::ostream& md, nlohmann::json& json) {
  for (const auto& c : r.cells) {
    const auto& d = r.dists[c.dist];
    const auto& m = c.method_counts;
    const std::string methods = std::to_string(m[0]) + "/" + std::to_string(m[1]) + "/" +
                                std::to_string(m[2]) + "/" + std::to_string(m[3]) + "/" +
                                std::to_string(m[4]);
    char q[32];
    std::snprintf(q, sizeof q, "%.4g", r.quantiles[c.dist]);
    md << "| " << d.name << " | " << q << " | " << c.n << " | " << fmt(c.ours.coverage()) << " | "
       << c.ours.refused << " | " << fmt(c.ours.median_ratio(), 2) << " | " << methods << " | "
       << c.components << " | " << c.absent << " | " << fmt(c.light.coverage()) << " | "
       << c.light.refused << " | " << fmt(c.light.median_ratio(), 2) << " | "
       << fmt(c.flex.coverage()) << " | " << c.flex.refused << " | "
       << fmt(c.flex.median_ratio(), 2) << " | " << fmt(c.max_observed.coverage()) << " | "
       << fmt(c.max_observed.median_ratio(), 2) << " |\n";
    json["rows"].push_back({{"distribution", d.name},
                            {"light_tailed", d.light_tailed},
                            {"true_quantile", r.quantiles[c.dist]},
                            {"n", c.n},
                            {"flakescope", method_json(c.ours)},
                            {"flakescope_methods",
                             {{"exact", m[0]},
                              {"empirical", m[1]},
                              {"gpd", m[2]},
                              {"exponential", m[3]},
                              {"refused_or_unbounded", m[4]}}},
                            {"separate_components", c.components},
                            {"component_absent", c.absent},
                            {"light_tail", method_json(c.light)},
                            {"flex_style", method_json(c.flex)},
                            {"max_observed", method_json(c.max_observed)}});
  }
}

void write_adaptive_rows(const StudyOptions& o, const StudyResults& r, std::ostream& md,
                         nlohmann::json& json) {
  md << "\n## Adaptive stopping (`AdaptiveStopper` defaults: 50 runs, batches of 50, cap 1000, "
        "stable within 10%)\n\n"
     << o.adaptive_reps << " seeded repetitions per distribution; coverage and tightness of the "
     << "bound at the stopping point.\n\n"
     << "absent = repetitions that stopped before the rare component occurred (not counted).\n\n"
     << "| distribution | median runs | mean runs | at cap | bounds | coverage | tight | absent |\n"
     << "|---|---|---|---|---|---|---|---|\n";
  json["adaptive"] = nlohmann::json::array();
  for (const auto& a : r.adaptive) {
    double mean = 0;
    for (double r : a.stop_runs) mean += r;
    mean /= static_cast<double>(a.stop_runs.size());
    const double coverage = a.claimed ? double(a.covered) / double(a.claimed) : NAN;
    md << "| " << r.dists[a.dist].name << " | " << fmt(median(a.stop_runs), 0) << " | "
       << fmt(mean, 0) << " | " << a.capped << " | " << a.claimed << " | " << fmt(coverage) << " | "
       << fmt(median(a.ratios), 2) << " | " << a.absent << " |\n";
    json["adaptive"].push_back({{"distribution", r.dists[a.dist].name},
                                {"repetitions", o.adaptive_reps},
                                {"median_runs", median(a.stop_runs)},
                                {"mean_runs", mean},
                                {"at_cap", a.capped},
                                {"bounds", a.claimed},
                                {"component_absent", a.absent},
                                {"coverage", flakescope::json_number(coverage)},
                                {"median_tightness", flakescope::json_number(median(a.ratios))}});
  }
}

void write_rate_rows(const StudyOptions& o, const StudyResults& r, std::ostream& md,
                     nlohmann::json& json) {
  md << "\n## Failure rate of a given atol (`estimate_failure_rate`, `tolerance --atol`)\n\n"
     << o.rate_reps << " seeded repetitions per row; atol = the true quantile at the nominal rate, "
     << "true rate = P(X > atol) (on the lattice the next level's rate). coverage = share of 95% "
     << "two-sided intervals containing the true rate (goal >= 0.95); upper = share with true <= "
     << "upper end; tail = repetitions answered by the tail model (the rest: counts, "
     << "Clopper-Pearson); upper/true = median upper end / true rate; absent = samples without the "
     << "rare component (not counted).\n\n"
     << "| distribution | n | nominal rate | true rate | coverage | upper | tail | upper/true | "
        "absent |\n"
     << "|---|---|---|---|---|---|---|---|---|\n";
  json["failure_rate"] = nlohmann::json::array();
  for (const auto& c : r.rate_cells) {
    const auto& d = r.dists[c.dist];
    const double truth = d.survival(true_quantile(d, kRates[c.rate]));
    const double coverage = double(c.covered) / double(c.reps);
    const double upper = double(c.upper_covered) / double(c.reps);
    char nominal[32], true_rate[32];
    std::snprintf(nominal, sizeof nominal, "%.0e", kRates[c.rate]);
    std::snprintf(true_rate, sizeof true_rate, "%.3g", truth);
    md << "| " << d.name << " | " << c.n << " | " << nominal << " | " << true_rate << " | "
       << fmt(coverage) << " | " << fmt(upper) << " | " << c.tail << " | "
       << fmt(median(c.upper_ratio), 1) << " | " << c.absent << " |\n";
    json["failure_rate"].push_back({{"distribution", d.name},
                                    {"n", c.n},
                                    {"nominal_rate", kRates[c.rate]},
                                    {"true_rate", truth},
                                    {"repetitions", c.reps},
                                    {"coverage", coverage},
                                    {"upper_coverage", upper},
                                    {"tail_answers", c.tail},
                                    {"component_absent", c.absent},
                                    {"median_upper_over_true", median(c.upper_ratio)}});
  }
}

}  // namespace

int run_main(int argc, char** argv) {
  StudyOptions o;
  if (!parse_options(argc, argv, o)) return 0;
  // The folder first: a path that cannot be made fails now, not after the study's minute.
  std::filesystem::create_directories(o.out_dir);
  const StudyResults r = run_study(o);
  std::ostringstream md;
  write_bounds_header(o, r, md);
  nlohmann::json json = {{"target", kTarget},
                         {"confidence", kConfidence},
                         {"repetitions", o.reps},
                         {"seconds", r.seconds},
                         {"rows", nlohmann::json::array()}};
  write_bound_rows(r, md, json);
  write_adaptive_rows(o, r, md, json);
  write_rate_rows(o, r, md, json);
  std::cout << md.str();
  flakescope::write_file_atomic(o.out_dir + "/calibration.md", md.str());
  flakescope::write_file_atomic(o.out_dir + "/calibration.json", json.dump(2) + "\n");
  std::cerr << "wrote " << o.out_dir << "/calibration.{md,json} in " << fmt(r.seconds, 1) << " s\n";
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {  // a bad number, an unwritable folder: one line, exit 2
    std::cerr << "calibration_study: " << e.what() << "\n";
    return 2;
  }
}
