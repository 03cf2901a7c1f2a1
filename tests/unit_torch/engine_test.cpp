// The LibTorch edge: settings applied to and restored from LibTorch's global state, tensors reduced
// to host views, and one probe run in process.
#include <ATen/Context.h>
#include <torch/version.h>
#include <ATen/Parallel.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/full.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/isnan.h>
#include <ATen/ops/randn.h>

#include <set>

#include <gtest/gtest.h>

#include "engine/fp32_precision.h"
#include "engine/probe_runner.h"
#include "engine/scoped_setting.h"
#include "engine/tensor_view.h"
#include "flakescope/probe.h"

namespace flakescope {
namespace {

TEST(ScopedSetting, AppliesControlledKnobsAndRestoresTheState) {
  const GlobalTorchState before = GlobalTorchState::capture();
  {
    ScopedSetting s(all_controlled(), {1});
    auto& ctx = at::globalContext();
    EXPECT_TRUE(ctx.deterministicAlgorithms());
    EXPECT_FALSE(ctx.deterministicAlgorithmsWarnOnly());
    EXPECT_TRUE(ctx.deterministicCuDNN());
    EXPECT_FALSE(ctx.benchmarkCuDNN());
    EXPECT_FALSE(ctx.allowTF32CuBLAS());
    EXPECT_EQ(at::get_num_threads(), 1);
  }
  EXPECT_TRUE(GlobalTorchState::capture() == before);
}

TEST(ScopedSetting, FreeKnobsTakeTheirFreeValues) {
  const GlobalTorchState before = GlobalTorchState::capture();
  {
    ScopedSetting s(all_free(), {2, 1});
    auto& ctx = at::globalContext();
    EXPECT_FALSE(ctx.deterministicAlgorithms());
    EXPECT_TRUE(ctx.benchmarkCuDNN());
    bool tf32_matmul = false, tf32_conv = false;
    get_cuda_tf32(&tf32_matmul, &tf32_conv);  // 2.15 refuses the legacy getter after the new setter
    EXPECT_TRUE(tf32_matmul);
    EXPECT_TRUE(tf32_conv);
    s.begin_run(0);
    EXPECT_EQ(at::get_num_threads(), 2);
    s.begin_run(1);
    EXPECT_EQ(at::get_num_threads(), 1);
  }
  EXPECT_TRUE(GlobalTorchState::capture() == before);
}

TEST(ScopedSetting, ControlledThreadsStayFixedAcrossRuns) {
  ScopedSetting s(parse_setting_name("free:generator"), {1, 2});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(s.threads_for_run(i), 1);
}

TEST(WorkerEnvironment, CublasWorkspaceIsAProcessKnob) {
  auto controlled = worker_environment(all_controlled());
  ASSERT_EQ(controlled.size(), 1u);
  EXPECT_EQ(controlled[0].first, "CUBLAS_WORKSPACE_CONFIG");
  EXPECT_EQ(controlled[0].second.value_or(""), ":4096:8");
  EXPECT_FALSE(worker_environment(all_free())[0].second.has_value());
}

TEST(HostView, NonContiguousTensorsAreCopiedToContiguous) {
  at::Tensor t = at::arange(6, at::kFloat).reshape({2, 3}).t();  // transposed view
  at::Tensor holder;
  TensorView v = host_view(t, holder);
  EXPECT_EQ(v.dtype, DType::kFloat32);
  ASSERT_EQ(v.shape, (std::vector<std::int64_t>{3, 2}));
  const float* d = static_cast<const float*>(v.data);
  EXPECT_EQ(d[0], 0.0f);
  EXPECT_EQ(d[1], 3.0f);  // row-major order of the transposed view
}

TEST(ProbeContext, ControlledGeneratorRepeatsFreeGeneratorDoesNot) {
  ProbeOptions o;
  ProbeContext controlled(o, all_controlled());
  controlled.begin_run(0);
  at::Tensor a = at::randn({8}, controlled.generator());
  controlled.begin_run(1);
  at::Tensor b = at::randn({8}, controlled.generator());
  EXPECT_TRUE(a.equal(b));

  ProbeContext free(o, parse_setting_name("free:generator"));
  free.begin_run(0);
  at::Tensor c = at::randn({8}, free.generator());
  free.begin_run(1);
  at::Tensor d = at::randn({8}, free.generator());
  EXPECT_FALSE(c.equal(d));
}

TEST(ProbeContext, BatchSizeVariesOnlyWhenFree) {
  ProbeOptions o;
  ProbeContext controlled(o, all_controlled());
  ProbeContext free(o, parse_setting_name("free:batch"));
  std::set<std::int64_t> seen;
  for (int i = 0; i < 5; ++i) {
    controlled.begin_run(i);
    free.begin_run(i);
    EXPECT_EQ(controlled.batch_size(16), 16);
    seen.insert(free.batch_size(16));
  }
  EXPECT_GE(seen.size(), 3u);
}

TEST(ProbeContext, ControlledUninitializedMemoryIsFilled) {
  ProbeOptions o;
  ProbeContext controlled(o, all_controlled());
  at::Tensor t = controlled.empty({16}, at::TensorOptions().dtype(at::kFloat));
  EXPECT_TRUE(t.isnan().all().item<bool>());
}

TEST(RunProbeSetting, ConstantProbeInProcess) {
  const ProbeInfo* info = ProbeRegistry::instance().find("calibration/constant");
  ASSERT_NE(info, nullptr);
  ProbeRunOptions o;
  o.count = fixed_run_count(5);
  o.threads = {1};
  nlohmann::json e = run_probe_setting(info->name, info->make, all_controlled(), o);
  EXPECT_EQ(e["verdict"], "bitwise-deterministic");
  EXPECT_EQ(e["runs"], 5);
  EXPECT_EQ(e["metrics"]["out"]["samples"]["abs"].size(), 4u);
}

TEST(RunProbeSetting, ProbeErrorsBecomeVerdictsNotExceptions) {
  struct Throwing : Probe {
    NamedTensors run(ProbeContext&) override { throw std::runtime_error("boom\nbacktrace"); }
  };
  ProbeRunOptions o;
  o.count = fixed_run_count(3);
  nlohmann::json e = run_probe_setting(
      "test/throwing", [](const ProbeOptions&) { return std::make_unique<Throwing>(); },
      all_controlled(), o);
  EXPECT_EQ(e["verdict"], "error");
  EXPECT_EQ(e["error"], "boom");
}

TEST(RunProbeSetting, CudaWithoutADeviceIsUnavailable) {
  if (at::hasCUDA()) GTEST_SKIP() << "a CUDA device is present";
  const ProbeInfo* info = ProbeRegistry::instance().find("calibration/constant");
  ProbeRunOptions o;
  o.count = fixed_run_count(2);
  o.probe.device = c10::Device(c10::kCUDA, 0);
  nlohmann::json e = run_probe_setting(info->name, info->make, all_controlled(), o);
  EXPECT_EQ(e["verdict"], "unavailable");
  EXPECT_EQ(e["error"], "no CUDA device");
}

// The TF32 knob goes through the fp32-precision API wherever this LibTorch has it (2.9 on) and
// through the legacy setters before; get_cuda_tf32 reads back through the same API.
TEST(Fp32Precision, TheApiMatchesTheLibTorchVersion) {
  const GlobalTorchState saved = GlobalTorchState::capture();
  const std::string api = set_cuda_tf32(true, false);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 9)
  EXPECT_EQ(api, "fp32-precision");
#else
  EXPECT_EQ(api, "legacy");
#endif
  bool matmul = false, conv = true;
  get_cuda_tf32(&matmul, &conv);
  EXPECT_TRUE(matmul);
  EXPECT_FALSE(conv);
  set_cuda_tf32(false, true);
  get_cuda_tf32(&matmul, &conv);
  EXPECT_FALSE(matmul);
  EXPECT_TRUE(conv);
  // Capture after the new setters must not touch the legacy getters (2.15 throws there).
  EXPECT_NO_THROW(GlobalTorchState::capture());
  saved.apply();
}

// A knob that moves the result repeatably (as TF32 does on a GPU): each setting is bitwise
// deterministic run to run, and the shift against the controlled setting's first run is recorded.
TEST(RunProbeSetting, ShiftFromControlledIsMeasured) {
  struct FollowsDeterministicMode : Probe {
    NamedTensors run(ProbeContext&) override {
      const double v = at::globalContext().deterministicAlgorithms() ? 1.0 : 1.5;
      return {{"out", at::full({3}, v, at::TensorOptions().dtype(at::kFloat))}};
    }
  };
  const ProbeFactory make = [](const ProbeOptions&) {
    return std::make_unique<FollowsDeterministicMode>();
  };
  ProbeRunOptions o;
  o.count = fixed_run_count(3);
  o.threads = {1};
  ControlledReference reference;
  nlohmann::json c = run_probe_setting("test/mode", make, all_controlled(), o, {}, &reference);
  EXPECT_FALSE(c["metrics"]["out"].contains("shift_from_controlled"));  // it is the reference
  nlohmann::json f = run_probe_setting("test/mode", make, parse_setting_name("free:deterministic"),
                                       o, {}, &reference);
  EXPECT_EQ(f["verdict"], "bitwise-deterministic");
  const auto& shift = f["metrics"]["out"]["shift_from_controlled"];
  EXPECT_DOUBLE_EQ(shift["max_abs"].get<double>(), 0.5);
  EXPECT_FALSE(shift["identical"].get<bool>());
  nlohmann::json g = run_probe_setting("test/mode", make, parse_setting_name("free:generator"), o,
                                       {}, &reference);
  EXPECT_TRUE(g["metrics"]["out"]["shift_from_controlled"]["identical"].get<bool>());
}

}  // namespace
}  // namespace flakescope
