// `flakescope gate --baseline BASE.json [--policy POLICY.json] CURRENT.json` (or
// `--run-suite SUITE` to run `flakescope probe` first): the pre-merge determinism gate.
// Exit 0 pass, 1 regression, 2 bad input.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/report_output.h"
#include "cli/step_summary.h"
#include "core/output_file.h"
#include "core/report.h"
#include "core/subprocess.h"
#include "flakescope/error.h"
#include "flakescope/report_model.h"
#include "gate/gate.h"
#include "report/reporters.h"

namespace po = boost::program_options;

namespace flakescope::cli {
namespace {

struct GateOptions {
  std::string baseline, policy, current, run_suite, out, format = "terminal";
  std::vector<std::string> probe_args;
  bool update_baseline = false, force_update = false;
  double suite_timeout = 3600;
};

// Runs `flakescope probe --suite SUITE --out TMP` in a child process (this same binary) and
// returns the temporary report's path.
std::string run_suite(const GateOptions& o, std::ostream& err) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/flakescope-gate-XXXXXX";
  std::vector<char> name(path.begin(), path.end());
  name.push_back('\0');
  const int fd = mkstemp(name.data());
  if (fd < 0) throw InputError(path + ": cannot create a temporary report");
  close(fd);
  path = name.data();
  ProcessSpec spec;
  spec.argv = {self_executable_path(), "probe", "--suite", o.run_suite, "--out", path};
  spec.argv.insert(spec.argv.end(), o.probe_args.begin(), o.probe_args.end());
  spec.timeout_seconds = o.suite_timeout;
  spec.env.emplace_back("GITHUB_STEP_SUMMARY",
                        std::nullopt);  // the gate's summary, not the suite's
  err << "flakescope gate: running the '" << o.run_suite << "' suite\n";
  const ProcessResult r = run_process(spec);
  // probe exits 1 for findings, which is data for the gate, not a failure to run.
  const bool ran = r.status == ProcessStatus::kExited && (r.exit_code == 0 || r.exit_code == 1);
  if (!ran) {
    std::remove(path.c_str());
    std::string why = r.stderr_tail;
    while (!why.empty() && why.back() == '\n') why.pop_back();
    if (why.rfind('\n') != std::string::npos) why = why.substr(why.rfind('\n') + 1);
    throw InputError("the suite run failed (" + std::string(process_status_name(r.status)) +
                     (r.status == ProcessStatus::kExited ? " " + std::to_string(r.exit_code) : "") +
                     "): " + why);
  }
  return path;
}

}  // namespace

int cmd_gate(const CommandArgs& a) {
  GateOptions o;
  po::options_description desc(
      "usage: flakescope gate --baseline BASE.json [--policy POLICY.json] CURRENT.json\n"
      "       flakescope gate --baseline BASE.json [--policy POLICY.json] --run-suite default\n\n"
      "Compares a probe (or audit) report with a stored baseline. Rules on sampled\n"
      "quantities need a significant difference (Bonferroni over all comparisons, level\n"
      "--policy alpha) and an effect beyond the policy's margin, so sampling noise does not\n"
      "fail the gate",
      kHelpColumns, kHelpColumns / 2);
  desc.add_options()("help,h", "show this help")("baseline,b", po::value(&o.baseline),
                                                 "the baseline report (required)")(
      "policy,p", po::value(&o.policy), "gate policy JSON (default: the built-in rules)")(
      "run-suite", po::value(&o.run_suite), "run `flakescope probe --suite SUITE` and gate that")(
      "probe-arg", po::value(&o.probe_args)->composing(),
      "extra argument for the suite run (repeatable), e.g. --probe-arg=--runs=50")(
      "suite-timeout", defaulted(&o.suite_timeout), "seconds before the suite run is killed")(
      "out,o", po::value(&o.out), "write the gate report (JSON) here")(
      "format,f", defaulted(&o.format), "what to print: terminal, md, html, junit or json")(
      "update-baseline", po::bool_switch(&o.update_baseline),
      "when the gate passes, replace the baseline with the current report (atomically)")(
      "force-update", po::bool_switch(&o.force_update),
      "with --update-baseline: replace it even on a regression (the exit code still says 1)");
  const std::string epilog = help_epilog(
      {"flakescope gate --baseline reports/baselines/cpu-x86_64-libtorch-1.13.json current.json",
       "flakescope gate -b base.json -p reports/policy/default.json --run-suite default "
       "--format md",
       "flakescope gate -b base.json --run-suite default --probe-arg=--runs=50 --update-baseline"},
      {"the gate passed", "the gate failed: a regression beyond the policy's margin", false});
  if (!parse_command_line(a.args, desc, "current", po::value(&o.current), 1, a.out, "", epilog))
    return kExitOk;
  if (o.baseline.empty()) throw InputError("--baseline is required");
  if (o.current.empty() == o.run_suite.empty())
    throw InputError("give either a CURRENT report or --run-suite SUITE");
  const auto format = parse_report_format(o.format);
  if (!format) throw InputError("unknown --format '" + o.format + "'");

  // Check the output and read the inputs before any long suite run, so a bad path fails fast.
  if (!o.out.empty()) {
    check_output_path(o.out);
    check_distinct_outputs("--out", o.out, "the baseline", o.baseline);
    if (!o.current.empty()) check_distinct_outputs("--out", o.out, "the current report", o.current);
  }
  const model::Report baseline = model::load_report_model(o.baseline);
  const GatePolicy policy = o.policy.empty() ? GatePolicy{} : load_gate_policy(o.policy);
  std::string current_path = o.current;
  std::string temporary;
  if (!o.run_suite.empty()) temporary = current_path = run_suite(o, a.err);
  model::Report current;
  try {
    current = model::load_report_model(current_path);
  } catch (...) {
    if (!temporary.empty()) std::remove(temporary.c_str());
    throw;
  }
  if (!temporary.empty()) std::remove(temporary.c_str());
  if (!o.run_suite.empty()) current_path = "(suite " + o.run_suite + ")";

  const GateResult result = gate_reports(baseline, current, policy);
  model::Report gate;
  gate.header = model::header_from_json(new_report("gate", a.argv));
  gate.gate = gate_body(result, policy, baseline, o.baseline, current, current_path);
  if (!o.out.empty()) write_file_atomic(o.out, model::to_json(gate).dump(1));

  RenderOptions ro;
  ro.color = *format == ReportFormat::kTerminal && wants_color(a.out);
  a.out << render_report(gate, *format, ro);
  append_step_summary("gate", render_report(gate, ReportFormat::kMarkdown), a.err);

  if (o.update_baseline) {
    if (result.passed || o.force_update) {
      write_file_atomic(o.baseline, model::to_json(current).dump(1));
      a.err << "flakescope gate: baseline " << o.baseline << " updated\n";
    } else {
      a.err << "flakescope gate: baseline not updated: the gate failed (--force-update to "
               "accept the regression)\n";
    }
  }
  return result.passed ? kExitOk : kExitFinding;
}

}  // namespace flakescope::cli
