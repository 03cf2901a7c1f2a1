// The assertion capture analysis: grouping per (test, site) and trial, failure rates, the
// recommendation from the statistics engine, and the suggested line and diff.
#include "audit/capture_analysis.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "audit/assertion_rewrite.h"
#include "flakescope/error.h"
#include "stats/rates.h"
#include "stats/recommend.h"

namespace flakescope {
namespace {

using nlohmann::json;
namespace ci = capture_internal;

json capture(const std::string& site, double atol_needed, bool passed, int repeat = 0,
             const std::string& test = "tests/test_x.py::test_foo") {
  return {{"test", test},
          {"site", site},
          {"api", "torch.testing.assert_close"},
          {"shape", {3}},
          {"dtype", "float32"},
          {"rtol", 1.3e-6},
          {"atol", 2e-6},
          {"max_abs", atol_needed},
          {"max_rel", atol_needed / 2},
          {"margin", atol_needed - 2e-6},
          {"atol_needed", atol_needed},
          {"nonfinite_mismatch", false},
          {"passed", passed},
          {"seed", 1},
          {"repeat", repeat}};
}

json run_record(int run, const std::vector<json>& captures) {
  return {{"run", run}, {"seed", run}, {"outcome", "pass"}, {"captures", captures}};
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/flakescope-capture-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name, const std::string& content) const {
    const std::string p = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p) << content;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(CaptureAnalysis, ReducesCallsToTheWorstPerTrialAndCountsFailingTrials) {
  std::vector<json> runs = {
      run_record(0, {capture("t.py:5", 1e-6, true), capture("t.py:5", 3e-6, false)}),
      run_record(1, {capture("t.py:5", 5e-7, true)}),
      run_record(2, {capture("t.py:5", 4e-7, true), capture("t.py:9", 0, true)}),
      {{"run", 3}, {"outcome", "crash"}},  // no captures: not a trial of any site
  };
  const json out = analyze_captures(runs, stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 2u);
  const json& site = out[0];  // the failing one sorts first
  EXPECT_EQ(site["site"], "t.py:5");
  EXPECT_EQ(site["file"], "t.py");
  EXPECT_EQ(site["line"], 5);
  EXPECT_EQ(site["calls"], 4);
  EXPECT_EQ(site["trials"], 3);
  EXPECT_EQ(site["samples"]["atol_needed"], json({3e-6, 5e-7, 4e-7}));
  EXPECT_EQ(site["samples"]["max_rel"], json({1.5e-6, 2.5e-7, 2e-7}));
  EXPECT_EQ(site["rtol"], 1.3e-6);
  EXPECT_EQ(site["atol"], 2e-6);
  const stats::RateEstimate expected = stats::estimate_rate(1, 3, 0.95);
  EXPECT_EQ(site["failure_rate"]["failures"], 1);
  EXPECT_DOUBLE_EQ(site["failure_rate"]["point"].get<double>(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(site["failure_rate"]["wilson"][0].get<double>(), expected.wilson.lower);
  EXPECT_DOUBLE_EQ(site["failure_rate"]["clopper_pearson"][1].get<double>(),
                   expected.clopper_pearson.upper);
  EXPECT_EQ(out[1]["site"], "t.py:9");
  EXPECT_EQ(out[1]["trials"], 1);
}

// The per-site failure rate of the current arguments ("atol=3e-6 fails an estimated 0.3% of runs
// [..], though 0 of 60 observed runs failed"): over seeded repetitions with a known deviation law
// (|N(0, 1e-6)| per run, so P(fail) = 2 (1 - Phi(atol / 1e-6))), the interval covers the true rate
// at about its confidence, beyond the data (3e-6: mostly 0 failures seen) and within it (2e-6).
TEST(CaptureAnalysis, EstimatedFailureRateOfTheCurrentArgumentsCoversTheTruth) {
  for (const double atol : {3e-6, 2e-6}) {
    const double truth = std::erfc(atol / 1e-6 / std::sqrt(2.0));
    int covered = 0, estimated = 0;
    for (int rep = 0; rep < 100; ++rep) {
      std::mt19937_64 rng(1000 + rep);
      std::normal_distribution<double> deviation(0, 1e-6);
      std::vector<json> runs;
      for (int r = 0; r < 60; ++r) {
        const double needed = std::fabs(deviation(rng));
        json line = capture("tests/test_x.py:12", needed, needed <= atol);
        line["rtol"] = 0.0;
        line["atol"] = atol;
        runs.push_back(run_record(r, {line}));
      }
      const json entry = analyze_captures(runs, stats::ToleranceOptions{})[0];
      if (!entry.contains("estimated_failure_rate")) continue;
      ++estimated;
      const json interval = entry["estimated_failure_rate"]["interval"];
      covered += interval[0].get<double>() <= truth && truth <= interval[1].get<double>();
    }
    EXPECT_EQ(estimated, 100) << atol;
    // 95% intervals: 100 repetitions put the coverage within about +-4.4% (2 sd) of 0.95.
    EXPECT_GE(covered, 90) << "atol " << atol << ": true rate " << truth << " covered by "
                           << covered << " of " << estimated;
  }
}

TEST(CaptureAnalysis, EachInProcessRepetitionIsATrial) {
  std::vector<json> captures;
  for (int i = 0; i < 4; ++i) captures.push_back(capture("t.py:5", 1e-7 * (i + 1), i != 2, i));
  const json out = analyze_captures({run_record(0, captures)}, stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["trials"], 4);
  EXPECT_EQ(out[0]["failure_rate"]["failures"], 1);
}

TEST(CaptureAnalysis, SitesAreKeptApartPerTest) {
  const json out = analyze_captures({run_record(0, {capture("h.py:3", 0, true, 0, "a::t1"),
                                                    capture("h.py:3", 0, true, 0, "a::t2")})},
                                    stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["test"], "a::t1");
  EXPECT_EQ(out[1]["test"], "a::t2");
}

// `assert similarity > 0.99`: the plugin records the value and the threshold, no margin; the site
// is measured by its lowest value, not counted as unmeasured.
TEST(CaptureAnalysis, AThresholdAboveIsMeasuredByItsLowestValue) {
  std::vector<json> runs;
  for (int run = 0; run < 20; ++run) {
    const double value = 0.999 - 0.0001 * run;
    runs.push_back(run_record(run, {{{"test", "t.py::test_sim"},
                                     {"site", "t.py:9"},
                                     {"api", "threshold"},
                                     {"op", ">"},
                                     {"value", value},
                                     {"threshold", 0.99},
                                     {"direction", "above"},
                                     {"passed", true},
                                     {"rtol", 0.0},
                                     {"atol", 0.99},
                                     {"margin", 0.99 - value},
                                     {"nonfinite_mismatch", false}}}));
  }
  const json out = analyze_captures(runs, stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["class"], "threshold-above");
  EXPECT_EQ(out[0]["unmeasured_calls"], 0);
  EXPECT_DOUBLE_EQ(out[0]["atol"].get<double>(), 0.99);
  EXPECT_EQ(out[0]["verdict"],
            "threshold comparison (value must stay above 0.99): the lowest of 20 runs was 0.9971");
}

// A seeded value a hair under a computed threshold (pytorch-minimize's `constraint_value <= ub +
// TOLERANCE`): both printed with the digits that keep them apart, not "1 ... <= 1".
TEST(CaptureAnalysis, AConstantValueNearItsThresholdPrintsTheDigitsThatTellThemApart) {
  std::vector<json> runs;
  for (int run = 0; run < 10; ++run) {
    runs.push_back(run_record(run, {{{"test", "t.py::test_constr"},
                                     {"site", "t.py:145"},
                                     {"api", "threshold"},
                                     {"op", "<="},
                                     {"value", 0.99999928},
                                     {"threshold", 1.000001},
                                     {"passed", true},
                                     {"rtol", 0.0},
                                     {"atol", 1.000001},
                                     {"max_abs", 0.99999928},
                                     {"atol_needed", 0.99999928},
                                     {"margin", 0.99999928 - 1.000001},
                                     {"nonfinite_mismatch", false}}}));
  }
  const json out = analyze_captures(runs, stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["suggestion"].get<std::string>().rfind(
                "deterministic: the compared value was 0.9999993 on every run (10 runs); the "
                "current threshold <= 1.000001 covers it",
                0),
            0u)
      << out[0]["suggestion"];
}

// 20 runs of a bounded value (uniform in [0, 0.5)) against `< 0.9`: a tail fitted to them bounds
// the 1e-4 quantile at ~10, 20 times the largest value, and estimates 0.7% [0%, 11%] at 0.9. No
// run failed and the interval reaches below the target: undecided, not "loosen to < 10".
TEST(CaptureAnalysis, NoFailureAndAnExtrapolatedBoundIsUndecidedUnlessTheRateShowsIt) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> uniform(0, 0.5);
  std::vector<json> runs;
  for (int run = 0; run < 20; ++run) {
    const double value = uniform(rng);
    runs.push_back(run_record(run, {{{"test", "t.py::test_bounded"},
                                     {"site", "t.py:6"},
                                     {"api", "threshold"},
                                     {"op", "<"},
                                     {"value", value},
                                     {"threshold", 0.9},
                                     {"passed", true},
                                     {"rtol", 0.0},
                                     {"atol", 0.9},
                                     {"max_abs", value},
                                     {"atol_needed", value},
                                     {"margin", value - 0.9},
                                     {"nonfinite_mismatch", false}}}));
  }
  const json out = analyze_captures(runs, stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["recommendation"]["action"], "none") << out[0].dump();
  EXPECT_EQ(out[0]["diff"], nullptr);
  EXPECT_EQ(out[0]["suggestion"].get<std::string>().rfind("undecided: 0 of 20 runs failed", 0), 0u)
      << out[0]["suggestion"];
}

// 20 runs far below the current atol (2e-6) give a 1e-4 bound that is mostly extrapolation: no
// failure, an estimated failure rate under the target, so the site is undecided (no loosening,
// no diff), not "loosen to the bound".
TEST(CaptureAnalysis, ABoundThatIsMostlyExtrapolationLoosensNothing) {
  std::mt19937_64 rng(11);
  std::exponential_distribution<double> noise(1.0 / 5e-8);
  std::vector<json> runs;
  for (int run = 0; run < 20; ++run)
    runs.push_back(run_record(run, {capture("t.py:5", noise(rng), true)}));
  const json out = analyze_captures(runs, stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  const json& a = out[0];
  ASSERT_TRUE(a["recommendation"]["atol"].is_number()) << a.dump(2);
  EXPECT_GT(a["recommendation"]["atol"].get<double>(), 2e-6) << a.dump(2);
  EXPECT_EQ(a["recommendation"]["action"], "none") << a.dump(2);
  EXPECT_TRUE(a["diff"].is_null());
  EXPECT_EQ(a["suggestion"].get<std::string>().rfind("undecided: 0 of 20 runs failed", 0), 0u)
      << a["suggestion"];
  EXPECT_NE(a["suggestion"].get<std::string>().find("mostly extrapolation"), std::string::npos);
  EXPECT_FALSE(model::assertion_site_from_json(a).needs_action());
}

TEST(CaptureAnalysis, RecommendationIsTheStatisticsEnginesPairBoundRoundedUp) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 1.5e-6);
  std::vector<json> runs;
  stats::DeviationSeries series;
  for (int run = 0; run < 400; ++run) {
    const double needed = std::max(0.0, std::abs(noise(rng)) - 1.3e-6 * 1.0);
    runs.push_back(run_record(run, {capture("t.py:5", needed, needed <= 2e-6)}));
    series.abs.push_back(needed);
    series.rel.push_back(needed / 2);
    series.atol_at_rtol.push_back(needed);
  }
  series.rtol_for_margin = 1.3e-6;
  series.dtype = DType::kFloat32;
  stats::ToleranceOptions options;
  const stats::Recommendation direct = stats::recommend(series, options);
  ASSERT_TRUE(direct.pair_atol && direct.pair_atol->has_bound);

  const json out = analyze_captures(runs, options);
  ASSERT_EQ(out.size(), 1u);
  const json& rec = out[0]["recommendation"];
  EXPECT_EQ(rec["method"], direct.pair_atol->method);
  EXPECT_DOUBLE_EQ(rec["atol_bound"].get<double>(), direct.pair_atol->bound);
  const double atol = rec["atol"].get<double>();
  EXPECT_GE(atol, direct.pair_atol->bound);
  EXPECT_LE(atol, direct.pair_atol->bound * 1.1);
  EXPECT_EQ(rec["rtol"], 1.3e-6);
  EXPECT_DOUBLE_EQ(rec["target"].get<double>(), 1e-4);
  // The samples are |N(0, 1.5e-6)| - 1.3e-6: some runs fail at the current 2e-6 (a bound without
  // a failure that is mostly extrapolation decides nothing: WithinRtol..., MostlyExtrapolation...).
  EXPECT_EQ(rec["action"], "loosen");
  EXPECT_GT(atol, 2e-6);
  const std::string suggestion = out[0]["suggestion"];
  EXPECT_NE(suggestion.find("torch.testing.assert_close(actual, expected, rtol=1.3e-06, atol=" +
                            ci::format_tolerance(atol) + ")` keeps failures <= 1e-4 at 95%"),
            std::string::npos)
      << suggestion;
}

TEST(CaptureAnalysis, BitwiseStableAssertionsKeepTheirArguments) {
  std::vector<json> runs;
  for (int run = 0; run < 100; ++run) runs.push_back(run_record(run, {capture("t.py:5", 0, true)}));
  const json out = analyze_captures(runs, stats::ToleranceOptions{});
  const json& rec = out[0]["recommendation"];
  EXPECT_EQ(out[0]["class"], "bitwise");
  EXPECT_EQ(rec["action"], "keep");
  EXPECT_EQ(out[0]["diff"], nullptr);
  EXPECT_EQ(out[0]["failure_rate"]["failures"], 0);
  EXPECT_EQ(out[0]["suggestion"],
            "bitwise equal on every run (100 runs): the compared values never differed");
}

// Values that differ on every run but never by more than rtol |e|: 10 runs show no atol is needed,
// not that failures stay under 1e-4 (that takes ~30000 runs), and nothing was bitwise equal.
TEST(CaptureAnalysis, WithinRtolOnFewRunsClaimsNoBoundAtTheTarget) {
  std::vector<json> runs;
  for (int run = 0; run < 10; ++run) {
    json line = capture("t.py:5", 0, true, 0);
    line["max_abs"] = 1.19e-7 * (1 + run % 3);
    runs.push_back(run_record(run, {line}));
  }
  const json out = analyze_captures(runs, stats::ToleranceOptions{});
  const std::string suggestion = out[0]["suggestion"];
  EXPECT_EQ(out[0]["recommendation"]["action"], "keep");
  EXPECT_NE(suggestion.find("were enough on all 10 runs, none needing any atol (showing failures "
                            "<= 1e-4 at 95% takes about "),
            std::string::npos)
      << suggestion;
  EXPECT_EQ(suggestion.find("keep failures <="), std::string::npos) << suggestion;
  EXPECT_EQ(suggestion.find(", though"), std::string::npos) << suggestion;
  EXPECT_NE(out[0]["recommendation"]["reason"].get<std::string>().find("within rtol=1.3e-06"),
            std::string::npos);
}

// 300 seeded runs of the site tests/test_noise.py:4 (|N(0, 2e-6)| minus rtol |e|, atol 2e-6, some
// failing), analyzed with the sources under `dir`: the site's entry.
json analyze_noisy_site(const TempDir& dir) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 2e-6);
  std::vector<json> runs;
  for (int run = 0; run < 300; ++run) {
    const double needed = std::max(0.0, std::abs(noise(rng)) - 1.3e-6);
    runs.push_back(run_record(run, {capture("tests/test_noise.py:4", needed, needed <= 2e-6)}));
  }
  CaptureAnalysisOptions capture_options;
  capture_options.source_root = dir.path();
  return analyze_captures(runs, stats::ToleranceOptions{}, capture_options)[0];
}

TEST(CaptureAnalysis, DiffRewritesTheRecordedLine) {
  TempDir dir;
  dir.file("tests/test_noise.py",
           "import torch\n\ndef test_noise():\n"
           "    torch.testing.assert_close(out, ref, atol=2e-6, rtol=1.3e-6)  # keep me\n");
  const json entry = analyze_noisy_site(dir);
  ASSERT_FALSE(entry["recommendation"]["atol"].is_null()) << entry["recommendation"].dump();
  const std::string atol = ci::format_tolerance(entry["recommendation"]["atol"].get<double>());
  const std::string expected_diff =
      "--- a/tests/test_noise.py\n+++ b/tests/test_noise.py\n@@ -4 +4 @@\n"
      "-    torch.testing.assert_close(out, ref, atol=2e-6, rtol=1.3e-6)  # keep me\n"
      "+    torch.testing.assert_close(out, ref, atol=" +
      atol + ", rtol=1.3e-6)  # keep me\n";
  EXPECT_EQ(entry["diff"], expected_diff);
  EXPECT_EQ(entry["suggestion"].get<std::string>().rfind(
                "`torch.testing.assert_close(out, ref, atol=" + atol + ", rtol=1.3e-6)` keeps", 0),
            0u)
      << entry["suggestion"];
  // Some of the 300 failed: retrying is an option, and the suggestion says how often.
  ASSERT_GT(entry["failure_rate"]["failures"].get<int>(), 0);
  EXPECT_NE(entry["suggestion"].get<std::string>().find("retry up to"), std::string::npos);
}

// black's layout: the call opens on the recorded line and closes lines later. The diff edits its
// arguments where they are and keeps the layout, comments and the lines after it.
TEST(CaptureAnalysis, DiffEditsACallSpreadOverSeveralLinesInPlace) {
  TempDir dir;
  dir.file("tests/test_noise.py",
           "import torch\n\ndef test_noise():\n"
           "    torch.testing.assert_close(\n"
           "        out,  # the model's\n"
           "        ref,\n"
           "        atol=2e-6,\n"
           "        rtol=1.3e-6,\n"
           "    )\n"
           "    assert True\n");
  const json entry = analyze_noisy_site(dir);
  ASSERT_FALSE(entry["recommendation"]["atol"].is_null()) << entry["recommendation"].dump();
  const std::string atol = ci::format_tolerance(entry["recommendation"]["atol"].get<double>());
  EXPECT_EQ(entry["diff"],
            "--- a/tests/test_noise.py\n+++ b/tests/test_noise.py\n@@ -4,6 +4,6 @@\n"
            "-    torch.testing.assert_close(\n-        out,  # the model's\n-        ref,\n"
            "-        atol=2e-6,\n-        rtol=1.3e-6,\n-    )\n"
            "+    torch.testing.assert_close(\n+        out,  # the model's\n+        ref,\n"
            "+        atol=" +
                atol + ",\n+        rtol=1.3e-6,\n+    )\n");
  EXPECT_EQ(entry["suggestion"].get<std::string>().rfind(
                "`torch.testing.assert_close(out, ref, atol=" + atol + ", rtol=1.3e-6)` keeps", 0),
            0u)
      << entry["suggestion"];
}

TEST(AssertionRewrite, InPlaceEditsKeepTheLayoutAndAppendMissingArguments) {
  const std::string text = "assert_close(\n    a,\n    b,\n)";
  const auto call = ci::find_assertion_call(text, "torch.testing.assert_close");
  ASSERT_TRUE(call);
  EXPECT_EQ(call->args, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ci::rewrite_in_place(text, *call, "torch.testing.assert_close", 0, 1e-5),
            "assert_close(\n    a,\n    b, rtol=0, atol=1e-05,\n)");
  const std::string positional = "torch.allclose(x,\n               y, 1e-5, 1e-8)";
  const auto p = ci::find_assertion_call(positional, "torch.allclose");
  ASSERT_TRUE(p);
  EXPECT_EQ(ci::rewrite_in_place(positional, *p, "torch.allclose", 1e-4, 1e-6),
            "torch.allclose(x,\n               y, 0.0001, 1e-06)");
  const std::string helper = "check(\n    out,  # note, with a comma\n    ref, atol=1e-6)";
  const auto h = ci::find_assertion_call(helper, "helper:check");
  ASSERT_TRUE(h);
  EXPECT_EQ(ci::rewrite_keyword_in_place(helper, *h, "atol", 2e-6),
            "check(\n    out,  # note, with a comma\n    ref, atol=2e-06)");
}

TEST(CaptureAnalysis, UnreadableSourceGivesPlaceholderSuggestionAndNoDiff) {
  std::vector<json> runs;
  for (int run = 0; run < 50; ++run) {
    runs.push_back(run_record(run, {capture("missing/file.py:4", 3e-6 * (run % 2), run % 2 == 0)}));
  }
  const json out = analyze_captures(runs, stats::ToleranceOptions{});
  EXPECT_EQ(out[0]["diff"], nullptr);
  EXPECT_EQ(out[0]["suggestion"].get<std::string>().rfind(
                "`torch.testing.assert_close(actual, expected, ", 0),
            0u);
}

TEST(CaptureAnalysis, NonFiniteMismatchesAreSamplesNoToleranceFixes) {
  std::vector<json> runs;
  for (int run = 0; run < 60; ++run) {
    json c = capture("t.py:5", 1e-7, true);
    if (run % 3 == 0) {
      c["atol_needed"] = "inf";
      c["margin"] = "inf";
      c["max_abs"] = nullptr;
      c["nonfinite_mismatch"] = true;
      c["passed"] = false;
    }
    runs.push_back(run_record(run, {c}));
  }
  const json out = analyze_captures(runs, stats::ToleranceOptions{});
  EXPECT_EQ(out[0]["nonfinite_mismatches"], 20);
  EXPECT_EQ(out[0]["samples"]["atol_needed"][0], "inf");
  EXPECT_EQ(out[0]["samples"]["max_abs"][0], "inf");  // null: could not be compared
  EXPECT_TRUE(out[0]["recommendation"]["atol"].is_null()) << out[0]["recommendation"].dump();
  EXPECT_EQ(out[0]["failure_rate"]["failures"], 20);
}

TEST(CaptureAnalysis, MalformedAndUnmeasuredLinesNeverThrow) {
  json error_line = {{"test", "a::t"},          {"site", "t.py:5"},
                     {"api", "numpy.allclose"}, {"error", "RuntimeError: x"},
                     {"passed", false},         {"repeat", 0}};
  std::vector<json> runs = {
      run_record(0, {json(3), json({{"no", "site"}}), error_line}),
      {{"run", 1}, {"captures", "not an array"}},
      json("not an object"),
  };
  const json out = analyze_captures(runs, stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["unmeasured_calls"], 1);
  EXPECT_EQ(out[0]["dropped_captures"], 2);
  EXPECT_EQ(out[0]["failure_rate"]["failures"], 1);
  EXPECT_TRUE(out[0]["recommendation"]["atol"].is_null());
  EXPECT_NE(out[0]["suggestion"].get<std::string>().find("no tolerance can be recommended"),
            std::string::npos);
  EXPECT_TRUE(analyze_captures({}, stats::ToleranceOptions{}).empty());
}

TEST(CaptureFileReader, KeepsObjectsCountsTornLinesAndTreatsMissingAsEmpty) {
  TempDir dir;
  const std::string path =
      dir.file("c.jsonl", "{\"site\": \"a:1\"}\n\n[1,2]\n{\"site\": \"a:2\"}\n{\"site\": \"a:");
  const CaptureFile file = read_capture_file(path);
  ASSERT_EQ(file.captures.size(), 2u);
  EXPECT_EQ(file.captures[1]["site"], "a:2");
  EXPECT_EQ(file.malformed_lines, 2u);
  EXPECT_TRUE(read_capture_file(dir.path() + "/none.jsonl").captures.empty());
  EXPECT_THROW(read_capture_file(dir.path()), InputError);  // a folder: cannot be read as lines
}

TEST(AssertionRewrite, ReplacesPositionalAndKeywordTolerances) {
  const std::string line =
      "    assert np.allclose(f(x, (1, 2)), g(\"a,b)\"), 1e-5, equal_nan=True)";
  const auto call = ci::find_assertion_call(line, "numpy.allclose");
  ASSERT_TRUE(call);
  EXPECT_EQ(call->callee, "np.allclose");
  EXPECT_EQ(call->args.size(), 4u);
  EXPECT_EQ(ci::rewrite_call(*call, "numpy.allclose", 2e-5, 3e-8),
            "np.allclose(f(x, (1, 2)), g(\"a,b)\"), 2e-05, equal_nan=True, atol=3e-08)");
  EXPECT_EQ(line.substr(call->end), "");
}

TEST(AssertionRewrite, DoesNotConfuseAssertAllcloseWithAllclose) {
  const std::string line = "assert_allclose(a, b); ok = torch.allclose(a, b)";
  const auto call = ci::find_assertion_call(line, "torch.allclose");
  ASSERT_TRUE(call);
  EXPECT_EQ(call->callee, "torch.allclose");
  EXPECT_EQ(ci::rewrite_call(*call, "torch.allclose", 0, 1e-6),
            "torch.allclose(a, b, rtol=0, atol=1e-06)");
}

TEST(AssertionRewrite, AnArgumentLeftOutThatKeepsItsDefaultIsNotWrittenIn) {
  const std::string line = "    assert gradcheck(f, (x,), atol=1e-4, nondet_tol=1.0)";
  const auto call = ci::find_assertion_call(line, "torch.autograd.gradcheck");
  ASSERT_TRUE(call);
  EXPECT_EQ(ci::rewrite_call(*call, "torch.autograd.gradcheck", 1e-3, 2.6e-4),
            "gradcheck(f, (x,), atol=0.00026, nondet_tol=1.0)");
  EXPECT_EQ(ci::rewrite_in_place(line, *call, "torch.autograd.gradcheck", 2e-3, 1e-4),
            "    assert gradcheck(f, (x,), atol=1e-4, nondet_tol=1.0, rtol=0.002)");
  const auto close = ci::find_assertion_call("torch.allclose(a, b)", "torch.allclose");
  ASSERT_TRUE(close);
  EXPECT_EQ(ci::rewrite_call(*close, "torch.allclose", 1e-5, 1e-6),
            "torch.allclose(a, b, atol=1e-06)");
  // assert_close takes both or neither: the unchanged one is written too.
  const auto both = ci::find_assertion_call("assert_close(a, b)", "torch.testing.assert_close");
  ASSERT_TRUE(both);
  EXPECT_EQ(ci::rewrite_call(*both, "torch.testing.assert_close", 1.3e-6, 1e-4),
            "assert_close(a, b, rtol=1.3e-06, atol=0.0001)");
}

TEST(AssertionRewrite, AComputedToleranceReadsWithoutItsRoundingNoise) {
  EXPECT_EQ(ci::format_tolerance(3 * 5e-6), "1.5000000000000002e-05");  // exact, for code
  EXPECT_EQ(ci::readable_tolerance(3 * 5e-6), "1.5e-05");               // for sentences
  EXPECT_EQ(ci::readable_tolerance(1.3e-6), "1.3e-06");
  EXPECT_EQ(ci::readable_tolerance(0.1 + 0.2), "0.3");
  EXPECT_EQ(ci::readable_tolerance(0), "0");
}

TEST(AssertionRewrite, AHelpersToleranceIsEditedWhereTheCallPassesIt) {
  // captum: assertTensorAlmostEqual(test, actual, expected, delta=0.0001, mode="sum")
  const std::string line = "    assertTensorAlmostEqual(self, a, b, 1e-8, mode=\"max\")";
  const auto call = ci::find_assertion_call(line, "helper:assertTensorAlmostEqual");
  ASSERT_TRUE(call);
  EXPECT_EQ(ci::rewrite_keyword(*call, "delta", 7.6e-7, 3),
            "assertTensorAlmostEqual(self, a, b, 7.6e-07, mode=\"max\")");
  EXPECT_EQ(ci::rewrite_keyword_in_place(line, *call, "delta", 7.6e-7, 3),
            "    assertTensorAlmostEqual(self, a, b, 7.6e-07, mode=\"max\")");
  // By keyword: replaced, not appended beside it; not passed: appended.
  const auto keyword = ci::find_assertion_call("check(self, a, b, delta=1e-8)", "helper:check");
  ASSERT_TRUE(keyword);
  EXPECT_EQ(ci::rewrite_keyword(*keyword, "delta", 7.6e-7, -1), "check(self, a, b, delta=7.6e-07)");
  const auto absent = ci::find_assertion_call("check(self, a, b)", "helper:check");
  ASSERT_TRUE(absent);
  EXPECT_EQ(ci::rewrite_keyword(*absent, "delta", 7.6e-7, 3), "check(self, a, b, delta=7.6e-07)");
}

TEST(AssertionRewrite, AssertAlmostEqualTakesItsToleranceAsDelta) {
  const auto given = ci::find_assertion_call("self.assertAlmostEqual(x, y, delta=1e-8)",
                                             "unittest.assertAlmostEqual");
  ASSERT_TRUE(given);
  EXPECT_EQ(ci::rewrite_call(*given, "unittest.assertAlmostEqual", 0, 7.6e-7),
            "self.assertAlmostEqual(x, y, delta=7.6e-07)");
  const auto absent =
      ci::find_assertion_call("self.assertAlmostEqual(x, y)", "unittest.assertAlmostEqual");
  ASSERT_TRUE(absent);
  EXPECT_EQ(ci::rewrite_call(*absent, "unittest.assertAlmostEqual", 0, 7.6e-7),
            "self.assertAlmostEqual(x, y, delta=7.6e-07)");
  EXPECT_EQ(ci::canonical_call("unittest.assertAlmostEqual", 0, 7.6e-7),
            "assertAlmostEqual(first, second, delta=7.6e-07)");
}

TEST(AssertionRewrite, CppMacroAndFunctionTakePositionalTolerances) {
  const auto macro = ci::find_assertion_call("  FLAKESCOPE_EXPECT_CLOSE(out, ref, 1e-5, 1e-8);",
                                             "flakescope::expect_close");
  ASSERT_TRUE(macro);
  EXPECT_EQ(ci::rewrite_call(*macro, "flakescope::expect_close", 1.3e-6, 4.2e-5),
            "FLAKESCOPE_EXPECT_CLOSE(out, ref, 1.3e-06, 4.2e-05)");
  const auto function =
      ci::find_assertion_call("bool ok = flakescope::expect_close(\"y\", out, ref, 1e-5, 1e-8);",
                              "flakescope::expect_close");
  ASSERT_TRUE(function);
  EXPECT_EQ(ci::rewrite_call(*function, "flakescope::expect_close", 1e-4, 0),
            "flakescope::expect_close(\"y\", out, ref, 0.0001, 0)");
}

TEST(AssertionRewrite, CallsSpanningLinesAreNotRewritten) {
  EXPECT_FALSE(ci::find_assertion_call("    assert_close(out,", "torch.testing.assert_close"));
  EXPECT_FALSE(
      ci::find_assertion_call("    assert_close(out,  # comment", "torch.testing.assert_close"));
  EXPECT_FALSE(ci::find_assertion_call("    x = 1", "torch.testing.assert_close"));
}

TEST(AssertionRewrite, NumbersPrintShortAndRoundUp) {
  EXPECT_EQ(ci::format_tolerance(1.3e-6), "1.3e-06");
  EXPECT_EQ(ci::format_tolerance(0.001), "0.001");
  EXPECT_EQ(ci::format_tolerance(0), "0");
  EXPECT_DOUBLE_EQ(ci::round_up_two_digits(4.1001e-5), 4.2e-5);
  EXPECT_DOUBLE_EQ(ci::round_up_two_digits(4.2e-5), 4.2e-5);
  EXPECT_DOUBLE_EQ(ci::round_up_two_digits(9.95e-3), 1.0e-2);
  EXPECT_EQ(ci::round_up_two_digits(0), 0);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> exponent(-12, 3);
  for (int i = 0; i < 1000; ++i) {
    const double v = std::pow(10.0, exponent(rng));
    const double r = ci::round_up_two_digits(v);
    EXPECT_GE(r, v);
    EXPECT_LE(r, v * 1.11);
  }
}

}  // namespace
}  // namespace flakescope

namespace flakescope {
namespace {

// A search among candidates (`any(torch.equal(n, c) for c in candidates)`, pytorch-metric-
// learning's miner tests): in a passing run some calls find the values equal and some not, which
// is no check that wants them apart; every call apart in a passing run is.
TEST(CaptureAnalysis, ASearchWithSomeCallsCloseIsNotANegatedCheck) {
  auto passing_run = [](int run, std::vector<bool> calls) {
    std::vector<json> captures;
    for (bool passed : calls) captures.push_back(capture("t.py:7", passed ? 0 : 1.0, passed));
    json record = run_record(run, captures);
    record["testcases"] =
        json::array({{{"name", "tests/test_x.py::test_foo"}, {"outcome", "pass"}}});
    return record;
  };
  const json search =
      analyze_captures({passing_run(0, {false, true, false}), passing_run(1, {false, false, true})},
                       stats::ToleranceOptions{});
  ASSERT_EQ(search.size(), 1u);
  EXPECT_TRUE(search[0]["negated"].is_null()) << search[0].dump();
  const json apart = analyze_captures({passing_run(0, {false, false}), passing_run(1, {false})},
                                      stats::ToleranceOptions{});
  ASSERT_EQ(apart.size(), 1u);
  EXPECT_NE(apart[0]["negated"].get<std::string>().find("inferred"), std::string::npos);
}

}  // namespace
}  // namespace flakescope

namespace flakescope {
namespace {

// pytorch-metric-learning: `for dtype in TEST_DTYPES:` around one isclose line with literal
// tolerances. Two argument sets that differ only in dtype each keep their edit of the same
// literal (fix writes the loosest); sets with other tolerances on one line keep none.
TEST(CaptureAnalysis, ArgumentSetsDifferingOnlyInDtypeKeepTheirEdits) {
  TempDir dir;
  dir.file("tests/test_noise.py",
           "import torch\n\ndef test_foo():\n"
           "    torch.testing.assert_close(out, ref, atol=2e-6, rtol=1.3e-6)\n");
  std::vector<json> runs;
  for (int run = 0; run < 6; ++run) {
    json f32 = capture("tests/test_noise.py:4", 8e-6, false), f64 = f32;
    f64["dtype"] = "float64";
    f64["atol_needed"] = f64["max_abs"] = 4e-6;
    runs.push_back(run_record(run, {f32, f64}));
  }
  CaptureAnalysisOptions capture_options;
  capture_options.source_root = dir.path();
  const json out = analyze_captures(runs, stats::ToleranceOptions{}, capture_options);
  ASSERT_EQ(out.size(), 2u);
  for (const json& entry : out) {
    EXPECT_EQ(entry["argument_sets_at_site"], 2);
    EXPECT_TRUE(entry["diff"].is_string()) << entry.dump();
  }
  for (auto& run : runs) run["captures"][1]["atol"] = 1e-5;  // another literal: no edit
  for (const json& entry : analyze_captures(runs, stats::ToleranceOptions{}, capture_options))
    EXPECT_TRUE(entry["diff"].is_null()) << entry.dump();
}

}  // namespace
}  // namespace flakescope

namespace flakescope {
namespace {

// pytorch-metric-learning: `torch.isclose(loss, correct, rtol=rtol)` with rtol a name. The
// recommendation keeps the rtol in force, so only atol is written and the name stays.
TEST(CaptureAnalysis, AnRtolGivenAsANameIsKeptAndOnlyAtolWritten) {
  TempDir dir;
  dir.file("tests/test_noise.py",
           "import torch\n\ndef test_noise():\n"
           "    torch.testing.assert_close(out, ref, atol=2e-6, rtol=rtol)\n");
  const json entry = analyze_noisy_site(dir);
  ASSERT_TRUE(entry["diff"].is_string()) << entry.dump();
  const std::string atol = ci::format_tolerance(entry["recommendation"]["atol"].get<double>());
  EXPECT_NE(entry["diff"].get<std::string>().find(
                "+    torch.testing.assert_close(out, ref, atol=" + atol + ", rtol=rtol)\n"),
            std::string::npos)
      << entry["diff"];
}

}  // namespace
}  // namespace flakescope

namespace flakescope {
namespace {

// botorch's test_multitask.py:140: `self.assertLess(\n    value,\n    0.07,\n)`. The literal on a
// later line of the statement is the one edited.
TEST(CaptureAnalysis, AThresholdSpreadOverLinesIsEditedWhereItsLiteralIs) {
  TempDir dir;
  dir.file("tests/test_t.py",
           "def test_x(self):\n    self.assertLess(\n        value,\n        0.07,\n    )\n");
  std::vector<json> runs;
  for (int run = 0; run < 6; ++run) {
    runs.push_back(run_record(run, {{{"test", "tests/test_t.py::test_x"},
                                     {"site", "tests/test_t.py:2"},
                                     {"api", "threshold"},
                                     {"op", "<"},
                                     {"direction", "below"},
                                     {"value", 0.08},
                                     {"threshold", 0.07},
                                     {"atol", 0.07},
                                     {"rtol", 0.0},
                                     {"max_abs", 0.08},
                                     {"max_rel", 0.0},
                                     {"atol_needed", 0.08},
                                     {"margin", 0.01},
                                     {"nonfinite_mismatch", false},
                                     {"passed", false},
                                     {"repeat", 0}}}));
  }
  CaptureAnalysisOptions capture_options;
  capture_options.source_root = dir.path();
  const json out = analyze_captures(runs, stats::ToleranceOptions{}, capture_options);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0]["diff"].is_string()) << out[0].dump();
  const std::string diff = out[0]["diff"];
  EXPECT_NE(diff.find("@@ -2,4 +2,4 @@\n"), std::string::npos) << diff;
  EXPECT_NE(diff.find("-        0.07,\n"), std::string::npos) << diff;
  EXPECT_NE(diff.find("+        0.081,\n"), std::string::npos) << diff;
}

}  // namespace
}  // namespace flakescope

namespace flakescope {
namespace {

// numpy's assert_array_almost_equal takes decimal=d (a bound of 1.5 * 10^-d), not rtol/atol
// (tensorly): the advice and the edit are the d that covers the bound.
TEST(CaptureAnalysis, ADecimalToleranceIsAdvisedAndWrittenAsDecimal) {
  EXPECT_EQ(ci::decimal_covering(3.03e-6), 5);
  EXPECT_EQ(ci::decimal_covering(1.5e-6), 6);
  EXPECT_EQ(ci::decimal_of(1.5e-7), 7);
  TempDir dir;
  dir.file("tests/test_d.py",
           "def test_x():\n    np.testing.assert_array_almost_equal(x + 3e-6, x)\n");
  std::vector<json> runs;
  for (int run = 0; run < 4; ++run) {
    json c = capture("tests/test_d.py:2", 3e-6, false);
    c["api"] = "numpy.testing.assert_array_almost_equal";
    c["rtol"] = 0.0;
    c["atol"] = 1.5e-6;
    c["decimal"] = 6;
    c["max_abs"] = 3e-6;
    runs.push_back(run_record(run, {c}));
  }
  CaptureAnalysisOptions capture_options;
  capture_options.source_root = dir.path();
  const json out = analyze_captures(runs, stats::ToleranceOptions{}, capture_options);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0]["recommendation"]["atol"].get<double>(), 1.5e-5);
  ASSERT_TRUE(out[0]["diff"].is_string()) << out[0].dump();
  EXPECT_NE(out[0]["diff"].get<std::string>().find(
                "+    np.testing.assert_array_almost_equal(x + 3e-6, x, decimal=5)\n"),
            std::string::npos)
      << out[0]["diff"];
}

}  // namespace
}  // namespace flakescope

namespace flakescope {
namespace {

// backpack: `atol=self.ATOL` read by a helper two calls down; tensorly: `decimal=PREC_DBL`. The
// plugin names the number-literal definition; the edit is there (never a literal forking it at
// the call), and `fix` takes the loosest of the comparisons sharing it; never to tighten.
TEST(CaptureAnalysis, ATolerancePassedByNameIsEditedWhereItIsDefined) {
  TempDir dir;
  dir.file("tests/test_n.py",
           "ATOL = 1e-06\n"
           "def test_x():\n    torch.testing.assert_close(a, b, rtol=0, atol=ATOL)\n"
           "def test_y():\n    torch.testing.assert_close(a, b, rtol=0, delta=ATOL)\n");
  std::vector<json> runs;
  for (int run = 0; run < 6; ++run) {
    json c = capture("tests/test_n.py:3", 3e-6 + 1e-7 * run, false);
    c["rtol"] = 0.0;
    c["atol"] = 1e-6;
    c["tolerance_definition"] = {{"name", "ATOL"}, {"at", "tests/test_n.py:1"}, {"value", 1e-6}};
    runs.push_back(run_record(run, {c}));
  }
  CaptureAnalysisOptions capture_options;
  capture_options.source_root = dir.path();
  const json out = analyze_captures(runs, stats::ToleranceOptions{}, capture_options);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0]["diff"].is_string()) << out[0].dump(2);
  const std::string diff = out[0]["diff"];
  EXPECT_NE(diff.find("@@ -1 +1 @@\n-ATOL = 1e-06\n+ATOL = "), std::string::npos) << diff;
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("the tolerance is `ATOL`, defined at tests/test_n.py:1: the edit is there"),
            std::string::npos)
      << s;
  // A keyword given as a name is never replaced by a literal at the call.
  EXPECT_EQ(diff.find("assert_close"), std::string::npos) << diff;
}

}  // namespace
}  // namespace flakescope

namespace flakescope {
namespace {

// torchkbnufft: "keep failures <= 1e-4 at 95%" beside "95% CI [0%, 0.13%]" read as a
// contradiction. Just above the bound, where the estimate's interval reaches past the target, the
// advice says why the two differ.
TEST(CaptureAnalysis, AKeepBesideALooserRateIntervalSaysWhy) {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> deviation(1e6);
  std::vector<double> needed(60);
  for (double& x : needed) x = deviation(rng);
  const auto analyse = [&](double atol) {
    std::vector<json> runs;
    for (std::size_t run = 0; run < needed.size(); ++run) {
      json c = capture("tests/test_k.py:2", needed[run], true);
      c["rtol"] = 0.0;
      c["atol"] = atol;
      c["margin"] = needed[run] - atol;
      runs.push_back(run_record(static_cast<int>(run), {c}));
    }
    return analyze_captures(runs, stats::ToleranceOptions{});
  };
  const json first = analyse(1e-3);
  ASSERT_TRUE(first[0]["recommendation"]["atol"].is_number()) << first[0].dump(2);
  const json out = analyse(first[0]["recommendation"]["atol"].get<double>() * 1.01);
  ASSERT_EQ(out[0]["recommendation"]["action"], "keep") << out[0].dump(2);
  ASSERT_GT(out[0]["estimated_failure_rate"]["interval"][1].get<double>(), 1e-4) << out[0].dump(2);
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("the interval's upper end is looser than the bound"), std::string::npos) << s;
}

}  // namespace
}  // namespace flakescope
