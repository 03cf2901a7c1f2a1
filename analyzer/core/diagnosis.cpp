#include "flakescope/diagnosis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "flakescope/knobs.h"
#include "flakescope/report.h"

namespace flakescope {
namespace {

const nlohmann::json* find_setting(const nlohmann::json& probe, const std::string& name) {
  if (!probe.contains("settings")) return nullptr;
  for (const auto& s : probe["settings"])
    if (s.value("setting", "") == name) return &s;
  return nullptr;
}

std::string verdict_of(const nlohmann::json* s) {
  return s ? s->value("verdict", "error") : std::string("not run");
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", v);
  return buf;
}

// "max |dev| 2.4e-07 (3 ULP)" over the outputs of a setting entry.
std::string magnitude(const nlohmann::json& s) {
  double abs_dev = 0, ulp = 0;
  if (s.contains("metrics"))
    for (const auto& [name, m] : s["metrics"].items()) {
      abs_dev = std::max(abs_dev, number_from_json(m.value("max_abs_dev", nlohmann::json(0.0))));
      ulp = std::max(ulp, number_from_json(m.value("max_ulp", nlohmann::json(0.0))));
    }
  if (std::isinf(abs_dev)) return "outputs not comparable (NaN positions or shapes changed)";
  return "max |dev| " + fmt(abs_dev) + " (" + fmt(ulp) + " ULP)";
}

// A diagnosis being written: the report's fields and the sentences of its summary.
struct Diagnosis {
  nlohmann::json d = {{"causes", nlohmann::json::array()},
                      {"fixes", nlohmann::json::array()},
                      {"raises_when_controlled", false}};
  std::vector<std::string> sentences;
};

// What the controlled setting itself says: it raises (no deterministic implementation), fails,
// or moves with every knob controlled.
void explain_controlled(const nlohmann::json& probe, const nlohmann::json* controlled,
                        const std::string& cv, Diagnosis& out) {
  nlohmann::json& d = out.d;
  std::vector<std::string>& sentences = out.sentences;
  if (cv == "error") {
    const std::string msg = controlled->value("error", "");
    const nlohmann::json* det_free = find_setting(probe, "free:deterministic");
    if (det_free && verdict_of(det_free) != "error") {
      d["raises_when_controlled"] = true;
      d["causes"].push_back("deterministic");
      sentences.push_back(
          "Raises when deterministic algorithms are on (no deterministic implementation on this "
          "device): " +
          msg + ".");
      if (verdict_of(det_free) == "nondeterministic")
        sentences.push_back("With them off it is nondeterministic: " + magnitude(*det_free) + ".");
      d["fixes"].push_back(
          "avoid this op in code that must be deterministic, or use warn_only=True and a "
          "tolerance measured with flakescope");
    } else {
      sentences.push_back("Fails under the controlled setting: " + msg + ".");
    }
  } else if (cv == "nondeterministic") {
    sentences.push_back(
        "Nondeterministic even with every knob controlled (" + magnitude(*controlled) +
        "): the variation comes from outside flakescope's knobs, e.g. a reduction whose order "
        "depends on thread timing or atomics that no setting controls.");
    d["fixes"].push_back(
        "compare with a tolerance measured by `flakescope tolerance`, or make the reduction order "
        "fixed in the code");
  }
}

// Repeatable under control: the knobs whose freeing alone moves the output, or that none does.
void explain_knobs(const nlohmann::json& probe, const nlohmann::json* free_all,
                   const std::string& cv, Diagnosis& out) {
  nlohmann::json& d = out.d;
  std::vector<std::string>& sentences = out.sentences;
  for (Knob k : kAllKnobs) {
    const nlohmann::json* s = find_setting(probe, "free:" + std::string(knob_name(k)));
    if (!s || verdict_of(s) != "nondeterministic") continue;
    if (k == Knob::kDeterministic && cv == "error") continue;  // explained above
    const KnobInfo& info = knob_info(k);
    d["causes"].push_back(std::string(info.name));
    sentences.push_back("Moves when " + std::string(info.name) +
                        " is free: " + std::string(info.cause) + "; " + magnitude(*s) + ".");
    d["fixes"].push_back(std::string(info.fix));
  }
  if (cv == "bitwise-deterministic" && d["causes"].empty()) {
    if (verdict_of(free_all) == "nondeterministic") {
      sentences.push_back(
          "Bitwise deterministic when any single knob is freed, but not with all of them free (" +
          magnitude(*free_all) + "): the knobs interact.");
    } else if (free_all || probe.value("settings", nlohmann::json::array()).size() > 1) {
      sentences.push_back("Bitwise deterministic under every setting tried.");
    } else {
      sentences.push_back("Bitwise deterministic under the controlled setting.");
    }
  }
}

// Repeatable but different: a setting whose first run differs from the controlled setting's
// (TF32 on against off). Not a run-to-run flake, but a reference recorded under one setting
// fails an exact comparison under the other.
void explain_shifts(const nlohmann::json& probe, Diagnosis& out) {
  nlohmann::json shifts = nlohmann::json::object();
  std::string shift_text;
  for (const auto& s : probe.value("settings", nlohmann::json::array())) {
    double abs_shift = -1, ulp_shift = 0;
    if (!s.is_object() || !s.contains("metrics") || !s["metrics"].is_object()) continue;
    for (const auto& [name, m] : s["metrics"].items()) {
      if (!m.is_object() || !m.contains("shift_from_controlled")) continue;
      const auto& sh = m["shift_from_controlled"];
      if (!sh.is_object() || !sh.contains("identical") || sh.value("identical", true)) continue;
      abs_shift = std::max(abs_shift, number_from_json(sh.value("max_abs", nlohmann::json(0.0))));
      ulp_shift = std::max(ulp_shift, number_from_json(sh.value("max_ulp", nlohmann::json(0.0))));
    }
    if (abs_shift < 0) continue;
    const std::string name = s.value("setting", "?");
    shifts[name] = {{"max_abs", abs_shift}, {"max_ulp", ulp_shift}};
    shift_text += (shift_text.empty() ? "" : ", ") + name + " by " + fmt(abs_shift) + " (" +
                  fmt(ulp_shift) + " ULP)";
  }
  if (!shifts.empty()) {
    out.d["shifts"] = shifts;
    out.sentences.push_back("Moves the result away from the controlled value: " + shift_text +
                            " (a reference recorded under one setting fails an exact check "
                            "under the other).");
  }
}

}  // namespace

nlohmann::json diagnose_probe(const nlohmann::json& probe) {
  Diagnosis out;
  nlohmann::json& d = out.d;
  std::vector<std::string>& sentences = out.sentences;
  const nlohmann::json* controlled = find_setting(probe, "controlled");
  const nlohmann::json* free_all = find_setting(probe, "free");
  const std::string cv = verdict_of(controlled);
  d["controlled"] = cv;

  bool all_unavailable = probe.contains("settings") && !probe["settings"].empty();
  for (const auto& s : probe.value("settings", nlohmann::json::array()))
    all_unavailable = all_unavailable && s.value("verdict", "") == "unavailable";
  if (all_unavailable) {
    d["summary"] =
        "Not available here: " + probe["settings"][0].value("error", "unavailable") + ".";
    return d;
  }

  explain_controlled(probe, controlled, cv, out);
  if (cv == "bitwise-deterministic" || cv == "error") explain_knobs(probe, free_all, cv, out);
  explain_shifts(probe, out);
  if (cv == "unavailable")
    sentences.push_back("Not available here: " + controlled->value("error", "") + ".");
  if (cv == "not run") {
    // Custom settings without "controlled": report each nondeterministic one.
    for (const auto& s : probe.value("settings", nlohmann::json::array()))
      if (s.value("verdict", "") == "nondeterministic")
        sentences.push_back("Nondeterministic under " + s.value("setting", "?") + ": " +
                            magnitude(s) + ".");
    if (sentences.empty()) sentences.push_back("No nondeterminism under the settings tried.");
  }

  std::string summary;
  for (const auto& s : sentences) summary += (summary.empty() ? "" : " ") + s;
  d["summary"] = summary;
  return d;
}

}  // namespace flakescope
