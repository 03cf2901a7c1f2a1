#include "cli/probe_resolution.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "flakescope/error.h"
#include "flakescope/probe.h"

namespace flakescope::cli {
namespace {

bool looks_like_torchscript(const std::string& s) {
  auto ends = [&](const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
  };
  return ends(".pt") || ends(".pth") || ends(".ptl") || ends(".torchscript") || s.find('/') == 0 ||
         s.rfind("./", 0) == 0;
}

ProbeTarget from_info(const ProbeInfo& p) {
  return {p.name, p.description, false, p.needs_cuda};
}

}  // namespace

std::vector<ProbeTarget> resolve_targets(const std::vector<std::string>& names,
                                         const std::vector<std::string>& suites) {
  auto& registry = ProbeRegistry::instance();
  std::vector<ProbeTarget> out;
  std::set<std::string> seen;
  auto add = [&](ProbeTarget t) {
    if (seen.insert(t.name).second) out.push_back(std::move(t));
  };
  for (const auto& suite : suites) {
    bool any = false;
    std::set<std::string> known;
    for (const auto& p : registry.all()) {
      for (const auto& s : p.suites) known.insert(s);
      if (std::find(p.suites.begin(), p.suites.end(), suite) != p.suites.end()) {
        add(from_info(p));
        any = true;
      }
    }
    if (!any) {
      std::string list;
      for (const auto& s : known) list += (list.empty() ? "" : ", ") + s;
      throw InputError("unknown suite '" + suite + "' (suites: " + list + ")");
    }
  }
  for (const auto& name : names) {
    if (const ProbeInfo* p = registry.find(name)) {
      add(from_info(*p));
      continue;
    }
    if (name.find_first_of("*?[") != std::string::npos) {
      bool any = false;
      for (const auto& p : registry.all())
        if (fnmatch(name.c_str(), p.name.c_str(), 0) == 0) {
          add(from_info(p));
          any = true;
        }
      if (!any) throw InputError("pattern '" + name + "' matches no probe (see flakescope list)");
      continue;
    }
    if (looks_like_torchscript(name)) {
      add({name, "TorchScript model " + name, true, false});
      continue;
    }
    throw InputError(
        "unknown probe '" + name +
        "' (see `flakescope list`; a TorchScript file needs a .pt/.pth suffix or a path)");
  }
  if (out.empty())
    throw InputError("no probe given: name probes, --suite NAME, or a TorchScript .pt file");
  return out;
}

ProbeFactory factory_for(const ProbeTarget& target) {
  if (target.torchscript) return [](const ProbeOptions& o) { return make_torchscript_probe(o); };
  const ProbeInfo* info = ProbeRegistry::instance().find(target.name);
  if (!info) throw InputError("unknown probe '" + target.name + "'");
  return info->make;
}

void validate_torchscript(const ProbeTarget& target, const ProbeRunOptions& options) {
  if (!target.torchscript) return;
  if (options.probe.input_shape.empty())
    throw InputError(target.name + ": a TorchScript model needs --input-shape (e.g. 4,3,32,32)");
  ProbeOptions o = options.probe;
  o.model_path = target.name;
  (void)make_torchscript_probe(o);  // throws InputError naming the file when it cannot load
}

}  // namespace flakescope::cli
