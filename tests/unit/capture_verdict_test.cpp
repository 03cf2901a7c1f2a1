// The capture analysis's verdicts before tail statistics: deterministic errors, failures no
// tolerance fixes, negated checks, argument sets per line, helpers, threshold comparisons, and the
// patch `flakescope fix` writes from them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "audit/assertion_rewrite.h"
#include "audit/capture_analysis.h"
#include "stats/recommend.h"

namespace flakescope {
namespace {

using nlohmann::json;
namespace ci = capture_internal;

json call(const std::string& site, double needed, bool passed, double atol = 1e-5) {
  return {{"test", "tests/test_x.py::test_a"},
          {"site", site},
          {"api", "torch.testing.assert_close"},
          {"shape", {8}},
          {"dtype", "float32"},
          {"rtol", 0.0},
          {"atol", atol},
          {"max_abs", needed},
          {"max_rel", needed},
          {"margin", needed - atol},
          {"atol_needed", needed},
          {"nonfinite_mismatch", false},
          {"passed", passed},
          {"repeat", 0}};
}

std::vector<json> runs_of(const std::vector<std::vector<json>>& calls_per_run) {
  std::vector<json> runs;
  for (std::size_t i = 0; i < calls_per_run.size(); ++i) {
    runs.push_back({{"run", i}, {"seed", i}, {"outcome", "pass"}, {"captures", calls_per_run[i]}});
  }
  return runs;
}

struct Source {
  Source() {
    char pattern[] = "/tmp/flakescope-verdict-XXXXXX";
    dir = mkdtemp(pattern);
  }
  ~Source() { std::filesystem::remove_all(dir); }
  void write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(dir + "/" + name).parent_path());
    std::ofstream(dir + "/" + name) << text;
  }
  CaptureAnalysisOptions options() const {
    CaptureAnalysisOptions o;
    o.source_root = dir;
    return o;
  }
  std::string dir;
};

TEST(CaptureVerdict, ConstantErrorIsDeterministicNotATailFit) {
  Source src;
  src.write("tests/test_x.py", "\n    assert_close(half, ref, rtol=0, atol=1e-5)\n");
  std::vector<std::vector<json>> runs(30, {call("tests/test_x.py:2", 4.2e-4, false)});
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{}, src.options());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["class"], "deterministic");
  EXPECT_EQ(out[0]["cause"], "deterministic mismatch");
  const json& rec = out[0]["recommendation"];
  EXPECT_EQ(rec["action"], "loosen");
  // 4.2e-4 plus 1%, rounded up to two digits: 4.3e-4, not a 15x tail bound.
  EXPECT_DOUBLE_EQ(rec["atol"].get<double>(), 4.3e-4);
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("deterministic: off by 0.00042 on every run (30 runs)"), std::string::npos) << s;
  EXPECT_NE(
      out[0]["diff"].get<std::string>().find("+    assert_close(half, ref, rtol=0, atol=0.00043)"),
      std::string::npos);
}

// monai's focal loss: a test drawing random numbers failed by 1 ulp on all 10 seeds, and by 1.5
// ulp on another seed. One value over the seeds seen covers those seeds, no more.
TEST(CaptureVerdict, AConstantErrorOfATestDrawingRandomNumbersIsNoMoreThanWhatWasSeen) {
  std::vector<json> runs;
  for (int i = 0; i < 10; ++i) {
    json record = {{"run", i},
                   {"seed", i},
                   {"outcome", "fail"},
                   {"captures", {call("t.py:2", 1.192e-7, false, 0)}}};
    record["testcases"] = json::array(
        {{{"name", "tests/test_x.py::test_a"}, {"outcome", "fail"}, {"drew_random", true}}});
    runs.push_back(record);
  }
  const json out = analyze_captures(runs, stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["class"], "deterministic");
  EXPECT_EQ(out[0]["recommendation"]["method"], "observed maximum");
  EXPECT_NE(out[0]["suggestion"].get<std::string>().find(
                "the test draws random numbers, and 10 seeds landing on one value do not show "
                "that other seeds do (a value that up to 25.9% of seeds give"),
            std::string::npos)
      << out[0]["suggestion"];
  // A test that seeds itself (geoopt's torch.manual_seed(42)) draws the same numbers whatever
  // the audit's seed: its constant error is the code's, and written by default.
  for (auto& record : runs) record["testcases"][0]["reseeded"] = true;
  const json own = analyze_captures(runs, stats::ToleranceOptions{});
  EXPECT_EQ(own[0]["recommendation"]["method"], "deterministic") << own[0].dump();
  EXPECT_NE(own[0]["suggestion"].get<std::string>().find("no tail fit"), std::string::npos)
      << own[0]["suggestion"];
}

TEST(CaptureVerdict, ConstantErrorThatPassesIsKept) {
  std::vector<std::vector<json>> runs(10, {call("t.py:2", 8.1e-5, true, 1e-3)});
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  EXPECT_EQ(out[0]["class"], "deterministic");
  EXPECT_EQ(out[0]["recommendation"]["action"], "keep");
  EXPECT_EQ(
      out[0]["suggestion"],
      "deterministic: off by 8.1e-05 on every run (10 runs); the current atol=0.001 covers it; "
      "the per-run seeds never changed it: the test likely fixes its own seed, so "
      "seed-dependent flakiness is out of this audit's reach");
}

TEST(CaptureVerdict, ANonReentrantBackwardInGradcheckIsNondeterminismNotATolerance) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 12; ++i) {
    json c = call("t.py:9", 1e-9, i % 3 != 0, 1e-5);
    c["api"] = "torch.autograd.gradcheck";
    if (i % 3 == 0) {
      c["failure_kind"] = "reentrancy";
      c["failure_detail"] =
          "backward is not reentrant: two backward passes at the same input differ by 6.5e-07 "
          "(nondet_tol=0)";
    }
    runs.push_back({c});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  EXPECT_EQ(out[0]["class"], "broken");
  EXPECT_EQ(out[0]["cause"], "nondeterministic backward");
  EXPECT_TRUE(out[0]["recommendation"]["atol"].is_null());
  EXPECT_EQ(out[0]["suggestion"],
            "fails because the backward is nondeterministic, which no atol or rtol fixes: "
            "backward is not reentrant: two backward passes at the same input differ by 6.5e-07 "
            "(nondet_tol=0) (4 runs); make the backward deterministic, or accept that much with "
            "gradcheck's nondet_tol");
}

TEST(CaptureVerdict, WithinRtolOnEveryRunIsNotBitwise) {
  std::vector<std::vector<json>> runs(5, {call("t.py:2", 0, true)});
  for (auto& r : runs) r[0]["max_abs"] = 3e-7;  // inside rtol: needs no atol, yet not identical
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  EXPECT_EQ(out[0]["class"], "deterministic");
  EXPECT_EQ(out[0]["suggestion"].get<std::string>().rfind(
                "deterministic: off by 3e-07 on every run (5 runs, needs atol 0 at rtol=0)", 0),
            0u)
      << out[0]["suggestion"];
}

TEST(CaptureVerdict, DtypeMismatchFailsForAReasonNoToleranceFixes) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 30; ++i) {
    json c = call("t.py:2", 1e-7 * (i + 1), false);
    c["failure_kind"] = "dtype";
    c["failure_detail"] = "dtype float16 != float32";
    runs.push_back({c});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  EXPECT_EQ(out[0]["class"], "broken");
  EXPECT_EQ(out[0]["recommendation"]["action"], "fix");
  EXPECT_TRUE(out[0]["recommendation"]["atol"].is_null());
  EXPECT_EQ(out[0]["suggestion"],
            "fails for a reason no tolerance fixes: dtype float16 != float32 (30 runs)");
  EXPECT_EQ(out[0]["diff"], nullptr);
  EXPECT_EQ(out[0]["cause"], "dtype mismatch");
}

TEST(CaptureVerdict, NegatedCheckReportsSeparationAndNeverLoosens) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 20; ++i) {
    json c = call("t.py:2", 0.1 + 0.01 * i, false, 1e-6);
    c["api"] = "torch.allclose";
    c["negated"] = "assert not";
    c["returned"] = false;
    runs.push_back({c});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  EXPECT_EQ(out[0]["class"], "negated");
  EXPECT_EQ(out[0]["recommendation"]["action"], "keep");
  EXPECT_TRUE(out[0]["recommendation"]["atol"].is_null());
  EXPECT_EQ(out[0]["failure_rate"]["failures"], 0);  // the test passed every run
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("closest run needs atol >= 0.1"), std::string::npos) << s;
  EXPECT_NE(s.find("never loosen"), std::string::npos) << s;
  EXPECT_EQ(out[0]["diff"], nullptr);
}

TEST(CaptureVerdict, OneLineWithTwoToleranceSetsGetsOneRecommendationEach) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 1e-7);
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 200; ++i) {
    const double d = std::abs(noise(rng));
    runs.push_back({call("t.py:2", d, d <= 1e-3, 1e-3), call("t.py:2", d, d <= 1.5e-7, 1.5e-7)});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["atol"], 1.5e-7);  // the failing set sorts first
  EXPECT_EQ(out[0]["recommendation"]["action"], "loosen");
  EXPECT_EQ(out[1]["atol"], 1e-3);
  EXPECT_EQ(out[1]["failure_rate"]["failures"], 0);
  EXPECT_EQ(out[0]["argument_sets_at_site"], 2);
}

TEST(CaptureVerdict, AFailedSiteNeverGetsKeep) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 300; ++i)
    runs.push_back({call("t.py:2", i == 7 ? 3e-5 : 1e-7 * (i % 5), i != 7)});
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  EXPECT_EQ(out[0]["failure_rate"]["failures"], 1);
  EXPECT_NE(out[0]["recommendation"]["action"], "keep");
  EXPECT_GE(out[0]["recommendation"]["atol"].get<double>(), 3e-5);
}

TEST(CaptureVerdict, HelperToleranceIsOverriddenAtTheTestsLine) {
  Source src;
  src.write("tests/test_x.py", "\n    check_close(out, ref)  # via helper\n");
  std::mt19937_64 rng(9);
  std::normal_distribution<double> noise(0, 1e-6);
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 300; ++i) {
    const double d = std::abs(noise(rng));
    json c = call("tests/test_x.py:2", d, d <= 1e-6, 1e-6);
    c["via"] = "pkg/testing.py:8";
    c["via_function"] = "check_close";
    c["via_accepts"] = {"rtol", "atol"};
    c["tolerance_at"] = "via";
    runs.push_back({c});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{}, src.options());
  EXPECT_EQ(out[0]["site"], "tests/test_x.py:2");
  EXPECT_EQ(out[0]["via"], "pkg/testing.py:8");
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("the tolerance lives in the helper check_close() at pkg/testing.py:8, which "
                   "takes atol= per call"),
            std::string::npos)
      << s;
  const std::string atol = ci::format_tolerance(out[0]["recommendation"]["atol"].get<double>());
  // The helper takes rtol too (it forwards both to assert_close, which wants both or neither):
  // the rtol in force goes with the new atol.
  EXPECT_NE(out[0]["diff"].get<std::string>().find("+    check_close(out, ref, atol=" + atol +
                                                   ", rtol=0)"),
            std::string::npos)
      << out[0]["diff"];
}

TEST(CaptureVerdict, ThresholdComparisonRecommendsTheThreshold) {
  Source src;
  src.write("t.py", "\n    assert (a - b).abs().max() < 1e-6  # bound\n");
  std::mt19937_64 rng(2);
  std::normal_distribution<double> noise(0, 5e-7);
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 300; ++i) {
    const double d = std::abs(noise(rng));
    json c = call("t.py:2", d, d < 1e-6, 1e-6);
    c["api"] = "threshold";
    c["op"] = "<";
    c["direction"] = "below";
    c["dtype"] = nullptr;
    c["value"] = d;
    runs.push_back({c});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{}, src.options());
  const double t = out[0]["recommendation"]["atol"].get<double>();
  EXPECT_GT(t, 1e-6);
  EXPECT_NE(out[0]["diff"].get<std::string>().find("+    assert (a - b).abs().max() < " +
                                                   ci::format_tolerance(t) + "  # bound"),
            std::string::npos)
      << out[0]["diff"];
}

// `self.assertLess(rel_error(sol, y), eps)` with a deterministic solver: the same value on every
// run, well under eps. The sentence names the threshold, not an "atol" the line does not have.
TEST(CaptureVerdict, DeterministicThresholdNamesTheThreshold) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 8; ++i) {
    json c = call("t.py:2", 1.958e-07, true, 0.005);
    c["api"] = "threshold";
    c["op"] = "<";
    c["direction"] = "below";
    c["dtype"] = nullptr;
    c["value"] = 1.958e-07;
    runs.push_back({c});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["class"], "deterministic");
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("the current threshold < 0.005 covers it"), std::string::npos) << s;
  EXPECT_EQ(s.find("atol"), std::string::npos) << s;
}

// 0 failures in 8 runs and too few runs for a bound: no "retry up to 7 times" (the upper end of
// 0 of 8 is 31%, but advising retries for a check that never failed reads as a finding).
TEST(CaptureVerdict, NoRetryAdviceWithoutAFailure) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 8; ++i) runs.push_back({call("t.py:2", 1e-7 * (i + 1), true, 1e-3)});
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("no tolerance can be recommended from 8 trials"), std::string::npos) << s;
  EXPECT_EQ(s.find("retry"), std::string::npos) << s;
}

// unittest's assertEqual of tensors, as the plugin records it: exact, atol 0.
json assert_equal_call(double deviation, bool passed) {
  json c = call("t.py:2", deviation, passed, 0);
  c["api"] = "unittest.assertEqual";
  c["exact"] = true;
  return c;
}

// torchtestcase's assertEqual compares tensors within self.eps: an "exact" unittest.assertEqual
// that passed with a nonzero difference. Not a bitwise check, and with failures the advice is a
// larger tolerance where it is defined (no diff: the capture cannot see where that is).
TEST(CaptureVerdict, ExactCheckThatPassedWithADifferenceHasItsOwnTolerance) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 40; ++i) {
    const double d = i == 7 || i == 31 ? 1.4e-3 : 1e-4 * (1 + i % 5);
    runs.push_back({assert_equal_call(d, d < 1e-3)});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["class"], "statistical");
  EXPECT_EQ(out[0]["exact"], false);
  EXPECT_EQ(out[0]["hidden_tolerance"], true);
  EXPECT_EQ(out[0]["recommendation"]["action"], "loosen");
  EXPECT_GE(out[0]["recommendation"]["atol"].get<double>(), 1.4e-3);
  EXPECT_TRUE(out[0]["diff"].is_null());
  EXPECT_FALSE(out[0].contains("estimated_failure_rate") &&
               !out[0]["estimated_failure_rate"].is_null());
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("let differences up to 0.0005 pass and failed at 0.0014"), std::string::npos)
      << s;
}

// The same with no failure: the tolerance in force may be larger than anything the runs show,
// so a bound above what passed decides nothing.
TEST(CaptureVerdict, HiddenToleranceWithoutFailureIsNotLoosened) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 40; ++i) {
    runs.push_back({assert_equal_call(1e-4 * (1 + i % 7), true)});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0]["recommendation"]["action"], "loosen");
  EXPECT_NE(out[0]["recommendation"]["action"], "keep");
}

json threshold_call(double value, double bound) {
  json c = call("t.py:2", value, value < bound, bound);
  c["api"] = "threshold";
  c["op"] = "<";
  c["direction"] = "below";
  c["dtype"] = nullptr;
  c["value"] = value;
  c["threshold"] = bound;
  c["margin"] = value - bound;
  return c;
}

// pytorch_wavelets: the largest error was one float32 step (1.192e-07) on every run while the
// relative error changed on every run: the inputs changed, so it is neither "deterministic" nor
// out of the seeds' reach; a failing one is loosened to what was seen, no more (weak).
TEST(CaptureVerdict, OneErrorValueWithChangingInputsIsNotCalledDeterministic) {
  for (const bool failing : {false, true}) {
    std::vector<std::vector<json>> runs;
    for (int i = 0; i < 10; ++i) {
      json c = call("t.py:2", 1.192e-7, !failing, failing ? 1e-7 : 1.5e-6);
      c["max_rel"] = 5e-5 * (i + 1);
      runs.push_back({c});
    }
    const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
    ASSERT_EQ(out.size(), 1u);
    const std::string s = out[0]["suggestion"];
    EXPECT_NE(s.find("the largest error was 1.192e-07 on every run (10 runs) though the compared "
                     "values changed (relative error 5e-05 to 0.0005)"),
              std::string::npos)
        << s;
    EXPECT_EQ(s.find("deterministic"), std::string::npos) << s;
    EXPECT_EQ(s.find("seeds never"), std::string::npos) << s;
    if (failing) {
      EXPECT_EQ(out[0]["recommendation"]["method"], "observed maximum");
      EXPECT_NE(s.find("it covers what was seen, no more"), std::string::npos) << s;
    }
  }
}

// julius: `for block_ratio in [1, 5, 10, 20]: self.assertSimilar(..., tol=1e-5)` failed at its
// first pass in every run: what that pass needed is a lower bound of what the loop needs, said so
// and marked (fix leaves it out unless --include-weak); without the loop it covers the value.
TEST(CaptureVerdict, ALoopStoppedAtItsFirstFailingPassGivesALowerBound) {
  for (const bool varies : {false, true}) {
    std::vector<std::vector<json>> runs;
    for (int i = 0; i < 10; ++i) {
      json c = call("t.py:2", varies ? 2.2e-5 + 1e-7 * i : 2.2e-5, false, 1e-5);
      c["in_loop"] = true;
      runs.push_back({c});
    }
    const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
    ASSERT_EQ(out.size(), 1u);
    const std::string s = out[0]["suggestion"];
    EXPECT_EQ(out[0]["recommendation"]["lower_bound"], "loop") << out[0].dump(2);
    EXPECT_EQ(out[0]["recommendation"]["method"], "observed maximum");
    EXPECT_NE(s.find("so this is a lower bound of what the loop needs"), std::string::npos) << s;
    EXPECT_EQ(s.find("keeps failures"), std::string::npos) << s;  // (backpack: it said both)
    EXPECT_EQ(s.find("a lower bound of what the loop"), s.rfind("a lower bound of what the loop"))
        << s;
  }
}

// normflows: `assert p <= 1.01` for a normalisation integral near 1 that failed sometimes: a tail
// bound of 3.4 is 3.4 times the largest run but about 100 spreads beyond the smallest, and is
// called mostly extrapolation (fix leaves it out unless --include-weak).
TEST(CaptureVerdict, AThresholdFarFromZeroMeasuresExtrapolationInSpreads) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> integral(1.0, 0.008);
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 20; ++i) runs.push_back({threshold_call(integral(rng), 1.01)});
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  const json& rec = out[0]["recommendation"];
  ASSERT_TRUE(rec["atol"].is_number()) << out[0].dump(2);
  EXPECT_EQ(rec["extrapolation_from"], "smallest run") << rec.dump(2);
  EXPECT_GT(rec["extrapolation"].get<double>(), 10);
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("times as far beyond the smallest run as the largest run was: mostly "
                   "extrapolation"),
            std::string::npos)
      << s;
}

// `assert loss < initial_loss` with initial_loss from the run's random data: a new bound on every
// run is one site (not one per run), measured by value / bound; a loop over three literal eps
// values keeps one site per eps.
TEST(CaptureVerdict, PerRunThresholdIsOneSiteAndLiteralLoopsStayApart) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> start(10, 100);
  std::vector<std::vector<json>> per_run, loops;
  for (int i = 0; i < 30; ++i) {
    const double initial = start(rng);
    per_run.push_back({threshold_call(initial * 0.99, initial)});
    loops.push_back(
        {threshold_call(1e-4, 1e-3), threshold_call(1e-4, 2e-3), threshold_call(1e-4, 5e-3)});
  }
  const json one = analyze_captures(runs_of(per_run), stats::ToleranceOptions{});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["class"], "threshold-variable");
  EXPECT_EQ(one[0]["recommendation"]["action"], "keep");
  const std::string s = one[0]["suggestion"];
  EXPECT_NE(s.find("the closest of 30 runs reached 99% of its bound"), std::string::npos) << s;
  EXPECT_EQ(analyze_captures(runs_of(loops), stats::ToleranceOptions{}).size(), 3u);
}

// einops' `check_equal(a, b)` with check_equal = numpy.allclose: the result is thrown away, and
// asserting it as written would fail every run (numpy against torch, off by 1.6e-11).
TEST(CaptureVerdict, AnUncheckedComparisonSaysWhatAssertingItWouldNeed) {
  std::vector<std::vector<json>> runs, always_true;
  for (int i = 0; i < 8; ++i) {
    json c = call("t.py:5", 1.6e-11 + 1e-13 * i, false, 1e-8);
    c["api"] = "numpy.allclose";
    c["rtol"] = 1e-5;
    c["unchecked"] = true;
    runs.push_back({c});
    json t = c;
    t["passed"] = true;
    t["atol_needed"] = 0.0;
    always_true.push_back({t});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["class"], "unchecked");
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("it returned False in 8 of 8 runs, so asserted as written it would fail them: "
                   "the values needed atol up to 1.67e-11 at rtol=1e-05; assert it with atol >= "
                   "1.7e-11"),
            std::string::npos)
      << s;
  const json fine = analyze_captures(runs_of(always_true), stats::ToleranceOptions{});
  EXPECT_NE(
      fine[0]["suggestion"].get<std::string>().find("returned False in 0 of 8 runs: assert it"),
      std::string::npos)
      << fine[0]["suggestion"];
}

// PyG's `-1 <= mincut_loss <= 0`: the value is negative; max(0, value) is 0 on every run, which
// is no "bitwise identical" deviation.
TEST(CaptureVerdict, ABelowZeroThresholdIsMeasuredByItsHighestValue) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 20; ++i) {
    json c = threshold_call(-0.36 + 0.0035 * i, 0.0);
    c["op"] = "<=";
    c["atol_needed"] = 0.0;
    c["max_abs"] = 0.36 - 0.0035 * i;
    runs.push_back({c});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["class"], "threshold-signed");
  EXPECT_EQ(out[0]["recommendation"]["action"], "keep");
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("threshold comparison (value must stay at or below 0): the highest of 20 runs "
                   "was -0.2935, 0.2935 from the bound"),
            std::string::npos)
      << s;
  EXPECT_EQ(s.find("identical"), std::string::npos) << s;
}

// --ablation: run indices restart per setting; run 3 of two settings is two trials, not one.
TEST(CaptureVerdict, RunsOfSeveralSettingsAreSeparateTrials) {
  std::vector<json> records;
  for (const char* setting : {"controlled", "free"})
    for (int i = 0; i < 10; ++i)
      records.push_back({{"run", i},
                         {"setting", setting},
                         {"outcome", "pass"},
                         {"captures", {call("t.py:2", 1e-6 * (i + 1), i % 5 != 0)}}});
  const json out = analyze_captures(records, stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["trials"], 20);
  EXPECT_EQ(out[0]["failure_rate"]["failures"], 4);
}

// kornia's quaternion test: a comparison whose failure runs a fallback is never loosened.
TEST(CaptureVerdict, AComparisonAFallbackCatchesIsNeverLoosened) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 20; ++i) {
    json c = call("t.py:7", i % 20 ? 1.5 + 0.01 * i : 1e-7, i % 20 == 0);
    c["guarded"] = "try/except AssertionError at line 6";
    runs.push_back({c});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["class"], "guarded");
  EXPECT_EQ(out[0]["recommendation"]["action"], "keep");
  EXPECT_TRUE(out[0]["diff"].is_null());
  EXPECT_EQ(out[0]["suggestion"],
            "inside a try/except AssertionError at line 6: when it fails, the except branch runs "
            "instead of the test failing (it failed in 19 of 20 runs); those failures are the "
            "fallback's cue, not the test's, so never loosen it");
}

// torchdiffeq: a loop calls the line once per solver; a failing run stops at its first failing
// call, so the later calls of that run were never measured.
TEST(CaptureVerdict, ALoopThatStopsAtAFailingCallSaysWhatWasNotMeasured) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> noise(1e-6, 9e-6);
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 30; ++i) {
    if (i % 6 == 0) {
      runs.push_back({call("t.py:4", 1.2e-5, false)});  // fails, and the loop ends there
    } else {
      std::vector<json> calls;
      for (int k = 0; k < 3; ++k) calls.push_back(call("t.py:4", noise(rng), true));
      runs.push_back(calls);
    }
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["recommendation"]["action"], "loosen");
  const std::string s = out[0]["suggestion"];
  EXPECT_NE(s.find("in 5 runs the test stopped at a failing call before the rest of this line's 3 "
                   "calls per run, which were not measured: apply, then audit again"),
            std::string::npos)
      << s;
}

// A threshold's value changes on every run; it has no relative deviation, so no rtol bound (whose
// zeros read "all 15 runs are bitwise identical" in torchdiffeq's report), and a verdict.
TEST(CaptureVerdict, AThresholdHasNoRtolBoundAndAlwaysAVerdict) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> value(1e-6, 5e-5);
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 15; ++i) {
    json c = threshold_call(value(rng), 1e-4);
    c["max_rel"] = 0.0;
    runs.push_back({c});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  const json& details = out[0]["recommendation"]["details"];
  EXPECT_TRUE(!details.contains("rtol") || details["rtol"].is_null()) << details.dump();
  EXPECT_FALSE(out[0]["verdict"].get<std::string>().empty()) << out[0].dump();
}

// filterpy's `np.allclose(Wm, Wc, 1e-12)` with `Wc = Wm`: one object against itself. Only a NaN
// can fail it; as a comparison of two results it checks nothing.
TEST(CaptureVerdict, OneObjectComparedWithItselfIsVacuous) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 10; ++i) {
    json c = call("t.py:2", 0, true, 1e-8);
    c["api"] = "numpy.allclose";
    c["same_object"] = true;
    runs.push_back({c});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["class"], "vacuous");
  EXPECT_EQ(out[0]["recommendation"]["action"], "review");
  EXPECT_NE(out[0]["suggestion"].get<std::string>().find("compares one object with itself"),
            std::string::npos);
}

TEST(CaptureVerdict, ExactCheckReportsBitwiseStability) {
  std::vector<std::vector<json>> runs;
  for (int i = 0; i < 12; ++i) {
    json c = call("t.py:2", i % 2 ? 1e-7 : 0, i % 2 == 0, 0);
    c["api"] = "torch.equal";
    c["exact"] = true;
    runs.push_back({c});
  }
  const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
  EXPECT_EQ(out[0]["class"], "bitwise");
  EXPECT_EQ(out[0]["suggestion"],
            "not bitwise equal: the compared values differed by up to 1e-07 (in 6 of 12 runs); an "
            "exact check cannot absorb that; if a difference this small is acceptable here, "
            "compare within a tolerance: `torch.allclose(actual, expected, rtol=0, atol=1.1e-07)` "
            "covers the worst of 12 runs, no more (a bound for failures <= 1e-4 needs about 32 "
            "runs); if the values must be identical, the variation between runs is the bug "
            "(`flakescope audit --ablation` names the setting that causes it)");
  // Offered, not written: changing the kind of check is the maintainer's call.
  EXPECT_EQ(out[0]["recommendation"]["action"], "review");
  EXPECT_EQ(out[0]["recommendation"]["atol"], 1.1e-7);
  EXPECT_TRUE(out[0]["diff"].is_null());
}

// An exact check that passes keeps its verdict alone; one failing by the same difference on every
// run is offered the atol covering it, in the tolerant form of that check.
TEST(CaptureVerdict, FailingExactCheckIsOfferedItsTolerantForm) {
  struct Case {
    const char* api;
    json shape;
    const char* call;
  };
  for (const Case& c :
       {Case{"==", json::array(), "`abs(actual - expected) <= 2.1e-06`"},
        Case{"unittest.assertEqual", json::array(),
             "`assertAlmostEqual(first, second, delta=2.1e-06)`"},
        Case{"unittest.assertEqual", json::array({3}),
             "`torch.testing.assert_close(actual, expected, rtol=0, atol=2.1e-06)`"},
        Case{"numpy.testing.assert_array_equal", json::array({3}),
             "`numpy.testing.assert_allclose(actual, desired, rtol=0, "
             "atol=2.1e-06)`"}}) {
    std::vector<std::vector<json>> runs;
    for (int i = 0; i < 10; ++i) {
      json line = call("t.py:2", 2e-6, false, 0);
      line["api"] = c.api;
      line["exact"] = true;
      line["shape"] = c.shape;
      runs.push_back({line});
    }
    const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
    ASSERT_EQ(out.size(), 1u);
    const std::string s = out[0]["suggestion"];
    EXPECT_EQ(out[0]["class"], "deterministic") << c.api;
    EXPECT_NE(s.find(c.call), std::string::npos) << s;
    EXPECT_NE(s.find("covers the difference with a 1% margin; if they must be identical, the "
                     "two compared computations differ on every run: a bug of the code under "
                     "test"),
              std::string::npos)
        << s;
  }
  // opt_einsum: einsum against BLAS, failing every run on random inputs: no ablation advice; in a
  // loop (torchcde: 180 passes, the first failing one seen) the offered atol is a lower bound; a
  // numpy `(a == b).all()` is offered numpy's tolerant form.
  for (const bool loop : {false, true}) {
    std::vector<std::vector<json>> runs;
    for (int i = 0; i < 10; ++i) {
      json line = call("t.py:2", 1e-15 * (i + 1), false, 0);
      line["api"] = "==";
      line["exact"] = true;
      line["library"] = "numpy";
      if (loop) line["in_loop"] = true;
      runs.push_back({line});
    }
    const json out = analyze_captures(runs_of(runs), stats::ToleranceOptions{});
    const std::string s = out[0]["suggestion"];
    EXPECT_EQ(s.find("--ablation"), std::string::npos) << s;
    EXPECT_NE(s.find("`numpy.testing.assert_allclose(actual, desired, rtol=0, atol="),
              std::string::npos)
        << s;
    EXPECT_EQ(s.find("this is a lower bound of what the loop needs") != std::string::npos, loop)
        << s;
    EXPECT_EQ(out[0]["recommendation"].value("lower_bound", std::string()) == "loop", loop);
  }
  std::vector<std::vector<json>> passing;
  for (int i = 0; i < 10; ++i) {
    json line = call("t.py:2", 0, true, 0);
    line["api"] = "torch.equal";
    line["exact"] = true;
    passing.push_back({line});
  }
  const json out = analyze_captures(runs_of(passing), stats::ToleranceOptions{});
  EXPECT_TRUE(out[0]["recommendation"]["atol"].is_null());
  EXPECT_EQ(out[0]["suggestion"], out[0]["verdict"]);
}

// A deterministic deviation of a test that draws no random numbers (the plugin's drew_random):
// no seed could change it, so the advice says nothing of seeds; one that draws them and still
// gives the same value every run fixes its own seed.
TEST(CaptureVerdict, SeedNoteFollowsWhetherTheTestDrewRandomNumbers) {
  for (const bool drew : {false, true}) {
    std::vector<json> runs;
    for (int i = 0; i < 10; ++i) {
      json tc = {{"name", "tests/test_x.py::test_a"}, {"outcome", "pass"}, {"drew_random", drew}};
      runs.push_back({{"run", i},
                      {"seed", i},
                      {"outcome", "pass"},
                      {"testcases", {tc}},
                      {"captures", {call("t.py:2", 8.1e-5, true, 1e-3)}}});
    }
    const json out = analyze_captures(runs, stats::ToleranceOptions{});
    ASSERT_EQ(out.size(), 1u);
    const std::string s = out[0]["suggestion"];
    EXPECT_EQ(s.find("seed") != std::string::npos, drew) << s;
    if (drew) {
      EXPECT_NE(s.find("although the test draws random numbers"), std::string::npos) << s;
    }
  }
}

// `actual == pytest.approx(expected, ...)` takes rel= and abs= (rel second, abs third when
// positional): the fix writes those, never rtol=/atol=, which approx would reject.
TEST(AssertionRewrite, PytestApproxTakesRelAndAbs) {
  const std::string line = "    assert out == pytest.approx(ref, abs=1e-4)  # close";
  const auto c = ci::find_assertion_call(line, "pytest.approx");
  ASSERT_TRUE(c);
  EXPECT_EQ(ci::rewrite_in_place(line, *c, "pytest.approx", 0, 2.7e-4),
            "    assert out == pytest.approx(ref, abs=0.00027, rel=0)  # close");
  const auto positional =
      ci::find_assertion_call("assert x == approx(y, 1e-3, 1e-6)", "pytest.approx");
  ASSERT_TRUE(positional);
  // (rel was 1e-3 already: written as the author wrote it)
  EXPECT_EQ(ci::rewrite_call(*positional, "pytest.approx", 1e-3, 2e-6), "approx(y, 1e-3, 2e-06)");
  EXPECT_EQ(ci::canonical_call("pytest.approx", 1e-6, 2e-7),
            "actual == pytest.approx(expected, rel=1e-06, abs=2e-07)");
}

TEST(AssertionRewrite, ThresholdLiteralAndHelperKeyword) {
  EXPECT_EQ(*ci::replace_number_literal("assert d < 1e-3  # 1e-3", 1e-3, 2e-3),
            "assert d < 0.002  # 1e-3");
  EXPECT_FALSE(ci::replace_number_literal("assert 1e-3 < d < 1e-3", 1e-3, 2e-3));
  EXPECT_FALSE(ci::replace_number_literal("assert d < tol", 1e-3, 2e-3));
  const auto c = ci::find_assertion_call("helper(a, b, atol=1e-6)", "helper:helper");
  ASSERT_TRUE(c);
  EXPECT_EQ(ci::rewrite_keyword(*c, "atol", 3e-6), "helper(a, b, atol=3e-06)");
}

}  // namespace
}  // namespace flakescope
