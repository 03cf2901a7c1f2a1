// The determinism gate's comparisons (see include/flakescope/gate.h).
//
// Two passes: the first walks baseline and current and settles every exact rule at once, and for
// every sampled quantity records a pending comparison with its one-sided p-values; the second
// splits alpha over all pending comparisons (Bonferroni) and settles them. So the chance that an
// unchanged target fails the gate anywhere in one run is at most alpha, whatever the suite's size.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "flakescope/error.h"
#include "flakescope/gate.h"
#include "flakescope/report.h"
#include "flakescope/stats/rates.h"
#include "flakescope/stats/two_sample.h"
#include "report/report_view.h"

namespace flakescope {
namespace {

using nlohmann::json;
using report::format_number;
using report::format_percent;

struct Pending {
  json check;                 // target, setting, output, rule, baseline, current filled in
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

  void compare_context(const json& baseline, const json& current);
  void compare_probes(const json& baseline, const json& current);
  void compare_tests(const json& baseline, const json& current);
  GateResult finish();

 private:
  void add(json check, const std::string& status, GateAction action = GateAction::kFail);
  void compare_causes(const std::string& probe, const json& b, const json& c);
  std::set<std::string> judge_new_causes(const json& b, const json& c, const json& check,
                                         const std::set<std::string>& added, GateAction action);
  void compare_settings(const std::string& probe, const json& b, const json& c);
  void compare_setting(const std::string& probe, const json& b, const json& c,
                       const GateRuleSettings& rules);
  void compare_output(const std::string& probe, const std::string& setting,
                      const std::string& output, const json& b, const json& c,
                      const GateRuleSettings& rules);
  void compare_rate(json where, std::size_t kb, std::size_t nb, std::size_t kc, std::size_t nc,
                    const GateRuleSettings& rules, const char* what);

  const GatePolicy& policy_;
  GateResult result_;
  std::vector<Pending> pending_;
};

json where(const std::string& target, const std::string& setting, const std::string& output,
           const std::string& rule) {
  return {{"target", target}, {"setting", setting}, {"output", output}, {"rule", rule}};
}

const json& array_of(const json& report, const char* key, const char* which) {
  if (!report.contains(key) || !report[key].is_array())
    throw InputError(std::string(which) + " report has no \"" + key + "\" array");
  return report[key];
}

std::map<std::string, json> by_name(const json& items, const char* key) {
  std::map<std::string, json> out;
  for (const auto& i : items)
    if (i.is_object() && i.contains(key) && i[key].is_string()) out[i[key].get<std::string>()] = i;
  return out;
}

std::vector<std::string> ordered_names(const json& items, const char* key) {
  std::vector<std::string> out;
  for (const auto& i : items)
    if (i.is_object() && i.contains(key) && i[key].is_string())
      out.push_back(i[key].get<std::string>());
  return out;
}

double num(const json& j, const char* key, double fallback = 0) {
  if (!j.is_object() || !j.contains(key)) return fallback;
  const double v = number_from_json(j[key]);
  return std::isnan(v) ? fallback : v;
}

std::size_t count(const json& j, const char* key) {
  return static_cast<std::size_t>(std::max(0.0, num(j, key)));
}

std::vector<double> samples(const json& metric, const std::string& which) {
  std::vector<double> out;
  if (!metric.contains("samples") || !metric["samples"].is_object()) return out;
  const json& s = metric["samples"];
  if (!s.contains(which) || !s[which].is_array()) return out;
  for (const auto& v : s[which]) out.push_back(number_from_json(v));
  return out;
}

std::vector<double> positive(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v)
    if (x > 0) out.push_back(x);
  return out;
}

double max_of(const json& metric, const std::string& deviation) {
  const char* key = deviation == "abs"   ? "max_abs_dev"
                    : deviation == "rel" ? "max_rel_dev"
                                         : "max_ulp";
  if (metric.contains(key)) return num(metric, key);
  double m = 0;
  for (double v : samples(metric, deviation))
    if (!std::isnan(v)) m = std::max(m, v);
  return m;
}

const json* find_setting(const json& probe, const std::string& name) {
  if (!probe.contains("settings") || !probe["settings"].is_array()) return nullptr;
  for (const auto& s : probe["settings"])
    if (s.value("setting", "") == name) return &s;
  return nullptr;
}

// Runs of a setting whose output differed from the first run (max over the outputs), and runs.
std::pair<std::size_t, std::size_t> changed_runs(const json& setting) {
  std::size_t changed = 0, runs = count(setting, "runs");
  if (setting.contains("metrics") && setting["metrics"].is_object())
    for (const auto& [name, m] : setting["metrics"].items()) {
      const std::size_t n = count(m, "runs");
      changed = std::max(changed, n - std::min(n, count(m, "bitwise_identical_runs")));
      runs = std::max(runs, n);
    }
  return {changed, runs};
}

std::set<std::string> causes(const json& probe) {
  std::set<std::string> out;
  if (!probe.contains("diagnosis") || !probe["diagnosis"].is_object()) return out;
  const json& d = probe["diagnosis"];
  if (d.contains("causes") && d["causes"].is_array())
    for (const auto& c : d["causes"])
      if (c.is_string()) out.insert(c.get<std::string>());
  return out;
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

void Gate::add(json check, const std::string& status, GateAction action) {
  std::string st = status;
  if (status == "regression" && action == GateAction::kWarn) st = "warning";
  if (status == "regression" && action == GateAction::kIgnore) return;
  check["status"] = st;
  if (st == "regression")
    ++result_.regressions, result_.passed = false;
  else if (st == "warning")
    ++result_.warnings;
  else if (st == "improvement")
    ++result_.improvements;
  else
    ++result_.passes;
  result_.checks.push_back(std::move(check));
}

// A baseline from another LibTorch or another thread count may differ for reasons that are not a
// regression: say so next to any verdict.
void Gate::compare_context(const json& baseline, const json& current) {
  auto field = [](const json& r, const char* obj, const char* key) {
    const json o = r.value(obj, json::object());
    return o.is_object() && o.contains(key) ? o[key].dump() : std::string("null");
  };
  for (const auto& [obj, key] : {std::pair{"libtorch", "version"}, std::pair{"machine", "arch"},
                                 std::pair{"machine", "hardware_threads"}}) {
    const std::string b = field(baseline, obj, key), c = field(current, obj, key);
    if (b == c) continue;
    json ch = where("(environment)", "", "", std::string(obj) + "." + key);
    ch["baseline"] = b;
    ch["current"] = c;
    ch["message"] = std::string(obj) + "." + key + " differs: baseline " + b + ", current " + c;
    add(ch, "warning");
  }
}

void Gate::compare_probes(const json& baseline, const json& current) {
  const json& bp = array_of(baseline, "probes", "the baseline");
  const json& cp = array_of(current, "probes", "the current");
  const auto base = by_name(bp, "name");
  const auto cur = by_name(cp, "name");
  for (const auto& name : ordered_names(cp, "name")) {
    const json& c = cur.at(name);
    auto it = base.find(name);
    if (it == base.end()) {
      json ch = where(name, "", "", "baseline");
      ch["message"] = "new probe without a baseline: regenerate the baseline to cover it";
      add(ch, "regression", policy_.settings_for(name, "*").new_target);
      continue;
    }
    compare_causes(name, it->second, c);
    compare_settings(name, it->second, c);
  }
  for (const auto& name : ordered_names(bp, "name")) {
    if (cur.count(name)) continue;
    json m = where(name, "", "", "missing");
    m["message"] = "probe in the baseline but not in the current report";
    add(m, "regression", policy_.settings_for(name, "*").missing);
  }
}

// Causes: a knob newly named by the ablation is a new source of nondeterminism.
void Gate::compare_causes(const std::string& name, const json& b, const json& c) {
  const GateRuleSettings probe_rules = policy_.settings_for(name, "*");
  const auto cb = causes(b), cc = causes(c);
  std::set<std::string> added, removed;
  std::set_difference(cc.begin(), cc.end(), cb.begin(), cb.end(),
                      std::inserter(added, added.end()));
  std::set_difference(cb.begin(), cb.end(), cc.begin(), cc.end(),
                      std::inserter(removed, removed.end()));
  json ch = where(name, "", "", "new_cause");
  ch["baseline"] = std::vector<std::string>(cb.begin(), cb.end());
  ch["current"] = std::vector<std::string>(cc.begin(), cc.end());
  if (!added.empty()) {
    const std::set<std::string> unjudged = judge_new_causes(b, c, ch, added, probe_rules.new_cause);
    if (!unjudged.empty()) {
      ch["message"] = "new cause of nondeterminism: " + join(unjudged);
      add(ch, "regression", probe_rules.new_cause);
    }
  } else if (!removed.empty()) {
    ch["message"] = "no longer a cause: " + join(removed);
    add(ch, "improvement");
  } else {
    ch["message"] = cc.empty() ? "no knob moves the output" : "same causes: " + join(cc);
    add(ch, "pass");
  }
}

// The ablation names a knob when freeing it made the output move in that measurement; for a
// target that changes only now and then, that can happen by chance. So where both reports have the
// knob's own setting, the knob counts as new only if its changed-run rate rose significantly
// (Fisher, in the Bonferroni family: pending until finish); otherwise the new name is final.
// Returns the knobs that cannot be judged so.
std::set<std::string> Gate::judge_new_causes(const json& b, const json& c, const json& check,
                                             const std::set<std::string>& added,
                                             GateAction action) {
  std::set<std::string> unjudged;
  for (const auto& knob : added) {
    const json* sb = find_setting(b, "free:" + knob);
    const json* sc = find_setting(c, "free:" + knob);
    if (!sb || !sc) {
      unjudged.insert(knob);
      continue;
    }
    const auto [kb, nb] = changed_runs(*sb);
    const auto [kc, nc] = changed_runs(*sc);
    Pending p;
    p.check = check;
    p.check["setting"] = "free:" + knob;
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
void Gate::compare_settings(const std::string& name, const json& b, const json& c) {
  const json empty = json::array();
  const json& bs = b.contains("settings") && b["settings"].is_array() ? b["settings"] : empty;
  const json& cs = c.contains("settings") && c["settings"].is_array() ? c["settings"] : empty;
  const auto bset = by_name(bs, "setting");
  const auto cset = by_name(cs, "setting");
  for (const auto& setting : ordered_names(cs, "setting")) {
    const GateRuleSettings rules = policy_.settings_for(name, setting);
    auto bi = bset.find(setting);
    if (bi == bset.end()) {
      json n = where(name, setting, "", "baseline");
      n["message"] = "setting not in the baseline";
      add(n, "regression", rules.new_target);
      continue;
    }
    compare_setting(name, bi->second, cset.at(setting), rules);
  }
  for (const auto& setting : ordered_names(bs, "setting")) {
    if (cset.count(setting)) continue;
    json m = where(name, setting, "", "missing");
    m["message"] = "setting in the baseline but not measured now";
    add(m, "regression", policy_.settings_for(name, setting).missing);
  }
}

void Gate::compare_setting(const std::string& probe, const json& b, const json& c,
                           const GateRuleSettings& rules) {
  const std::string setting = c.value("setting", "");
  const std::string vb = b.value("verdict", "?"), vc = c.value("verdict", "?");
  if (vc == "error" || vc == "unavailable") {
    json ch = where(probe, setting, "", "verdict");
    ch["baseline"] = vb;
    ch["current"] = vc;
    ch["message"] = "probe " + vc + ": " + c.value("error", std::string("no message"));
    const bool was_bad = vb == vc;
    add(ch, was_bad ? "warning" : (vc == "error" ? "regression" : "warning"));
    return;
  }
  if (rules.bitwise != "off") {
    const bool must = rules.bitwise == "always" || vb == "bitwise-deterministic";
    json ch = where(probe, setting, "", "bitwise");
    ch["baseline"] = vb;
    ch["current"] = vc;
    if (must && vc != "bitwise-deterministic") {
      long distinct = 0;
      double dev = 0;
      if (c.contains("metrics") && c["metrics"].is_object())
        for (const auto& [o, m] : c["metrics"].items()) {
          distinct = std::max(distinct, static_cast<long>(num(m, "distinct_outputs")));
          dev = std::max(dev, num(m, "max_abs_dev"));
        }
      ch["message"] = std::string(rules.bitwise == "always" ? "must be bitwise-deterministic"
                                                            : "was bitwise-deterministic") +
                      ", now " + std::to_string(distinct) + " distinct outputs in " +
                      std::to_string(count(c, "runs")) + " runs (max abs dev " +
                      format_number(dev) + ")";
      add(ch, "regression");
    } else if (vb == "nondeterministic" && vc == "bitwise-deterministic") {
      ch["message"] = "now bitwise-deterministic (" + std::to_string(count(c, "runs")) + " runs)";
      add(ch, "improvement");
    } else if (must) {
      ch["message"] = "bitwise-deterministic in " + std::to_string(count(c, "runs")) + " runs";
      add(ch, "pass");
    }
  }
  if (!b.contains("metrics") || !c.contains("metrics")) return;
  for (const auto& [output, cm] : c["metrics"].items()) {
    if (!b["metrics"].contains(output)) {
      json n = where(probe, setting, output, "baseline");
      n["message"] = "output not in the baseline";
      add(n, "regression", rules.new_target);
      continue;
    }
    compare_output(probe, setting, output, b["metrics"][output], cm, rules);
  }
}

void Gate::compare_output(const std::string& probe, const std::string& setting,
                          const std::string& output, const json& b, const json& c,
                          const GateRuleSettings& rules) {
  // The rate of runs whose output differs from the first run.
  const std::size_t nb = count(b, "runs"), nc = count(c, "runs");
  const std::size_t kb = nb - std::min(nb, count(b, "bitwise_identical_runs"));
  const std::size_t kc = nc - std::min(nc, count(c, "bitwise_identical_runs"));
  compare_rate(where(probe, setting, output, "change_rate"), kb, nb, kc, nc, rules,
               "runs differ from the first");
  // How far outputs move.
  if (!rules.max_dev_factor) return;
  const double factor = *rules.max_dev_factor;
  const double mb = max_of(b, rules.deviation), mc = max_of(c, rules.deviation);
  if (mb == 0 && mc == 0) return;  // bitwise on both sides: the bitwise rule speaks
  json ch = where(probe, setting, output, "max_dev_factor");
  ch["deviation"] = rules.deviation;
  ch["baseline"] = json_number(mb);
  ch["current"] = json_number(mc);
  ch["factor"] = factor;
  // Magnitudes are compared among the runs that changed at all: how often a run changes is the
  // change_rate rule's business, and zeros (a point mass) would only dilute the rank test.
  const std::vector<double> sb = positive(samples(b, rules.deviation));
  const std::vector<double> sc = positive(samples(c, rules.deviation));
  const std::string what =
      "max " + rules.deviation + " dev " + format_number(mb) + " -> " + format_number(mc);
  if (samples(b, rules.deviation).empty() || samples(c, rules.deviation).empty()) {
    // Without per-run samples only the maxima can be compared: a warning, never a failure, since
    // a maximum alone cannot tell a shift from noise.
    ch["message"] = what + " (no per-run samples: compared maxima only)";
    add(ch, mc > factor * mb ? "warning" : "pass");
    return;
  }
  if (sb.empty() || sc.empty()) {
    ch["message"] =
        what + " (runs changed on one side only: the bitwise and change_rate rules judge it)";
    add(ch, "pass");
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

void Gate::compare_rate(json ch, std::size_t kb, std::size_t nb, std::size_t kc, std::size_t nc,
                        const GateRuleSettings& rules, const char* what) {
  const auto eb = stats::estimate_rate(kb, nb, policy_.confidence);
  const auto ec = stats::estimate_rate(kc, nc, policy_.confidence);
  auto rate_json = [](const stats::RateEstimate& e) {
    return json{{"events", e.failures},
                {"runs", e.trials},
                {"rate", e.point},
                {"upper_one_sided", e.upper_one_sided}};
  };
  const std::string desc = std::to_string(kb) + "/" + std::to_string(nb) + " -> " +
                           std::to_string(kc) + "/" + std::to_string(nc) + " " + what;
  if (rules.max_failure_rate) {
    json m = ch;
    m["rule"] = "max_failure_rate";
    m["current"] = rate_json(ec);
    m["limit"] = *rules.max_failure_rate;
    const bool over = ec.upper_one_sided >= *rules.max_failure_rate;
    m["message"] = desc + ": upper bound " + format_percent(ec.upper_one_sided) +
                   (over ? " is not under " : " < ") + format_percent(*rules.max_failure_rate);
    add(m, over ? "regression" : "pass");
  }
  if (!rules.rate_margin || (kb == 0 && kc == 0) || nb == 0 || nc == 0) return;
  const double margin = *rules.rate_margin;
  Pending p;
  p.check = ch;
  p.check["baseline"] = rate_json(eb);
  p.check["current"] = rate_json(ec);
  p.check["margin"] = margin;
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
void Gate::compare_tests(const json& baseline, const json& current) {
  const char* key = current.contains("tests") ? "tests" : "testcases";
  const json& bt = array_of(baseline, key, "the baseline");
  const json& ct = array_of(current, key, "the current");
  auto keyed = [](const json& items) {
    std::vector<std::pair<std::string, json>> out;
    for (const auto& t : items)
      if (t.is_object() && t.contains("name") && t["name"].is_string())
        out.emplace_back(t["name"].get<std::string>() + "\x1f" + t.value("setting", ""), t);
    return out;
  };
  const auto base_list = keyed(bt), cur_list = keyed(ct);
  const std::map<std::string, json> base(base_list.begin(), base_list.end());
  const std::map<std::string, json> cur(cur_list.begin(), cur_list.end());
  for (const auto& [k, c] : cur_list) {
    const std::string name = c["name"].get<std::string>(), setting = c.value("setting", "");
    const GateRuleSettings rules = policy_.settings_for(name, setting.empty() ? "*" : setting);
    auto it = base.find(k);
    if (it == base.end()) {
      json ch = where(name, setting, "", "baseline");
      ch["message"] = "new test without a baseline";
      add(ch, "regression", rules.new_target);
      continue;
    }
    const json& b = it->second;
    compare_rate(where(name, setting, "", "failure_rate"), count(b, "failures"), count(b, "runs"),
                 count(c, "failures"), count(c, "runs"), rules, "runs fail");
  }
  for (const auto& [k, b] : base_list) {
    if (cur.count(k)) continue;
    const std::string name = b["name"].get<std::string>(), setting = b.value("setting", "");
    json m = where(name, setting, "", "missing");
    m["message"] = "test in the baseline but not in the current report";
    add(m, "regression", policy_.settings_for(name, setting.empty() ? "*" : setting).missing);
  }
  // The ablation's causes per test: a knob newly named is a new source of flakiness.
  auto ablation_causes = [](const json& report) {
    std::map<std::string, std::set<std::string>> out;
    const json a = report.value("ablation", json::object());
    if (a.is_object() && a.contains("tests") && a["tests"].is_array())
      for (const auto& t : a["tests"]) out[t.value("name", "")] = causes(json{{"diagnosis", t}});
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
    json ch = where(name, "", "", "new_cause");
    ch["baseline"] = std::vector<std::string>(was.begin(), was.end());
    ch["current"] = std::vector<std::string>(now.begin(), now.end());
    ch["message"] = "new cause of flakiness: " + join(added);
    add(ch, "regression", policy_.settings_for(name, "*").new_cause);
  }
}

GateResult Gate::finish() {
  result_.statistical_comparisons = static_cast<int>(pending_.size());
  const double level = policy_.alpha / std::max<std::size_t>(1, pending_.size());
  for (auto& p : pending_) {
    p.check["p_worse"] = p.p_worse;
    p.check["p_better"] = p.p_better;
    p.check["level"] = level;
    if (p.worse_effect && p.p_worse < level) {
      p.check["message"] = p.worse;
      add(p.check, "regression", p.action);
    } else if (p.better_effect && p.p_better < level) {
      p.check["message"] = p.better;
      add(p.check, "improvement");
    } else {
      p.check["message"] = p.same;
      add(p.check, "pass");
    }
  }
  pending_.clear();
  return result_;
}

}  // namespace

GateResult gate_reports(const json& baseline, const json& current, const GatePolicy& policy) {
  const std::string kb = baseline.value("kind", ""), kc = current.value("kind", "");
  if (kb != kc)
    throw InputError("cannot gate a '" + kc + "' report against a '" + kb + "' baseline");
  Gate gate(policy);
  gate.compare_context(baseline, current);
  if (kc == "probe")
    gate.compare_probes(baseline, current);
  else if (kc == "audit")
    gate.compare_tests(baseline, current);
  else
    throw InputError("the gate compares probe or audit reports, not '" + kc + "'");
  return gate.finish();
}

json gate_report_body(const GateResult& r, const GatePolicy& policy, const json& baseline,
                      const std::string& baseline_path, const json& current,
                      const std::string& current_path) {
  auto origin = [](const json& rep, const std::string& path) {
    return json{{"path", path},
                {"created", rep.value("created", "")},
                {"libtorch", rep.value("libtorch", json::object()).value("version", "")},
                {"machine", rep.value("machine", json::object())},
                {"kind", rep.value("kind", "")}};
  };
  return {{"verdict", r.passed ? "pass" : "fail"},
          {"summary",
           {{"regressions", r.regressions},
            {"improvements", r.improvements},
            {"warnings", r.warnings},
            {"passes", r.passes},
            {"statistical_comparisons", r.statistical_comparisons},
            {"alpha", policy.alpha}}},
          {"baseline", origin(baseline, baseline_path)},
          {"current", origin(current, current_path)},
          {"policy", policy.source},
          {"checks", r.checks}};
}

}  // namespace flakescope
