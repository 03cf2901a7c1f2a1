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

#include "audit/run_record.h"
#include "flakescope/report_model.h"

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
// on every site as `dropped_captures`. Lines without measurements (the plugin's {"error": ...})
// count towards the failure rate through "passed" and as `unmeasured_calls`.
//
// Returns the report's assertion sites (include/flakescope/report_model.h), one per (test, site,
// dtype, rtol, atol), sorted by observed failure rate (highest first), then by test and site:
// the arguments in force, the per-trial samples, the failure rate with its intervals, the
// estimated failure rate of the current arguments, the verdict (capture_verdict.h), the
// recommendation, and a suggestion with a unified diff of the test's line where one can be
// written safely.
std::vector<model::AssertionSite> analyze_captures(const std::vector<nlohmann::json>& run_records,
                                                   const stats::ToleranceOptions& options);

std::vector<model::AssertionSite> analyze_captures(const std::vector<nlohmann::json>& run_records,
                                                   const stats::ToleranceOptions& options,
                                                   const CaptureAnalysisOptions& capture_options);

// The same for an audit's records as they are (no run log lines built from them first): a
// record's captures and its testcases' outcomes.
std::vector<model::AssertionSite> analyze_record_captures(
    const std::vector<audit::RunRecord>& records, const stats::ToleranceOptions& options);

// Sets the cause of the audit's stable-fail tests whose assertion sites say why ("deterministic
// mismatch", "dtype mismatch", ...): a broken test, not a flaky one.
void annotate_test_causes(model::AuditBody& audit);

// The sites of repeat-dependent tests (in-process, each later repetition started from what the
// one before left): their values measure that leftover state, not the code's variation, so no
// tolerance is recommended for them.
void hold_repeat_dependent_sites(model::AuditBody& audit);

// A test stops at its first failing check: a site after it is measured only in the runs where
// the earlier checks passed, and a failing site hides what follows it. Both are said in the
// site's suggestion ("apply, then audit again").
void note_checks_a_failure_hid(model::AuditBody& audit);

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
