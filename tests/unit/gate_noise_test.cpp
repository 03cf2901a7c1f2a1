// The gate must not be flaky: an unchanged nondeterministic probe, re-measured many times with
// fresh noise, never fails against its own baseline (seeded, so this test is itself deterministic).
#include <gtest/gtest.h>

#include "gate/gate.h"
#include "gate_test_support.h"

namespace flakescope {
namespace {

using namespace flakescope::testing;

json noisy_suite(std::mt19937_64& rng) {
  // A suite with the shapes the gate meets in practice: deterministic, thread-dependent, racy with
  // rare changes, racy with frequent changes.
  return probe_report(
      {probe("ops/det", {setting("controlled", std::vector<double>(49, 0))}),
       probe("ops/threads",
             {setting("controlled", std::vector<double>(49, 0)),
              setting("free:threads", noisy_samples(rng, 49, 3e-5, 0.5))},
             {"threads"}),
       probe("calibration/rare", {setting("controlled", noisy_samples(rng, 49, 1e-6, 0.9))}),
       probe("calibration/racy_sum", {setting("controlled", noisy_samples(rng, 49, 1e-6, 0.1))})});
}

TEST(GateNoise, NoFalseFailureInTwoHundredRepeatsOfAnUnchangedNoisySuite) {
  std::mt19937_64 rng(20261125);
  const json baseline = noisy_suite(rng);
  int failures = 0;
  for (int i = 0; i < 200; ++i)
    failures += !gate_json(baseline, noisy_suite(rng), GatePolicy{}).passed;
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace flakescope
