#include "cli/audit_suite.h"

#include "audit/audit_report.h"
#include "audit/pytest_repetition_source.h"
#include "audit/suite_allocation.h"
#include "cli/audit_output.h"
#include "cli/report_output.h"
#include "core/report.h"
#include "flakescope/error.h"

namespace flakescope::cli {
namespace {

// pytest-flakefinder's default is 50 runs per test; 200 is what it takes to see 2% failures.
constexpr std::size_t kBaselineRunsPerTest = 200;

void print_allocation_summary(const model::Allocation& section, std::ostream& out) {
  out << "\nadaptive allocation: " << section.executions << " test executions in "
      << section.batches << " batches (" << section.baseline_executions << " for "
      << section.baseline_runs_per_test << " runs of every test)\n";
  for (const auto& [kind, e] : section.evidence)
    out << "  " << kind << ": " << e.tests << " tests, " << e.runs << " runs\n";
  for (const auto& t : section.tests) {
    if (t.verdict == "stable-pass" || t.verdict == "skipped") continue;
    out << "  " << t.verdict << "  " << t.name << " (" << t.runs << " runs, " << t.evidence
        << "): " << t.reason << "\n";
  }
}

}  // namespace

int run_suite_audit(const CommandArgs& a, const audit::AuditOptions& o,
                    const nlohmann::json& config, audit::RunLogWriter* log,
                    const std::string& out_path, const std::atomic<bool>* cancel) {
  audit::AllocationOptions alloc;
  alloc.max_runs = o.runs;
  alloc.confidence = o.confidence;
  alloc.seed = o.seed;
  audit::ProcessExecutor executor;
  audit::PytestRepetitionSource source(o, executor, cancel);
  if (o.shard_count > 1) {
    const std::vector<std::string> collected = source.collect();
    alloc.tests = audit::shard_tests(collected, o.shard_index, o.shard_count);
    a.err << "flakescope audit: shard " << o.shard_index << "/" << o.shard_count << ": "
          << alloc.tests.size() << " of " << collected.size() << " tests\n";
    if (alloc.tests.empty())
      throw InputError("shard " + std::to_string(o.shard_index) + "/" +
                       std::to_string(o.shard_count) + " has no test: the suite has only " +
                       std::to_string(collected.size()) + " (use fewer shards)");
  }
  const auto on_batch = [&](std::size_t tests, std::size_t first, std::size_t count) {
    a.err << "flakescope audit: runs " << first << ".." << first + count - 1 << " of "
          << (tests == 0 ? std::string("every test") : std::to_string(tests) + " undecided tests")
          << "\n";
  };
  const audit::SuiteAuditResult result =
      audit::run_suite_allocation(source, alloc, o.jobs, cancel, on_batch);
  const std::vector<audit::RunRecord> records =
      audit::allocation_records(result.observations, o.settings.front().name, o.seed);
  if (log)
    for (const auto& r : records) log->append(r);

  audit::AuditReportInputs in;
  in.header = new_cli_report("audit", a.argv);
  in.command = o.command;
  in.config = config;
  in.settings = {o.settings.front().name};
  in.target = o.target;
  in.confidence = o.confidence;
  in.partial = result.interrupted;
  const model::Allocation section = audit::allocation_section(result, alloc, kBaselineRunsPerTest);
  const auto add_allocation = [&](model::Report& report) { report.audit.allocation = section; };
  const model::Report report =
      write_audit_report(in, records, o.capture, out_path, a.out, add_allocation);
  print_allocation_summary(section, a.out);
  a.err << "flakescope audit: report written to " << out_path
        << (log ? ", run log " + log->path() : std::string()) << "\n";
  if (result.interrupted) return kExitInterrupted;
  for (const auto& t : section.tests)
    if (t.verdict != "stable-pass" && t.verdict != "skipped") return kExitFinding;
  return audit::audit_exit_code(report) == 1 ? kExitFinding : kExitOk;
}

}  // namespace flakescope::cli
