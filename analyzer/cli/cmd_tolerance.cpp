// `flakescope tolerance SAMPLES [--target 1e-4] [--confidence 0.95] [--dtype float32] [--json]`:
// recommends atol / rtol / an assert_close pair and a retry count from recorded deviation samples.
#include <boost/program_options.hpp>
#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "flakescope/error.h"
#include "flakescope/report.h"
#include "flakescope/stats/recommend.h"
#include "flakescope/stats/recommend_text.h"
#include "flakescope/stats/sample_file.h"

namespace po = boost::program_options;

namespace flakescope::cli {

int cmd_tolerance(const CommandArgs& a) {
  stats::ToleranceOptions options;
  std::string samples, dtype_name, field;
  bool json = false;
  po::options_description desc(
      "usage: flakescope tolerance SAMPLES [--target 1e-4] [--confidence 0.95] [--dtype float32] "
      "[--json]\n\n"
      "SAMPLES: numbers one per line (# comments ok), JSON lines ({\"value\": ...}, or \"abs\",\n"
      "\"max_abs\", or --field NAME), or a flakescope probe report (one series per probe x "
      "setting\n"
      "x output). Samples are per-run deviations >= 0; \"inf\" marks a run that could not be\n"
      "compared. Recommends the smallest atol / rtol / assert_close pair whose per-run failure\n"
      "rate stays <= target at the confidence, how the dtype's torch.testing defaults fare, and\n"
      "the retry count; says which method produced each number, or why none could be given");
  desc.add_options()("help,h", "show this help")(
      "target", po::value(&options.target)->default_value(options.target),
      "per-run failure rate the recommendation must stay under")(
      "confidence", po::value(&options.confidence)->default_value(options.confidence),
      "one-sided confidence of the bounds")(
      "dtype", po::value(&dtype_name), "dtype of a plain or JSON-lines series (for its defaults)")(
      "field", po::value(&field), "JSON-lines field holding the sample")(
      "seed", po::value(&options.seed)->default_value(options.seed), "seed of the tie jitter")(
      "json", po::bool_switch(&json), "print JSON");
  if (!parse_command_line(a.args, desc, "samples", po::value(&samples), 1, a.out)) return kExitOk;
  if (samples.empty()) throw InputError("give a SAMPLES file (see --help)");
  if (!(options.target > 0 && options.target < 1)) throw InputError("--target must be in (0, 1)");
  if (!(options.confidence > 0.5 && options.confidence < 1)) {
    throw InputError("--confidence must be in (0.5, 1)");
  }
  std::optional<DType> dtype;
  if (!dtype_name.empty()) {
    dtype = parse_dtype(dtype_name);
    if (!dtype) throw InputError("unknown --dtype '" + dtype_name + "'");
  }
  const auto series = stats::read_sample_series(samples, field, dtype);
  nlohmann::json doc = {{"target", options.target},
                        {"confidence", options.confidence},
                        {"source", samples},
                        {"series", nlohmann::json::array()}};
  bool first = true;
  for (const auto& s : series) {
    const stats::Recommendation r = stats::recommend(s.series, options);
    if (json) {
      doc["series"].push_back({{"name", s.name}, {"recommendation", stats::to_json(r)}});
    } else {
      if (!first) a.out << "\n";
      stats::write_recommendation_text(a.out, s.name, r);
    }
    first = false;
  }
  if (json) a.out << doc.dump(2) << "\n";
  return kExitOk;
}

}  // namespace flakescope::cli
