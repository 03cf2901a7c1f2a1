#include "audit/ablation.h"

#include <cstdio>
#include <map>

#include "flakescope/knobs.h"
#include "stats/rates.h"
#include "stats/two_sample.h"

namespace flakescope::audit {
namespace {

// One-sided Fisher exact p-value that a failures of n1 runs are more than b of n2 explain: at
// least a of the a + b failures fall among the first group's runs. The failures are the draws
// (not the runs, as in stats::fisher_greater_p): the same p-value, and the reading the ablation
// has always reported, so its p-values stay bit for bit.
double fisher_one_sided(std::size_t a, std::size_t n1, std::size_t b, std::size_t n2) {
  return stats::hypergeometric_upper_tail(a, n1, a + b, n1 + n2);
}

std::string fraction(std::size_t f, std::size_t n) {
  return std::to_string(f) + "/" + std::to_string(n);
}

std::string format_p(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, p < 1e-3 ? "%.1e" : "%.3f", p);
  return buf;
}

std::string format_interval(const stats::Interval& i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[%.3f, %.3f]", i.lower, i.upper);
  return buf;
}

using PerSetting = std::map<std::string, const TestTally*>;

// One test's rate in every setting it ran under, with Clopper-Pearson intervals.
std::vector<model::AblationRate> setting_rows(const PerSetting& per,
                                              const std::vector<std::string>& settings,
                                              double confidence) {
  std::vector<model::AblationRate> rows;
  for (const auto& s : settings) {
    auto it = per.find(s);
    if (it == per.end()) continue;
    const TestTally& t = *it->second;
    const auto rate = stats::estimate_rate(t.failures(), t.trials(), confidence);
    model::AblationRate row;
    row.setting = s;
    row.runs = static_cast<long>(t.runs());
    row.trials = static_cast<long>(t.trials());
    row.failures = static_cast<long>(t.failures());
    row.failure_rate = rate.point;
    row.cp_lower = rate.clopper_pearson.lower;
    row.cp_upper = rate.clopper_pearson.upper;
    rows.push_back(row);
  }
  return rows;
}

// The knobs whose freeing alone raises a test's failure rate above the reference's by more than
// chance, with every freed knob's p-value, the causes' fixes and the evidence for the summary.
struct Causes {
  std::vector<std::string> knobs, fixes;
  std::map<std::string, double> p_values;
  std::string evidence;
};

Causes find_causes(const PerSetting& per, const TestTally& ref,
                   const std::vector<std::string>& settings, const std::string& reference,
                   double confidence) {
  const double alpha = 1 - confidence;
  Causes c;
  for (const auto& s : settings) {
    if (s == reference || s.rfind("free:", 0) != 0) continue;
    auto it = per.find(s);
    if (it == per.end() || it->second->trials() == 0) continue;
    const TestTally& t = *it->second;
    const double p = fisher_one_sided(t.failures(), t.trials(), ref.failures(), ref.trials());
    const std::string knob = s.substr(5);
    c.p_values[knob] = p;
    const bool higher = t.failures() * ref.trials() > ref.failures() * t.trials();
    if (higher && p < alpha) {
      c.knobs.push_back(knob);
      const auto rate = stats::estimate_rate(t.failures(), t.trials(), confidence);
      if (!c.evidence.empty()) c.evidence += "; ";
      c.evidence += fraction(t.failures(), t.trials()) + " runs fail with " + knob + " free " +
                    format_interval(rate.clopper_pearson) + " (Fisher p = " + format_p(p) + ")";
      if (auto k = parse_knob(knob)) c.fixes.push_back(std::string(knob_info(*k).fix));
    }
  }
  return c;
}

// The sentence that says what the ablation found for one test: the causes and their fix, a
// failure no single knob explains, or too few failures to tell.
std::string summary_of(const Causes& c, const PerSetting& per, const TestTally& ref,
                       double confidence) {
  const double alpha = 1 - confidence;
  const auto ref_rate = stats::estimate_rate(ref.failures(), ref.trials(), confidence);
  const std::string ref_text = fraction(ref.failures(), ref.trials()) +
                               " with every knob controlled " +
                               format_interval(ref_rate.clopper_pearson);
  if (!c.knobs.empty()) {
    std::string knobs;
    for (std::size_t i = 0; i < c.knobs.size(); ++i)
      knobs += (i ? (i + 1 == c.knobs.size() ? " and " : ", ") : "") + c.knobs[i];
    std::string summary =
        "fails when " + knobs + " is free: " + c.evidence + " vs " + ref_text + "; controlling " +
        knobs +
        (ref.failures() == 0 ? " makes the failures disappear" : " lowers the failure rate");
    if (c.knobs.size() == 1)
      if (auto k = parse_knob(c.knobs[0]))
        summary += ". Likely cause: " + std::string(knob_info(*k).cause);
    return summary;
  }
  if (ref.failures() > 0)
    return "fails with every knob controlled too (" + ref_text +
           "), and freeing no single knob raises the rate significantly: the failures follow "
           "the seed or a source no knob controls";
  auto free_it = per.find("free");
  const bool all_free_higher = free_it != per.end() && free_it->second->trials() > 0 &&
                               fisher_one_sided(free_it->second->failures(),
                                                free_it->second->trials(), 0, ref.trials()) < alpha;
  return all_free_higher ? "fails only with all knobs free (" +
                               fraction(free_it->second->failures(), free_it->second->trials()) +
                               ") and never alone (" + ref_text +
                               "): no single knob explains it, several act together"
                         : "too few failures to name a cause (none significant at level " +
                               format_p(alpha) + "); run more runs per setting";
}

// One failing test's entry: its rates, and against the all-controlled `reference` its causes,
// p-values, fixes and summary.
model::AblationTest diagnose_test(const std::string& name, const PerSetting& per,
                                  const std::vector<std::string>& settings,
                                  const std::string& reference, double confidence) {
  model::AblationTest entry;
  entry.name = name;
  entry.settings = setting_rows(per, settings, confidence);
  auto ref_it = per.find(reference);
  if (ref_it == per.end() || ref_it->second->trials() == 0) {
    entry.summary = "no runs under the all-controlled setting to compare with";
    return entry;
  }
  const TestTally& ref = *ref_it->second;
  const Causes causes = find_causes(per, ref, settings, reference, confidence);
  entry.causes = causes.knobs;
  entry.p_values = causes.p_values;
  entry.fixes = causes.fixes;
  entry.summary = summary_of(causes, per, ref, confidence);
  return entry;
}

}  // namespace

model::Ablation diagnose_ablation(const Tallies& tallies, const std::vector<std::string>& settings,
                                  double confidence) {
  const double alpha = 1 - confidence;
  const std::string reference = settings.empty() ? "controlled" : settings.front();
  // Group the tallies by test name, keeping the first-appearance order.
  std::vector<std::string> names;
  std::map<std::string, PerSetting> by_test;
  auto collect = [&](const std::vector<TestTally>& list) {
    for (const auto& t : list) {
      if (!by_test.count(t.name)) names.push_back(t.name);
      by_test[t.name][t.setting] = &t;
    }
  };
  collect(tallies.tests.empty() ? tallies.command : tallies.tests);
  if (!tallies.tests.empty()) collect(tallies.command);

  model::Ablation ablation;
  ablation.reference = reference;
  ablation.settings = settings;
  ablation.test = "one-sided Fisher exact";
  ablation.level = alpha;
  for (const auto& name : names) {
    const PerSetting& per = by_test[name];
    std::size_t any_failures = 0;
    for (const auto& [s, t] : per) any_failures += t->failures();
    if (any_failures > 0)
      ablation.tests.push_back(diagnose_test(name, per, settings, reference, confidence));
  }
  return ablation;
}

}  // namespace flakescope::audit
