#pragma once
// Assertion-level capture analysis: turns the capture lines that the pytest plugin and
// flakescope::expect_close recorded across the runs of an audit into, per assertion site, the
// failure rate of the arguments in force and the arguments to write instead.
//
// A "trial" is one (run, repeat) pair: a run in process isolation, or one in-process repetition
// (the plugin's FLAKESCOPE_REPEAT). Per (test, site) and trial the calls at that site are reduced
// to their worst values (max atol_needed, max_abs, max_rel; failed when any call failed), because
// one trial fails when its worst call does.
//
// LibTorch-free.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flakescope {
namespace stats {
struct ToleranceOptions;  // analyzer/stats/recommend.h
}

struct CaptureAnalysisOptions {
  // Folder that the "site" paths (file:line) are relative to: the audit's working directory.
  // Used to read the assertion's source line for the diff-style suggestion; empty = current dir.
  std::string source_root;
};

// `run_records` are run log lines (the audit --log format): each may carry
// "run", "seed" and "captures" (an array of capture lines). Records without captures are skipped;
// capture lines that are not objects or name no "site" cannot be attributed: their count is put
// on every entry as "dropped_captures". Lines without measurements (the plugin's {"error": ...})
// count towards the failure rate through "passed" and as "unmeasured_calls".
//
// Returns the "assertions" array of an audit report, one object per (test, site), sorted by
// current failure rate (highest first), then by test and site:
//   {"test", "site", "file", "line", "api", "name", "dtype", "shape",
//    "calls": total calls, "trials": trials seen,
//    "rtol", "atol": the arguments in force (the most frequent pair),
//    "samples": {"atol_needed": [...], "max_abs": [...], "max_rel": [...]}  (one per trial),
//    "failure_rate": {"failures", "trials", "point", "wilson": [lo, hi],
//                     "clopper_pearson": [lo, hi], "upper_one_sided", "confidence"},
//    "nonfinite_mismatches": trials where a NaN/Inf did not match,
//    "recommendation": {"atol": ..., "rtol": ..., "method": ..., "target": ..., "confidence": ...,
//                       "details": <the statistics engine's recommendation>},
//    "retries": k with p^(k+1) <= target for the current arguments (null when p cannot be
//               brought under the target by retries),
//    "suggestion": "`torch.testing.assert_close(out, ref, rtol=1.3e-06, atol=4.2e-05)` keeps
//                   failures <= 1e-4 at 95%",
//    "diff": "--- a/tests/test_x.py\n+++ b/tests/test_x.py\n@@ -42 +42 @@\n-...\n+..." or null}
nlohmann::json analyze_captures(const std::vector<nlohmann::json>& run_records,
                                const stats::ToleranceOptions& options);

nlohmann::json analyze_captures(const std::vector<nlohmann::json>& run_records,
                                const stats::ToleranceOptions& options,
                                const CaptureAnalysisOptions& capture_options);

// Sets "cause" on the report's stable-fail "tests" entries whose assertion sites say why
// ("deterministic mismatch", "dtype mismatch", ...): a broken test, not a flaky one.
void annotate_test_causes(nlohmann::json& report);

// A capture file (JSON lines, as the plugin and expect_close append them) read back. A test process
// that is killed mid-write leaves a torn last line, and a target may write garbage: such lines are
// counted, not fatal, because they are evidence about the target, not bad input to flakescope.
struct CaptureFile {
  std::vector<nlohmann::json> captures;  // the lines that are JSON objects
  std::size_t malformed_lines = 0;
};

// A missing file is an empty CaptureFile (the target made no assertion call); an unreadable one
// throws InputError naming the file.
CaptureFile read_capture_file(const std::string& path);

}  // namespace flakescope
