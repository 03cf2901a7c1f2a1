#include "flakescope/knobs.h"

#include "flakescope/error.h"

namespace flakescope {
namespace {

const std::array<KnobInfo, kKnobCount> kKnobTable = {{
    {Knob::kDeterministic, "deterministic", "torch deterministic algorithms on (error, not warn)",
     "deterministic algorithms off",
     "the output changes only when deterministic algorithms are off: a kernel uses atomics or "
     "another order-dependent algorithm",
     "call torch.use_deterministic_algorithms(True) (C++: "
     "at::globalContext().setDeterministicAlgorithms(true, false))",
     false},
    {Knob::kCudnn, "cudnn", "cuDNN deterministic, benchmark off", "cuDNN benchmark on (autotuning)",
     "cuDNN autotuning picks different convolution algorithms from run to run",
     "set torch.backends.cudnn.deterministic = True and torch.backends.cudnn.benchmark = False",
     true},
    {Knob::kTf32, "tf32", "TF32 off for matmul and convolution", "TF32 allowed",
     "TF32 rounds matmul/convolution inputs to 10 mantissa bits",
     "set torch.backends.cuda.matmul.allow_tf32 = False and torch.backends.cudnn.allow_tf32 = "
     "False (2.9+: the fp32_precision = 'ieee' settings)",
     true},
    {Knob::kCublasWorkspace, "cublas_workspace", "CUBLAS_WORKSPACE_CONFIG=:4096:8",
     "CUBLAS_WORKSPACE_CONFIG unset",
     "cuBLAS picks split-K reductions whose order depends on the workspace",
     "export CUBLAS_WORKSPACE_CONFIG=:4096:8 before the process starts", true},
    {Knob::kGenerator, "generator", "explicit generator, reseeded every run",
     "global default generator, never reseeded",
     "the output draws random numbers from an unseeded (global) generator",
     "pass an explicit torch.Generator seeded per test (C++: "
     "at::make_generator<at::CPUGeneratorImpl>(seed)), or call torch.manual_seed in the test",
     false},
    {Knob::kThreads, "threads", "fixed intra-op thread count", "thread count varies across runs",
     "the result depends on the intra-op thread count (reductions are split per thread)",
     "pin the thread count: torch.set_num_threads(N) or OMP_NUM_THREADS=N, the same on every "
     "machine that produces or checks reference values",
     false},
    {Knob::kBatch, "batch", "fixed batch composition",
     "the same sample is computed inside batches of varying size",
     "a sample's result depends on the size of the batch it is computed in (the kernel's "
     "reduction strategy changes with batch size)",
     "compare results computed with the same batch size, or use batch-invariant kernels; loosen "
     "the tolerance to the measured batch spread",
     false},
    {Knob::kUninit, "uninit", "uninitialized memory filled before use",
     "uninitialized memory (torch.empty) left as is",
     "the output reads uninitialized memory (torch.empty without a fill)",
     "initialize the buffer (torch.zeros), or call "
     "torch.utils.deterministic.fill_uninitialized_memory = True (2.2+)",
     false},
}};

}  // namespace

const KnobInfo& knob_info(Knob knob) { return kKnobTable[static_cast<std::size_t>(knob)]; }

std::string_view knob_name(Knob knob) { return knob_info(knob).name; }

std::optional<Knob> parse_knob(std::string_view name) {
  for (const auto& info : kKnobTable)
    if (info.name == name) return info.knob;
  return std::nullopt;
}

Setting all_controlled() { return Setting{"controlled", {}}; }

Setting all_free() {
  Setting s{"free", {}};
  s.free.fill(true);
  return s;
}

Setting free_only(const std::vector<Knob>& knobs) {
  Setting s{"free:", {}};
  bool first = true;
  for (Knob k : knobs) {
    s.set_free(k, true);
    if (!first) s.name += "+";
    s.name += knob_name(k);
    first = false;
  }
  return s;
}

Setting parse_setting_name(std::string_view name) {
  if (name == "controlled") return all_controlled();
  if (name == "free") return all_free();
  constexpr std::string_view kPrefix = "free:";
  if (name.substr(0, kPrefix.size()) != kPrefix)
    throw InputError("unknown setting '" + std::string(name) +
                     "' (expected controlled, free, ablation or free:KNOB[+KNOB])");
  std::vector<Knob> knobs;
  std::string_view rest = name.substr(kPrefix.size());
  while (!rest.empty()) {
    auto plus = rest.find('+');
    std::string_view part = rest.substr(0, plus);
    auto knob = parse_knob(part);
    if (!knob) {
      std::string known;
      for (const auto& info : kKnobTable) known += (known.empty() ? "" : ", ") + std::string(info.name);
      throw InputError("unknown knob '" + std::string(part) + "' in setting '" + std::string(name) +
                       "' (knobs: " + known + ")");
    }
    knobs.push_back(*knob);
    if (plus == std::string_view::npos) break;
    rest = rest.substr(plus + 1);
  }
  if (knobs.empty()) throw InputError("setting '" + std::string(name) + "' frees no knob");
  return free_only(knobs);
}

std::vector<Setting> parse_settings(std::string_view spec, bool skip_cuda_only) {
  std::vector<Setting> out;
  if (spec == "ablation") {
    out.push_back(all_controlled());
    for (Knob k : kAllKnobs) {
      if (skip_cuda_only && knob_info(k).cuda_only) continue;
      out.push_back(free_only({k}));
    }
    out.push_back(all_free());
    return out;
  }
  std::string_view rest = spec;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    Setting s = parse_setting_name(rest.substr(0, comma));
    bool dup = false;
    for (const auto& o : out) dup = dup || o.name == s.name;
    if (!dup) out.push_back(s);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (out.empty()) throw InputError("--settings is empty");
  return out;
}

}  // namespace flakescope
