// `flakescope list`: what can be run (probes and suites), the knobs, the settings of the ablation,
// and the report formats.
#include <boost/program_options.hpp>

#include <iomanip>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "flakescope/error.h"
#include "flakescope/knobs.h"
#include "flakescope/probe.h"

namespace po = boost::program_options;

namespace flakescope::cli {

int cmd_list(const CommandArgs& a) {
  bool json = false;
  std::string what = "all";
  po::options_description desc("usage: flakescope list [probes|knobs|settings|formats] [--json]",
                               kHelpColumns, kHelpColumns / 2);
  desc.add_options()("help,h", "show this help")("json", po::bool_switch(&json), "print JSON");
  const std::string epilog = help_epilog(
      {"flakescope list", "flakescope list probes", "flakescope list knobs --json"}, {});
  if (!parse_command_line(a.args, desc, "what", po::value(&what), 1, a.out, "", epilog))
    return kExitOk;
  if (what != "all" && what != "probes" && what != "knobs" && what != "settings" &&
      what != "formats")
    throw InputError("unknown list '" + what + "' (probes, knobs, settings, formats)");

  nlohmann::json j = nlohmann::json::object();
  const auto& probes = ProbeRegistry::instance().all();
  for (const auto& p : probes)
    j["probes"].push_back({{"name", p.name},
                           {"description", p.description},
                           {"suites", p.suites},
                           {"needs_cuda", p.needs_cuda}});
  for (Knob k : kAllKnobs) {
    const auto& info = knob_info(k);
    j["knobs"].push_back({{"name", info.name},
                          {"controlled", info.controlled},
                          {"free", info.free},
                          {"cuda_only", info.cuda_only}});
  }
  for (const auto& s : parse_settings("ablation", false)) j["settings"].push_back(s.name);
  j["formats"] = {"terminal", "json", "md", "html", "junit"};

  if (json) {
    a.out << (what == "all" ? j : j[what]).dump(2) << "\n";
    return kExitOk;
  }
  if (what == "all" || what == "probes") {
    std::map<std::string, int> suites;
    for (const auto& p : probes)
      for (const auto& s : p.suites) ++suites[s];
    a.out << "Probes (" << probes.size() << "):\n";
    for (const auto& p : probes) {
      std::string tags;
      for (const auto& s : p.suites) tags += (tags.empty() ? "" : ",") + s;
      a.out << "  " << std::left << std::setw(36) << p.name << " " << p.description << "  [" << tags
            << "]\n";
    }
    a.out << "Suites:";
    for (const auto& [s, n] : suites) a.out << " " << s << " (" << n << ")";
    a.out << "\n  and any TorchScript file: flakescope probe model.pt --input-shape 4,3,32,32\n\n";
  }
  if (what == "all" || what == "knobs") {
    a.out << "Knobs (controlled / free):\n";
    for (Knob k : kAllKnobs) {
      const auto& info = knob_info(k);
      a.out << "  " << std::left << std::setw(17) << info.name << info.controlled << " / "
            << info.free << (info.cuda_only ? "  [CUDA only]" : "") << "\n";
    }
    a.out << "\n";
  }
  if (what == "all" || what == "settings") {
    a.out << "Settings of --settings ablation (the default):\n  ";
    for (const auto& s : parse_settings("ablation", false)) a.out << s.name << " ";
    a.out << "\n  (on a CPU run the CUDA-only knobs are skipped)\n\n";
  }
  if (what == "all" || what == "formats")
    a.out << "Report formats: terminal, json, md, html, junit (flakescope report REPORT --format "
             "F)\n";
  return kExitOk;
}

}  // namespace flakescope::cli
