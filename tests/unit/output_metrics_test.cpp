// The streaming output metrics on hand-built buffers with known answers.
#include "core/output_metrics.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "flakescope/error.h"

namespace flakescope {
namespace {

TensorView view(const std::vector<float>& v) {
  return TensorView{DType::kFloat32, {static_cast<std::int64_t>(v.size())}, v.data()};
}

TEST(OutputAccumulator, IdenticalRunsAreBitwiseDeterministic) {
  OutputAccumulator acc("out");
  std::vector<float> a = {1.0f, -2.0f, 3.5f};
  for (int i = 0; i < 5; ++i) acc.add(view(a));
  const OutputMetrics m = acc.metrics();
  EXPECT_EQ(m.runs, 5u);
  EXPECT_TRUE(m.bitwise_deterministic());
  EXPECT_EQ(m.distinct_outputs, 1u);
  EXPECT_EQ(m.max_abs_dev, 0.0);
  EXPECT_EQ(m.std_max, 0.0);
  ASSERT_EQ(m.samples.abs.size(), 4u);
  for (double s : m.samples.abs) EXPECT_EQ(s, 0.0);
}

TEST(OutputAccumulator, DeviationsAgainstTheFirstRun) {
  OutputAccumulator acc("out");
  std::vector<float> e = {1.0f, -2.0f, 4.0f};
  std::vector<float> a = {1.0f, -2.5f, 4.0f};                        // |a-e| = 0.5 at e = -2
  std::vector<float> b = {std::nextafter(1.0f, 2.0f), -2.0f, 4.0f};  // 1 ULP at e = 1
  acc.add(view(e));
  acc.add(view(a));
  acc.add(view(b));
  const OutputMetrics m = acc.metrics();
  EXPECT_EQ(m.identical_to_first, 1u);
  EXPECT_EQ(m.distinct_outputs, 3u);
  EXPECT_DOUBLE_EQ(m.samples.abs[0], 0.5);
  EXPECT_DOUBLE_EQ(m.samples.rel[0], 0.25);
  EXPECT_DOUBLE_EQ(m.samples.ulp[1], 1.0);
  EXPECT_DOUBLE_EQ(m.max_abs_dev, 0.5);
  // -2.5 vs -2.0: 2^-1 / 2^-22 = 2^21 ULP apart (binade [2, 4) has spacing 2^-22).
  EXPECT_DOUBLE_EQ(m.samples.ulp[0], double(1 << 21));
  // atol needed on top of rtol 1.3e-6 at e = -2: 0.5 - 1.3e-6 * 2.
  EXPECT_NEAR(m.samples.atol_at_rtol[0], 0.5 - 2.6e-6, 1e-12);
  // Per-element std: element 1 takes -2, -2.5, -2 -> sample std = sqrt(1/12).
  EXPECT_NEAR(m.std_max, std::sqrt(1.0 / 12.0), 1e-12);
}

TEST(OutputAccumulator, NanInTheSamePlaceIsTheSame) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  OutputAccumulator acc("out");
  std::vector<float> a = {nan, 1.0f};
  acc.add(view(a));
  acc.add(view(a));
  OutputMetrics m = acc.metrics();
  EXPECT_TRUE(m.bitwise_deterministic());
  EXPECT_EQ(m.nan_first, 1u);

  // A different NaN payload is not bitwise identical but is the same for comparison purposes.
  std::vector<float> other = {-nan, 1.0f};
  acc.add(view(other));
  m = acc.metrics();
  EXPECT_EQ(m.nonfinite_mismatch_runs, 0u);
  EXPECT_EQ(m.samples.abs.back(), 0.0);
}

TEST(OutputAccumulator, MovedNanIsAMismatchAndAnInfiniteSample) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  OutputAccumulator acc("out");
  std::vector<float> a = {nan, 1.0f}, b = {0.0f, nan};
  acc.add(view(a));
  acc.add(view(b));
  const OutputMetrics m = acc.metrics();
  EXPECT_EQ(m.nonfinite_mismatch_runs, 1u);
  EXPECT_TRUE(std::isinf(m.samples.abs[0]));
  EXPECT_FALSE(to_json(m)["nonfinite_positions_stable"].get<bool>());
  EXPECT_EQ(to_json(m)["samples"]["abs"][0], "inf");
}

TEST(OutputAccumulator, ShapeChangeIsAFindingNotACrash) {
  OutputAccumulator acc("out");
  std::vector<float> a = {1, 2, 3}, b = {1, 2};
  acc.add(view(a));
  acc.add(view(b));
  const OutputMetrics m = acc.metrics();
  EXPECT_EQ(m.shape_changes, 1u);
  EXPECT_FALSE(m.bitwise_deterministic());
  EXPECT_TRUE(std::isinf(m.samples.abs[0]));
}

TEST(OutputAccumulator, CosineDistanceOfOppositeVectorsIsTwo) {
  OutputAccumulator acc("out");
  std::vector<float> a = {1, 2}, b = {-1, -2};
  acc.add(view(a));
  acc.add(view(b));
  EXPECT_NEAR(acc.metrics().max_cosine_distance, 2.0, 1e-12);
}

TEST(OutputAccumulator, IntegerOutputsCompareExactly) {
  OutputAccumulator acc("idx");
  std::vector<std::int64_t> a = {3, 7}, b = {3, 9};
  acc.add(TensorView{DType::kInt64, {2}, a.data()});
  acc.add(TensorView{DType::kInt64, {2}, b.data()});
  const OutputMetrics m = acc.metrics();
  EXPECT_EQ(m.samples.abs[0], 2.0);
  EXPECT_EQ(m.rtol_for_margin, 0.0);
}

TEST(OutputAccumulator, HalfPrecisionUlps) {
  OutputAccumulator acc("h");
  std::vector<std::uint16_t> a = {0x3c00}, b = {0x3c02};  // 1.0 and 1.0 + 2 ulp
  acc.add(TensorView{DType::kFloat16, {1}, a.data()});
  acc.add(TensorView{DType::kFloat16, {1}, b.data()});
  const OutputMetrics m = acc.metrics();
  EXPECT_EQ(m.samples.ulp[0], 2.0);
  EXPECT_DOUBLE_EQ(m.samples.abs[0], 2.0 / 1024.0);
}

TEST(OutputAccumulator, MemoryDoesNotGrowWithRunsBeyondScalars) {
  // Distinct outputs are counted by hash up to a cap, so 10k distinct runs keep a bounded set.
  OutputAccumulator acc("out");
  std::vector<float> a(4);
  for (int i = 0; i < 5000; ++i) {
    a[0] = float(i);
    acc.add(view(a));
  }
  const OutputMetrics m = acc.metrics();
  EXPECT_EQ(m.distinct_outputs, OutputAccumulator::kMaxDistinct);
  EXPECT_TRUE(m.distinct_capped);
  EXPECT_EQ(m.samples.abs.size(), 4999u);
}

TEST(OutputAccumulator, ExpectedTensorIsTheReferenceForDeviations) {
  OutputAccumulator acc("out");
  std::vector<float> expected = {1.0f, 2.0f};
  acc.set_expected(view(expected));
  std::vector<float> a = {1.5f, 2.0f}, b = {1.0f, 2.25f};
  acc.add(view(a));
  acc.add(view(a));
  acc.add(view(b));
  const OutputMetrics m = acc.metrics();
  // Every run has a sample (the first too), measured against the expected tensor...
  ASSERT_EQ(m.samples.abs.size(), 3u);
  EXPECT_DOUBLE_EQ(m.samples.abs[0], 0.5);
  EXPECT_DOUBLE_EQ(m.samples.abs[1], 0.5);
  EXPECT_DOUBLE_EQ(m.samples.abs[2], 0.25);
  // ...while bitwise identity is still judged against the first run.
  EXPECT_EQ(m.identical_to_first, 2u);
}

TEST(OutputAccumulator, ExpectedTensorOfAnotherShapeIsAnInputError) {
  OutputAccumulator acc("out");
  std::vector<float> expected = {1.0f, 2.0f, 3.0f}, a = {1.0f, 2.0f};
  acc.set_expected(view(expected));
  EXPECT_THROW(acc.add(view(a)), InputError);
}

TEST(HashBytes, EqualBytesEqualHashDifferentBytesDifferentHash) {
  std::vector<unsigned char> a(1000, 7), b(1000, 7);
  EXPECT_EQ(hash_bytes(a.data(), a.size()), hash_bytes(b.data(), b.size()));
  b[999] = 8;
  EXPECT_NE(hash_bytes(a.data(), a.size()), hash_bytes(b.data(), b.size()));
  b[999] = 7;
  b[0] = 6;
  EXPECT_NE(hash_bytes(a.data(), a.size()), hash_bytes(b.data(), b.size()));
  // Length matters even when the extra bytes are zero.
  std::vector<unsigned char> z1(8, 0), z2(9, 0);
  EXPECT_NE(hash_bytes(z1.data(), z1.size()), hash_bytes(z2.data(), z2.size()));
}

}  // namespace
}  // namespace flakescope
