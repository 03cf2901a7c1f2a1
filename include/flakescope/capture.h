#pragma once
// Assertion-level capture for LibTorch GoogleTest suites: the C++ side of the pytest plugin.
//
//   #include <gtest/gtest.h>            // first, so the capture line names the running test
//   #include "flakescope/capture.h"
//   EXPECT_TRUE(FLAKESCOPE_EXPECT_CLOSE(out, ref, 1.3e-6, 1e-5));
//
// expect_close compares with torch.testing.assert_close's rule, |a - e| <= atol + rtol |e| for
// every element (NaN never equals NaN, an infinity only itself), evaluated in double precision,
// and returns whether it held. When the environment variable FLAKESCOPE_CAPTURE names a file (as
// `flakescope audit --capture` sets it per run) it appends one JSON line there with the same keys
// the pytest plugin writes ("api": "flakescope::expect_close"), so the audit can recommend the
// arguments to write on that line. It never throws for a failed comparison; shapes that do not
// broadcast are a failure with "error" recorded.
#include <ATen/core/Tensor.h>

#include <string>

#include <nlohmann/json.hpp>

namespace flakescope {

// Where the assertion is, and which test runs it (empty when unknown).
struct CaptureSite {
  const char* file = nullptr;
  int line = 0;
  std::string test;
};

// The capture line's measurements.
struct CloseMeasurement {
  double max_abs = 0;      // max |a - e| over finite pairs
  double max_rel = 0;      // max |a - e| / |e| over finite pairs with e != 0
  double margin = 0;       // max (|a - e| - (atol + rtol |e|)); <= 0 passes; +inf on a mismatch
  double atol_needed = 0;  // max(0, max (|a - e| - rtol |e|)); +inf on a non-finite mismatch
  bool nonfinite_mismatch = false;
  bool passed = false;
  std::string error;  // non-empty when the tensors could not be compared
};

CloseMeasurement measure_close(const at::Tensor& actual, const at::Tensor& expected, double rtol,
                               double atol);

// The capture line for one call (keys as in the pytest plugin's lines).
nlohmann::json capture_line(const std::string& name, const at::Tensor& actual, double rtol,
                            double atol, const CloseMeasurement& m, const CaptureSite& site);

bool expect_close(const std::string& name, const at::Tensor& actual, const at::Tensor& expected,
                  double rtol, double atol, const CaptureSite& site = {});

namespace capture_detail {
template <class TestInfo>
std::string gtest_name(const TestInfo* info) {
  return info ? std::string(info->test_suite_name()) + "::" + info->name() : std::string();
}
}  // namespace capture_detail

}  // namespace flakescope

#if defined(GOOGLETEST_INCLUDE_GTEST_GTEST_H_) || defined(GTEST_INCLUDE_GTEST_GTEST_H_)
#define FLAKESCOPE_CURRENT_TEST() \
  ::flakescope::capture_detail::gtest_name(::testing::UnitTest::GetInstance()->current_test_info())
#else
#define FLAKESCOPE_CURRENT_TEST() std::string()
#endif

// expect_close with the call site (file:line) and the running gtest test filled in; the label is
// the `actual` expression as written.
#define FLAKESCOPE_EXPECT_CLOSE(actual, expected, rtol, atol) \
  ::flakescope::expect_close(                                 \
      #actual, (actual), (expected), (rtol), (atol),          \
      ::flakescope::CaptureSite{__FILE__, __LINE__, FLAKESCOPE_CURRENT_TEST()})
