#include "audit/environment_matrix.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <unordered_set>

#include "audit/platform_info.h"
#include "audit/test_tally.h"
#include "flakescope/error.h"
#include "stats/rates.h"
#include "stats/two_sample.h"

namespace flakescope::audit {
namespace {

// Pearson's statistic of a k x 2 table (failures, passes) against the pooled rate.
double chi_square_statistic(const std::vector<std::size_t>& failures,
                            const std::vector<std::size_t>& trials) {
  std::size_t f = 0, t = 0;
  for (std::size_t i = 0; i < trials.size(); ++i) f += failures[i], t += trials[i];
  if (t == 0 || f == 0 || f == t) return 0;
  const double p = double(f) / double(t);
  double chi = 0;
  for (std::size_t i = 0; i < trials.size(); ++i) {
    if (trials[i] == 0) continue;
    const double expected_fail = p * double(trials[i]),
                 expected_pass = double(trials[i]) - expected_fail;
    const double df = double(failures[i]) - expected_fail;
    chi += df * df / expected_fail + df * df / expected_pass;
  }
  return chi;
}

// Holm's step-down adjustment, in place.
void holm_adjust(std::vector<double>& p) {
  std::vector<std::size_t> order(p.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  double running = 0;
  std::vector<double> adjusted(p.size());
  for (std::size_t rank = 0; rank < order.size(); ++rank) {
    running = std::max(running, std::min(1.0, double(order.size() - rank) * p[order[rank]]));
    adjusted[order[rank]] = running;
  }
  p = adjusted;
}

std::string percent(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, rate > 0 && rate < 0.001 ? "%.3g%%" : "%.1f%%", 100 * rate);
  return buf;
}

}  // namespace

std::vector<EnvironmentLogs> group_by_environment(const std::vector<RunLog>& logs) {
  std::vector<EnvironmentLogs> groups;
  for (const RunLog& log : logs) {
    const nlohmann::json& config = log.header.config;
    const bool has = config.contains("platform") && config["platform"].is_object();
    const std::string label = has ? platform_label(config["platform"]) : "unrecorded";
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const EnvironmentLogs& g) { return g.label == label; });
    if (it == groups.end()) {
      groups.push_back({label, has ? config["platform"] : nlohmann::json(nullptr), {}});
      it = groups.end() - 1;
    }
    it->logs.push_back(log);
  }
  return groups;
}

double chi_square_homogeneity_monte_carlo(const std::vector<std::size_t>& failures,
                                          const std::vector<std::size_t>& trials,
                                          std::size_t replicates, std::uint64_t seed) {
  std::size_t f = 0, t = 0;
  for (std::size_t i = 0; i < trials.size(); ++i) f += failures[i], t += trials[i];
  if (t == 0 || f == 0 || f == t) return 1;
  const double observed = chi_square_statistic(failures, trials);
  // Random tables with the same margins: the f failures fall on f of the t trials uniformly.
  std::vector<std::size_t> owner;
  owner.reserve(t);
  for (std::size_t i = 0; i < trials.size(); ++i) owner.insert(owner.end(), trials[i], i);
  std::mt19937_64 rng(seed);
  std::size_t at_least = 0;
  std::vector<std::size_t> sample(trials.size());
  for (std::size_t r = 0; r < replicates; ++r) {
    std::fill(sample.begin(), sample.end(), 0);
    // Partial Fisher-Yates: the first f entries of `owner` after shuffling.
    for (std::size_t i = 0; i < f; ++i) {
      std::uniform_int_distribution<std::size_t> pick(i, t - 1);
      std::swap(owner[i], owner[pick(rng)]);
      ++sample[owner[i]];
    }
    if (chi_square_statistic(sample, trials) >= observed - 1e-9) ++at_least;
  }
  return double(at_least + 1) / double(replicates + 1);
}

namespace {

// One (setting, test)'s rate in every environment and, when at least two environments ran it and
// it failed in some, the p-value of the test of equal rates.
model::MatrixTest compare_environments(const std::pair<std::string, std::string>& key,
                                       const std::vector<const TestTally*>& per_environment,
                                       const std::vector<EnvironmentRecords>& environments,
                                       double confidence) {
  const std::size_t k = environments.size();
  std::vector<std::size_t> failures(k, 0), trials(k, 0);
  model::MatrixTest entry;
  entry.name = key.second;
  entry.setting = key.first;
  for (std::size_t i = 0; i < k; ++i) {
    const TestTally* t = per_environment[i];
    if (t) failures[i] = t->failures(), trials[i] = t->trials();
    const stats::RateEstimate rate = stats::estimate_rate(failures[i], trials[i], confidence);
    model::MatrixRate m;
    m.environment = environments[i].label;
    m.failures = static_cast<long>(failures[i]);
    m.trials = static_cast<long>(trials[i]);
    if (trials[i]) m.rate = rate.point;
    m.cp_lower = rate.clopper_pearson.lower;
    m.cp_upper = rate.clopper_pearson.upper;
    entry.environments.push_back(m);
  }
  std::size_t with_trials = 0, any_failures = 0;
  for (std::size_t i = 0; i < k; ++i) with_trials += trials[i] > 0, any_failures += failures[i];
  if (with_trials >= 2 && any_failures > 0)
    entry.p_value =
        k == 2 ? stats::fisher_exact_two_sided(failures[0], trials[0], failures[1], trials[1])
               : chi_square_homogeneity_monte_carlo(failures, trials);
  return entry;
}

// Marks the tests whose adjusted p-value is below alpha with a statement of their rates; returns
// their names.
std::vector<std::string> flag_tests(std::vector<model::MatrixTest>& tests,
                                    const std::vector<std::size_t>& tested,
                                    const std::vector<double>& p_adjusted, double alpha) {
  std::vector<std::string> flagged;
  for (std::size_t j = 0; j < tested.size(); ++j) {
    model::MatrixTest& entry = tests[tested[j]];
    entry.p_adjusted = p_adjusted[j];
    if (p_adjusted[j] >= alpha) continue;
    entry.flagged = true;
    std::string rates;
    for (const auto& e : entry.environments)
      if (e.trials > 0 && e.rate)
        rates += (rates.empty() ? "" : ", ") + percent(*e.rate) + " on " + e.environment;
    entry.statement = entry.name + " fails in " + rates;
    flagged.push_back(entry.name);
  }
  return flagged;
}

}  // namespace

model::Matrix environment_matrix_section(const std::vector<EnvironmentRecords>& environments,
                                         const std::vector<std::string>& settings,
                                         double confidence) {
  const std::size_t k = environments.size();
  model::Matrix matrix;
  std::vector<Tallies> tallies;
  for (const auto& e : environments) {
    matrix.environments.push_back(
        {e.label, e.platform, e.logs, static_cast<long>(e.records.size())});
    tallies.push_back(tally_runs(e.records, settings));
  }
  // Every (setting, test) seen in any environment, in order of first appearance.
  std::vector<std::pair<std::string, std::string>> keys;
  std::map<std::pair<std::string, std::string>, std::vector<const TestTally*>> by_key;
  for (std::size_t i = 0; i < k; ++i)
    for (const auto& t : tallies[i].tests.empty() ? tallies[i].command : tallies[i].tests) {
      auto [it, fresh] = by_key.emplace(std::make_pair(t.setting, t.name),
                                        std::vector<const TestTally*>(k, nullptr));
      if (fresh) keys.push_back(it->first);
      it->second[i] = &t;
    }

  std::vector<double> p_values;
  std::vector<std::size_t> tested;  // indices into the tests that got a p-value
  for (const auto& key : keys) {
    matrix.tests.push_back(compare_environments(key, by_key[key], environments, confidence));
    if (matrix.tests.back().p_value)
      p_values.push_back(*matrix.tests.back().p_value), tested.push_back(matrix.tests.size() - 1);
  }
  holm_adjust(p_values);
  matrix.alpha = 1 - confidence;
  matrix.flagged = flag_tests(matrix.tests, tested, p_values, matrix.alpha);
  matrix.homogeneity_test =
      k == 2 ? "Fisher's exact test (two-sided) of equal failure rates in the two environments"
             : "chi-square test of homogeneity of the failure rates, Monte Carlo p-value "
               "(10000 tables with the same margins, seed 1)";
  matrix.multiple_testing = "Holm-adjusted over the " + std::to_string(tested.size()) +
                            " tests that failed in some environment";
  return matrix;
}

MatrixMerge merge_by_environment(const std::vector<RunLog>& logs) {
  MatrixMerge result;
  const std::vector<EnvironmentLogs> groups = group_by_environment(logs);
  if (groups.size() <= 1) {
    result.merged = merge_run_logs(logs);
    return result;
  }
  for (const auto& group : groups) {
    RunLog merged = merge_run_logs(group.logs);
    EnvironmentRecords env{group.label, group.platform, {}, merged.records};
    for (const auto& log : group.logs) env.logs.push_back(log.path);
    if (result.environments.empty()) {
      result.merged.header = merged.header;
      result.merged.path = merged.path;
    } else if (merged.header.command != result.merged.header.command) {
      throw InputError(group.logs.front().path + ": a run log of another command than " +
                       result.merged.path + " (merge only shards of the same audit)");
    }
    result.merged.records.insert(result.merged.records.end(), merged.records.begin(),
                                 merged.records.end());
    result.environments.push_back(std::move(env));
  }
  result.merged.header.config.erase("platform");  // the pooled runs are of no one environment
  return result;
}

void print_matrix_summary(const model::Matrix& matrix, std::ostream& out) {
  out << "\nenvironments (" << matrix.environments.size() << "):\n";
  for (const auto& e : matrix.environments)
    out << "  " << e.label << ": " << e.runs << " runs from " << e.logs.size() << " log(s)\n";
  out << "homogeneity: " << matrix.homogeneity_test << "; " << matrix.multiple_testing << "\n";
  if (matrix.flagged.empty()) {
    out << "no test's failure rate differs significantly between the environments\n";
    return;
  }
  for (const auto& t : matrix.tests) {
    if (!t.flagged) continue;
    char p[64];
    std::snprintf(p, sizeof p, "%.3g", t.p_adjusted.value_or(1.0));
    out << "  DIFFERS  " << t.statement.value_or(t.name) << " (adjusted p = " << p << ")\n";
  }
}

}  // namespace flakescope::audit
