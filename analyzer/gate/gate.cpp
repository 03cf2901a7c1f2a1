// The determinism gate's comparisons (see analyzer/gate/gate.h), on the typed report model.
//
// Two passes: the first walks baseline and current and settles every exact rule at once, and for
// every sampled quantity records a pending comparison with its one-sided p-values; the second
// splits alpha over all pending comparisons (Bonferroni) and settles them. So the chance that an
// unchanged target fails the gate anywhere in one run is at most alpha, whatever the suite's size.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/report.h"
#include "flakescope/error.h"
#include "gate/gate.h"
#include "report/report_view.h"
#include "stats/rates.h"
#include "stats/two_sample.h"

namespace flakescope {
namespace {

using model::GateCheck;
using model::GateStatus;
using nlohmann::json;
using report::format_number;
using report::format_percent;

struct Pending {
  GateCheck check;            // target, setting, output, rule, baseline, current filled in
  double p_worse = 1;         // H1: current worse
  double p_better = 1;        // H1: current better
  bool worse_effect = false;  // the effect is beyond the policy's margin
  bool better_effect = false;
  std::string worse, better, same;        // messages
  GateAction action = GateAction::kFail;  // what a significant worsening does
};

class Gate {
 public:
  Gate(const GatePolicy& policy) : policy_(policy) {}

  void compare_context(const model::Report& baseline, const model::Report& current);
  void compare_probes(const model::Report& baseline, const model::Report& current);
  void compare_tests(const model::Report& baseline, const model::Report& current);
  void compare_ablation_causes(const model::Report& baseline, const model::Report& current);
  GateResult finish();

 private:
  void add(GateCheck check, GateStatus status, GateAction action = GateAction::kFail);
  void compare_causes(const model::ProbeResult& b, const model::ProbeResult& c);
  std::set<std::string> judge_new_causes(const model::ProbeResult& b, const model::ProbeResult& c,
                                         const GateCheck& check, const std::set<std::string>& added,
                                         GateAction action);
  void compare_settings(const model::ProbeResult& b, const model::ProbeResult& c);
  void compare_setting(const std::string& probe, const model::ProbeSetting& b,
                       const model::ProbeSetting& c, const GateRuleSettings& rules);
  void compare_bitwise(const std::string& probe, const model::ProbeSetting& b,
                       const model::ProbeSetting& c, const GateRuleSettings& rules);
  void compare_output(const std::string& probe, const std::string& setting,
                      const model::OutputMetrics& b, const model::OutputMetrics& c,
                      const GateRuleSettings& rules);
  void compare_rate(GateCheck where, std::size_t kb, std::size_t nb, std::size_t kc, std::size_t nc,
                    const GateRuleSettings& rules, const char* what);

  const GatePolicy& policy_;
  GateResult result_;
  std::vector<Pending> pending_;
};

GateCheck where(const std::string& target, const std::string& setting, const std::string& output,
                const std::string& rule) {
  GateCheck c;
  c.target = target;
  c.setting = setting;
  c.output = output;
  c.rule = rule;
  return c;
}

std::size_t count(long n) {
  return static_cast<std::size_t>(std::max(0L, n));
}
std::size_t count(const std::optional<long>& n) {
  return n ? count(*n) : 0;
}

// The per-run samples of one deviation kind (abs, rel, ulp); empty when the report has none.
std::vector<double> samples(const model::OutputMetrics& m, const std::string& which) {
  if (!m.samples) return {};
  const std::vector<double>* s = m.samples->by_name(which);
  return s ? *s : std::vector<double>{};
}

std::vector<double> positive(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v)
    if (x > 0) out.push_back(x);
  return out;
}

double max_of(const model::OutputMetrics& m, const std::string& deviation) {
  const std::optional<double>& stated = deviation == "abs"   ? m.max_abs_dev
                                        : deviation == "rel" ? m.max_rel_dev
                                                             : m.max_ulp;
  if (stated) return std::isnan(*stated) ? 0 : *stated;
  double mx = 0;
  for (double v : samples(m, deviation))
    if (!std::isnan(v)) mx = std::max(mx, v);
  return mx;
}

// Runs of a setting whose output differed from the first run (max over the outputs), and runs.
std::pair<std::size_t, std::size_t> changed_runs(const model::ProbeSetting& s) {
  std::size_t changed = 0, runs = count(s.runs);
  for (const auto& m : s.metrics) {
    const std::size_t n = count(m.runs);
    changed = std::max(changed, n - std::min(n, count(m.bitwise_identical_runs)));
    runs = std::max(runs, n);
  }
  return {changed, runs};
}

std::set<std::string> causes(const model::ProbeResult& p) {
  if (!p.diagnosis) return {};
  return {p.diagnosis->causes.begin(), p.diagnosis->causes.end()};
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

json names(const std::set<std::string>& s) {
  return std::vector<std::string>(s.begin(), s.end());
}

void Gate::add(GateCheck check, GateStatus status, GateAction action) {
  if (status == GateStatus::kRegression && action == GateAction::kIgnore) return;
  if (status == GateStatus::kRegression && action == GateAction::kWarn)
    status = GateStatus::kWarning;
  check.status = status;
  switch (status) {
    case GateStatus::kRegression:
      ++result_.regressions, result_.passed = false;
      break;
    case GateStatus::kWarning:
      ++result_.warnings;
      break;
    case GateStatus::kImprovement:
      ++result_.improvements;
      break;
    case GateStatus::kPass:
      ++result_.passes;
      break;
  }
  result_.checks.push_back(std::move(check));
}

// The context fields compared, as their JSON text ("null" when absent).
std::map<std::string, std::string> context_fields(const model::ReportHeader& h) {
  std::map<std::string, std::string> out = {
      {"libtorch.version", "null"}, {"machine.arch", "null"}, {"machine.hardware_threads", "null"}};
  if (h.libtorch.is_object() && h.libtorch.contains("version"))
    out["libtorch.version"] = h.libtorch["version"].dump();
  if (h.machine && !h.machine->arch.empty()) out["machine.arch"] = json(h.machine->arch).dump();
  if (h.machine && h.machine->hardware_threads)
    out["machine.hardware_threads"] = json(*h.machine->hardware_threads).dump();
  return out;
}

// A baseline from another LibTorch or another thread count may differ for reasons that are not a
// regression: say so next to any verdict.
void Gate::compare_context(const model::Report& baseline, const model::Report& current) {
  const auto bf = context_fields(baseline.header), cf = context_fields(current.header);
  for (const char* field : {"libtorch.version", "machine.arch", "machine.hardware_threads"}) {
    const std::string& b = bf.at(field);
    const std::string& c = cf.at(field);
    if (b == c) continue;
    GateCheck ch = where("(environment)", "", "", field);
    ch.extra["baseline"] = b;
    ch.extra["current"] = c;
    ch.message = std::string(field) + " differs: baseline " + b + ", current " + c;
    add(ch, GateStatus::kWarning);
  }
}

template <typename T, typename Key>
std::map<std::string, const T*> by_key(const std::vector<T>& items, Key key) {
  std::map<std::string, const T*> out;
  for (const auto& i : items) out.emplace(key(i), &i);
  return out;
}

void Gate::compare_probes(const model::Report& baseline, const model::Report& current) {
  auto name = [](const model::ProbeResult& p) { return p.name; };
  const auto base = by_key(baseline.probes, name);
  const auto cur = by_key(current.probes, name);
  for (const auto& c : current.probes) {
    auto it = base.find(c.name);
    if (it == base.end()) {
      GateCheck ch = where(c.name, "", "", "baseline");
      ch.message = "new probe without a baseline: regenerate the baseline to cover it";
      add(ch, GateStatus::kRegression, policy_.settings_for(c.name, "*").new_target);
      continue;
    }
    compare_causes(*it->second, c);
    compare_settings(*it->second, c);
  }
  for (const auto& b : baseline.probes) {
    if (cur.count(b.name)) continue;
    GateCheck m = where(b.name, "", "", "missing");
    m.message = "probe in the baseline but not in the current report";
    add(m, GateStatus::kRegression, policy_.settings_for(b.name, "*").missing);
  }
}

// Causes: a knob newly named by the ablation is a new source of nondeterminism.
void Gate::compare_causes(const model::ProbeResult& b, const model::ProbeResult& c) {
  const GateRuleSettings probe_rules = policy_.settings_for(c.name, "*");
  const auto cb = causes(b), cc = causes(c);
  std::set<std::string> added, removed;
  std::set_difference(cc.begin(), cc.end(), cb.begin(), cb.end(),
                      std::inserter(added, added.end()));
  std::set_difference(cb.begin(), cb.end(), cc.begin(), cc.end(),
                      std::inserter(removed, removed.end()));
  GateCheck ch = where(c.name, "", "", "new_cause");
  ch.extra["baseline"] = names(cb);
  ch.extra["current"] = names(cc);
  if (!added.empty()) {
    const std::set<std::string> unjudged = judge_new_causes(b, c, ch, added, probe_rules.new_cause);
    if (!unjudged.empty()) {
      ch.message = "new cause of nondeterminism: " + join(unjudged);
      add(ch, GateStatus::kRegression, probe_rules.new_cause);
    }
  } else if (!removed.empty()) {
    ch.message = "no longer a cause: " + join(removed);
    add(ch, GateStatus::kImprovement);
  } else {
    ch.message = cc.empty() ? "no knob moves the output" : "same causes: " + join(cc);
    add(ch, GateStatus::kPass);
  }
}

// The ablation names a knob when freeing it made the output move in that measurement; for a
// target that changes only now and then, that can happen by chance. So where both reports have the
// knob's own setting, the knob counts as new only if its changed-run rate rose significantly
// (Fisher, in the Bonferroni family: pending until finish); otherwise the new name is final.
// Returns the knobs that cannot be judged so.
std::set<std::string> Gate::judge_new_causes(const model::ProbeResult& b,
                                             const model::ProbeResult& c, const GateCheck& check,
                                             const std::set<std::string>& added,
                                             GateAction action) {
  std::set<std::string> unjudged;
  for (const auto& knob : added) {
    const model::ProbeSetting* sb = b.find_setting("free:" + knob);
    const model::ProbeSetting* sc = c.find_setting("free:" + knob);
    if (!sb || !sc) {
      unjudged.insert(knob);
      continue;
    }
    const auto [kb, nb] = changed_runs(*sb);
    const auto [kc, nc] = changed_runs(*sc);
    Pending p;
    p.check = check;
    p.check.setting = "free:" + knob;
    p.p_worse = stats::fisher_greater_p(kb, nb, kc, nc);
    p.worse_effect = kc * nb > kb * nc;
    const std::string counts = std::to_string(kb) + "/" + std::to_string(nb) + " -> " +
                               std::to_string(kc) + "/" + std::to_string(nc) +
                               " runs differ with " + knob + " free";
    p.worse = "new cause of nondeterminism: " + knob + " (" + counts + ")";
    p.same = knob + " newly named by the ablation, but not significantly: " + counts;
    p.action = action;
    pending_.push_back(p);
  }
  return unjudged;
}

// Every setting of the current probe against the baseline's, and the baseline's settings that
// were not measured now.
void Gate::compare_settings(const model::ProbeResult& b, const model::ProbeResult& c) {
  for (const auto& cs : c.settings) {
    const GateRuleSettings rules = policy_.settings_for(c.name, cs.setting);
    const model::ProbeSetting* bs = b.find_setting(cs.setting);
    if (!bs) {
      GateCheck n = where(c.name, cs.setting, "", "baseline");
      n.message = "setting not in the baseline";
      add(n, GateStatus::kRegression, rules.new_target);
      continue;
    }
    compare_setting(c.name, *bs, cs, rules);
  }
  for (const auto& bs : b.settings) {
    if (c.find_setting(bs.setting)) continue;
    GateCheck m = where(c.name, bs.setting, "", "missing");
    m.message = "setting in the baseline but not measured now";
    add(m, GateStatus::kRegression, policy_.settings_for(c.name, bs.setting).missing);
  }
}

void Gate::compare_setting(const std::string& probe, const model::ProbeSetting& b,
                           const model::ProbeSetting& c, const GateRuleSettings& rules) {
  using model::ProbeVerdict;
  if (c.verdict == ProbeVerdict::kError || c.verdict == ProbeVerdict::kUnavailable) {
    const std::string vc(model::to_string(c.verdict));
    GateCheck ch = where(probe, c.setting, "", "verdict");
    ch.extra["baseline"] = std::string(model::to_string(b.verdict));
    ch.extra["current"] = vc;
    ch.message = "probe " + vc + ": " + c.error.value_or("no message");
    const bool was_bad = b.verdict == c.verdict;
    add(ch, !was_bad && c.verdict == ProbeVerdict::kError ? GateStatus::kRegression
                                                          : GateStatus::kWarning);
    return;
  }
  if (rules.bitwise != "off") compare_bitwise(probe, b, c, rules);
  if (!b.has_metrics || !c.has_metrics) return;
  for (const auto& cm : c.metrics) {
    auto bm = std::find_if(b.metrics.begin(), b.metrics.end(),
                           [&](const model::OutputMetrics& m) { return m.name == cm.name; });
    if (bm == b.metrics.end()) {
      GateCheck n = where(probe, c.setting, cm.name, "baseline");
      n.message = "output not in the baseline";
      add(n, GateStatus::kRegression, rules.new_target);
      continue;
    }
    compare_output(probe, c.setting, *bm, cm, rules);
  }
}

void Gate::compare_bitwise(const std::string& probe, const model::ProbeSetting& b,
                           const model::ProbeSetting& c, const GateRuleSettings& rules) {
  using model::ProbeVerdict;
  const bool must = rules.bitwise == "always" || b.verdict == ProbeVerdict::kBitwiseDeterministic;
  const std::string runs = std::to_string(count(c.runs));
  GateCheck ch = where(probe, c.setting, "", "bitwise");
  ch.extra["baseline"] = std::string(model::to_string(b.verdict));
  ch.extra["current"] = std::string(model::to_string(c.verdict));
  if (must && c.verdict != ProbeVerdict::kBitwiseDeterministic) {
    long distinct = 0;
    double dev = 0;
    for (const auto& m : c.metrics) {
      distinct = std::max(distinct, m.distinct_outputs.value_or(0));
      if (m.max_abs_dev && !std::isnan(*m.max_abs_dev)) dev = std::max(dev, *m.max_abs_dev);
    }
    ch.message = std::string(rules.bitwise == "always" ? "must be bitwise-deterministic"
                                                       : "was bitwise-deterministic") +
                 ", now " + std::to_string(distinct) + " distinct outputs in " + runs +
                 " runs (max abs dev " + format_number(dev) + ")";
    add(ch, GateStatus::kRegression);
  } else if (b.verdict == ProbeVerdict::kNondeterministic &&
             c.verdict == ProbeVerdict::kBitwiseDeterministic) {
    ch.message = "now bitwise-deterministic (" + runs + " runs)";
    add(ch, GateStatus::kImprovement);
  } else if (must) {
    ch.message = "bitwise-deterministic in " + runs + " runs";
    add(ch, GateStatus::kPass);
  }
}

void Gate::compare_output(const std::string& probe, const std::string& setting,
                          const model::OutputMetrics& b, const model::OutputMetrics& c,
                          const GateRuleSettings& rules) {
  // The rate of runs whose output differs from the first run.
  const std::size_t nb = count(b.runs), nc = count(c.runs);
  const std::size_t kb = nb - std::min(nb, count(b.bitwise_identical_runs));
  const std::size_t kc = nc - std::min(nc, count(c.bitwise_identical_runs));
  compare_rate(where(probe, setting, c.name, "change_rate"), kb, nb, kc, nc, rules,
               "runs differ from the first");
  // How far outputs move.
  if (!rules.max_dev_factor) return;
  const double factor = *rules.max_dev_factor;
  const double mb = max_of(b, rules.deviation), mc = max_of(c, rules.deviation);
  if (mb == 0 && mc == 0) return;  // bitwise on both sides: the bitwise rule speaks
  GateCheck ch = where(probe, setting, c.name, "max_dev_factor");
  ch.extra["deviation"] = rules.deviation;
  ch.extra["baseline"] = json_number(mb);
  ch.extra["current"] = json_number(mc);
  ch.extra["factor"] = factor;
  const std::string what =
      "max " + rules.deviation + " dev " + format_number(mb) + " -> " + format_number(mc);
  const std::vector<double> all_b = samples(b, rules.deviation),
                            all_c = samples(c, rules.deviation);
  if (all_b.empty() || all_c.empty()) {
    // Without per-run samples only the maxima can be compared: a warning, never a failure, since
    // a maximum alone cannot tell a shift from noise.
    ch.message = what + " (no per-run samples: compared maxima only)";
    add(ch, mc > factor * mb ? GateStatus::kWarning : GateStatus::kPass);
    return;
  }
  // Magnitudes are compared among the runs that changed at all: how often a run changes is the
  // change_rate rule's business, and zeros (a point mass) would only dilute the rank test.
  const std::vector<double> sb = positive(all_b), sc = positive(all_c);
  if (sb.empty() || sc.empty()) {
    ch.message =
        what + " (runs changed on one side only: the bitwise and change_rate rules judge it)";
    add(ch, GateStatus::kPass);
    return;
  }
  Pending p;
  p.check = ch;
  p.p_worse = stats::mann_whitney_greater_p(sb, sc);
  p.p_better = stats::mann_whitney_greater_p(sc, sb);
  p.worse_effect = mc > factor * mb;
  p.better_effect = mc * factor < mb;
  p.worse = what + ": grew more than " + format_number(factor) + "x";
  p.better = what + ": shrank more than " + format_number(factor) + "x";
  p.same = what + " (within " + format_number(factor) + "x or not significant)";
  pending_.push_back(p);
}

json rate_json(const stats::RateEstimate& e) {
  return json{{"events", e.failures},
              {"runs", e.trials},
              {"rate", e.point},
              {"upper_one_sided", e.upper_one_sided}};
}

void Gate::compare_rate(GateCheck ch, std::size_t kb, std::size_t nb, std::size_t kc,
                        std::size_t nc, const GateRuleSettings& rules, const char* what) {
  const auto eb = stats::estimate_rate(kb, nb, policy_.confidence);
  const auto ec = stats::estimate_rate(kc, nc, policy_.confidence);
  const std::string desc = std::to_string(kb) + "/" + std::to_string(nb) + " -> " +
                           std::to_string(kc) + "/" + std::to_string(nc) + " " + what;
  if (rules.max_failure_rate) {
    GateCheck m = ch;
    m.rule = "max_failure_rate";
    m.extra["current"] = rate_json(ec);
    m.extra["limit"] = *rules.max_failure_rate;
    const bool over = ec.upper_one_sided >= *rules.max_failure_rate;
    m.message = desc + ": upper bound " + format_percent(ec.upper_one_sided) +
                (over ? " is not under " : " < ") + format_percent(*rules.max_failure_rate);
    add(m, over ? GateStatus::kRegression : GateStatus::kPass);
  }
  if (!rules.rate_margin || (kb == 0 && kc == 0) || nb == 0 || nc == 0) return;
  const double margin = *rules.rate_margin;
  Pending p;
  p.check = ch;
  p.check.extra["baseline"] = rate_json(eb);
  p.check.extra["current"] = rate_json(ec);
  p.check.extra["margin"] = margin;
  p.p_worse = stats::fisher_greater_p(kb, nb, kc, nc);
  p.p_better = stats::fisher_greater_p(kc, nc, kb, nb);
  p.worse_effect = ec.point - eb.point > margin;
  p.better_effect = eb.point - ec.point > margin;
  p.worse = desc + ": rate rose by more than " + format_percent(margin);
  p.better = desc + ": rate fell by more than " + format_percent(margin);
  p.same = desc;
  pending_.push_back(p);
}

// Audited tests are keyed by name and setting (an audit may run several settings).
void Gate::compare_tests(const model::Report& baseline, const model::Report& current) {
  auto key = [](const model::AuditTest& t) { return t.name + "\x1f" + t.setting; };
  const auto base = by_key(baseline.audit.tests, key);
  const auto cur = by_key(current.audit.tests, key);
  auto rules_for = [&](const model::AuditTest& t) {
    return policy_.settings_for(t.name, t.setting.empty() ? "*" : t.setting);
  };
  for (const auto& c : current.audit.tests) {
    auto it = base.find(key(c));
    if (it == base.end()) {
      GateCheck ch = where(c.name, c.setting, "", "baseline");
      ch.message = "new test without a baseline";
      add(ch, GateStatus::kRegression, rules_for(c).new_target);
      continue;
    }
    const model::AuditTest& b = *it->second;
    compare_rate(where(c.name, c.setting, "", "failure_rate"), count(b.failures), count(b.runs),
                 count(c.failures), count(c.runs), rules_for(c), "runs fail");
  }
  for (const auto& b : baseline.audit.tests) {
    if (cur.count(key(b))) continue;
    GateCheck m = where(b.name, b.setting, "", "missing");
    m.message = "test in the baseline but not in the current report";
    add(m, GateStatus::kRegression, rules_for(b).missing);
  }
  compare_ablation_causes(baseline, current);
}

// The ablation's causes per test: a knob newly named is a new source of flakiness.
void Gate::compare_ablation_causes(const model::Report& baseline, const model::Report& current) {
  auto ablation_causes = [](const model::Report& r) {
    std::map<std::string, std::set<std::string>> out;
    if (r.audit.ablation)
      for (const auto& t : r.audit.ablation->tests)
        out[t.name].insert(t.causes.begin(), t.causes.end());
    return out;
  };
  const auto cb = ablation_causes(baseline), cc = ablation_causes(current);
  for (const auto& [name, now] : cc) {
    const auto was_it = cb.find(name);
    const std::set<std::string> was = was_it == cb.end() ? std::set<std::string>{} : was_it->second;
    std::set<std::string> added;
    std::set_difference(now.begin(), now.end(), was.begin(), was.end(),
                        std::inserter(added, added.end()));
    if (added.empty()) continue;
    GateCheck ch = where(name, "", "", "new_cause");
    ch.extra["baseline"] = names(was);
    ch.extra["current"] = names(now);
    ch.message = "new cause of flakiness: " + join(added);
    add(ch, GateStatus::kRegression, policy_.settings_for(name, "*").new_cause);
  }
}

GateResult Gate::finish() {
  result_.statistical_comparisons = static_cast<int>(pending_.size());
  const double level = policy_.alpha / std::max<std::size_t>(1, pending_.size());
  for (auto& p : pending_) {
    p.check.extra["p_worse"] = p.p_worse;
    p.check.extra["p_better"] = p.p_better;
    p.check.extra["level"] = level;
    if (p.worse_effect && p.p_worse < level) {
      p.check.message = p.worse;
      add(p.check, GateStatus::kRegression, p.action);
    } else if (p.better_effect && p.p_better < level) {
      p.check.message = p.better;
      add(p.check, GateStatus::kImprovement);
    } else {
      p.check.message = p.same;
      add(p.check, GateStatus::kPass);
    }
  }
  pending_.clear();
  return result_;
}

model::GateOrigin origin(const model::Report& rep, const std::string& path) {
  model::GateOrigin o;
  o.path = path;
  o.extra = {{"created", rep.header.created},
             {"libtorch", rep.header.libtorch_version.value_or("")},
             {"machine", rep.header.machine ? json(*rep.header.machine) : json::object()},
             {"kind", std::string(model::to_string(rep.kind()))}};
  return o;
}

}  // namespace

GateResult gate_reports(const model::Report& baseline, const model::Report& current,
                        const GatePolicy& policy) {
  const std::string kb(model::to_string(baseline.kind())), kc(model::to_string(current.kind()));
  if (kb != kc)
    throw InputError("cannot gate a '" + kc + "' report against a '" + kb + "' baseline");
  Gate gate(policy);
  gate.compare_context(baseline, current);
  if (current.kind() == model::ReportKind::kProbe)
    gate.compare_probes(baseline, current);
  else if (current.kind() == model::ReportKind::kAudit)
    gate.compare_tests(baseline, current);
  else
    throw InputError("the gate compares probe or audit reports, not '" + kc + "'");
  return gate.finish();
}

model::GateBody gate_body(const GateResult& r, const GatePolicy& policy,
                          const model::Report& baseline, const std::string& baseline_path,
                          const model::Report& current, const std::string& current_path) {
  model::GateBody g;
  g.verdict = r.passed ? model::GateVerdict::kPass : model::GateVerdict::kFail;
  g.regressions = r.regressions;
  g.improvements = r.improvements;
  g.warnings = r.warnings;
  g.passes = r.passes;
  g.summary_extra = {{"statistical_comparisons", r.statistical_comparisons},
                     {"alpha", policy.alpha}};
  g.baseline = origin(baseline, baseline_path);
  g.current = origin(current, current_path);
  g.policy = policy.source;
  g.checks = r.checks;
  return g;
}

}  // namespace flakescope
