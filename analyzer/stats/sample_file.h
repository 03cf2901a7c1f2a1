#pragma once
// Reading deviation samples for `flakescope tolerance SAMPLES`: a plain file of numbers (one per
// line; blank lines and # comments are skipped), a JSON-lines file (one object per line, the value
// in "value", "abs" or "max_abs", or in the field named by the caller), or a flakescope probe
// report (one series per probe x setting x output that has samples). LibTorch-free.
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "stats/recommend.h"

namespace flakescope::stats {

struct NamedSeries {
  std::string name;  // "values" for a plain file, "probe / setting / output" for a report
  DeviationSeries series;
};

// Throws InputError (one line, naming the file and line) for a missing or unreadable file, a
// non-number, NaN, a negative value, a line without the field, or a file with no samples at all.
// `dtype` applies to plain and JSON-lines files (a report carries its own).
std::vector<NamedSeries> read_sample_series(const std::string& path, const std::string& field,
                                            std::optional<DType> dtype);

// Parses one sample as written in files: a decimal number, "inf" or "+inf". Returns nullopt for
// anything else (including NaN).
std::optional<double> parse_sample(const std::string& text);

}  // namespace flakescope::stats
