#include "audit/platform_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/path_lookup.h"
#include "core/subprocess.h"
#include "flakescope/version.h"

namespace flakescope::audit {
namespace {

std::string basename_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_python_name(const std::string& name) {
  return name.rfind("python", 0) == 0;
}

// The first `key` line's value in a "key: value" / "key=value" file, quotes stripped.
std::string file_field(const std::string& path, const std::string& key, char separator) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    const auto sep = line.find(separator, key.size());
    if (sep == std::string::npos) continue;
    std::string value = line.substr(sep + 1);
    const auto first = value.find_first_not_of(" \t\"");
    const auto last = value.find_last_not_of(" \t\"");
    return first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
  }
  return {};
}

// The file run_process executes for `exe`: the same lookup, on this process's PATH.
std::string command_file(const std::string& exe) {
  if (exe.find('/') != std::string::npos) return exe;
  const char* path_env = std::getenv("PATH");
  return find_on_path(exe, path_env ? path_env : "");
}

// First GPU model the NVIDIA driver lists, or "none".
std::string gpu_model() {
  std::error_code ec;
  const std::filesystem::path gpus = "/proc/driver/nvidia/gpus";
  if (std::filesystem::is_directory(gpus, ec))
    for (const auto& entry : std::filesystem::directory_iterator(gpus, ec)) {
      const std::string model = file_field((entry.path() / "information").string(), "Model", ':');
      if (!model.empty()) return model;
    }
  return "none";
}

// Python and torch versions of `python`, without importing torch (package metadata only).
void add_python_versions(const std::string& python, nlohmann::json& out) {
  ProcessSpec spec;
  spec.argv = {python, "-c",
               "import sys, json\n"
               "try:\n"
               "    from importlib.metadata import version\n"
               "    t = version('torch')\n"
               "except Exception:\n"
               "    t = None\n"
               "print(json.dumps({'python': sys.version.split()[0], 'torch': t}))\n"};
  spec.timeout_seconds = 30;
  const ProcessResult r = run_process(spec);
  if (!r.succeeded()) return;
  const nlohmann::json j = nlohmann::json::parse(r.stdout_tail, nullptr, false);
  if (!j.is_object()) return;
  if (j.contains("python") && j["python"].is_string()) out["python"] = j["python"];
  if (j.contains("torch") && j["torch"].is_string()) out["torch"] = j["torch"];
}

}  // namespace

std::string python_interpreter_of(const std::vector<std::string>& command) {
  if (command.empty()) return {};
  const std::string name = basename_of(command[0]);
  if (is_python_name(name)) return command[0];
  if (name != "pytest" && name != "py.test") return {};
  // A pytest entry point: its shebang names the interpreter ("#!/usr/bin/python3").
  std::ifstream script(command_file(command[0]));
  std::string shebang;
  if (!std::getline(script, shebang) || shebang.rfind("#!", 0) != 0) return {};
  shebang = shebang.substr(2);
  const auto first = shebang.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  shebang = shebang.substr(first, shebang.find(' ', first) - first);
  return is_python_name(basename_of(shebang)) ? shebang : std::string();
}

std::string platform_label(const nlohmann::json& platform) {
  if (platform.contains("label") && platform["label"].is_string() &&
      !platform["label"].get<std::string>().empty())
    return platform["label"].get<std::string>();
  auto field = [&](const char* key) {
    return platform.contains(key) && platform[key].is_string() ? platform[key].get<std::string>()
                                                               : std::string("?");
  };
  std::string label = field("os") + " " + field("arch");
  if (platform.contains("python") && platform["python"].is_string())
    label += ", Python " + field("python");
  if (platform.contains("torch") && platform["torch"].is_string())
    label += ", torch " + field("torch");
  const std::string gpu = field("gpu");
  label += gpu == "none" || gpu == "?" ? ", CPU" : ", GPU " + gpu;
  return label;
}

nlohmann::json describe_platform(const std::vector<std::string>& command) {
  nlohmann::json p = {{"os", nullptr},      {"kernel", nullptr},
                      {"arch", nullptr},    {"cpu", nullptr},
                      {"gpu", gpu_model()}, {"python", nullptr},
                      {"torch", nullptr},   {"flakescope", FLAKESCOPE_VERSION}};
  struct utsname u {};
  if (uname(&u) == 0) {
    const std::string distro = file_field("/etc/os-release", "PRETTY_NAME", '=');
    p["kernel"] = std::string(u.sysname) + " " + u.release;
    p["os"] = distro.empty() ? std::string(u.sysname) : distro;
    p["arch"] = u.machine;
  }
  const std::string cpu = file_field("/proc/cpuinfo", "model name", ':');
  if (!cpu.empty()) p["cpu"] = cpu;
  const std::string python = python_interpreter_of(command);
  if (!python.empty()) add_python_versions(python, p);
  const char* label = std::getenv("FLAKESCOPE_ENVIRONMENT");
  p["label"] = label && *label ? std::string(label) : platform_label(p);
  return p;
}

}  // namespace flakescope::audit
