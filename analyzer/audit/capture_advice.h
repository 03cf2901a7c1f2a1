#pragma once
// The advice of one assertion site: the sentence a maintainer reads ("`assert_close(...,
// atol=3e-06)` keeps failures <= 1e-4 at 95%", "undecided: ...", "deterministic: ...") and the
// unified diff of the test's line(s), from the site's recommendation and verdict. Internal to
// flakescope_audit (used by capture_analysis.cpp). LibTorch-free.
#include "audit/capture_analysis.h"
#include "audit/capture_verdict.h"
#include "flakescope/report_model.h"
#include "stats/recommend.h"

namespace flakescope::capture_internal {

// Fills the site's "suggestion" and, where a line can be edited safely, its "diff".
void suggest(model::AssertionSite& site, const CaptureAnalysisOptions& capture_options,
             const stats::ToleranceOptions& options, const SiteFacts& facts,
             const Verdict& verdict);

}  // namespace flakescope::capture_internal
