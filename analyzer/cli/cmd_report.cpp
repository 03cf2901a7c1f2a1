// `flakescope report REPORT --format md|html|junit|terminal|json [--out FILE]`: renders any report
// (probe, audit, gate). Markdown is also appended to $GITHUB_STEP_SUMMARY when that is set.
#include <boost/program_options.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/report_output.h"
#include "cli/step_summary.h"
#include "core/output_file.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "report/reporters.h"

namespace po = boost::program_options;

namespace flakescope::cli {

int cmd_report(const CommandArgs& a) {
  std::string input, format_name = "terminal", out_path;
  bool verbose = false;
  po::options_description desc(
      "usage: flakescope report REPORT.json --format md|html|junit|terminal|json [--out FILE]\n\n"
      "Renders a probe, audit or gate report. Markdown is also appended to $GITHUB_STEP_SUMMARY\n"
      "when that variable is set (GitHub Actions step summary), unless an earlier command of the\n"
      "step appended the same report",
      kHelpColumns, kHelpColumns / 2);
  desc.add_options()("help,h", "show this help")(
      "format,f", defaulted(&format_name),
      "terminal, md, html (self-contained, with plots), junit (XML for CI) or json")(
      "out,o", po::value(&out_path), "write to FILE (atomically) instead of stdout")(
      "verbose,v", po::bool_switch(&verbose),
      "terminal: list the probes, tests and checks that are fine too");
  const std::string epilog = help_epilog(
      {"flakescope report flakescope-report.json --format html --out report.html",
       "flakescope report flakescope-audit.json --format md >> \"$GITHUB_STEP_SUMMARY\"",
       "flakescope report gate.json --format junit --out gate.junit.xml",
       "flakescope report flakescope-report.json --verbose"},
      {"rendered (the findings are in the exit code of the command that wrote the report)", "",
       false});
  if (!parse_command_line(a.args, desc, "report", po::value(&input), 1, a.out, "", epilog))
    return kExitOk;
  if (input.empty())
    throw InputError("no report given (flakescope report REPORT.json --format md)");
  const auto format = parse_report_format(format_name);
  if (!format)
    throw InputError("unknown format '" + format_name + "' (terminal, md, html, junit, json)");

  if (!out_path.empty()) check_distinct_outputs("--out", out_path, "the input report", input);
  const nlohmann::json report = load_report(input);
  RenderOptions options;
  options.color = out_path.empty() && *format == ReportFormat::kTerminal && wants_color(a.out);
  options.verbose = verbose;
  const std::string text = render_report(report, *format, options);
  if (out_path.empty())
    a.out << text;
  else
    write_file_atomic(out_path, text);
  if (*format == ReportFormat::kMarkdown) append_step_summary("report", text, a.err);
  return kExitOk;
}

}  // namespace flakescope::cli
