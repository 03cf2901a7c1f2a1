#pragma once
// `audit --capture` on a pytest command loads flakescope's pytest plugin (integrations/pytest):
// `-p flakescope_pytest` goes right after the `pytest` / `-m pytest` token and the plugin folder is
// prepended to PYTHONPATH. The folder is $FLAKESCOPE_PYTHONPATH when set, else share/flakescope/pytest
// next to the binary (install or build tree: flakescope/install_layout.h); when neither has it,
// PYTHONPATH is left alone and the plugin must be installed (pip install integrations/pytest).
#include <string>
#include <vector>

#include "flakescope/audit/run_environment.h"

namespace flakescope::audit {

std::string pytest_plugin_dir();

// Returns false (and changes nothing) when `argv` is not a pytest command.
bool add_pytest_plugin(std::vector<std::string>& argv, EnvChanges& env);

}  // namespace flakescope::audit
