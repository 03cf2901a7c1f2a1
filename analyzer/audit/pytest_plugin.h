#pragma once
// `audit --capture` on a pytest command loads flakescope's pytest plugin (integrations/pytest):
// `-p flakescope_pytest` goes right after the `pytest` / `-m pytest` token and the plugin folder is
// prepended to PYTHONPATH. The folder is $FLAKESCOPE_PYTHONPATH when set, else
// share/flakescope/pytest next to the binary (install or build tree: flakescope/install_layout.h);
// when neither has it, PYTHONPATH is left alone and the plugin must be installed (pip install
// integrations/pytest). FLAKESCOPE_MEASURE_LIBRARY names the plugin's native measurement
// (share/flakescope/pytest/libflakescope_measure.so beside the binary) unless the user set it.
#include <string>
#include <vector>

#include "audit/run_environment.h"
#include "core/subprocess.h"

namespace flakescope::audit {

std::string pytest_plugin_dir();

// Returns false (and changes nothing) when `argv` is not a pytest command.
bool add_pytest_plugin(std::vector<std::string>& argv, EnvChanges& env);

// The line that replays one pytest test in a fresh process with the run's environment `env`:
// `<env> PYTHONPATH=<plugin> python -m pytest -p flakescope_pytest [kept options] '<test_id>'`
// (the options that choose plugins, configuration and rootdir are kept; paths, -k and the like
// give way to the node id). Empty when `command` is not pytest or the id is unknown.
// Throws InputError when the command's output says pytest could not import flakescope's plugin
// (`Error importing plugin "flakescope_pytest": ...`): every run would fail for a reason that is
// flakescope's, not the test's, so the audit stops at the first one and says why.
void throw_if_plugin_failed_to_load(const ProcessResult& result);

// Throws InputError when pytest exited with `exit_code >= min_exit_code` (2 interrupted by
// collection errors, 3 internal error, 4 usage error such as a missing path, 5 nothing collected)
// and no test ran (`ran_a_test` false): the message is pytest's own reason ("ERROR: file or
// directory not found: x.py", a collection error's "E   ModuleNotFoundError: ..."), not a
// failure of the tests to report.
void throw_if_pytest_ran_nothing(const ProcessResult& result, bool ran_a_test, int min_exit_code);

std::string pytest_replay_line(EnvChanges env, const std::vector<std::string>& command,
                               const std::string& test_id);

}  // namespace flakescope::audit
