// Merging shards of a test matrix: grouping by recorded environment, the Monte Carlo chi-square
// test, and the report section on a two-environment fixture (Fisher's exact test:
// stats_two_sample_test.cpp).
#include <gtest/gtest.h>

#include "audit/environment_matrix.h"
#include "audit/platform_info.h"
#include "flakescope/error.h"

namespace flakescope::audit {
namespace {

TEST(EnvironmentMatrix, ChiSquareMonteCarloSeparatesAndAgrees) {
  const double differ = chi_square_homogeneity_monte_carlo({0, 0, 12}, {50, 50, 50});
  EXPECT_LT(differ, 0.001);
  const double same = chi_square_homogeneity_monte_carlo({3, 4, 2}, {50, 50, 50});
  EXPECT_GT(same, 0.3);
  // Seeded: the same table gives the same p-value.
  EXPECT_EQ(same, chi_square_homogeneity_monte_carlo({3, 4, 2}, {50, 50, 50}));
}

RunLog shard_log(const std::string& path, const std::string& label, std::size_t first,
                 std::size_t count, std::size_t fail_every) {
  RunLog log;
  log.path = path;
  log.header.command = {"python3", "-m", "pytest", "tests"};
  log.header.config = {{"seed", 1}, {"platform", {{"label", label}, {"python", "3.x"}}}};
  for (std::size_t run = first; run < first + count; ++run) {
    RunRecord r;
    r.run = run;
    r.seed = 1 + run;
    const bool fail = fail_every && run % fail_every == 0;
    r.outcome = fail ? Outcome::kFail : Outcome::kPass;
    r.testcases = {make_testcase("t::stable", Outcome::kPass, 0.01, ""),
                   make_testcase("t::gpu_only", fail ? Outcome::kFail : Outcome::kPass, 0.01, "")};
    log.records.push_back(r);
  }
  return log;
}

// The fixture: two environments, two shards each; t::gpu_only fails in 1 of 4 runs on "B" only.
std::vector<RunLog> two_environment_fixture() {
  return {shard_log("a0.jsonl", "A", 0, 40, 0), shard_log("b0.jsonl", "B", 0, 40, 4),
          shard_log("a1.jsonl", "A", 40, 40, 0), shard_log("b1.jsonl", "B", 40, 40, 4)};
}

TEST(EnvironmentMatrix, GroupsByEnvironmentAndMergesEach) {
  const MatrixMerge m = merge_by_environment(two_environment_fixture());
  ASSERT_EQ(m.environments.size(), 2u);
  EXPECT_EQ(m.environments[0].label, "A");
  EXPECT_EQ(m.environments[0].logs, (std::vector<std::string>{"a0.jsonl", "a1.jsonl"}));
  EXPECT_EQ(m.environments[1].records.size(), 80u);
  EXPECT_EQ(m.merged.records.size(), 160u);  // runs 0..79 of each environment, pooled
  EXPECT_FALSE(m.merged.header.config.contains("platform"));
}

TEST(EnvironmentMatrix, OverlapWithinOneEnvironmentIsStillRefused) {
  auto logs = two_environment_fixture();
  logs.push_back(shard_log("a-again.jsonl", "A", 10, 5, 0));
  EXPECT_THROW(merge_by_environment(logs), InputError);
}

TEST(EnvironmentMatrix, OneEnvironmentIsAPlainMerge) {
  const MatrixMerge m =
      merge_by_environment({shard_log("a0", "A", 0, 10, 0), shard_log("a1", "A", 10, 10, 0)});
  EXPECT_TRUE(m.environments.empty());
  EXPECT_EQ(m.merged.records.size(), 20u);
}

TEST(EnvironmentMatrix, SectionFlagsTheTestThatDiffers) {
  const MatrixMerge m = merge_by_environment(two_environment_fixture());
  const nlohmann::json s = environment_matrix_section(m.environments, {"controlled"}, 0.95);
  EXPECT_NE(s["homogeneity_test"].get<std::string>().find("Fisher's exact test"),
            std::string::npos);
  ASSERT_EQ(s["flagged"].size(), 1u);
  EXPECT_EQ(s["flagged"][0], "t::gpu_only");
  for (const auto& t : s["tests"]) {
    if (t["name"] == "t::stable") {
      EXPECT_TRUE(t["p_value"].is_null());  // never failed: nothing to compare
      EXPECT_FALSE(t["flagged"].get<bool>());
    } else {
      EXPECT_EQ(t["environments"][0]["failures"], 0);
      EXPECT_EQ(t["environments"][1]["failures"], 20);
      EXPECT_EQ(t["environments"][1]["trials"], 80);
      EXPECT_LT(t["p_adjusted"].get<double>(), 1e-5);
      EXPECT_NE(t["statement"].get<std::string>().find("25.0% on B"), std::string::npos);
    }
  }
}

TEST(PlatformInfo, LabelAndInterpreter) {
  EXPECT_EQ(platform_label({{"os", "Debian 12"},
                            {"arch", "x86_64"},
                            {"python", "3.11.2"},
                            {"torch", "2.5.1"},
                            {"gpu", "none"}}),
            "Debian 12 x86_64, Python 3.11.2, torch 2.5.1, CPU");
  EXPECT_EQ(platform_label({{"label", "py312-torch25"}, {"os", "x"}}), "py312-torch25");
  EXPECT_EQ(python_interpreter_of({"/usr/bin/python3", "-m", "pytest"}), "/usr/bin/python3");
  EXPECT_EQ(python_interpreter_of({"./my_gtest"}), "");
  const nlohmann::json p = describe_platform({"./my_gtest"});
  EXPECT_TRUE(p["python"].is_null());
  EXPECT_TRUE(p["os"].is_string());
  EXPECT_TRUE(p["flakescope"].is_string());
}

}  // namespace
}  // namespace flakescope::audit
