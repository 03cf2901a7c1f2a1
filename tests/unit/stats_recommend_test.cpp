// Recommendations, their JSON, the sample-file reader and attach_recommendations on a hand-built
// report.
#include "stats/recommend.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "flakescope/error.h"
#include "stats/recommend_text.h"
#include "stats/sample_file.h"

namespace flakescope::stats {
namespace {

DeviationSeries flaky_series() {
  // 200 runs; 6 exceed float32's default atol 1e-5 (margins 2e-5), the rest are small.
  DeviationSeries s;
  s.dtype = DType::kFloat32;
  s.rtol_for_margin = 1.3e-6;
  std::mt19937_64 rng(5);
  std::exponential_distribution<double> e(1 / 2e-6);
  for (int i = 0; i < 200; ++i) {
    const double d = i % 33 == 0 && i > 0 ? 2e-5 : e(rng);
    s.abs.push_back(d + 1e-7);
    s.rel.push_back((d + 1e-7) / 3.0);
    s.atol_at_rtol.push_back(d);
  }
  return s;
}

TEST(Recommend, DefaultTolerancesFailureRateAndRetries) {
  const Recommendation r = recommend(flaky_series(), ToleranceOptions{});
  ASSERT_TRUE(r.defaults);
  EXPECT_EQ(r.defaults->failure_rate.failures, 6u);
  EXPECT_EQ(r.defaults->failure_rate.trials, 200u);
  EXPECT_DOUBLE_EQ(r.defaults->failure_rate.point, 0.03);
  EXPECT_FALSE(r.defaults->rtol_ignored);
  // Upper bound of P(fail) from 6/200 at 95% is about 0.0588: 0.0588^4 = 1.2e-5 <= 1e-4 < 0.0588^3.
  EXPECT_NEAR(r.defaults->failure_rate.upper_one_sided, 0.0588, 5e-4);
  EXPECT_EQ(r.defaults->retries, 3u);
  ASSERT_TRUE(r.atol && r.rtol && r.pair_atol);
  EXPECT_DOUBLE_EQ(r.pair_rtol, 1.3e-6);
  const auto j = to_json(r);
  EXPECT_EQ(j["default_tolerance"]["failures"], 6);
  EXPECT_EQ(j["default_tolerance"]["retries"], 3);
  EXPECT_TRUE(j["pair"].contains("rule"));
  std::ostringstream text;
  write_recommendation_text(text, "ops/x / free / out", r);
  EXPECT_NE(text.str().find("would fail 3% of runs (6/200)"), std::string::npos) << text.str();
}

TEST(Recommend, AbsOnlySeriesIgnoresRtolPessimistically) {
  DeviationSeries s;
  s.dtype = DType::kFloat64;
  s.abs = std::vector<double>(50, 0.0);
  s.abs[3] = 1e-6;  // above float64's atol 1e-7
  const Recommendation r = recommend(s, ToleranceOptions{});
  ASSERT_TRUE(r.defaults);
  EXPECT_TRUE(r.defaults->rtol_ignored);
  EXPECT_EQ(r.defaults->failure_rate.failures, 1u);
  EXPECT_FALSE(r.rtol);
  ASSERT_TRUE(r.atol);
  EXPECT_EQ(r.atol->method, "refused");  // one change in 50 runs: no tail to fit
  EXPECT_GT(r.runs_needed, 50u);
}

// Values that differ on every run but always within rtol need no atol: the pair bound is exact, and
// its reason says "within rtol", not "bitwise identical" (pytorch-minimize's constrained tests).
TEST(Recommend, ZeroAtolNeededWithinRtolIsNotCalledBitwiseIdentical) {
  DeviationSeries s;
  s.rtol_for_margin = 1e-5;
  for (int i = 0; i < 20; ++i) {
    s.abs.push_back(1.19e-7 * (1 + i % 3));
    s.atol_at_rtol.push_back(0);
  }
  const Recommendation r = recommend(s, ToleranceOptions{});
  ASSERT_TRUE(r.pair_atol);
  EXPECT_EQ(r.pair_atol->method, "exact");
  EXPECT_EQ(r.pair_atol->reason,
            "all 20 runs are within rtol=1e-05 (no atol needed); a run that is not occurs in at "
            "most 0.139 of runs");
  // Equal on every run: bitwise identical is the stronger statement, and it is made.
  for (double& d : s.abs) d = 0;
  EXPECT_EQ(recommend(s, ToleranceOptions{}).pair_atol->reason.rfind("all 20 runs are bitwise", 0),
            0u);
}

TEST(Recommend, RejectsAnEmptySeries) {
  EXPECT_THROW(recommend(DeviationSeries{}, ToleranceOptions{}), InputError);
}

nlohmann::json metrics_with(const nlohmann::json& samples) {
  return {{"dtype", "float32"}, {"runs", 4}, {"rtol_for_margin", 1.3e-6}, {"samples", samples}};
}

TEST(AttachRecommendations, AddsOneNextToEverySampledOutputAndRecordsErrors) {
  nlohmann::json report = {
      {"schema", "flakescope.report/1"},
      {"kind", "probe"},
      {"probes",
       {{{"name", "ops/sum"},
         {"settings",
          {{{"setting", "controlled"},
            {"verdict", "nondeterministic"},
            {"metrics",
             {{"out", metrics_with({{"abs", {0, 0, 0}}, {"atol_at_rtol", {0, 0, 0}}})},
              {"bad", metrics_with({{"abs", {0, nullptr, 1}}})},
              {"negative", metrics_with({{"abs", {0, -1.0}}})},
              {"no_samples", {{"dtype", "float32"}}}}}},
           {{"setting", "free"},
            {"verdict", "nondeterministic"},
            {"metrics", {{"out", metrics_with({{"abs", {1e-6, "inf", 2e-6}}})}}}}}}}}}};
  model::Report typed = model::from_json(report);
  attach_recommendations(typed.probes, ToleranceOptions{});
  report = model::to_json(typed);
  const auto& controlled = report["probes"][0]["settings"][0]["metrics"];
  EXPECT_EQ(controlled["out"]["recommendation"]["atol"]["method"], "exact");
  EXPECT_EQ(controlled["out"]["recommendation"]["default_tolerance"]["failures"], 0);
  EXPECT_TRUE(controlled["bad"]["recommendation"].contains("error"));
  EXPECT_TRUE(controlled["negative"]["recommendation"].contains("error"));
  EXPECT_FALSE(controlled["no_samples"].contains("recommendation"));
  const auto& free = report["probes"][0]["settings"][1]["metrics"]["out"]["recommendation"];
  EXPECT_EQ(free["atol"]["method"], "unbounded");
  EXPECT_EQ(free["atol"]["infinite"], 1);
}

class SampleFile : public ::testing::Test {
 protected:
  std::string write(const std::string& content) {
    path_ = ::testing::TempDir() + "flakescope_samples_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::ofstream(path_) << content;
    return path_;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(SampleFile, ReadsNumbersWithCommentsAndInf) {
  const auto s =
      read_sample_series(write("# deviations\n0\n\n1.5e-7\ninf\n  2e-7 \n"), "", DType::kFloat32);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].series.abs.size(), 4u);
  EXPECT_TRUE(std::isinf(s[0].series.abs[2]));
  EXPECT_EQ(*s[0].series.dtype, DType::kFloat32);
}

TEST_F(SampleFile, ReadsJsonLinesByFieldName) {
  const std::string content = "{\"value\": 1e-7, \"x\": 3}\n{\"value\": 0, \"x\": 4}\n";
  EXPECT_EQ(read_sample_series(write(content), "", std::nullopt)[0].series.abs[0], 1e-7);
  EXPECT_EQ(read_sample_series(write(content), "x", std::nullopt)[0].series.abs[1], 4.0);
  EXPECT_THROW(read_sample_series(write(content), "y", std::nullopt), InputError);
}

TEST_F(SampleFile, BadInputIsOneClearError) {
  EXPECT_THROW(read_sample_series("/nonexistent/samples.txt", "", std::nullopt), InputError);
  EXPECT_THROW(read_sample_series(write(""), "", std::nullopt), InputError);
  EXPECT_THROW(read_sample_series(write("# only a comment\n"), "", std::nullopt), InputError);
  EXPECT_THROW(read_sample_series(write("1\nabc\n"), "", std::nullopt), InputError);
  EXPECT_THROW(read_sample_series(write("1\nnan\n"), "", std::nullopt), InputError);
  EXPECT_THROW(read_sample_series(write("1\n-3\n"), "", std::nullopt), InputError);
  EXPECT_THROW(read_sample_series(write("1e999\n"), "", std::nullopt), InputError);
  try {
    read_sample_series(write("1\n2\nfoo\n"), "", std::nullopt);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(":3: not a number"), std::string::npos) << e.what();
  }
}

TEST_F(SampleFile, ReadsEveryOutputOfAReport) {
  // A report file is checked against the schema when loaded: the header fields it requires.
  const nlohmann::json report = {
      {"schema", "flakescope.report/1"},
      {"kind", "probe"},
      {"tool", {{"name", "flakescope"}, {"version", "0.1.0"}}},
      {"created", "2026-11-25T21:04:05Z"},
      {"command", {"flakescope", "probe"}},
      {"partial", false},
      {"probes",
       {{{"name", "ops/mm"},
         {"settings",
          {{{"setting", "free"},
            {"verdict", "nondeterministic"},
            {"metrics", {{"out", metrics_with({{"abs", {1e-7, 0}}, {"rel", {1e-8, 0}}})}}}}}}}}}};
  const auto s = read_sample_series(write(report.dump()), "", std::nullopt);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "ops/mm / free / out");
  EXPECT_EQ(s[0].series.rel.size(), 2u);
  EXPECT_EQ(*s[0].series.dtype, DType::kFloat32);
}

}  // namespace
}  // namespace flakescope::stats
