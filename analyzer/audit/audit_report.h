#pragma once
// The audit report (kind "audit"), built from run records alone so that a live audit, a resumed
// one and `flakescope merge` of shards give the same statistics for the same runs.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/run_record.h"
#include "audit/test_tally.h"
#include "flakescope/report_model.h"

namespace flakescope::audit {

struct AuditReportInputs {
  nlohmann::json header;             // new_report("audit", ...) / cli::new_cli_report
  std::vector<std::string> command;  // the audited command
  nlohmann::json config = nlohmann::json::object();  // AuditOptions::to_json()
  std::vector<std::string> settings;  // setting order (the first is the ablation's reference)
  double target = 1e-4;
  double confidence = 0.95;
  bool partial = false;
  bool ablation = false;
  std::size_t max_failing_runs = 5;
  std::size_t max_timeline = 200;
};

model::TestClass classify(const TestTally& tally);

// One entry of "tests": counts, failure rate with intervals, classification, retries, durations,
// a few failing runs with the line that replays each, and the timeline.
model::AuditTest test_entry(const TestTally& tally, const AuditReportInputs& in);

model::Report build_audit_report(const AuditReportInputs& in,
                                 const std::vector<RunRecord>& records);

// 1 when any test (or the command) is flaky, crashing or timing out, else 0.
int audit_exit_code(const model::Report& report);

}  // namespace flakescope::audit
