// Exploration aid for the threshold choice of the tail bound: per seeded repetition, the GPD fit
// and the profile-likelihood bound at a ladder of thresholds, as CSV, so that selection rules can
// be compared offline on the same samples. Not part of the committed study.
//
// Usage: calibration_study_explore [--reps N] [--n N] [--confidence C] > ladder.csv
#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "stats/gpd.h"

namespace fs = flakescope::stats;

namespace {

struct Dist {
  std::string name;
  std::function<double(std::mt19937_64&)> draw;
  std::function<double(double)> survival;
};

double abs_normal_survival(double x) {
  return x <= 0 ? 1 : std::erfc(x / std::sqrt(2.0));
}

std::vector<Dist> dists() {
  const boost::math::students_t t3(3), t5(5);
  return {
      {"abs_normal",
       [](std::mt19937_64& g) { return std::abs(std::normal_distribution<double>(0, 1)(g)); },
       abs_normal_survival},
      {"exponential",
       [](std::mt19937_64& g) { return std::exponential_distribution<double>(1)(g); },
       [](double x) { return x <= 0 ? 1 : std::exp(-x); }},
      {"lognormal", [](std::mt19937_64& g) { return std::lognormal_distribution<double>(0, 1)(g); },
       [](double x) { return x <= 0 ? 1 : 0.5 * std::erfc(std::log(x) / std::sqrt(2.0)); }},
      {"abs_t3",
       [](std::mt19937_64& g) { return std::abs(std::student_t_distribution<double>(3)(g)); },
       [t3](double x) {
         return x <= 0 ? 1 : 2 * boost::math::cdf(boost::math::complement(t3, x));
       }},
      {"abs_t5",
       [](std::mt19937_64& g) { return std::abs(std::student_t_distribution<double>(5)(g)); },
       [t5](double x) {
         return x <= 0 ? 1 : 2 * boost::math::cdf(boost::math::complement(t5, x));
       }},
      {"weibull05", [](std::mt19937_64& g) { return std::weibull_distribution<double>(0.5, 1)(g); },
       [](double x) { return x <= 0 ? 1 : std::exp(-std::sqrt(x)); }},
      {"gamma2", [](std::mt19937_64& g) { return std::gamma_distribution<double>(2, 1)(g); },
       [](double x) { return x <= 0 ? 1 : std::exp(-x) * (1 + x); }},
      {"uniform",
       [](std::mt19937_64& g) { return std::uniform_real_distribution<double>(0, 1)(g); },
       [](double x) { return std::clamp(1 - x, 0.0, 1.0); }},
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

}  // namespace

int main(int argc, char** argv) {
  std::size_t reps = 200;
  std::vector<std::size_t> sizes = {50, 100, 200, 500};
  double conf = 0.95;
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps") reps = std::stoul(argv[++i]);
    if (a == "--n") sizes = {std::stoul(argv[++i])};
    if (a == "--confidence") conf = std::stod(argv[++i]);
  }
  constexpr double p = 1e-4;
  std::printf("dist,n,rep,k,threshold,free_shape,lr,ad,adcrit,bound,cover,tight\n");
  const auto ds = dists();
  for (std::size_t di = 0; di < ds.size(); ++di) {
    const double q = true_quantile(ds[di], p);
    for (std::size_t n : sizes) {
      for (std::size_t rep = 0; rep < reps; ++rep) {
        std::mt19937_64 g(1234567 + 1000003 * di + 7919 * n + rep);
        std::vector<double> x(n);
        for (double& v : x) v = ds[di].draw(g);
        std::sort(x.begin(), x.end());
        std::vector<std::size_t> ks;
        for (double f = 1.0; f * n >= 15; f *= 0.75) {
          ks.push_back(std::min(n - 1, static_cast<std::size_t>(std::lround(f * n))));
        }
        for (std::size_t k : ks) {
          const double u = x[n - k - 1];
          std::vector<double> e;
          for (std::size_t i = n - k; i < n; ++i) e.push_back(x[i] - u);
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
