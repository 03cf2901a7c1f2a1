#pragma once
// The assertions section of an audit report (`audit --capture`), in the terminal summary, Markdown
// and HTML: the sites that need action (loosen, fix, review, negated) one per line with file:line,
// the current and recommended arguments and the estimated failure rate; the fine ones collapsed to
// a count. HTML adds, per listed site, the histogram of the per-run deviations with the current
// and the recommended bound. Rendered from the report's assertion sites alone; empty when the
// report has none.
#include <string>
#include <vector>

#include "flakescope/report_model.h"
#include "report/reporters.h"

namespace flakescope::report {

std::string assertion_section(const std::vector<model::AssertionSite>& sites, ReportFormat format);
// The same for an audit with --capture, and a line naming how many tests that ran made no
// comparison the capture recognises (their checks are out of its sight: a bare `assert ok` of a
// boolean, a helper that compares element by element itself): empty when the audit has no sites.
std::string assertion_section(const model::AuditBody& audit, ReportFormat format);
// One site's advice as the section prints it: the suggestion (or verdict) and the helper it went
// through ("[via tests/base.py:58, compared at tests/base.py:31]").
std::string assertion_note(const model::AssertionSite& site);
// The site as the section names it: "file:line", with the dtype and arguments when the line has
// several argument sets (two entries of one line must read apart).
std::string assertion_site_label(const model::AssertionSite& site);

}  // namespace flakescope::report
