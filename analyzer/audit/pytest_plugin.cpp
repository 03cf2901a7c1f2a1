#include "flakescope/audit/pytest_plugin.h"

#include <cstdlib>

#include "flakescope/audit/junit_plan.h"
#include "flakescope/install_layout.h"

namespace flakescope::audit {

std::string pytest_plugin_dir() {
  const char* dir = std::getenv("FLAKESCOPE_PYTHONPATH");
  if (dir && *dir) return dir;
  // Next to the binary (install or build tree); "" leaves the plugin to an installed package
  // (pip install flakescope-pytest registers the same module name, so `-p` finds it).
  return find_data_dir("pytest", "flakescope_pytest.py");
}

bool add_pytest_plugin(std::vector<std::string>& argv, EnvChanges& env) {
  if (detect_junit_dialect(argv) != JunitDialect::kPytest) return false;
  std::size_t insert_at = 1;  // after argv[0] when it is pytest itself
  for (std::size_t i = 1; i + 1 < argv.size(); ++i)
    if (argv[i] == "-m" && (argv[i + 1] == "pytest" || argv[i + 1] == "py.test")) {
      insert_at = i + 2;
      break;
    }
  argv.insert(argv.begin() + static_cast<std::ptrdiff_t>(insert_at), {"-p", "flakescope_pytest"});
  const std::string dir = pytest_plugin_dir();
  if (dir.empty()) return true;
  const char* old = std::getenv("PYTHONPATH");
  env.emplace_back("PYTHONPATH", dir + (old && *old ? ":" + std::string(old) : std::string()));
  return true;
}

}  // namespace flakescope::audit
