#include "core/ulp.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

namespace flakescope {
namespace {

float next_up(float x) {
  return std::nextafter(x, std::numeric_limits<float>::infinity());
}

TEST(UlpDistance, IdenticalValuesAreZeroApart) {
  EXPECT_EQ(ulp_distance(1.5f, 1.5f), 0u);
  EXPECT_EQ(ulp_distance(-3.25, -3.25), 0u);
}

TEST(UlpDistance, AdjacentFloatsAreOneApart) {
  EXPECT_EQ(ulp_distance(1.0f, next_up(1.0f)), 1u);
  EXPECT_EQ(ulp_distance(next_up(next_up(1.0f)), 1.0f), 2u);
}

TEST(UlpDistance, SignedZerosAreEqual) {
  EXPECT_EQ(ulp_distance(0.0f, -0.0f), 0u);
  EXPECT_EQ(ulp_distance(0.0, -0.0), 0u);
}

TEST(UlpDistance, CountsAcrossZeroThroughSubnormals) {
  const float tiny = std::numeric_limits<float>::denorm_min();
  EXPECT_EQ(ulp_distance(tiny, -tiny), 2u);
  EXPECT_EQ(ulp_distance(0.0f, tiny), 1u);
  // The largest subnormal and the smallest normal are neighbours.
  const float min_normal = std::numeric_limits<float>::min();
  EXPECT_EQ(ulp_distance(std::nextafter(min_normal, 0.0f), min_normal), 1u);
  // From -1 to +1: twice the count from 0 to 1 (0x3f800000 values each way).
  EXPECT_EQ(ulp_distance(-1.0f, 1.0f), 2u * 0x3f800000u);
}

TEST(UlpDistance, InfinityIsOneAboveMaxFinite) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ulp_distance(std::numeric_limits<float>::max(), inf), 1u);
  EXPECT_EQ(ulp_distance(inf, inf), 0u);
}

TEST(UlpDistance, NanAgainstNanIsSameNanAgainstNumberIsMismatch) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(ulp_distance(nan, nan), 0u);
  EXPECT_EQ(ulp_distance(nan, 1.0f), kUlpNaNMismatch);
  EXPECT_EQ(ulp_distance(std::numeric_limits<double>::quiet_NaN(), 0.0), kUlpNaNMismatch);
}

TEST(UlpDistance, HalfAndBFloat16) {
  // 1.0 in half is 0x3c00, the next value 0x3c01; -0 is 0x8000.
  EXPECT_EQ(ulp_distance_half(0x3c00, 0x3c01), 1u);
  EXPECT_EQ(ulp_distance_half(0x0000, 0x8000), 0u);
  EXPECT_EQ(ulp_distance_half(0x0001, 0x8001), 2u);
  EXPECT_EQ(ulp_distance_half(0x7e00, 0x3c00), kUlpNaNMismatch);
  EXPECT_EQ(ulp_distance_bfloat16(0x3f80, 0x3f82), 2u);
  EXPECT_EQ(ulp_distance_bfloat16(0x7fc0, 0x7fc0), 0u);
}

}  // namespace
}  // namespace flakescope
