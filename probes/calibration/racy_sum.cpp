// calibration/racy_sum: the CPU stand-in for a GPU atomicAdd reduction. Worker threads take chunks
// from a shared counter and add their float partial sums into one accumulator in the order they
// finish, so the rounding differs from run to run under every setting: a known-nondeterministic
// target that no knob controls.
#include <ATen/ops/exp.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/scalar_tensor.h>
#include <ATen/ops/contiguous.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "flakescope/probe.h"

namespace flakescope {
namespace {

class RacySumProbe : public Probe {
 public:
  static constexpr int kThreads = 4;
  static constexpr std::int64_t kChunks = 128;
  static constexpr std::int64_t kChunkSize = 4096;

  void setup(ProbeContext& ctx) override {
    // Values spread over many orders of magnitude, so float addition order matters.
    auto gen = ctx.input_generator();
    auto opts = at::TensorOptions().dtype(at::kFloat);
    at::Tensor scale = at::exp(at::randn({kChunks * kChunkSize}, gen, opts).mul(3.0));
    x_ = at::randn({kChunks * kChunkSize}, gen, opts).mul(scale).contiguous();
  }

  NamedTensors run(ProbeContext& ctx) override {
    const float* data = x_.data_ptr<float>();
    std::atomic<std::int64_t> next{0};
    std::atomic<int> ready{0};
    std::mutex mu;
    float total = 0.0f;
    auto worker = [&] {
      // On a 2-core machine the scheduler alone often repeats the same finish order; a little
      // timing jitter from a hardware entropy source stands in for the varying latencies of
      // GPU atomics, so the order (and the rounding) really differs from run to run.
      std::minstd_rand jitter(std::random_device{}());
      // Start together, so the threads race for chunks instead of the first one started taking
      // them all before the others exist.
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (std::int64_t c; (c = next.fetch_add(1)) < kChunks;) {
        float partial = 0.0f;
        for (std::int64_t i = c * kChunkSize; i < (c + 1) * kChunkSize; ++i) partial += data[i];
        for (volatile unsigned spin = jitter() % 4096; spin > 0; spin = spin - 1) {
        }
        std::lock_guard<std::mutex> lock(mu);
        total += partial;  // order of arrival = order of rounding
        std::this_thread::yield();
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    return {{"out", at::scalar_tensor(total, ctx.tensor_options().dtype(at::kFloat))}};
  }

 private:
  at::Tensor x_;
};

FLAKESCOPE_REGISTER_PROBE({"calibration/racy_sum",
                           "float sum whose partials are combined in thread finish order: "
                           "nondeterministic under every setting (CPU stand-in for atomics)",
                           {"default", "calibration"},
                           false,
                           [](const ProbeOptions&) { return std::make_unique<RacySumProbe>(); }});

}  // namespace
}  // namespace flakescope
