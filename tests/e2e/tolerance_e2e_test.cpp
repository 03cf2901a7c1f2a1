// `flakescope tolerance` as a user runs it: plain, JSON-lines and report inputs, text and JSON
// output, and one-line errors with exit code 2 for bad input.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "core/subprocess.h"

namespace flakescope {
namespace {

using Cli = e2e::CliResult;

Cli run_tolerance(std::vector<std::string> args) {
  args.insert(args.begin(), "tolerance");
  return e2e::run_cli(std::move(args), "", {}, 120);
}

class ToleranceCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "flakescope-tolerance-e2e-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    ASSERT_NE(mkdtemp(buf.data()), nullptr);
    dir_ = buf.data();
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    return path;
  }
  // 500 seeded exponential deviations with mean 2e-6, 30% of runs bitwise identical.
  std::string deviations_file() {
    std::mt19937_64 rng(17);
    std::exponential_distribution<double> e(1 / 2e-6);
    std::bernoulli_distribution identical(0.3);
    std::string content = "# max |a - e| per run\n";
    for (int i = 0; i < 500; ++i) {
      // Full precision: std::to_string's six decimals would round these to a 1e-6 lattice.
      char line[40];
      std::snprintf(line, sizeof line, "%.17g\n", identical(rng) ? 0.0 : e(rng));
      content += line;
    }
    return write("deviations.txt", content);
  }
  std::string dir_;
};

void expect_bad_input(const Cli& r, const std::string& mentions) {
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(mentions), std::string::npos) << r.err;
}

TEST_F(ToleranceCli, HelpDescribesTheInputs) {
  const Cli r = run_tolerance({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("SAMPLES"), std::string::npos);
  EXPECT_NE(r.out.find("--target"), std::string::npos);
}

TEST_F(ToleranceCli, PlainNumbersGiveAReadableRecommendation) {
  const Cli r = run_tolerance({deviations_file(), "--dtype", "float32"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("500 runs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("atol (rtol 0)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would fail"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("retries"), std::string::npos) << r.out;
}

TEST_F(ToleranceCli, JsonOutputCarriesTheMethodAndTheDefaults) {
  const Cli r = run_tolerance({deviations_file(), "--dtype", "float32", "--json", "--target",
                               "1e-3", "--confidence", "0.9"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["target"], 1e-3);
  const auto& rec = j["series"][0]["recommendation"];
  const std::string method = rec["atol"]["method"];
  EXPECT_TRUE(method == "gpd" || method == "exponential") << rec.dump();
  EXPECT_GT(rec["atol"]["bound"].get<double>(), 0);
  EXPECT_EQ(rec["default_tolerance"]["atol"], 1e-5);
  EXPECT_EQ(rec["default_tolerance"]["runs"], 500);
}

TEST_F(ToleranceCli, ConstantSamplesRecommendExactEquality) {
  std::string zeros;
  for (int i = 0; i < 200; ++i) zeros += "0\n";
  const Cli r = run_tolerance({write("zeros.txt", zeros), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["series"][0]["recommendation"]["atol"]["method"], "exact");
  EXPECT_EQ(j["series"][0]["recommendation"]["atol"]["bound"], 0.0);
}

TEST_F(ToleranceCli, JsonLinesWithAField) {
  std::string content;
  for (int i = 0; i < 60; ++i)
    content += "{\"test\": \"t\", \"margin\": " + std::to_string(i % 5) + "}\n";
  const Cli r = run_tolerance({write("runs.jsonl", content), "--field", "margin", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["series"][0]["name"], "margin");
  EXPECT_EQ(j["series"][0]["recommendation"]["atol"]["n"], 60);
}

TEST_F(ToleranceCli, ReportInputGivesOneSeriesPerOutput) {
  const nlohmann::json samples = {
      {"abs", {0, 1e-7, 0, 2e-7}}, {"rel", {0, 1e-8, 0, 2e-8}}, {"atol_at_rtol", {0, 0, 0, 1e-7}}};
  // A report file is checked against the schema when loaded: the header fields it requires.
  const nlohmann::json report = {
      {"schema", "flakescope.report/1"},
      {"kind", "probe"},
      {"tool", {{"name", "flakescope"}, {"version", "0.1.0"}}},
      {"created", "2026-11-25T21:04:05Z"},
      {"command", {"flakescope", "probe"}},
      {"partial", false},
      {"probes",
       {{{"name", "ops/sum"},
         {"settings",
          {{{"setting", "free"},
            {"verdict", "nondeterministic"},
            {"metrics",
             {{"out",
               {{"dtype", "float32"},
                {"runs", 5},
                {"rtol_for_margin", 1.3e-6},
                {"samples", samples}}},
              {"idx",
               {{"dtype", "int64"}, {"runs", 5}, {"samples", {{"abs", {0, 0, 0, 0}}}}}}}}}}}}}}};
  const Cli r = run_tolerance({write("report.json", report.dump())});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ops/sum / free / out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ops/sum / free / idx"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pair rtol 1.3e-06"), std::string::npos) << r.out;
}

TEST_F(ToleranceCli, FailureRateOfAGivenAtolInsideAndBeyondTheObservedRange) {
  const std::string file = deviations_file();
  // 2e-6 is the mean: about 0.7 * e^-1 = 26% of runs exceed it, counted directly.
  Cli r = run_tolerance({file, "--atol", "2e-6"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("atol 2e-06, rtol 0: fails an estimated 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(Clopper-Pearson)"), std::string::npos) << r.out;
  // 3e-5 is beyond every sample (true rate 0.7 * e^-15 = 2.1e-7): the tail model answers. Its
  // interval must contain the true rate and say more than counting 0 failures of 500 does. Its
  // upper end is not small (about 4e-3 here): 38 exceedances cannot rule out a shape near 0.5,
  // and the study (reports/calibration) shows this upper end covers in 98-100% of samples, so a
  // tighter number would be a claim the data do not support.
  r = run_tolerance({file, "--atol", "3e-5", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rate = nlohmann::json::parse(r.out)["series"][0]["failure_rate"];
  EXPECT_EQ(rate["method"], "tail") << rate.dump();
  EXPECT_EQ(rate["failures"], 0);
  constexpr double kTrue = 2.1e-7;
  const double lower = rate["interval"][0], upper = rate["interval"][1];
  EXPECT_LT(lower, kTrue);
  EXPECT_GT(upper, kTrue);
  EXPECT_LT(upper, rate["clopper_pearson"][1].get<double>());
  EXPECT_LE(lower, rate["failure_rate"].get<double>());
  EXPECT_GE(upper, rate["failure_rate"].get<double>());
  EXPECT_EQ(rate["samples"], "abs");
}

// The report needs the header fields its schema requires: without them it is refused when loaded
// (exit 2, no JSON), which is what this test once hit.
TEST_F(ToleranceCli, FailureRateUsesTheMarginSamplesOfItsRtol) {
  const nlohmann::json samples = {{"abs", {0, 3e-7, 0, 2e-7}}, {"atol_at_rtol", {0, 0, 0, 1e-7}}};
  const nlohmann::json report = {{"schema", "flakescope.report/1"},
                                 {"kind", "probe"},
                                 {"tool", {{"name", "flakescope"}, {"version", "0.1.0"}}},
                                 {"created", "2026-11-25T21:04:05Z"},
                                 {"command", {"flakescope", "probe"}},
                                 {"partial", false},
                                 {"probes",
                                  {{{"name", "ops/sum"},
                                    {"settings",
                                     {{{"setting", "free"},
                                       {"verdict", "nondeterministic"},
                                       {"metrics",
                                        {{"out",
                                          {{"dtype", "float32"},
                                           {"runs", 4},
                                           {"rtol_for_margin", 1.3e-6},
                                           {"samples", samples}}}}}}}}}}}};
  const std::string file = write("report.json", report.dump());
  auto rate =
      nlohmann::json::parse(run_tolerance({file, "--atol", "5e-8", "--rtol", "1.3e-6", "--json"})
                                .out)["series"][0]["failure_rate"];
  EXPECT_EQ(rate["samples"], "atol_at_rtol");
  EXPECT_EQ(rate["failures"], 1);
  EXPECT_EQ(rate["rtol_ignored"], false);
  rate = nlohmann::json::parse(
      run_tolerance({file, "--atol", "5e-8", "--json"}).out)["series"][0]["failure_rate"];
  EXPECT_EQ(rate["samples"], "abs");
  EXPECT_EQ(rate["failures"], 2);
  const Cli other = run_tolerance({file, "--atol", "5e-8", "--rtol", "1e-3"});
  EXPECT_NE(other.out.find("pessimistic"), std::string::npos) << other.out;
}

TEST_F(ToleranceCli, LightTailAssumptionIsOptInAndStated) {
  const Cli r = run_tolerance({deviations_file(), "--assume", "light-tail", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rec = nlohmann::json::parse(r.out)["series"][0]["recommendation"];
  EXPECT_EQ(rec["atol"]["assumption"], "light tail (shape <= 0)") << rec.dump();
  EXPECT_NE(rec["assumption"].get<std::string>().find("--assume light-tail"), std::string::npos);
  const Cli text = run_tolerance({deviations_file(), "--assume", "light-tail"});
  EXPECT_NE(text.out.find("assuming a light tail"), std::string::npos) << text.out;
  EXPECT_EQ(run_tolerance({deviations_file()}).out.find("assuming"), std::string::npos);
}

TEST_F(ToleranceCli, BadInputIsOneLineAndExitTwo) {
  expect_bad_input(run_tolerance({dir_ + "/missing.txt"}), "missing.txt");
  expect_bad_input(run_tolerance({write("words.txt", "1e-7\nhello\n")}), "not a number");
  expect_bad_input(run_tolerance({write("negative.txt", "1e-7\n-1e-7\n")}), "negative");
  expect_bad_input(run_tolerance({write("nan.txt", "1e-7\nnan\n")}), "not a number");
  expect_bad_input(run_tolerance({write("empty.txt", "# nothing\n")}), "no samples");
  expect_bad_input(run_tolerance({deviations_file(), "--target", "2"}), "--target");
  expect_bad_input(run_tolerance({deviations_file(), "--dtype", "float7"}), "float7");
  expect_bad_input(run_tolerance({}), "SAMPLES");
  expect_bad_input(run_tolerance({deviations_file(), "--bogus"}), "bogus");
  expect_bad_input(run_tolerance({deviations_file(), "--atol", "-1"}), "--atol");
  expect_bad_input(run_tolerance({deviations_file(), "--assume", "heavy"}), "--assume");
  expect_bad_input(run_tolerance({deviations_file(), "--atol", "1e-5x"}), "--atol");
  expect_bad_input(run_tolerance({deviations_file(), "--atol", "1e-5", "--rtol", "-2"}), "--rtol");
}

}  // namespace
}  // namespace flakescope
