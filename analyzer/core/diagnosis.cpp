// The ablation diagnosis on the typed report model (analyzer/core/diagnosis.h).
#include "core/diagnosis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "flakescope/knobs.h"

namespace flakescope {
namespace {

using model::ProbeResult;
using model::ProbeSetting;
using model::ProbeVerdict;

// The controlled setting's verdict as the summary names it; "not run" without one.
std::string verdict_of(const ProbeSetting* s) {
  return s ? std::string(model::to_string(s->verdict)) : std::string("not run");
}

bool is(const ProbeSetting* s, ProbeVerdict v) {
  return s && s->verdict == v;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", v);
  return buf;
}

// "max |dev| 2.4e-07 (3 ULP)" over the outputs of a setting.
std::string magnitude(const ProbeSetting& s) {
  double abs_dev = 0, ulp = 0;
  for (const auto& m : s.metrics) {
    abs_dev = std::max(abs_dev, m.max_abs_dev.value_or(0.0));
    ulp = std::max(ulp, m.max_ulp.value_or(0.0));
  }
  if (std::isinf(abs_dev)) return "outputs not comparable (NaN positions or shapes changed)";
  return "max |dev| " + fmt(abs_dev) + " (" + fmt(ulp) + " ULP)";
}

// A diagnosis being written: the typed fields and the sentences of its summary.
struct Draft {
  model::Diagnosis d;
  std::vector<std::string> sentences;
};

// What the controlled setting itself says: it raises (no deterministic implementation), fails,
// or moves with every knob controlled.
void explain_controlled(const ProbeResult& probe, const ProbeSetting* controlled, Draft& out) {
  if (is(controlled, ProbeVerdict::kError)) {
    const std::string msg = controlled->error.value_or("");
    const ProbeSetting* det_free = probe.find_setting("free:deterministic");
    if (det_free && det_free->verdict != ProbeVerdict::kError) {
      out.d.raises_when_controlled = true;
      out.d.causes.push_back("deterministic");
      out.sentences.push_back(
          "Raises when deterministic algorithms are on (no deterministic implementation on this "
          "device): " +
          msg + ".");
      if (det_free->verdict == ProbeVerdict::kNondeterministic)
        out.sentences.push_back("With them off it is nondeterministic: " + magnitude(*det_free) +
                                ".");
      out.d.fixes.push_back(
          "avoid this op in code that must be deterministic, or use warn_only=True and a "
          "tolerance measured with flakescope");
    } else {
      out.sentences.push_back("Fails under the controlled setting: " + msg + ".");
    }
  } else if (is(controlled, ProbeVerdict::kNondeterministic)) {
    out.sentences.push_back(
        "Nondeterministic even with every knob controlled (" + magnitude(*controlled) +
        "): the variation comes from outside flakescope's knobs, e.g. a reduction whose order "
        "depends on thread timing or atomics that no setting controls.");
    out.d.fixes.push_back(
        "compare with a tolerance measured by `flakescope tolerance`, or make the reduction order "
        "fixed in the code");
  }
}

// Repeatable under control: the knobs whose freeing alone moves the output, or that none does.
void explain_knobs(const ProbeResult& probe, const ProbeSetting* controlled, Draft& out) {
  const ProbeSetting* free_all = probe.find_setting("free");
  for (Knob k : kAllKnobs) {
    const ProbeSetting* s = probe.find_setting("free:" + std::string(knob_name(k)));
    if (!is(s, ProbeVerdict::kNondeterministic)) continue;
    if (k == Knob::kDeterministic && is(controlled, ProbeVerdict::kError)) continue;  // above
    const KnobInfo& info = knob_info(k);
    out.d.causes.push_back(std::string(info.name));
    out.sentences.push_back("Moves when " + std::string(info.name) +
                            " is free: " + std::string(info.cause) + "; " + magnitude(*s) + ".");
    out.d.fixes.push_back(std::string(info.fix));
  }
  if (!is(controlled, ProbeVerdict::kBitwiseDeterministic) || !out.d.causes.empty()) return;
  if (is(free_all, ProbeVerdict::kNondeterministic)) {
    out.sentences.push_back(
        "Bitwise deterministic when any single knob is freed, but not with all of them free (" +
        magnitude(*free_all) + "): the knobs interact.");
  } else if (free_all || probe.settings.size() > 1) {
    out.sentences.push_back("Bitwise deterministic under every setting tried.");
  } else {
    out.sentences.push_back("Bitwise deterministic under the controlled setting.");
  }
}

// Repeatable but different: a setting whose first run differs from the controlled setting's
// (TF32 on against off). Not a run-to-run flake, but a reference recorded under one setting
// fails an exact comparison under the other.
void explain_shifts(const ProbeResult& probe, Draft& out) {
  nlohmann::json shifts = nlohmann::json::object();
  std::string shift_text;
  for (const auto& s : probe.settings) {
    double abs_shift = -1, ulp_shift = 0;
    for (const auto& m : s.metrics) {
      if (!m.shift || !m.shift->extra.contains("identical") ||
          m.shift->extra.value("identical", true))
        continue;
      abs_shift = std::max(abs_shift, m.shift->max_abs);
      ulp_shift = std::max(ulp_shift, m.shift->max_ulp);
    }
    if (abs_shift < 0) continue;
    shifts[s.setting] = {{"max_abs", abs_shift}, {"max_ulp", ulp_shift}};
    shift_text += (shift_text.empty() ? "" : ", ") + s.setting + " by " + fmt(abs_shift) + " (" +
                  fmt(ulp_shift) + " ULP)";
  }
  if (shifts.empty()) return;
  out.d.extra["shifts"] = shifts;
  out.sentences.push_back("Moves the result away from the controlled value: " + shift_text +
                          " (a reference recorded under one setting fails an exact check "
                          "under the other).");
}

// Custom settings without "controlled": each nondeterministic one.
void explain_uncontrolled(const ProbeResult& probe, Draft& out) {
  for (const auto& s : probe.settings)
    if (s.verdict == ProbeVerdict::kNondeterministic)
      out.sentences.push_back("Nondeterministic under " + s.setting + ": " + magnitude(s) + ".");
  if (out.sentences.empty()) out.sentences.push_back("No nondeterminism under the settings tried.");
}

bool all_unavailable(const ProbeResult& probe) {
  return !probe.settings.empty() &&
         std::all_of(probe.settings.begin(), probe.settings.end(),
                     [](const ProbeSetting& s) { return s.verdict == ProbeVerdict::kUnavailable; });
}

}  // namespace

model::Diagnosis diagnose_probe(const ProbeResult& probe) {
  Draft out;
  out.d.raises_when_controlled = false;
  const ProbeSetting* controlled = probe.find_setting("controlled");
  out.d.extra["controlled"] = verdict_of(controlled);
  if (all_unavailable(probe)) {
    out.d.summary = "Not available here: " + probe.settings[0].error.value_or("unavailable") + ".";
    return out.d;
  }
  explain_controlled(probe, controlled, out);
  if (is(controlled, ProbeVerdict::kBitwiseDeterministic) || is(controlled, ProbeVerdict::kError))
    explain_knobs(probe, controlled, out);
  explain_shifts(probe, out);
  if (is(controlled, ProbeVerdict::kUnavailable))
    out.sentences.push_back("Not available here: " + controlled->error.value_or("") + ".");
  if (!controlled) explain_uncontrolled(probe, out);
  for (const auto& s : out.sentences) out.d.summary += (out.d.summary.empty() ? "" : " ") + s;
  return out.d;
}

}  // namespace flakescope
