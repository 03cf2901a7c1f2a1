// Exploration aid for the threshold choice of the tail bound. Not part of the committed study; its
// own seeds and, besides the study's distributions, others that the study does not use (so that a
// rule is not tuned to the study).
//
//   calibration_study_explore [ladder] [--reps N] [--n N] [--confidence C] > ladder.csv
//     per seeded repetition, the GPD fit and the profile-likelihood bound at a ladder of
//     thresholds, as CSV, so that selection rules can be compared offline on the same samples;
//   calibration_study_explore rules [--reps N] [--n N] [--threads T]
//     coverage / tightness of threshold-selection rules side by side (fixed shares, k = c sqrt(m),
//     the current rule, ForwardStop over Anderson-Darling p-values, a shape-stability rule), each
//     with the current profile-likelihood bound at the chosen threshold: the trade-off between
//     tightness on light tails and coverage on Pareto-type tails (reports/calibration/README.md);
//     --one-sided: the one-sided cut-off (chi2_1 2.71) at every threshold instead of the current
//     two-sided one from 25 exceedances on;
//   calibration_study_explore light [--reps N] [--n N] [--threads T]
//     --assume light-tail candidates on light tails: the exact exponential-envelope bound at the
//     current forward-stop threshold and at fixed shares, the smaller of two (Bonferroni), a GPD
//     with the shape in [-1, 0] and a Weibull-type tail (beta >= 1) by profile likelihood;
//   calibration_study_explore lattice [--reps N] [--n N] [--threads T]
//     flakescope's bound (default and --assume light-tail) on ULP lattices with 80% identical
//     runs: the study's geometric lattice, a Gaussian one and two heavy-tailed ones.
// The tables quoted in reports/calibration/README.md come from these modes with 200 repetitions.
#include <algorithm>
#include <atomic>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/parallel_for.h"
#include "stats/gpd.h"
#include "stats/tail_bound.h"

namespace fs = flakescope::stats;

namespace {

struct Dist {
  std::string name;
  std::function<double(std::mt19937_64&)> draw;
  std::function<double(double)> survival;
  bool in_study = false;
};

double abs_normal_survival(double x) {
  return x <= 0 ? 1 : std::erfc(x / std::sqrt(2.0));
}

std::function<double(double)> abs_t_survival(double dof) {
  const boost::math::students_t t(dof);
  return [t](double x) { return x <= 0 ? 1 : 2 * boost::math::cdf(boost::math::complement(t, x)); };
}

std::function<double(std::mt19937_64&)> abs_t_draw(double dof) {
  return
      [dof](std::mt19937_64& g) { return std::abs(std::student_t_distribution<double>(dof)(g)); };
}

std::function<double(std::mt19937_64&)> weibull_draw(double shape) {
  return [shape](std::mt19937_64& g) { return std::weibull_distribution<double>(shape, 1)(g); };
}

std::function<double(double)> weibull_survival(double shape) {
  return [shape](double x) { return x <= 0 ? 1 : std::exp(-std::pow(x, shape)); };
}

std::vector<Dist> dists() {
  return {
      {"abs_normal",
       [](std::mt19937_64& g) { return std::abs(std::normal_distribution<double>(0, 1)(g)); },
       abs_normal_survival, true},
      {"exponential",
       [](std::mt19937_64& g) { return std::exponential_distribution<double>(1)(g); },
       [](double x) { return x <= 0 ? 1 : std::exp(-x); }, true},
      {"uniform",
       [](std::mt19937_64& g) { return std::uniform_real_distribution<double>(0, 1)(g); },
       [](double x) { return std::clamp(1 - x, 0.0, 1.0); }, true},
      {"lognormal", [](std::mt19937_64& g) { return std::lognormal_distribution<double>(0, 1)(g); },
       [](double x) { return x <= 0 ? 1 : 0.5 * std::erfc(std::log(x) / std::sqrt(2.0)); }, true},
      {"abs_t5", abs_t_draw(5), abs_t_survival(5), true},
      {"abs_t3", abs_t_draw(3), abs_t_survival(3), true},
      // Not in the study.
      {"abs_t4", abs_t_draw(4), abs_t_survival(4)},
      {"weibull07", weibull_draw(0.7), weibull_survival(0.7)},
      {"weibull05", weibull_draw(0.5), weibull_survival(0.5)},
      {"weibull2", weibull_draw(2), weibull_survival(2)},
      {"gamma2", [](std::mt19937_64& g) { return std::gamma_distribution<double>(2, 1)(g); },
       [](double x) { return x <= 0 ? 1 : std::exp(-x) * (1 + x); }},
      {"lognormal05",
       [](std::mt19937_64& g) { return std::lognormal_distribution<double>(0, 0.5)(g); },
       [](double x) { return x <= 0 ? 1 : 0.5 * std::erfc(std::log(x) / (0.5 * std::sqrt(2.0))); }},
      // Pareto type with a second-order term (shape 0.25, rho -1): a Frechet with index 4.
      {"frechet4",
       [](std::mt19937_64& g) {
         const double u = std::uniform_real_distribution<double>(0, 1)(g);
         return std::pow(-std::log(u), -0.25);
       },
       [](double x) { return x <= 0 ? 1 : -std::expm1(-std::pow(x, -4.0)); }},
  };
}

double true_quantile(const Dist& d, double rate) {
  double lo = 0, hi = 1;
  while (d.survival(hi) > rate) hi *= 2;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (d.survival(mid) > rate ? lo : hi) = mid;
  }
  return hi;
}

std::uint64_t seed_for(std::size_t di, std::size_t n, std::size_t rep) {
  return 1234567 + 1000003 * di + 7919 * n + rep;
}

std::vector<double> draw_sorted(const Dist& d, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  std::vector<double> x(n);
  for (double& v : x) v = d.draw(g);
  std::sort(x.begin(), x.end());
  return x;
}

std::vector<double> top_excesses(const std::vector<double>& x, std::size_t k, double* u) {
  const std::size_t n = x.size();
  *u = x[n - k - 1];
  std::vector<double> e;
  for (std::size_t i = n - k; i < n; ++i) e.push_back(std::max(x[i] - *u, 1e-300));
  return e;
}

// The original CSV ladder (fractions 0.75^j of n, one-sided cut-off).
int ladder_mode(std::size_t reps, const std::vector<std::size_t>& sizes, double conf) {
  constexpr double p = 1e-4;
  std::printf("dist,n,rep,k,threshold,free_shape,lr,ad,adcrit,bound,cover,tight\n");
  const auto ds = dists();
  for (std::size_t di = 0; di < ds.size(); ++di) {
    const double q = true_quantile(ds[di], p);
    for (std::size_t n : sizes) {
      for (std::size_t rep = 0; rep < reps; ++rep) {
        const std::vector<double> x = draw_sorted(ds[di], n, seed_for(di, n, rep));
        std::vector<std::size_t> ks;
        for (double f = 1.0; f * n >= 15; f *= 0.75) {
          ks.push_back(std::min(n - 1, static_cast<std::size_t>(std::lround(f * n))));
        }
        for (std::size_t k : ks) {
          double u = 0;
          const std::vector<double> e = top_excesses(x, k, &u);
          const fs::GpdFit free = fs::fit_gpd(e);
          const fs::GpdFit floor0 = fs::fit_gpd(e, 0);
          const double ad = fs::anderson_darling_statistic(e, free.shape, free.scale);
          const fs::GpdFit expo = fs::fit_gpd(e, 0, 0);
          const double lr = (free.shape >= 0 ? 1 : -1) *
                            std::max(0.0, 2 * (free.log_likelihood - expo.log_likelihood));
          const double ratio = (double(k) / n) / p;
          const double z = fs::gpd_quantile_upper_bound(e, floor0, ratio, conf, 0);
          const double b = u + z;
          std::printf("%s,%zu,%zu,%zu,%.6g,%.4f,%.4f,%.4f,%.4f,%.6g,%d,%.4f\n", ds[di].name.c_str(),
                      n, rep, k, u, free.shape, lr, ad,
                      fs::anderson_darling_critical_value(free.shape), b,
                      ds[di].survival(b) <= p ? 1 : 0, b / q);
        }
      }
    }
  }
  return 0;
}

// ---- rules mode ----

// The null distribution of the Anderson-Darling statistic of a GPD fit (both parameters
// estimated), simulated on a grid of shapes (1000 samples of 50 each), for p-values.
struct AdNull {
  std::vector<double> shapes = {-0.5, -0.25, 0.0, 0.15, 0.3, 0.5, 0.75};
  std::vector<std::vector<double>> sorted;  // per shape, ascending

  AdNull() {
    std::mt19937_64 g(777);
    std::uniform_real_distribution<double> unit(0, 1);
    for (double shape : shapes) {
      std::vector<double> stats;
      for (int r = 0; r < 1000; ++r) {
        std::vector<double> x(50);
        for (double& v : x) v = std::max(fs::gpd_excess_quantile(1 - unit(g), shape, 1), 1e-300);
        const fs::GpdFit f = fs::fit_gpd(x);
        stats.push_back(fs::anderson_darling_statistic(x, f.shape, f.scale));
      }
      std::sort(stats.begin(), stats.end());
      sorted.push_back(stats);
    }
  }
  double upper_share(std::size_t s, double a) const {
    const auto& v = sorted[s];
    const auto it = std::lower_bound(v.begin(), v.end(), a);
    return static_cast<double>(v.end() - it) / static_cast<double>(v.size());
  }
  double p_value(double a, double shape) const {
    if (shape <= shapes.front()) return upper_share(0, a);
    for (std::size_t s = 1; s < shapes.size(); ++s) {
      if (shape <= shapes[s]) {
        const double w = (shape - shapes[s - 1]) / (shapes[s] - shapes[s - 1]);
        return (1 - w) * upper_share(s - 1, a) + w * upper_share(s, a);
      }
    }
    return upper_share(shapes.size() - 1, a);
  }
};

struct Rung {
  std::size_t k = 0;
  double shape = 0;    // free fit
  double p_value = 1;  // Anderson-Darling
  double bound = 0;    // floor-0 profile bound at the current level
};

// The current level: one-sided at 15 exceedances, two-sided from 25, interpolated in log k
// (--one-sided: the one-sided level at every k).
bool g_one_sided = false;

double profile_level(std::size_t k) {
  if (g_one_sided) return 0.95;
  const double w = std::clamp(std::log(k / 15.0) / std::log(25.0 / 15), 0.0, 1.0);
  return 0.95 + w * 0.025;
}

std::size_t current_first(std::size_t m) {
  const auto share = static_cast<std::size_t>(std::ceil(0.2 * m));
  const auto root = static_cast<std::size_t>(std::ceil(2 * std::sqrt(double(m))));
  return std::max<std::size_t>(15, std::min(share, root));
}

std::vector<double> kFractions = {1.0, 0.75, 0.5, 0.35, 0.2, 0.1};
std::vector<double> kRoots = {1.0, 1.5, 2.0, 3.0, 4.0, 6.0};

std::vector<std::size_t> ladder_counts(std::size_t m) {
  std::vector<std::size_t> ks = {15, 20, 25, 30, 40, 50, 65, 80, 100, 130, 160, 200, 250, 320, 400};
  for (double f : kFractions) ks.push_back(static_cast<std::size_t>(std::ceil(f * m)));
  for (double c : kRoots)
    ks.push_back(static_cast<std::size_t>(std::ceil(c * std::sqrt(double(m)))));
  for (std::size_t k = current_first(m); k >= 15; k /= 2) ks.push_back(k);
  for (std::size_t& k : ks) k = std::clamp<std::size_t>(k, 15, m - 1);
  std::sort(ks.begin(), ks.end());
  ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
  return ks;  // ascending k = descending threshold
}

std::vector<Rung> make_ladder(const std::vector<double>& x, const AdNull& null) {
  const std::size_t m = x.size();
  std::vector<Rung> rungs;
  for (std::size_t k : ladder_counts(m)) {
    Rung r;
    r.k = k;
    double u = 0;
    const std::vector<double> e = top_excesses(x, k, &u);
    const fs::GpdFit free = fs::fit_gpd(e);
    r.shape = free.shape;
    r.p_value = null.p_value(fs::anderson_darling_statistic(e, free.shape, free.scale), free.shape);
    const fs::GpdFit floor0 = fs::fit_gpd(e, 0);
    const double ratio = (double(k) / double(m)) / 1e-4;
    r.bound = u + fs::gpd_quantile_upper_bound(e, floor0, ratio, profile_level(k), 0);
    rungs.push_back(r);
  }
  return rungs;
}

std::size_t index_of(const std::vector<Rung>& rungs, std::size_t k) {
  for (std::size_t i = 0; i < rungs.size(); ++i)
    if (rungs[i].k >= k) return i;
  return rungs.size() - 1;
}

// Rule: the rung chosen for one sample's ladder.
using Rule = std::function<std::size_t(const std::vector<Rung>&, std::size_t m)>;

// ForwardStop (G'Sell et al. 2016; Bader, Yan and Zhang 2018) over the thresholds in ascending
// order (k descending): reject the first k_hat with mean -log(1 - p) <= alpha, use the next.
std::size_t forward_stop(const std::vector<Rung>& rungs, double alpha) {
  double sum = 0;
  std::size_t rejected = 0;
  for (std::size_t j = 1; j <= rungs.size(); ++j) {
    sum += -std::log(std::max(1e-12, 1 - rungs[rungs.size() - j].p_value));
    if (sum / double(j) <= alpha) rejected = j;
  }
  if (rejected == rungs.size()) return 0;  // all rejected: the highest threshold
  return rungs.size() - 1 - rejected;
}

// Shape stability: the lowest threshold whose shape is not exceeded, beyond z standard errors of
// the difference of nested estimates, at any higher threshold (a Pareto-type tail fitted too low
// shows a shape rising with the threshold).
std::size_t stable(const std::vector<Rung>& rungs, double z) {
  for (std::size_t i = rungs.size(); i-- > 0;) {
    bool ok = rungs[i].p_value > 0.05;
    const double se_i = (1 + std::max(0.0, rungs[i].shape)) / std::sqrt(double(rungs[i].k));
    for (std::size_t j = 0; j < i && ok; ++j) {
      const double se_j = (1 + std::max(0.0, rungs[j].shape)) / std::sqrt(double(rungs[j].k));
      const double se = std::sqrt(std::max(1e-12, se_j * se_j - se_i * se_i));
      ok = rungs[j].shape - rungs[i].shape <= z * se;
    }
    if (ok) return i;
  }
  return 0;
}

std::vector<std::pair<std::string, Rule>> rules() {
  std::vector<std::pair<std::string, Rule>> r;
  r.emplace_back("current", [](const std::vector<Rung>& l, std::size_t m) {
    for (std::size_t k = current_first(m); k >= 15; k /= 2) {
      const std::size_t i = index_of(l, std::min(k, m - 1));
      if (l[i].p_value > 0.05) return i;
    }
    return index_of(l, 15);
  });
  for (double f : kFractions) {
    char name[32];
    std::snprintf(name, sizeof name, "top %.0f%%", 100 * f);
    r.emplace_back(name, [f](const std::vector<Rung>& l, std::size_t m) {
      return index_of(l, std::min(m - 1, static_cast<std::size_t>(std::ceil(f * m))));
    });
  }
  for (double c : kRoots) {
    char name[32];
    std::snprintf(name, sizeof name, "%.1f sqrt(m)", c);
    r.emplace_back(name, [c](const std::vector<Rung>& l, std::size_t m) {
      return index_of(
          l, std::min(m - 1, static_cast<std::size_t>(std::ceil(c * std::sqrt(double(m))))));
    });
  }
  for (double a : {0.05, 0.1, 0.2}) {
    char name[32];
    std::snprintf(name, sizeof name, "ForwardStop %.2f", a);
    r.emplace_back(name,
                   [a](const std::vector<Rung>& l, std::size_t) { return forward_stop(l, a); });
  }
  for (double z : {0.5, 1.0, 1.645}) {
    char name[32];
    std::snprintf(name, sizeof name, "stability z=%.2g", z);
    r.emplace_back(name, [z](const std::vector<Rung>& l, std::size_t) { return stable(l, z); });
  }
  return r;
}

using flakescope::parallel_for;  // analyzer/core/parallel_for.h

int rules_mode(std::size_t reps, const std::vector<std::size_t>& sizes, unsigned threads) {
  const AdNull null;
  const auto ds = dists();
  const auto rs = rules();
  struct Job {
    std::size_t di, n;
    std::vector<std::vector<Rung>> ladders;
  };
  std::vector<Job> jobs;
  for (std::size_t n : sizes)
    for (std::size_t di = 0; di < ds.size(); ++di) jobs.push_back({di, n, {}});
  parallel_for(jobs.size(), threads, [&](std::size_t j) {
    for (std::size_t rep = 0; rep < reps; ++rep) {
      const auto x = draw_sorted(ds[jobs[j].di], jobs[j].n, seed_for(jobs[j].di, jobs[j].n, rep));
      jobs[j].ladders.push_back(make_ladder(x, null));
    }
  });
  for (std::size_t n : sizes) {
    std::printf(
        "\nn = %zu (%zu repetitions; cells: coverage / median bound over true quantile; "
        "* = not in the study)\n\n| rule | min cov |",
        n, reps);
    for (const auto& d : ds) std::printf(" %s%s |", d.in_study ? "" : "*", d.name.c_str());
    std::printf("\n|---|---|");
    for (std::size_t i = 0; i < ds.size(); ++i) std::printf("---|");
    std::printf("\n");
    for (const auto& [name, rule] : rs) {
      std::string cells;
      double min_cov = 1;
      for (const auto& job : jobs) {
        if (job.n != n) continue;
        const double q = true_quantile(ds[job.di], 1e-4);
        std::size_t covered = 0;
        std::vector<double> ratio;
        for (const auto& l : job.ladders) {
          const double b = l[rule(l, n)].bound;
          covered += ds[job.di].survival(b) <= 1e-4 ? 1 : 0;
          ratio.push_back(b / q);
        }
        std::nth_element(ratio.begin(), ratio.begin() + ratio.size() / 2, ratio.end());
        const double cov = double(covered) / double(reps);
        min_cov = std::min(min_cov, cov);
        char cell[64];
        std::snprintf(cell, sizeof cell, " %s%.3f%s / %.2f |", cov < 0.95 ? "**" : "", cov,
                      cov < 0.95 ? "**" : "", ratio[ratio.size() / 2]);
        cells += cell;
      }
      std::printf("| %s | %.3f |%s\n", name.c_str(), min_cov, cells.c_str());
    }
  }
  return 0;
}

// ---- light mode: the exact exponential-envelope bound (--assume light-tail) across thresholds
// ----

// As exponential_excess_bound in analyzer/stats/tail_bound.cpp: u + c T with T the sum of the k
// excesses, c exact for an exponential tail (the threshold's share included), at `confidence`.
double exponential_bound(const std::vector<double>& x, std::size_t k, double confidence = 0.95) {
  double u = 0;
  const std::vector<double> e = top_excesses(x, k, &u);
  const double kk = static_cast<double>(k), m = static_cast<double>(x.size());
  constexpr int kNodes = 128;
  std::vector<double> g(kNodes);
  for (int i = 0; i < kNodes; ++i) g[i] = boost::math::gamma_p_inv(kk, (i + 0.5) / kNodes);
  const auto covered = [&](double c) {
    double sum = 0;
    for (double gi : g)
      sum += boost::math::ibeta(kk + 1, m - kk, std::min(1.0, 1e-4 * std::exp(c * gi)));
    return sum / kNodes;
  };
  double lo = 0, hi = 1 / kk;
  while (covered(hi) < confidence && hi < 1e6) lo = hi, hi *= 2;
  for (int i = 0; i < 50; ++i) {
    const double mid = 0.5 * (lo + hi);
    (covered(mid) < confidence ? lo : hi) = mid;
  }
  double total = 0;
  for (double v : e) total += v;
  return u + hi * total;
}

// A Weibull-type tail above u > 0: P(X > x | X > u) = exp(-a ((x / u)^beta - 1)), beta >= 1 (beta
// = 1 is the exponential tail, 2 the Gaussian type). The profile-likelihood upper bound of the
// quantile at 1e-4 (the share k/m taken as known), with a chi2_1 cut-off at `level` (one-sided).
double weibull_tail_bound(const std::vector<double>& x, std::size_t k, double level) {
  const std::size_t m = x.size();
  const double u = x[m - k - 1];
  std::vector<double> logy;
  for (std::size_t i = m - k; i < m; ++i) logy.push_back(std::log(x[i] / u));
  const double kk = double(k), big_l = std::log((kk / double(m)) / 1e-4);
  double sum_log = 0;
  for (double v : logy) sum_log += v;
  const auto s_of = [&](double beta) {
    double s = 0;
    for (double v : logy) s += std::expm1(beta * v);
    return s;
  };
  const auto ll = [&](double a, double beta) {
    return kk * std::log(a) + kk * std::log(beta) + (beta - 1) * sum_log - a * s_of(beta);
  };
  const auto betas = [] {
    std::vector<double> b;
    for (double v = 1.0; v <= 8.0; v *= 1.02) b.push_back(v);
    return b;
  }();
  double ll_max = -1e300, log_y_hat = 0;
  for (double beta : betas) {
    const double a = kk / s_of(beta), l = ll(a, beta);
    if (l > ll_max) ll_max = l, log_y_hat = std::log1p(big_l / a) / beta;
  }
  // Profile at a quantile y (in units of u): a = L / (y^beta - 1).
  const auto profile = [&](double log_y) {
    double best = -1e300;
    for (double beta : betas) best = std::max(best, ll(big_l / std::expm1(beta * log_y), beta));
    return best;
  };
  const double cut = boost::math::quantile(boost::math::chi_squared(1), 2 * level - 1) / 2;
  double lo = log_y_hat, hi = 1.5 * log_y_hat;
  while (ll_max - profile(hi) < cut && hi < 50) lo = hi, hi *= 1.5;
  for (int i = 0; i < 40; ++i) {
    const double mid = 0.5 * (lo + hi);
    (ll_max - profile(mid) < cut ? lo : hi) = mid;
  }
  return u * std::exp(hi);
}

// As exponential_fits in analyzer/stats/tail_model.cpp (Anderson-Darling, scale estimated, 5%).
bool exponential_fits(const std::vector<double>& x, std::size_t k) {
  double u = 0;
  const std::vector<double> e = top_excesses(x, k, &u);
  double mean = 0;
  for (double v : e) mean += v;
  mean /= static_cast<double>(e.size());
  return fs::anderson_darling_statistic(e, 0, mean) * (1 + 0.6 / double(k)) <= 1.321;
}

// The current light-tail threshold: the lowest of m - 1, m / 2, ... (above the default count)
// whose excesses pass the exponential test, else the default count.
std::size_t light_forward_stop(const std::vector<double>& x) {
  const std::size_t m = x.size(), first = current_first(m);
  for (std::size_t k = m - 1; k > first; k /= 2)
    if (exponential_fits(x, k)) return k;
  return first;
}

struct LightRule {
  std::string name;
  std::function<double(const std::vector<double>&)> bound;
};

std::vector<LightRule> light_rules() {
  std::vector<LightRule> r;
  r.push_back({"current (forward stop)", [](const std::vector<double>& x) {
                 return exponential_bound(x, light_forward_stop(x));
               }});
  for (double f : {1.0, 0.5, 0.25, 0.1, 0.05}) {
    char name[48];
    std::snprintf(name, sizeof name, "top %.0f%%", 100 * f);
    r.push_back({name, [f](const std::vector<double>& x) {
                   const auto k = std::clamp<std::size_t>(
                       static_cast<std::size_t>(std::ceil(f * double(x.size()))), 5, x.size() - 1);
                   return exponential_bound(x, k);
                 }});
  }
  // The smaller of the forward-stop bound and one at a higher threshold, each at 97.5%: both are
  // upper envelopes of a light tail, so the smaller covers at 95% (Bonferroni).
  for (double f : {0.1, 0.05}) {
    char name[48];
    std::snprintf(name, sizeof name, "min(forward stop, top %.0f%%) at 97.5%% each", 100 * f);
    r.push_back({name, [f](const std::vector<double>& x) {
                   const auto k = std::clamp<std::size_t>(
                       static_cast<std::size_t>(std::ceil(f * double(x.size()))), 8, x.size() - 1);
                   return std::min(exponential_bound(x, light_forward_stop(x), 0.975),
                                   exponential_bound(x, k, 0.975));
                 }});
  }
  // A GPD with the shape in [-1, 0] (curvature allowed) at the forward-stop threshold: the
  // profile-likelihood bound at a range of levels (chi2_1 cut-offs 2.71, 3.84, 5.41, 6.63).
  for (double level : {0.95, 0.975, 0.99, 0.995}) {
    char name[48];
    std::snprintf(name, sizeof name, "GPD shape in [-1, 0], level %.3f", level);
    r.push_back({name, [level](const std::vector<double>& x) {
                   const std::size_t k = light_forward_stop(x);
                   double u = 0;
                   const std::vector<double> e = top_excesses(x, k, &u);
                   const fs::GpdFit fit = fs::fit_gpd(e, fs::kMinShape, 0.0);
                   const double ratio = (double(k) / double(x.size())) / 1e-4;
                   return u +
                          fs::gpd_quantile_upper_bound(e, fit, ratio, level, fs::kMinShape, 0.0);
                 }});
  }
  for (double level : {0.95, 0.975}) {
    for (double f : {0.0, 0.5}) {
      char name[64];
      std::snprintf(name, sizeof name, "Weibull tail beta >= 1, %s, level %.3f",
                    f == 0 ? "default k" : "top 50%", level);
      r.push_back({name, [level, f](const std::vector<double>& x) {
                     const std::size_t m = x.size();
                     const std::size_t k =
                         f == 0 ? current_first(m)
                                : std::min(m - 1, static_cast<std::size_t>(std::ceil(f * m)));
                     return weibull_tail_bound(x, k, level);
                   }});
    }
  }
  return r;
}

int light_mode(std::size_t reps, const std::vector<std::size_t>& sizes, unsigned threads) {
  const auto all = dists();
  std::vector<Dist> ds;
  for (const auto& d : all) {
    if (d.name == "abs_normal" || d.name == "exponential" || d.name == "uniform" ||
        d.name == "weibull2" || d.name == "gamma2")
      ds.push_back(d);
  }
  const auto rs = light_rules();
  struct Job {
    std::size_t di, n;
    std::vector<std::vector<double>> bounds;  // per rep, per rule
  };
  std::vector<Job> jobs;
  for (std::size_t n : sizes)
    for (std::size_t di = 0; di < ds.size(); ++di) jobs.push_back({di, n, {}});
  parallel_for(jobs.size(), threads, [&](std::size_t j) {
    const std::size_t n = jobs[j].n;
    for (std::size_t rep = 0; rep < reps; ++rep) {
      const auto x = draw_sorted(ds[jobs[j].di], n, seed_for(jobs[j].di + 50, n, rep));
      std::vector<double> b;
      for (const auto& rule : rs) b.push_back(rule.bound(x));
      jobs[j].bounds.push_back(b);
    }
  });
  std::printf(
      "\nexact exponential-envelope bound (--assume light-tail) by threshold rule (%zu "
      "repetitions; coverage / median bound over true quantile)\n\n| distribution | n |",
      reps);
  for (const auto& rule : rs) std::printf(" %s |", rule.name.c_str());
  std::printf("\n|---|---|");
  for (std::size_t i = 0; i < rs.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (const auto& job : jobs) {
    const double q = true_quantile(ds[job.di], 1e-4);
    std::printf("| %s | %zu |", ds[job.di].name.c_str(), job.n);
    for (std::size_t s = 0; s < rs.size(); ++s) {
      std::size_t covered = 0;
      std::vector<double> r;
      for (const auto& b : job.bounds) {
        covered += ds[job.di].survival(b[s]) <= 1e-4 ? 1 : 0;
        r.push_back(b[s] / q);
      }
      std::nth_element(r.begin(), r.begin() + r.size() / 2, r.end());
      const double cov = double(covered) / double(reps);
      std::printf(" %s%.3f%s / %.2f |", cov < 0.95 ? "**" : "", cov, cov < 0.95 ? "**" : "",
                  r[r.size() / 2]);
    }
    std::printf("\n");
  }
  return 0;
}

// ---- lattice mode: the product's bound on ULP lattices, light ones and heavy ones ----

struct Lattice {
  std::string name;
  double zeros;                                // share of bitwise-identical runs
  std::function<int(std::mt19937_64&)> level;  // 1, 2, ... (ULPs) of a changed run
  std::function<double(int)> at_least;         // P(level >= j | changed)
};

std::vector<Lattice> lattices() {
  const boost::math::students_t t3(3);
  const auto ceil_abs_t3 = [t3](double scale) {
    // level = ceil(scale |T|), T ~ t3: P(level >= j) = P(|T| > (j - 1) / scale).
    return std::function<double(int)>([t3, scale](int j) {
      return j <= 1 ? 1.0 : 2 * boost::math::cdf(boost::math::complement(t3, (j - 1) / scale));
    });
  };
  return {
      {"study lattice (geometric 0.3)", 0.8,
       [](std::mt19937_64& g) { return 1 + std::geometric_distribution<int>(0.3)(g); },
       [](int j) { return j <= 1 ? 1.0 : std::pow(0.7, j - 1); }},
      {"ceil(8 abs(N))", 0.8,
       [](std::mt19937_64& g) {
         return std::max(1, int(std::ceil(8 * std::abs(std::normal_distribution<double>()(g)))));
       },
       [](int j) { return j <= 1 ? 1.0 : std::erfc((j - 1) / 8.0 / std::sqrt(2.0)); }},
      {"ceil(2 abs(t3))", 0.8,
       [](std::mt19937_64& g) {
         return std::max(1,
                         int(std::ceil(2 * std::abs(std::student_t_distribution<double>(3)(g)))));
       },
       ceil_abs_t3(2)},
      {"ceil(8 abs(t3))", 0.8,
       [](std::mt19937_64& g) {
         return std::max(1,
                         int(std::ceil(8 * std::abs(std::student_t_distribution<double>(3)(g)))));
       },
       ceil_abs_t3(8)},
  };
}

int lattice_mode(std::size_t reps, const std::vector<std::size_t>& sizes, unsigned threads) {
  constexpr double kUlp = 1.0 / 8388608.0;
  const auto ls = lattices();
  struct Cell {
    std::size_t li = 0, n = 0;
    std::size_t claimed[2] = {0, 0}, covered[2] = {0, 0};
    std::vector<double> ratio[2];
  };
  std::vector<Cell> cells;
  for (std::size_t n : sizes)
    for (std::size_t li = 0; li < ls.size(); ++li) {
      Cell cell;
      cell.li = li;
      cell.n = n;
      cells.push_back(cell);
    }
  parallel_for(cells.size(), threads, [&](std::size_t c) {
    Cell& cell = cells[c];
    const Lattice& l = ls[cell.li];
    // The true 1e-4 quantile: the smallest level j with P(dev > j ULP) <= 1e-4.
    int q = 1;
    while ((1 - l.zeros) * l.at_least(q + 1) > 1e-4) ++q;
    for (std::size_t rep = 0; rep < reps; ++rep) {
      std::mt19937_64 g(seed_for(cell.li + 100, cell.n, rep));
      std::vector<double> x(cell.n);
      for (double& v : x) v = std::bernoulli_distribution(l.zeros)(g) ? 0.0 : l.level(g) * kUlp;
      for (int light = 0; light < 2; ++light) {
        fs::TailOptions o;
        o.seed = rep;
        o.assume_light_tail = light == 1;
        const fs::TailBound b = fs::bound_tail_quantile(x, o);
        if (!b.has_bound) continue;
        ++cell.claimed[light];
        // P(dev > bound) = (1 - zeros) P(level >= floor(bound / ulp) + 1).
        const int above = static_cast<int>(std::floor(b.bound / kUlp + 1e-9)) + 1;
        cell.covered[light] += (1 - l.zeros) * l.at_least(above) <= 1e-4 ? 1 : 0;
        cell.ratio[light].push_back(b.bound / (q * kUlp));
      }
    }
  });
  std::printf(
      "\nthe tail bound (flakescope's, default and --assume light-tail) on ULP lattices with "
      "80%% identical runs (%zu repetitions; coverage / median bound over true quantile / "
      "refused)\n\n| lattice | n | default | light tail |\n|---|---|---|---|\n",
      reps);
  for (auto& cell : cells) {
    std::printf("| %s | %zu |", ls[cell.li].name.c_str(), cell.n);
    for (int light = 0; light < 2; ++light) {
      auto& r = cell.ratio[light];
      if (r.empty()) {
        std::printf(" no bound |");
        continue;
      }
      std::nth_element(r.begin(), r.begin() + r.size() / 2, r.end());
      const double cov = double(cell.covered[light]) / double(cell.claimed[light]);
      std::printf(" %s%.3f%s / %.2f / %zu |", cov < 0.95 ? "**" : "", cov, cov < 0.95 ? "**" : "",
                  r[r.size() / 2], reps - cell.claimed[light]);
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace

int run_main(int argc, char** argv) {
  std::size_t reps = 200;
  std::vector<std::size_t> sizes = {50, 100, 200, 500};
  double conf = 0.95;
  unsigned threads = 2;
  std::string mode = "ladder";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help") {
      std::printf(
          "usage: calibration_study_explore [ladder|rules|light|lattice] [--reps N] [--n N] "
          "[--confidence C] "
          "[--threads T] [--one-sided]\n");
      return 0;
    }
    if (a == "ladder" || a == "rules" || a == "light" || a == "lattice") {
      mode = a;
    } else if (a == "--one-sided") {
      g_one_sided = true;
    } else if (i + 1 < argc) {
      if (a == "--reps") reps = std::stoul(argv[++i]);
      if (a == "--n") sizes = {std::stoul(argv[++i])};
      if (a == "--confidence") conf = std::stod(argv[++i]);
      if (a == "--threads") threads = static_cast<unsigned>(std::stoul(argv[++i]));
    }
  }
  if (mode == "rules") return rules_mode(reps, sizes, threads);
  if (mode == "light") return light_mode(reps, sizes, threads);
  if (mode == "lattice") return lattice_mode(reps, sizes, threads);
  return ladder_mode(reps, sizes, conf);
}

int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {  // a bad number: one line, exit 2
    std::fprintf(stderr, "calibration_study_explore: %s\n", e.what());
    return 2;
  }
}
