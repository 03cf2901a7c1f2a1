// `flakescope tolerance SAMPLES [--target 1e-4] [--confidence 0.95] [--dtype float32] [--json]`:
// recommends atol / rtol / an assert_close pair and a retry count from recorded deviation samples.
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "flakescope/error.h"
#include "cli/assertion_patch.h"
#include "flakescope/report.h"
#include "flakescope/stats/failure_rate.h"
#include "flakescope/stats/recommend.h"
#include "flakescope/stats/recommend_text.h"
#include "flakescope/stats/sample_file.h"

namespace po = boost::program_options;

namespace flakescope::cli {
namespace {

// The failure rate of --atol/--rtol for one series: from the margin samples measured at that rtol
// when the series has them, else from max |a - e| (rtol |e| not subtracted: pessimistic for rtol >
// 0; a plain file's values are taken as the atol needed at --rtol).
nlohmann::json failure_rate_of(const stats::DeviationSeries& s, double atol, double rtol,
                               const stats::ToleranceOptions& options, std::string* text) {
  const bool margin = !s.atol_at_rtol.empty() && s.rtol_for_margin && *s.rtol_for_margin == rtol;
  const std::vector<double>& samples = margin ? s.atol_at_rtol : s.abs;
  if (samples.empty()) {
    *text = "no max |a-e| or matching margin samples for this rtol";
    return {{"error", *text}};
  }
  stats::FailureRateOptions rate_options;
  rate_options.confidence = options.confidence;
  rate_options.seed = options.seed;
  const stats::FailureRate rate = stats::estimate_failure_rate(samples, atol, rate_options);
  const bool rtol_ignored = !margin && rtol > 0;
  char head[96];
  std::snprintf(head, sizeof head, "atol %.3g, rtol %.3g: ", atol, rtol);
  *text = head + stats::describe_failure_rate(rate) + "\n      " + rate.reason +
          (rtol_ignored ? "; no margin samples at this rtol: the values are taken as the atol "
                          "needed (if they are max |a-e|, the rate is pessimistic)"
                        : "");
  nlohmann::json j = stats::to_json(rate);
  j["rtol"] = rtol;
  j["samples"] = margin ? "atol_at_rtol" : "abs";
  j["rtol_ignored"] = rtol_ignored;
  return j;
}

}  // namespace

int cmd_tolerance(const CommandArgs& a) {
  stats::ToleranceOptions options;
  std::string samples, dtype_name, field;
  bool json = false;
  std::string atol_text, assume;
  double atol = 0, rtol = 0;
  po::options_description desc(
      "usage: flakescope tolerance SAMPLES [--target 1e-4] [--confidence 0.95] [--dtype float32] "
      "[--json]\n\n"
      "SAMPLES: numbers one per line (# comments ok), JSON lines ({\"value\": ...}, or \"abs\",\n"
      "\"max_abs\", or --field NAME), or a flakescope probe report (one series per probe x "
      "setting\n"
      "x output). Samples are per-run deviations >= 0; \"inf\" marks a run that could not be\n"
      "compared. Recommends the smallest atol / rtol / assert_close pair whose per-run failure\n"
      "rate stays <= target at the confidence, how the dtype's torch.testing defaults fare, and\n"
      "the retry count; says which method produced each number, or why none could be given",
      kHelpColumns, kHelpColumns / 2);
  desc.add_options()("help,h", "show this help")(
      "target", defaulted(&options.target),
      "per-run failure rate the recommendation must stay under")(
      "confidence", defaulted(&options.confidence), "one-sided confidence of the bounds")(
      "dtype", po::value(&dtype_name), "dtype of a plain or JSON-lines series (for its defaults)")(
      "field", po::value(&field), "JSON-lines field holding the sample")(
      "seed", defaulted(&options.seed), "seed of the tie jitter")(
      "atol", po::value(&atol_text),
      "also estimate the per-run failure rate of this atol (with --rtol), with an interval")(
      "rtol", defaulted(&rtol),
      "the rtol of --atol; uses the series' margin samples measured at this rtol when present")(
      "assume", po::value(&assume),
      "light-tail: keep the tail shape <= 0 (rounding differences of a fixed computation); "
      "refused where the data show a heavier tail")("json", po::bool_switch(&json), "print JSON");
  const std::string epilog = help_epilog(
      {"flakescope tolerance deviations.txt --dtype float32",
       "flakescope tolerance flakescope-report.json --target 1e-6 --json",
       "flakescope tolerance samples.jsonl --field max_abs --atol 1e-5 --rtol 1.3e-6",
       "flakescope tolerance flakescope-audit.json      (an audit --capture report: per site)"},
      {"recommended (or said why no number could be given)", "", false});
  if (!parse_command_line(a.args, desc, "samples", po::value(&samples), 1, a.out, "", epilog))
    return kExitOk;
  if (samples.empty()) throw InputError("give a SAMPLES file (see --help)");
  if (!(options.target > 0 && options.target < 1)) throw InputError("--target must be in (0, 1)");
  if (!(options.confidence > 0.5 && options.confidence < 1)) {
    throw InputError("--confidence must be in (0.5, 1)");
  }
  if (!assume.empty() && assume != "light-tail") {
    throw InputError("--assume takes 'light-tail', got '" + assume + "'");
  }
  options.assume_light_tail = assume == "light-tail";
  const bool want_rate = !atol_text.empty();
  if (want_rate) {
    char* end = nullptr;
    atol = std::strtod(atol_text.c_str(), &end);
    if (end == atol_text.c_str() || *end != '\0' || !(atol >= 0 && std::isfinite(atol))) {
      throw InputError("--atol must be a finite number >= 0, got '" + atol_text + "'");
    }
  }
  if (!(rtol >= 0 && std::isfinite(rtol))) throw InputError("--rtol must be a finite number >= 0");
  std::optional<DType> dtype;
  if (!dtype_name.empty()) {
    dtype = parse_dtype(dtype_name);
    if (!dtype) throw InputError("unknown --dtype '" + dtype_name + "'");
  }
  if (print_audit_tolerances(samples, json, a.out)) return kExitOk;  // audit --capture report
  const auto series = stats::read_sample_series(samples, field, dtype);
  nlohmann::json doc = {{"target", options.target},
                        {"confidence", options.confidence},
                        {"source", samples},
                        {"series", nlohmann::json::array()}};
  bool first = true;
  for (const auto& s : series) {
    const stats::Recommendation r = stats::recommend(s.series, options);
    std::string rate_text;
    nlohmann::json rate;
    if (want_rate) rate = failure_rate_of(s.series, atol, rtol, options, &rate_text);
    if (json) {
      nlohmann::json entry = {{"name", s.name}, {"recommendation", stats::to_json(r)}};
      if (want_rate) entry["failure_rate"] = rate;
      doc["series"].push_back(entry);
    } else {
      if (!first) a.out << "\n";
      stats::write_recommendation_text(a.out, s.name, r);
      if (want_rate) a.out << "  " << rate_text << "\n";
    }
    first = false;
  }
  if (json) a.out << doc.dump(2) << "\n";
  return kExitOk;
}

}  // namespace flakescope::cli
