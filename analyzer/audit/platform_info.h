#pragma once
// The environment a shard ran in, recorded in its run log header (config.platform) so that
// `merge` of shards from a test matrix (operating systems, Python and torch versions, CPU or GPU)
// can report failure rates per environment. Read once per audit, never per run.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flakescope::audit {

// {"os" (the distribution), "kernel", "arch", "cpu", "gpu", "python", "torch", "flakescope",
// "label"}. Python and torch are those of the audited command's interpreter (`python3 -m pytest`,
// or the shebang of a `pytest` script), read from package metadata without importing torch; null
// for a command that is not Python or when they cannot be read. `label` names the environment for
// grouping: the value of FLAKESCOPE_ENVIRONMENT when set (e.g. a CI matrix entry), else built from
// the fields above (the host name and kernel are left out, so shards on identical machines are one
// environment).
nlohmann::json describe_platform(const std::vector<std::string>& command);

// The interpreter a command runs under, or "" when it is not a Python command.
std::string python_interpreter_of(const std::vector<std::string>& command);

// The label of `platform` as described above (also for a platform read back from a log).
std::string platform_label(const nlohmann::json& platform);

}  // namespace flakescope::audit
