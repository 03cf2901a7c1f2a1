#include "audit/run_environment.h"

#include <unistd.h>

namespace flakescope::audit {
namespace {

// splitmix64: a cheap, well-mixed function of the seed, so the free thread count does not follow
// the seed's residues (which a seed-dependent test might also use).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void set(EnvChanges& env, const char* key, std::optional<std::string> value) {
  env.emplace_back(key, std::move(value));
}

}  // namespace

int free_thread_count(std::uint64_t seed) {
  return 1 + static_cast<int>(mix(seed) % 4);
}

bool knob_reaches_command(Knob knob) {
  switch (knob) {
    case Knob::kCudnn:  // through the pytest plugin (torch.backends.cudnn), pytest commands only
    case Knob::kGenerator:
    case Knob::kThreads:
    case Knob::kDeterministic:
    case Knob::kCublasWorkspace:
    case Knob::kTf32:
      return true;
    default:
      return false;
  }
}

bool nvidia_device_present() {
  return access("/dev/nvidiactl", F_OK) == 0;
}

std::vector<Knob> default_ablation_knobs(bool cuda_device_present) {
  std::vector<Knob> out;
  for (Knob k : kAllKnobs)
    if (knob_reaches_command(k) && (cuda_device_present || !knob_info(k).cuda_only))
      out.push_back(k);
  return out;
}

EnvChanges run_environment(const Setting& setting, std::uint64_t seed) {
  EnvChanges env;
  if (setting.is_free(Knob::kGenerator)) {
    set(env, "FLAKESCOPE_SEED", std::nullopt);
    set(env, "PYTHONHASHSEED", std::nullopt);
  } else {
    set(env, "FLAKESCOPE_SEED", std::to_string(seed));
    set(env, "PYTHONHASHSEED", std::to_string(seed % (std::uint64_t{1} << 32)));
  }
  const std::string threads =
      setting.is_free(Knob::kThreads) ? std::to_string(free_thread_count(seed)) : "1";
  set(env, "OMP_NUM_THREADS", threads);
  set(env, "MKL_NUM_THREADS", threads);
  const bool det_free = setting.is_free(Knob::kDeterministic);
  set(env, "MKL_CBWR", det_free ? std::nullopt : std::optional<std::string>("COMPATIBLE"));
  set(env, "CUDA_LAUNCH_BLOCKING", det_free ? std::nullopt : std::optional<std::string>("1"));
  set(env, "FLASH_ATTENTION_DETERMINISTIC",
      det_free ? std::nullopt : std::optional<std::string>("1"));
  set(env, "CUBLAS_WORKSPACE_CONFIG",
      setting.is_free(Knob::kCublasWorkspace) ? std::nullopt
                                              : std::optional<std::string>(":4096:8"));
  set(env, "NVIDIA_TF32_OVERRIDE",
      setting.is_free(Knob::kTf32) ? std::nullopt : std::optional<std::string>("0"));
  set(env, "FLAKESCOPE_SETTING", setting.name);
  return env;
}

std::string shell_quote(const std::string& word) {
  if (word.empty()) return "''";
  bool plain = true;
  for (char c : word) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == '/' || c == ':' || c == '=' ||
                    c == ',' || c == '+' || c == '@' || c == '%';
    plain = plain && ok;
  }
  if (plain) return word;
  std::string out = "'";
  for (char c : word) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string replay_line(const EnvChanges& env, const std::vector<std::string>& argv) {
  std::string line;
  bool unset_any = false;
  for (const auto& [key, value] : env)
    if (!value) unset_any = true;
  if (unset_any) {
    // `env -u` keeps the line a single command that also removes variables.
    line = "env";
    for (const auto& [key, value] : env)
      if (!value) line += " -u " + key;
    line += " ";
  }
  for (const auto& [key, value] : env)
    if (value) line += key + "=" + shell_quote(*value) + " ";
  for (std::size_t i = 0; i < argv.size(); ++i) line += (i ? " " : "") + shell_quote(argv[i]);
  return line;
}

}  // namespace flakescope::audit
