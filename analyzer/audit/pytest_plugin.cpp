#include "audit/pytest_plugin.h"

#include <cstdlib>
#include <optional>
#include <vector>

#include "audit/junit_plan.h"
#include "core/install_layout.h"
#include "flakescope/error.h"

namespace flakescope::audit {

std::string pytest_plugin_dir() {
  const char* dir = std::getenv("FLAKESCOPE_PYTHONPATH");
  if (dir && *dir) return dir;
  // Next to the binary (install or build tree); "" leaves the plugin to an installed package
  // (pip install flakescope-pytest registers the same module name, so `-p` finds it).
  return find_data_dir("pytest", "flakescope_pytest.py");
}

namespace {

// Where pytest's own arguments start: after "-m pytest", or after argv[0] when it is pytest.
std::size_t pytest_arguments_start(const std::vector<std::string>& argv) {
  for (std::size_t i = 1; i + 1 < argv.size(); ++i)
    if (argv[i] == "-m" && (argv[i + 1] == "pytest" || argv[i + 1] == "py.test")) return i + 2;
  return 1;
}

// PYTHONPATH with the plugin's folder first; none when the plugin is an installed package.
std::optional<std::string> plugin_pythonpath() {
  const std::string dir = pytest_plugin_dir();
  if (dir.empty()) return std::nullopt;
  const char* old = std::getenv("PYTHONPATH");
  return dir + (old && *old ? ":" + std::string(old) : std::string());
}

// The plugin's native measurement beside this binary, for a plugin loaded from elsewhere
// (FLAKESCOPE_PYTHONPATH, an installed package); none when the user set FLAKESCOPE_MEASURE_LIBRARY
// (their choice stands) or this install has no library (the plugin measures with numpy then).
std::optional<std::string> measure_library() {
  const char* set = std::getenv("FLAKESCOPE_MEASURE_LIBRARY");
  if (set && *set) return std::nullopt;
  const std::string dir = find_data_dir("pytest", "libflakescope_measure.so");
  if (dir.empty()) return std::nullopt;
  return dir + "/libflakescope_measure.so";
}

// Options a replay keeps (with their value): they decide which plugins, configuration and
// rootdir pytest uses, which the node id needs to mean the same test.
bool replay_keeps(const std::string& option) {
  static const char* const kKept[] = {"-p",
                                      "-c",
                                      "-o",
                                      "--rootdir",
                                      "--confcutdir",
                                      "--import-mode",
                                      "--override-ini",
                                      "--config-file",
                                      "-W",
                                      "--pythonwarnings"};
  for (const char* k : kKept)
    if (option == k) return true;
  return false;
}

}  // namespace

bool add_pytest_plugin(std::vector<std::string>& argv, EnvChanges& env) {
  if (detect_junit_dialect(argv) != JunitDialect::kPytest) return false;
  const std::size_t insert_at = pytest_arguments_start(argv);
  argv.insert(argv.begin() + static_cast<std::ptrdiff_t>(insert_at), {"-p", "flakescope_pytest"});
  if (auto path = plugin_pythonpath()) env.emplace_back("PYTHONPATH", *path);
  if (auto library = measure_library()) env.emplace_back("FLAKESCOPE_MEASURE_LIBRARY", *library);
  return true;
}

void throw_if_plugin_failed_to_load(const ProcessResult& result) {
  static const std::string kMarker = "Error importing plugin \"flakescope_pytest\"";
  for (const std::string* tail : {&result.stderr_tail, &result.stdout_tail}) {
    const std::size_t at = tail->find(kMarker);
    if (at == std::string::npos) continue;
    const std::size_t end = tail->find('\n', at);
    const std::string dir = pytest_plugin_dir();
    throw InputError(
        "flakescope's pytest plugin did not load: " +
        tail->substr(at, end == std::string::npos ? std::string::npos : end - at) +
        " (plugin folder: " + (dir.empty() ? std::string("the installed package") : dir) + ")");
  }
}

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text.find_first_not_of(" \t\r", start) < end)
      lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// pytest's reason for running nothing: its usage error ("ERROR: ..."), else the first error line
// of a collection error ("E   ..."), else the last line it printed.
std::string pytest_reason(const ProcessResult& result) {
  const std::vector<std::string> err = lines_of(result.stderr_tail);
  const std::vector<std::string> out = lines_of(result.stdout_tail);
  for (const char* prefix : {"ERROR: ", "E   "})
    for (const auto* lines : {&err, &out})
      for (const std::string& line : *lines)
        if (line.rfind(prefix, 0) == 0) return line;
  if (!out.empty()) return out.back();
  return err.empty() ? std::string() : err.back();
}

}  // namespace

void throw_if_pytest_ran_nothing(const ProcessResult& result, bool ran_a_test, int min_exit_code) {
  if (ran_a_test || result.status != ProcessStatus::kExited || result.exit_code < min_exit_code)
    return;
  std::string reason = pytest_reason(result);
  if (reason.rfind("E   ", 0) == 0) reason = reason.substr(4);
  throw InputError("pytest exited " + std::to_string(result.exit_code) + " without running a test" +
                   (reason.empty() ? "" : ": " + reason));
}

std::string pytest_replay_line(EnvChanges env, const std::vector<std::string>& command,
                               const std::string& test_id) {
  if (test_id.empty() || detect_junit_dialect(command) != JunitDialect::kPytest) return {};
  const std::size_t start = pytest_arguments_start(command);
  std::vector<std::string> argv(command.begin(), command.begin() + std::ptrdiff_t(start));
  argv.insert(argv.end(), {"-p", "flakescope_pytest"});
  for (std::size_t i = start; i < command.size(); ++i) {
    const std::string& a = command[i];
    const std::string name = a.substr(0, a.find('='));
    if (!replay_keeps(name)) continue;  // paths, -k, -x, --junitxml: the node id replaces them
    if (name != a) {
      argv.push_back(a);
    } else if (i + 1 < command.size()) {
      if (a == "-p" && command[i + 1] == "flakescope_pytest") {
        ++i;
        continue;
      }
      argv.push_back(a);
      argv.push_back(command[++i]);
    }
  }
  if (auto path = plugin_pythonpath()) env.emplace_back("PYTHONPATH", *path);
  std::string quoted;  // always quoted: node ids carry brackets, spaces and colons
  for (char c : test_id) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return replay_line(env, argv) + " '" + quoted + "'";
}

}  // namespace flakescope::audit
