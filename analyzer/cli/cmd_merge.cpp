// `flakescope merge LOG... [--out REPORT]`: combines audit run logs from several machines or CI
// shards (`flakescope audit --shard K/N --log ...`) into one report, with the same statistics as
// one long run. Exit 0 nothing flaky, 1 flaky/crashing/timing out, 2 bad input.
#include <boost/program_options.hpp>

#include "audit/audit_report.h"
#include "audit/capture_analysis.h"
#include "audit/environment_matrix.h"
#include "audit/run_log.h"
#include "audit/shard_set.h"
#include "cli/audit_output.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/report_output.h"
#include "cli/step_summary.h"
#include "core/output_file.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "report/reporters.h"
#include "stats/recommend.h"

namespace po = boost::program_options;

namespace flakescope::cli {
namespace {

// Before anything is read or written: the report and the merged log are distinct files and
// neither overwrites an input log.
void check_merge_outputs(const std::vector<std::string>& logs, const std::string& out,
                         const std::string& merged_log) {
  check_output_path(out);
  if (!merged_log.empty()) check_distinct_outputs("--out", out, "--log", merged_log);
  for (const auto& input : logs) {
    check_distinct_outputs("--out", out, "the input log", input);
    if (!merged_log.empty()) check_distinct_outputs("--log", merged_log, "the input log", input);
  }
}

// The logs must be shards of one audit; missing or interrupted ones are refused unless allowed.
audit::ShardCoverage check_shards(const std::vector<audit::RunLog>& parts, bool allow_partial,
                                  std::ostream& err) {
  audit::check_same_audit(parts);
  audit::ShardCoverage coverage = audit::shard_coverage(parts);
  if (coverage.complete()) return coverage;
  if (!allow_partial)
    throw InputError(audit::describe_gaps(coverage) +
                     " (give every shard's log, or --allow-partial for a partial report)");
  err << "flakescope merge: warning: " << audit::describe_gaps(coverage)
      << "; the report is marked partial\n";
  return coverage;
}

}  // namespace

int cmd_merge(const CommandArgs& a) {
  std::vector<std::string> logs;
  std::string out = "flakescope-audit.json", merged_log;
  bool allow_partial = false;
  po::options_description desc(
      "usage: flakescope merge RUNLOG... [--out REPORT]\n\n"
      "Merges audit run logs (shards of the same command, e.g. CI matrix jobs run with\n"
      "--shard K/N) into one audit report. Overlapping shards or logs of different commands are\n"
      "refused, and so are shards made with other options (--runs, --seed, settings, ...).\n"
      "Missing or interrupted shards are refused (they are listed) unless --allow-partial",
      kHelpColumns, kHelpColumns / 2);
  desc.add_options()("help,h", "show this help")("out,o", defaulted(&out), "the JSON report")(
      "log", po::value(&merged_log), "also write the merged run log here (resumable)")(
      "allow-partial", po::bool_switch(&allow_partial),
      "merge even when shards are missing or interrupted; the report is marked partial");
  const std::string epilog = help_epilog(
      {"flakescope audit --runs 100 --shard 0/2 --log shard0.jsonl -- ./my_tests   (each shard)",
       "flakescope merge shard0.jsonl shard1.jsonl --out audit.json",
       "flakescope merge shards/*.jsonl --allow-partial --log merged.jsonl"},
      {"nothing flaky", "a flaky, crashing or timing-out test", false});
  if (!parse_command_line(a.args, desc, "logs", po::value(&logs)->composing(), -1, a.out, "",
                          epilog))
    return kExitOk;
  if (logs.empty()) throw InputError("merge needs at least one run log (flakescope merge LOG...)");

  check_merge_outputs(logs, out, merged_log);
  std::vector<audit::RunLog> parts;
  for (const auto& path : logs) parts.push_back(audit::read_run_log(path));
  // Shards of a test matrix (different config.platform) are merged per environment; within each
  // environment the logs must be shards of one audit, missing ones refused unless allowed.
  audit::ShardCoverage coverage;
  for (const auto& group : audit::group_by_environment(parts)) {
    const audit::ShardCoverage part = check_shards(group.logs, allow_partial, a.err);
    coverage.missing.insert(coverage.missing.end(), part.missing.begin(), part.missing.end());
    coverage.incomplete.insert(coverage.incomplete.end(), part.incomplete.begin(),
                               part.incomplete.end());
  }
  const audit::MatrixMerge matrix = audit::merge_by_environment(parts);
  const audit::RunLog& merged = matrix.merged;
  if (!merged_log.empty() && !matrix.environments.empty())
    throw InputError("--log: the logs are of " + std::to_string(matrix.environments.size()) +
                     " environments; a merged run log holds one (merge each environment's)");
  if (!merged_log.empty()) {
    auto writer = audit::RunLogWriter::create(merged_log, merged.header);
    for (const auto& r : merged.records) writer.append(r);
  }

  const nlohmann::json& config = merged.header.config;
  audit::AuditReportInputs in;
  in.header = new_cli_report("audit", a.argv);
  in.command = merged.header.command;
  in.config = config;
  in.config["merged_from"] = logs;
  if (config.contains("settings") && config["settings"].is_array())
    for (const auto& s : config["settings"])
      if (s.is_string()) in.settings.push_back(s.get<std::string>());
  in.target = config.value("target", in.target);
  in.confidence = config.value("confidence", in.confidence);
  in.ablation = config.value("ablation", false);
  in.partial = !coverage.complete();
  if (in.partial) in.config["merge_gaps"] = audit::describe_gaps(coverage);
  std::optional<model::Matrix> matrix_section;
  if (!matrix.environments.empty())
    matrix_section =
        audit::environment_matrix_section(matrix.environments, in.settings, in.confidence);
  const auto add_matrix = [&](model::Report& report) { report.audit.matrix = matrix_section; };
  const model::Report report = write_audit_report(
      in, merged.records, config.value("capture", false), out, a.out, add_matrix);
  if (matrix_section) audit::print_matrix_summary(*matrix_section, a.out);
  append_step_summary("merge", render_report(report, ReportFormat::kMarkdown), a.err);
  a.err << "flakescope merge: " << merged.records.size() << " runs from " << logs.size()
        << " logs; report written to " << out << "\n";
  return audit::audit_exit_code(report) == 1 ? kExitFinding : kExitOk;
}

}  // namespace flakescope::cli
