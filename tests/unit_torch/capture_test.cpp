// The C++ capture API: measurements against hand-computed values, the capture line, and the
// pass/fail rule against at::allclose.
#include <gtest/gtest.h>  // before capture.h: the macro then names the running test

#include "flakescope/capture.h"

#include <ATen/ATen.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace flakescope {
namespace {

class CaptureFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/flakescope-capture-test-XXXXXX";
    const int fd = mkstemp(pattern);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = pattern;
    std::remove(path_.c_str());
    setenv("FLAKESCOPE_CAPTURE", path_.c_str(), 1);
    setenv("FLAKESCOPE_SEED", "42", 1);
  }
  void TearDown() override {
    unsetenv("FLAKESCOPE_CAPTURE");
    unsetenv("FLAKESCOPE_SEED");
    std::remove(path_.c_str());
  }
  std::vector<nlohmann::json> lines() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(path_);
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  std::string path_;
};

TEST(MeasureClose, MatchesHandComputedValues) {
  const at::Tensor actual = at::tensor({1.0, -2.0, 3.5, 0.0}, at::kDouble);
  const at::Tensor expected = at::tensor({1.5, -2.0, 3.0, 0.25}, at::kDouble);
  const CloseMeasurement m = measure_close(actual, expected, 0.1, 0.2);
  // |a-e| = .5, 0, .5, .25; |e| = 1.5, 2, 3, .25
  EXPECT_DOUBLE_EQ(m.max_abs, 0.5);
  EXPECT_DOUBLE_EQ(m.max_rel, 1.0);                     // .25 / .25
  EXPECT_DOUBLE_EQ(m.margin, 0.5 - (0.2 + 0.1 * 1.5));  // .15, the largest
  EXPECT_DOUBLE_EQ(m.atol_needed, 0.5 - 0.1 * 1.5);     // .35
  EXPECT_FALSE(m.passed);
  EXPECT_TRUE(measure_close(actual, expected, 0.1, 0.35).passed);
}

TEST(MeasureClose, NonFiniteElementsMatchOnlyWhenEqual) {
  const double inf = INFINITY;
  const at::Tensor a = at::tensor({1.0, inf, -inf}, at::kDouble);
  const CloseMeasurement same = measure_close(a, a.clone(), 0, 0);
  EXPECT_TRUE(same.passed);
  EXPECT_FALSE(same.nonfinite_mismatch);
  const at::Tensor nan = at::tensor({1.0, NAN}, at::kDouble);
  const CloseMeasurement m = measure_close(nan, nan.clone(), 1, 1);
  EXPECT_TRUE(m.nonfinite_mismatch);  // NaN != NaN, as torch.testing.assert_close by default
  EXPECT_FALSE(m.passed);
  EXPECT_TRUE(std::isinf(m.atol_needed));
}

TEST(MeasureClose, ShapesThatDoNotBroadcastFailWithAnError) {
  const CloseMeasurement m = measure_close(at::ones({3}), at::ones({4}), 0, 0);
  EXPECT_FALSE(m.passed);
  EXPECT_FALSE(m.error.empty());
}

TEST(MeasureClose, AgreesWithAllcloseOnRandomTensors) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(17);
  int disagreements = 0;
  for (int i = 0; i < 200; ++i) {
    const at::Tensor e = at::randn({16}, gen, at::TensorOptions().dtype(at::kDouble));
    const at::Tensor a = e + 1e-6 * at::randn({16}, gen, at::TensorOptions().dtype(at::kDouble));
    const bool ours = measure_close(a, e, 1e-6, 1e-6).passed;
    disagreements += ours != at::allclose(a, e, 1e-6, 1e-6) ? 1 : 0;
  }
  EXPECT_EQ(disagreements, 0);
}

TEST_F(CaptureFile, MacroAppendsOneLinePerCallWithSiteAndTest) {
  const at::Tensor out = at::tensor({1.0f, 2.0f}) + 1e-7;
  const at::Tensor ref = at::tensor({1.0f, 2.0f});
  const int line = __LINE__ + 1;
  EXPECT_TRUE(FLAKESCOPE_EXPECT_CLOSE(out, ref, 1.3e-6, 1e-5));
  EXPECT_FALSE(FLAKESCOPE_EXPECT_CLOSE(out, ref, 0.0, 0.0));
  const auto captured = lines();
  ASSERT_EQ(captured.size(), 2u);
  const nlohmann::json& first = captured[0];
  EXPECT_EQ(first["api"], "flakescope::expect_close");
  EXPECT_EQ(first["name"], "out");
  EXPECT_EQ(first["test"], "CaptureFile::MacroAppendsOneLinePerCallWithSiteAndTest");
  const std::string site = first["site"];
  EXPECT_EQ(site.substr(site.rfind(':') + 1), std::to_string(line));
  EXPECT_NE(site.find("capture_test.cpp"), std::string::npos);
  EXPECT_EQ(first["dtype"], "float32");
  EXPECT_EQ(first["shape"], nlohmann::json({2}));
  EXPECT_EQ(first["rtol"], 1.3e-6);
  EXPECT_EQ(first["seed"], 42);
  EXPECT_EQ(first["passed"], true);
  const double diff =
      std::max(std::abs(double(1.0f + 1e-7f) - 1.0), std::abs(double(2.0f + 1e-7f) - 2.0));
  EXPECT_DOUBLE_EQ(first["max_abs"].get<double>(), diff);
  EXPECT_EQ(captured[1]["passed"], false);
  EXPECT_GT(captured[1]["margin"].get<double>(), 0);
}

TEST_F(CaptureFile, NothingIsWrittenWithoutTheVariable) {
  unsetenv("FLAKESCOPE_CAPTURE");
  EXPECT_TRUE(expect_close("x", at::ones({2}), at::ones({2}), 0, 0));
  EXPECT_TRUE(lines().empty());
}

TEST_F(CaptureFile, NonFiniteValuesAreWrittenAsStrings) {
  EXPECT_FALSE(expect_close("nan", at::tensor({NAN}), at::tensor({1.0f}), 0, 0));
  const auto captured = lines();
  ASSERT_EQ(captured.size(), 1u);
  EXPECT_EQ(captured[0]["atol_needed"], "inf");
  EXPECT_EQ(captured[0]["nonfinite_mismatch"], true);
  EXPECT_EQ(captured[0]["test"], "");  // the function form knows no test unless told
}

}  // namespace
}  // namespace flakescope
