#pragma once
// A seam for fault-injection tests, empty in shipped binaries: nothing in flakescope-torch reads
// an environment variable or aborts on purpose. The test-only engine flakescope-torch-faults
// (tests/support/probe_faults_from_env.cpp) installs faults at start-up, so the e2e tests can
// crash a worker in one setting, or make a probe draw from the unseeded generator as a regression
// would, through the real CLI and real worker processes.
#include <string>
#include <string_view>

namespace flakescope {

class ProbeFaults {
 public:
  virtual ~ProbeFaults() = default;
  // Called when `probe` starts `setting` in this process (a test aborts here, as a crashing
  // kernel would).
  virtual void on_setting_start(std::string_view probe, const std::string& setting) const {}
  // Whether `probe` draws from the unseeded global generator under every setting.
  virtual bool unseeded_generator(std::string_view probe) const { return false; }
};

// Null unless a test build installed faults (before main, from a static initializer).
const ProbeFaults* installed_probe_faults();
void install_probe_faults(const ProbeFaults* faults);

}  // namespace flakescope
