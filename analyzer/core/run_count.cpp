#include "core/run_count.h"

#include <algorithm>

#include "flakescope/error.h"

namespace flakescope {
namespace {

// Digits only, compared as text against the limit first, so no value overflows a conversion.
std::optional<std::size_t> parse_count(const std::string& text) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const std::size_t v = std::stoul(text);
  if (v > kRunCountLimit) return std::nullopt;
  return v;
}

std::size_t count_option(const std::string& option, const std::string& text, std::size_t min,
                         bool allow_auto) {
  const auto v = parse_count(text);
  if (!v || *v < min)
    throw InputError(option + " must be an integer in " + std::to_string(min) + ".." +
                     std::to_string(kRunCountLimit) + (allow_auto ? " or 'auto'" : "") + ", got '" +
                     text + "'");
  return *v;
}

}  // namespace

AutoSchedule auto_schedule(RunCountUse use) {
  return use == RunCountUse::kProbe ? AutoSchedule{50, 50} : AutoSchedule{30, 10};
}

std::size_t min_fixed_runs(RunCountUse use) {
  return use == RunCountUse::kProbe ? 2 : 1;
}

RunCount fixed_run_count(std::size_t n) {
  RunCount r;
  r.runs = r.min_runs = r.max_runs = n;
  return r;
}

std::string RunCount::text() const {
  return adaptive ? "auto" : std::to_string(runs);
}

RunCount parse_run_count(const std::string& runs_text,
                         const std::optional<std::string>& max_runs_text, RunCountUse use) {
  RunCount r;
  const std::size_t min = min_fixed_runs(use);
  if (runs_text != "auto") {
    if (max_runs_text)
      throw InputError("--max-runs is the cap of --runs auto; with a fixed --runs leave it out");
    r.runs = r.min_runs = r.max_runs = count_option("--runs", runs_text, min, true);
    return r;
  }
  const AutoSchedule s = auto_schedule(use);
  r.adaptive = true;
  r.max_runs =
      max_runs_text ? count_option("--max-runs", *max_runs_text, min, false) : kDefaultMaxRuns;
  r.runs = r.max_runs;
  r.min_runs = std::min(s.min_runs, r.max_runs);
  r.batch = s.batch;
  return r;
}

}  // namespace flakescope
