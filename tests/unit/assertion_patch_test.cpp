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

// normflows: one test line reaching a helper's two comparisons got atol=1.5e-06 (a bound) for
// one and 7.8e-06 (the worst run, weak) for the other; writing 1.5e-06 left the test failing at
// the other comparison. The loosest edit of a line decides whether the line is written.
TEST(AssertionPatch, TheLoosestEditOfALineDecidesEvenWhenItIsWeak) {
  const fs::path root = fs::temp_directory_path() / "flakescope_assertion_patch_loosest";
  fs::remove_all(root);
  fs::create_directories(root / "tests");
  std::ofstream(root / "tests/test_m.py") << "def test_x():\n    check(a, b, atol=1e-07)\n";
  const auto edit = [](const char* atol) {
    return std::string("--- a/tests/test_m.py\n+++ b/tests/test_m.py\n@@ -2 +2 @@\n") +
           "-    check(a, b, atol=1e-07)\n+    check(a, b, atol=" + atol + ")\n";
  };
  model::AssertionSite bound = loosened_site(edit("1.5e-06"));
  bound.recommendation.atol = 1.5e-6;
  model::AssertionSite worst = loosened_site(edit("7.8e-06"));
  worst.recommendation.atol = 7.8e-6;
  worst.recommendation.method = "observed maximum";
  const AssertionPatch held = assertion_patch({bound, worst}, root.string());
  EXPECT_EQ(held.hunks, 0u) << held.diff;
  ASSERT_EQ(held.skipped.size(), 2u);
  EXPECT_NE(held.skipped[0].find("the loosest recommendation for the same edited line"),
            std::string::npos)
      << held.skipped[0];
  EXPECT_NE(held.skipped[1].find("covers the worst of 20 runs"), std::string::npos)
      << held.skipped[1];
  const AssertionPatch written = assertion_patch({bound, worst}, root.string(), true);
  EXPECT_EQ(written.hunks, 1u);
  EXPECT_NE(written.diff.find("+    check(a, b, atol=7.8e-06)"), std::string::npos) << written.diff;
  // Both bounds: the loosest is written; the same weak value backed by a bound is not weak.
  worst.recommendation.method = "tail";
  EXPECT_NE(assertion_patch({bound, worst}, root.string()).diff.find("atol=7.8e-06"),
            std::string::npos);
  bound.diff = worst.diff;
  bound.recommendation.atol = 7.8e-6;
  worst.recommendation.method = "observed maximum";
  EXPECT_EQ(assertion_patch({worst, bound}, root.string()).hunks, 1u);
  fs::remove_all(root);
}

}  // namespace
}  // namespace flakescope::cli

namespace flakescope::cli {
namespace {

// A definition shared with a negated check (`assert not allclose(..., atol=ATOL)`) is never
// loosened: the negated check could start failing.
TEST(AssertionPatch, ADefinitionANegatedCheckReadsIsNotLoosened) {
  const fs::path root = fs::temp_directory_path() / "flakescope_assertion_patch_negated";
  fs::remove_all(root);
  fs::create_directories(root / "tests");
  std::ofstream(root / "tests/test_m.py") << "ATOL = 1e-07\ndef test_x():\n    check()\n";
  model::AssertionSite loosen = loosened_site(
      "--- a/tests/test_m.py\n+++ b/tests/test_m.py\n@@ -1 +1 @@\n-ATOL = 1e-07\n+ATOL = 1e-05\n");
  loosen.recommendation.atol = 1e-5;
  loosen.extra["tolerance_definition"] = "tests/test_m.py:1";
  EXPECT_EQ(assertion_patch({loosen}, root.string()).hunks, 1u);
  model::AssertionSite negated;
  negated.site = "tests/test_m.py:9";
  negated.cls = model::AssertionClass::kNegated;
  negated.extra["tolerance_definition"] = "tests/test_m.py:1";
  const AssertionPatch patch = assertion_patch({loosen, negated}, root.string());
  EXPECT_EQ(patch.hunks, 0u);
  ASSERT_EQ(patch.skipped.size(), 1u);
  EXPECT_NE(patch.skipped[0].find("which the negated check at tests/test_m.py:9 reads too"),
            std::string::npos)
      << patch.skipped[0];
  // Measured far apart (its closest run needed atol 0.5 to count as close: 1e-05 is far under).
  negated.samples.atol_needed = {0.5, 0.8};
  EXPECT_EQ(assertion_patch({loosen, negated}, root.string()).hunks, 1u);
  fs::remove_all(root);
}

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
