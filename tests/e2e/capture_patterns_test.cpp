// End to end: `flakescope audit --capture` of the pattern fixture (tests/fixtures/capture: a
// package whose testing helper wraps assert_close, and one test per assertion style), then the
// report's site, class and advice per pattern, the terminal/Markdown/HTML section, `tolerance
// AUDIT.json`, and `fix --out` applied by `git apply`. Needs /usr/bin/python3 with torch and
// pytest.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "core/report.h"
#include "core/subprocess.h"

namespace flakescope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr const char* kPython = "/usr/bin/python3";

class CapturePatterns : public e2e::ScratchDirTest {
 protected:
  void SetUp() override {
    e2e::ScratchDirTest::SetUp();
    ProcessSpec check;
    check.argv = {kPython, "-c", "import torch, pytest"};
    if (!run_process(check).succeeded()) GTEST_SKIP() << kPython << " lacks torch or pytest";
    fs::copy(std::string(FLAKESCOPE_TEST_FIXTURES) + "/capture", dir_,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    // Line numbers by the `# site:<key>` markers.
    std::ifstream in(path("tests/test_patterns.py"));
    std::string text;
    for (int n = 1; std::getline(in, text); ++n) {
      const auto at = text.find("# site:");
      if (at != std::string::npos) lines_[text.substr(at + 7)] = n;
    }
  }
  e2e::EnvChanges env() const {
    return {{"PYTHONPATH", dir_.string()}, {"PYTHONDONTWRITEBYTECODE", "1"}};
  }
  // The report entries at a marker's line.
  std::vector<json> at(const json& report, const std::string& key) const {
    const std::string site = "tests/test_patterns.py:" + std::to_string(lines_.at(key));
    std::vector<json> out;
    for (const auto& a : report["assertions"])
      if (a["site"] == site) out.push_back(a);
    return out;
  }
  std::map<std::string, int> lines_;
};

std::string text_of(const json& e) {
  return e["suggestion"].get<std::string>();
}

TEST_F(CapturePatterns, EachPatternGetsItsSiteClassAndAdvice) {
  const auto audit =
      e2e::run_cli({"audit", "--capture", "--runs", "6", "--seed", "11", "--isolation", "inprocess",
                    "--out", "audit.json", "--", kPython, "-m", "pytest", "-q", "-p",
                    "no:cacheprovider", "tests/test_patterns.py"},
                   dir_.string(), env(), 600);
  ASSERT_LE(audit.code, 1) << audit.err;
  const json report = json::parse(read_file(path("audit.json")));
  ASSERT_TRUE(report.contains("assertions")) << audit.err;

  // 1. Helper: the site is the test's line, the helper kept as via.
  auto helper = at(report, "helper_override");
  ASSERT_EQ(helper.size(), 1u) << report["assertions"].dump();
  EXPECT_EQ(helper[0]["via"], "minipkg/testing.py:8");
  EXPECT_EQ(helper[0]["tolerance_at"], "site");
  auto fixed = at(report, "helper_fixed");
  ASSERT_EQ(fixed.size(), 1u);
  // The helper takes no per-call override; its comparison's line is the project's and passes
  // literals: the edit is there, for every caller.
  EXPECT_NE(text_of(fixed[0]).find("the tolerance lives in the helper assert_outputs_match() at "
                                   "minipkg/testing.py:13, which takes no per-call override: the "
                                   "edit is there, for every caller"),
            std::string::npos)
      << text_of(fixed[0]);
  ASSERT_TRUE(fixed[0]["diff"].is_string()) << fixed[0].dump();
  EXPECT_NE(fixed[0]["diff"].get<std::string>().find(
                "--- a/minipkg/testing.py\n+++ b/minipkg/testing.py\n@@ -13 +13 @@\n"),
            std::string::npos)
      << fixed[0]["diff"];

  // The helper's comparison spread over lines with torch's default tolerances (torchkbnufft's
  // conftest): the edit adds atol= to that call, for every caller.
  auto multiline = at(report, "helper_multiline");
  ASSERT_EQ(multiline.size(), 1u) << report["assertions"].dump();
  ASSERT_TRUE(multiline[0]["diff"].is_string()) << multiline[0].dump();
  EXPECT_NE(multiline[0]["diff"].get<std::string>().find("+        actual, expected, atol="),
            std::string::npos)
      << multiline[0]["diff"];

  // A helper handing **kwargs on to the comparison: the test's keywords are the override, edited
  // at the test's line; the helper's `*args, **kwargs` line is never edited.
  auto forwarded = at(report, "forwarded");
  ASSERT_EQ(forwarded.size(), 1u) << report["assertions"].dump();
  EXPECT_EQ(forwarded[0]["tolerance_at"], "site") << forwarded[0].dump();
  ASSERT_TRUE(forwarded[0]["diff"].is_string()) << forwarded[0].dump();
  EXPECT_NE(
      forwarded[0]["diff"].get<std::string>().find("rtol=0.0, atol=8.3e-05)  # site:forwarded"),
      std::string::npos)
      << forwarded[0]["diff"];

  // 2. Constant fp16 error: deterministic, the smallest covering bound, the test broken.
  auto constant = at(report, "constant_fail");
  ASSERT_EQ(constant.size(), 1u);
  EXPECT_EQ(constant[0]["class"], "deterministic");
  EXPECT_EQ(constant[0]["recommendation"]["action"], "loosen");
  EXPECT_DOUBLE_EQ(constant[0]["recommendation"]["atol"].get<double>(), 8.3e-5);
  EXPECT_NE(text_of(constant[0]).find("deterministic: off by 8.138e-05 on every run (6 runs)"),
            std::string::npos)
      << text_of(constant[0]);
  for (const auto& t : report["tests"])
    if (t["name"] == "tests/test_patterns.py::test_constant_error_fails") {
      EXPECT_EQ(t["classification"], "stable-fail");
      EXPECT_EQ(t["cause"], "deterministic mismatch");
    }
  EXPECT_EQ(at(report, "constant_pass")[0]["recommendation"]["action"], "keep");
  // The same call in black's layout: the diff edits atol on its own line.
  auto spread = at(report, "multiline");
  ASSERT_EQ(spread.size(), 1u) << report["assertions"].dump();
  EXPECT_EQ(spread[0]["class"], "deterministic");
  ASSERT_TRUE(spread[0]["diff"].is_string()) << spread[0].dump();
  EXPECT_NE(spread[0]["diff"].get<std::string>().find("-        atol=1e-5,\n"), std::string::npos)
      << spread[0]["diff"];
  EXPECT_NE(spread[0]["diff"].get<std::string>().find("+        atol=8.3e-05,\n"),
            std::string::npos)
      << spread[0]["diff"];

  // 3. dtype mismatch: no tolerance fixes it, never "keep".
  auto dtype = at(report, "dtype");
  ASSERT_EQ(dtype.size(), 1u);
  EXPECT_EQ(dtype[0]["class"], "broken");
  // (And, like any failing site, that the checks after it went unmeasured.)
  EXPECT_EQ(text_of(dtype[0]),
            "fails for a reason no tolerance fixes: dtype float16 != float32 (6 runs); the test "
            "stopped here in 6 runs, so the checks after this line, if any, went unmeasured there");

  // 4. Negated checks: detected, never loosened.
  for (const char* key : {"negated_not", "negated_raises", "false_allclose", "negated_inferred"}) {
    auto n = at(report, key);
    ASSERT_EQ(n.size(), 1u) << key;
    EXPECT_EQ(n[0]["class"], "negated") << key;
    EXPECT_EQ(n[0]["recommendation"]["action"], "keep") << key;
    EXPECT_EQ(n[0]["diff"], nullptr) << key;
    EXPECT_NE(text_of(n[0]).find("never loosen"), std::string::npos) << key;
  }
  // No "not" in the source: the helper negates in its body; the outcomes tell.
  EXPECT_NE(at(report, "negated_inferred")[0]["verdict"].get<std::string>().find(
                "inferred: the test passed in 6 runs where this call found the values not close"),
            std::string::npos)
      << at(report, "negated_inferred")[0].dump();

  // 5. One line, two tolerances: two entries, the tight one loosened, the loose one kept.
  auto two = at(report, "two_tolerances");
  ASSERT_EQ(two.size(), 2u);
  for (const auto& e : two) {
    EXPECT_EQ(e["argument_sets_at_site"], 2);
    EXPECT_EQ(e["diff"], nullptr);  // `atol=atol` comes from the loop: no literal to write
    if (e["atol"] == 1e-3) {
      EXPECT_EQ(e["failure_rate"]["failures"], 0);
    }
  }

  // 6. Styles: thresholds (the recommendation is the threshold), unittest, exact.
  for (const char* key : {"threshold_abs", "threshold_cos", "less"}) {
    auto t = at(report, key);
    ASSERT_EQ(t.size(), 1u) << key;
    EXPECT_EQ(t[0]["api"], "threshold") << key;
    EXPECT_EQ(t[0]["trials"], 6) << key;
  }
  EXPECT_EQ(at(report, "almost")[0]["api"], "unittest.assertAlmostEqual");
  EXPECT_EQ(at(report, "almost")[0]["atol"], 5e-7);
  EXPECT_EQ(at(report, "true_allclose")[0]["api"], "torch.allclose");
  auto exact = at(report, "exact");
  ASSERT_EQ(exact.size(), 1u);
  EXPECT_EQ(exact[0]["class"], "bitwise");
  EXPECT_EQ(text_of(exact[0]),
            "bitwise equal on every run (6 runs): the compared values never differed");

  // gradcheck: measured from the Jacobian comparisons inside torch, in the call's atol.
  auto gradcheck = at(report, "gradcheck");
  ASSERT_EQ(gradcheck.size(), 1u);
  EXPECT_EQ(gradcheck[0]["api"], "torch.autograd.gradcheck");
  EXPECT_EQ(gradcheck[0]["atol"], 1e-5);
  EXPECT_EQ(gradcheck[0]["rtol"], 0);
  // The seeded backward error is N(0, 6e-6) on 6 elements: its largest passes 1e-5 in 2 of the
  // 6 runs (seed 11), and the worst run needs 1.2e-5.
  EXPECT_EQ(gradcheck[0]["failure_rate"]["failures"], 2) << gradcheck[0].dump();
  EXPECT_EQ(gradcheck[0]["recommendation"]["action"], "loosen");
  ASSERT_TRUE(gradcheck[0]["diff"].is_string()) << gradcheck[0].dump();
  EXPECT_NE(gradcheck[0]["diff"].get<std::string>().find(
                "+    torch.autograd.gradcheck(lambda t: SeededErrorSin.apply(t, error), (x,), "
                "rtol=0, atol=1.3e-05)"),
            std::string::npos)
      << gradcheck[0]["diff"];

  // A test-file helper with no override passes a literal to the package's helper (gpytorch's
  // `self.assertAllClose(..., atol=1e-6)` in a test's `_check_sum`): the edit is on that line.
  auto inside = at(report, "literal_inside");
  ASSERT_EQ(inside.size(), 1u);
  if (inside[0]["recommendation"]["action"] == "loosen") {
    ASSERT_TRUE(inside[0]["diff"].is_string()) << inside[0].dump();
    EXPECT_NE(inside[0]["diff"].get<std::string>().find(
                  "@@ -" + std::to_string(lines_["literal_inside_helper"]) + " +"),
              std::string::npos)
        << inside[0]["diff"];
    EXPECT_NE(text_of(inside[0]).find("the tolerance lives in the helper _tight_check() at "
                                      "tests/test_patterns.py:" +
                                      std::to_string(lines_["literal_inside_helper"])),
              std::string::npos)
        << text_of(inside[0]);
  } else {
    ADD_FAILURE() << "expected a loosen: " << inside[0].dump();
  }

  // captum's helper layout: the tolerance is `delta`, passed by position; the fix edits that
  // argument (not an `atol=` the helper does not take).
  auto delta = at(report, "delta_positional");
  ASSERT_EQ(delta.size(), 1u);
  EXPECT_EQ(delta[0]["recommendation"]["action"], "loosen");
  ASSERT_TRUE(delta[0]["diff"].is_string()) << delta[0].dump();
  EXPECT_NE(delta[0]["diff"].get<std::string>().find(
                "torch.full((8,), 1.0 / 3.0, dtype=torch.float64), 0.00066)  # site:"),
            std::string::npos)
      << delta[0]["diff"];

  // A parametrized test: one site per case on one line; the fix writes the loosest of them.
  EXPECT_EQ(at(report, "parametrized").size(), 2u);

  // 7. Where people look: terminal summary, Markdown, HTML, tolerance, fix.
  EXPECT_NE(audit.out.find("Assertions: "), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("tests/test_patterns.py:" + std::to_string(lines_["dtype"]) + "  fix"),
            std::string::npos)
      << audit.out;
  const auto tolerance = e2e::run_cli({"tolerance", "audit.json"}, dir_.string());
  EXPECT_EQ(tolerance.code, 0) << tolerance.err;
  EXPECT_NE(tolerance.out.find("deterministic: off by"), std::string::npos) << tolerance.out;
  // Options that change the model or the target analyse each site's samples again with them.
  const auto light =
      e2e::run_cli({"tolerance", "audit.json", "--assume", "light-tail"}, dir_.string());
  EXPECT_EQ(light.code, 0) << light.err;
  EXPECT_NE(light.out.find("assuming a light tail"), std::string::npos) << light.out;
  EXPECT_NE(light.out.find("tests/test_patterns.py:" + std::to_string(lines_["helper_override"])),
            std::string::npos)
      << light.out;

  const auto fix = e2e::run_cli({"fix", "audit.json", "--out", "fix.patch"}, dir_.string());
  ASSERT_EQ(fix.code, 0) << fix.err;
  const std::string patch = read_file(path("fix.patch"));
  // The gradcheck's atol covers the worst of 6 runs, no more: left out unless asked for.
  const std::string gradcheck_site =
      "tests/test_patterns.py:" + std::to_string(lines_["gradcheck"]);
  EXPECT_NE(fix.err.find("left out " + gradcheck_site +
                         " (loosen): its value covers the worst of 6 runs, no more"),
            std::string::npos)
      << fix.err;
  EXPECT_EQ(patch.find("SeededErrorSin"), std::string::npos) << patch;
  const auto weak = e2e::run_cli({"fix", "audit.json", "--include-weak"}, dir_.string());
  EXPECT_EQ(weak.code, 0) << weak.err;
  EXPECT_NE(weak.out.find("rtol=0, atol=1.3e-05)  # site:gradcheck"), std::string::npos)
      << weak.out;
  EXPECT_NE(patch.find("atol=8.3e-05"), std::string::npos) << patch;
  EXPECT_NE(patch.find("+    assert_close(third_in_half() * scale, torch.full((8,), scale / 3.0, "
                       "dtype=torch.float64), rtol=0, atol=0.00017)  # site:parametrized"),
            std::string::npos)
      << patch << fix.err;
  ProcessSpec apply;
  apply.argv = {"git", "apply", "--check", "fix.patch"};
  apply.cwd = dir_.string();
  const ProcessResult applied = run_process(apply);
  EXPECT_TRUE(applied.succeeded()) << applied.stderr_tail << patch;
  // The call spread over several lines is in the patch too, as the one line it changes.
  EXPECT_NE(patch.find("-        atol=1e-5,\n+        atol=8.3e-05,"), std::string::npos) << patch;
  // Applied, the loosened tests pass.
  apply.argv = {"git", "apply", "fix.patch"};
  ASSERT_TRUE(run_process(apply).succeeded());
  ProcessSpec rerun;
  rerun.argv = {kPython,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/test_patterns.py",
                "-k",
                "constant_error_fails or constant_error_over_lines or delta_helper_positional or "
                "parametrized_constant_error"};
  rerun.cwd = dir_.string();
  const ProcessResult patched = run_process(rerun);
  EXPECT_TRUE(patched.succeeded()) << patched.stdout_tail << patch;
  apply.argv = {"git", "apply", "-R", "fix.patch"};
  ASSERT_TRUE(run_process(apply).succeeded());
  // --out never replaces a file.
  const auto again = e2e::run_cli({"fix", "audit.json", "--out", "fix.patch"}, dir_.string());
  EXPECT_EQ(again.code, 2);
  EXPECT_NE(again.err.find("writes only a new file"), std::string::npos) << again.err;
  // From a folder where no site's file is: edits were due and none could be read, exit 2.
  fs::create_directories(dir_ / "elsewhere");
  const auto lost =
      e2e::run_cli({"fix", "../audit.json", "--out", "lost.patch"}, (dir_ / "elsewhere").string());
  EXPECT_EQ(lost.code, 2) << lost.err;
  EXPECT_NE(lost.err.find("flakescope fix: error: no edit written: the files of "),
            std::string::npos)
      << lost.err;
  EXPECT_FALSE(fs::exists(dir_ / "elsewhere" / "lost.patch"));
}

}  // namespace
}  // namespace flakescope
