#include "flakescope/audit/pytest_plugin.h"

#include <cstdlib>

#include "flakescope/audit/junit_plan.h"

namespace flakescope::audit {

std::string pytest_plugin_dir() {
  const char* dir = std::getenv("FLAKESCOPE_PYTHONPATH");
  if (dir && *dir) return dir;
  return std::string(FLAKESCOPE_SOURCE_DIR) + "/integrations/pytest";
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
  const char* old = std::getenv("PYTHONPATH");
  env.emplace_back("PYTHONPATH",
                   pytest_plugin_dir() + (old && *old ? ":" + std::string(old) : std::string()));
  return true;
}

}  // namespace flakescope::audit
