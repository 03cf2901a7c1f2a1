// Linked only into the test engine flakescope-torch-faults (tests/CMakeLists.txt), never into a
// shipped binary: installs the faults FLAKESCOPE_TEST_INJECT names.
//   abort:PROBE:SETTING          the worker aborts when PROBE starts SETTING (crash isolation)
//   unseeded-generator:PROBE     PROBE draws from the unseeded global generator (gate regression)
#include <cstdlib>
#include <string>

#include "engine/probe_faults.h"

namespace flakescope {
namespace {

class EnvFaults : public ProbeFaults {
 public:
  void on_setting_start(std::string_view probe, const std::string& setting) const override {
    if (spec() == "abort:" + std::string(probe) + ":" + setting) std::abort();
  }
  bool unseeded_generator(std::string_view probe) const override {
    return !probe.empty() && spec() == "unseeded-generator:" + std::string(probe);
  }

 private:
  static std::string spec() {
    const char* s = std::getenv("FLAKESCOPE_TEST_INJECT");
    return s ? s : "";
  }
};

const EnvFaults g_env_faults;
const bool g_installed = (install_probe_faults(&g_env_faults), true);

}  // namespace
}  // namespace flakescope
