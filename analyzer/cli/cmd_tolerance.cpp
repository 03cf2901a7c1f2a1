// `flakescope tolerance SAMPLES [--target 1e-4] [--confidence 0.95] [--dtype float32] [--json]`:
// recommends atol / rtol / an assert_close pair and a retry count from recorded deviation samples.
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "cli/assertion_patch.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "stats/failure_rate.h"
#include "stats/recommend.h"
#include "stats/recommend_text.h"
#include "stats/sample_file.h"

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

// Everything `tolerance` was asked for, validated.
struct ToleranceCommandOptions {
  stats::ToleranceOptions stats;
  std::string samples;
  std::string field;
  std::optional<DType> dtype;
  std::optional<double> atol;  // --atol: also estimate the failure rate of (atol, rtol)
  double rtol = 0;
  bool json = false;
};

// The raw option texts, as Boost.Program_options fills them; validate() turns them into the struct.
struct ToleranceArgs {
  ToleranceCommandOptions options;
  std::string dtype_name, atol_text, assume;
};

po::options_description tolerance_description(ToleranceArgs* raw) {
  stats::ToleranceOptions& o = raw->options.stats;
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
      "target", defaulted(&o.target), "per-run failure rate the recommendation must stay under")(
      "confidence", defaulted(&o.confidence), "one-sided confidence of the bounds")(
      "dtype", po::value(&raw->dtype_name),
      "dtype of a plain or JSON-lines series (for its defaults)")(
      "field", po::value(&raw->options.field), "JSON-lines field holding the sample")(
      "seed", defaulted(&o.seed), "seed of the tie jitter")(
      "atol", po::value(&raw->atol_text),
      "also estimate the per-run failure rate of this atol (with --rtol), with an interval")(
      "rtol", defaulted(&raw->options.rtol),
      "the rtol of --atol; uses the series' margin samples measured at this rtol when present")(
      "assume", po::value(&raw->assume),
      "light-tail: keep the tail shape <= 0 (rounding differences of a fixed computation); "
      "refused where the data show a heavier tail")("json", po::bool_switch(&raw->options.json),
                                                    "print JSON");
  return desc;
}

// Exit 2 (InputError) naming the first option that is out of range.
ToleranceCommandOptions validate(ToleranceArgs raw) {
  ToleranceCommandOptions o = std::move(raw.options);
  if (o.samples.empty()) throw InputError("give a SAMPLES file (see --help)");
  if (!(o.stats.target > 0 && o.stats.target < 1)) throw InputError("--target must be in (0, 1)");
  if (!(o.stats.confidence > 0.5 && o.stats.confidence < 1)) {
    throw InputError("--confidence must be in (0.5, 1)");
  }
  if (!raw.assume.empty() && raw.assume != "light-tail") {
    throw InputError("--assume takes 'light-tail', got '" + raw.assume + "'");
  }
  o.stats.assume_light_tail = raw.assume == "light-tail";
  if (!raw.atol_text.empty()) {
    char* end = nullptr;
    const double atol = std::strtod(raw.atol_text.c_str(), &end);
    if (end == raw.atol_text.c_str() || *end != '\0' || !(atol >= 0 && std::isfinite(atol))) {
      throw InputError("--atol must be a finite number >= 0, got '" + raw.atol_text + "'");
    }
    o.atol = atol;
  }
  if (!(o.rtol >= 0 && std::isfinite(o.rtol))) {
    throw InputError("--rtol must be a finite number >= 0");
  }
  if (!raw.dtype_name.empty()) {
    o.dtype = parse_dtype(raw.dtype_name);
    if (!o.dtype) throw InputError("unknown --dtype '" + raw.dtype_name + "'");
  }
  return o;
}

// One recommendation (and the failure rate of --atol) per series, as text or one JSON document.
void print_series_recommendations(const ToleranceCommandOptions& o,
                                  const std::vector<stats::NamedSeries>& series,
                                  std::ostream& out) {
  nlohmann::json doc = {{"target", o.stats.target},
                        {"confidence", o.stats.confidence},
                        {"source", o.samples},
                        {"series", nlohmann::json::array()}};
  bool first = true;
  for (const auto& s : series) {
    const stats::Recommendation r = stats::recommend(s.series, o.stats);
    std::string rate_text;
    nlohmann::json rate;
    if (o.atol) rate = failure_rate_of(s.series, *o.atol, o.rtol, o.stats, &rate_text);
    if (o.json) {
      nlohmann::json entry = {{"name", s.name}, {"recommendation", stats::to_json(r)}};
      if (o.atol) entry["failure_rate"] = rate;
      doc["series"].push_back(entry);
    } else {
      if (!first) out << "\n";
      stats::write_recommendation_text(out, s.name, r);
      if (o.atol) out << "  " << rate_text << "\n";
    }
    first = false;
  }
  if (o.json) out << doc.dump(2) << "\n";
}

// An audit report's sites as series (the atol each run needed at the site's rtol), for options
// that change the audit's own recommendations (--assume, --target, --confidence, --atol).
std::vector<stats::NamedSeries> audit_site_series(const std::string& path) {
  const model::Report report = model::load_report_model(path);
  std::vector<stats::NamedSeries> out;
  for (const auto& site : audit_assertions(report, path)) {
    stats::NamedSeries s;
    s.name = site.site + " (" + site.test + ")";
    for (double v : site.samples.atol_needed)
      if (std::isfinite(v)) s.series.atol_at_rtol.push_back(v);
    for (double v : site.samples.max_abs)
      if (std::isfinite(v)) s.series.abs.push_back(v);
    s.series.rtol_for_margin = site.rtol;
    if (!s.series.atol_at_rtol.empty() && !site.exact) out.push_back(std::move(s));
  }
  return out;
}

bool asks_for_other_than_the_audit(const ToleranceCommandOptions& o) {
  const stats::ToleranceOptions defaults;
  return o.stats.assume_light_tail || o.atol || o.stats.target != defaults.target ||
         o.stats.confidence != defaults.confidence;
}

}  // namespace

int cmd_tolerance(const CommandArgs& a) {
  ToleranceArgs raw;
  const po::options_description desc = tolerance_description(&raw);
  const std::string epilog = help_epilog(
      {"flakescope tolerance deviations.txt --dtype float32",
       "flakescope tolerance flakescope-report.json --target 1e-6 --json",
       "flakescope tolerance samples.jsonl --field max_abs --atol 1e-5 --rtol 1.3e-6",
       "flakescope tolerance flakescope-audit.json      (an audit --capture report: per site)"},
      {"recommended (or said why no number could be given)", "", false});
  if (!parse_command_line(a.args, desc, "samples", po::value(&raw.options.samples), 1, a.out, "",
                          epilog)) {
    return kExitOk;
  }
  const ToleranceCommandOptions o = validate(std::move(raw));
  if (is_audit_report(o.samples) && asks_for_other_than_the_audit(o)) {
    // The audit's advice was computed with its own target and model: these options ask for
    // another one, so each site's samples are analysed again with them.
    print_series_recommendations(o, audit_site_series(o.samples), a.out);
    return kExitOk;
  }
  if (print_audit_tolerances(o.samples, o.json, a.out)) return kExitOk;  // audit --capture report
  print_series_recommendations(o, stats::read_sample_series(o.samples, o.field, o.dtype), a.out);
  return kExitOk;
}

}  // namespace flakescope::cli
