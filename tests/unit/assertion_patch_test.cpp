// `flakescope fix` writes what a maintainer can apply without thinking twice: a recommendation
// that is mostly extrapolation (pyro: atol=110 where 20 runs needed at most 0.09) or covers only
// the worst observed run is left out, and said why, unless --include-weak.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/assertion_patch.h"

namespace flakescope::cli {
namespace {

namespace fs = std::filesystem;

model::AssertionSite loosened_site(const std::string& diff) {
  model::AssertionSite s;
  s.test = "tests/test_m.py::test_x";
  s.site = "tests/test_m.py:2";
  s.file = "tests/test_m.py";
  s.line = 2;
  s.trials = 20;
  s.recommendation.action = model::AssertionAction::kLoosen;
  s.recommendation.atol = 110;
  s.recommendation.method = "tail";
  s.diff = diff;
  return s;
}

TEST(AssertionPatch, MostlyExtrapolationIsLeftOutUnlessAskedFor) {
  const fs::path root = fs::temp_directory_path() / "flakescope_assertion_patch_test";
  fs::remove_all(root);
  fs::create_directories(root / "tests");
  std::ofstream(root / "tests/test_m.py") << "def test_x():\n    assert_close(a, b, atol=0.2)\n";
  const std::string diff =
      "--- a/tests/test_m.py\n+++ b/tests/test_m.py\n@@ -2 +2 @@\n"
      "-    assert_close(a, b, atol=0.2)\n+    assert_close(a, b, atol=110)\n";
  model::AssertionSite site = loosened_site(diff);
  site.recommendation.extrapolation = 1200;
  const AssertionPatch held = assertion_patch({site}, root.string());
  EXPECT_EQ(held.hunks, 0u);
  ASSERT_EQ(held.skipped.size(), 1u);
  EXPECT_NE(held.skipped[0].find("its value is 1.2e+03 times the largest deviation of 20 runs, "
                                 "mostly extrapolation"),
            std::string::npos)
      << held.skipped[0];
  const AssertionPatch written = assertion_patch({site}, root.string(), /*include_weak=*/true);
  EXPECT_EQ(written.hunks, 1u);
  EXPECT_NE(written.diff.find("+    assert_close(a, b, atol=110)"), std::string::npos)
      << written.diff;
  site.recommendation.extrapolation.reset();
  EXPECT_EQ(assertion_patch({site}, root.string()).hunks, 1u);
  fs::remove_all(root);
}

}  // namespace
}  // namespace flakescope::cli

namespace flakescope::cli {
namespace {

TEST(AssertionPatch, AThresholdWithoutALiteralSaysWhereToChangeIt) {
  model::AssertionSite site;
  site.site = "tests/test_v.py:148";
  site.api = "threshold";
  site.recommendation.action = model::AssertionAction::kLoosen;
  site.recommendation.atol = 0.02;
  const AssertionPatch patch = assertion_patch({site}, ".");
  ASSERT_EQ(patch.skipped.size(), 1u);
  EXPECT_NE(patch.skipped[0].find("its threshold is not a number written on that line"),
            std::string::npos)
      << patch.skipped[0];
}

}  // namespace
}  // namespace flakescope::cli
