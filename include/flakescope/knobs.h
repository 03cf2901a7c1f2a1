#pragma once
// The determinism knobs and the settings (assignments of all knobs) that flakescope runs under.
//
// Each knob has a "controlled" value (the deterministic choice) and a "free" value (what code gets
// when nobody thinks about determinism). Freeing one knob at a time from the all-controlled setting
// is how flakescope says *which* knob causes variation (the ablation).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flakescope {

enum class Knob : std::uint8_t {
  kDeterministic,    // at::globalContext().setDeterministicAlgorithms
  kCudnn,            // cuDNN deterministic + benchmark off
  kTf32,             // TF32 off for matmul and convolution
  kCublasWorkspace,  // CUBLAS_WORKSPACE_CONFIG=:4096:8 (process environment)
  kGenerator,        // explicit generator reseeded per run vs the unseeded global generator
  kThreads,          // fixed intra-op thread count vs varied across runs
  kBatch,            // fixed batch composition vs the sample computed inside varying batches
  kUninit,           // uninitialized memory filled vs left as is
};

inline constexpr std::size_t kKnobCount = 8;
inline constexpr std::array<Knob, kKnobCount> kAllKnobs = {
    Knob::kDeterministic, Knob::kCudnn, Knob::kTf32,  Knob::kCublasWorkspace,
    Knob::kGenerator,     Knob::kThreads, Knob::kBatch, Knob::kUninit};

struct KnobInfo {
  Knob knob;
  std::string_view name;        // command-line and report name, e.g. "threads"
  std::string_view controlled;  // what the controlled value does
  std::string_view free;        // what the free value does
  std::string_view cause;       // sentence fragment used in a diagnosis
  std::string_view fix;         // what the user should do about it
  bool cuda_only;               // has no effect on a CPU-only run
};

const KnobInfo& knob_info(Knob knob);
std::string_view knob_name(Knob knob);
std::optional<Knob> parse_knob(std::string_view name);

// One assignment of all knobs. `name` is what reports show: "controlled", "free", "free:threads".
struct Setting {
  std::string name;
  std::array<bool, kKnobCount> free{};  // indexed by static_cast<size_t>(Knob)

  bool is_free(Knob k) const { return free[static_cast<std::size_t>(k)]; }
  void set_free(Knob k, bool value) { free[static_cast<std::size_t>(k)] = value; }
  bool operator==(const Setting& o) const { return free == o.free; }
};

Setting all_controlled();
Setting all_free();
Setting free_only(const std::vector<Knob>& knobs);

// Parses "ablation", "controlled", "free", or a comma list of "controlled", "free",
// "free:KNOB[+KNOB...]". With `skip_cuda_only`, knobs that cannot matter without CUDA are left out of
// the ablation (their settings would repeat the controlled one). Throws InputError.
std::vector<Setting> parse_settings(std::string_view spec, bool skip_cuda_only);

// Parses a setting name back ("free:threads+generator").
Setting parse_setting_name(std::string_view name);

}  // namespace flakescope
