// A user's test: a float32 sum in a seed-dependent order against a float64 reference, asserted
// with flakescope's capture macro so `flakescope audit --capture` can recommend the tolerance.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstdlib>
#include <string>

#include "flakescope/capture.h"
#include "flakescope/version.h"

namespace {

std::uint64_t seed_from_environment() {
  const char* s = std::getenv("FLAKESCOPE_SEED");
  return s && *s ? std::stoull(s) : 0;
}

TEST(Consumer, PermutedSumIsCloseToTheReference) {
  at::manual_seed(seed_from_environment());
  const at::Tensor x = at::randn({4096}, at::kFloat);
  const at::Tensor reference = x.to(at::kDouble).sum().to(at::kFloat);
  const at::Tensor permuted = x.index_select(0, at::randperm(4096)).cumsum(0)[-1];
  EXPECT_TRUE(FLAKESCOPE_EXPECT_CLOSE(permuted, reference, 1.3e-6, 1e-5));
}

TEST(Consumer, VersionHeaderIsInstalled) { EXPECT_FALSE(std::string(FLAKESCOPE_VERSION).empty()); }

}  // namespace
