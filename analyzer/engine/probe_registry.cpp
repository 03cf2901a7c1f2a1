#include <algorithm>

#include "flakescope/probe.h"

namespace flakescope {

ProbeRegistry& ProbeRegistry::instance() {
  static ProbeRegistry registry;
  return registry;
}

void ProbeRegistry::add(ProbeInfo info) {
  probes_.push_back(std::move(info));
  sorted_ = false;
}

const std::vector<ProbeInfo>& ProbeRegistry::all() {
  if (!sorted_) {
    std::sort(probes_.begin(), probes_.end(),
              [](const ProbeInfo& a, const ProbeInfo& b) { return a.name < b.name; });
    sorted_ = true;
  }
  return probes_;
}

const ProbeInfo* ProbeRegistry::find(std::string_view name) {
  for (const auto& p : all())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace flakescope
