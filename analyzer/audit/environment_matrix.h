#pragma once
// A test matrix merged: shards that ran in different environments (config.platform of each run
// log, see platform_info.h) are legitimate input of `merge`. Each environment's shards are merged
// on their own (overlap checks apply within an environment), and per test the failure rates of the
// environments are compared by a test of homogeneity: Fisher's exact test for two environments
// (stats/two_sample.h), for more a chi-square statistic with a Monte Carlo p-value under fixed
// margins. p-values are Holm-adjusted over the tests that failed anywhere; a test whose adjusted p
// is below 1 - confidence is flagged ("fails in 12% of runs on A, 0% on B").
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flakescope/report_model.h"

#include "audit/run_log.h"

namespace flakescope::audit {

struct EnvironmentLogs {
  std::string label;  // platform_label of the logs' config.platform; "unrecorded" without one
  nlohmann::json platform;
  std::vector<RunLog> logs;
};

// The logs grouped by environment label, in order of first appearance.
std::vector<EnvironmentLogs> group_by_environment(const std::vector<RunLog>& logs);

// p-value of the chi-square test of homogeneity of failures[i] of trials[i], by `replicates`
// random tables with the same margins (seeded: the same input gives the same p-value).
double chi_square_homogeneity_monte_carlo(const std::vector<std::size_t>& failures,
                                          const std::vector<std::size_t>& trials,
                                          std::size_t replicates = 10000, std::uint64_t seed = 1);

struct EnvironmentRecords {
  std::string label;
  nlohmann::json platform;
  std::vector<std::string> logs;
  std::vector<RunRecord> records;
};

// The report's "matrix" section: the environments, the test used, and per (setting, test) the
// rate in each environment, the p-value, its Holm adjustment and whether it is flagged.
model::Matrix environment_matrix_section(const std::vector<EnvironmentRecords>& environments,
                                         const std::vector<std::string>& settings,
                                         double confidence);

struct MatrixMerge {
  RunLog merged;  // every run of every environment (runs of two environments may share an index)
  std::vector<EnvironmentRecords> environments;  // empty when the logs are of one environment
};

// One environment: merge_run_logs as ever. Several: merge_run_logs within each environment (so
// overlapping or mismatched shards are still refused there), their runs pooled.
MatrixMerge merge_by_environment(const std::vector<RunLog>& logs);

// A few lines for the terminal: the environments and the tests whose rates differ.
void print_matrix_summary(const model::Matrix& matrix, std::ostream& out);

}  // namespace flakescope::audit
