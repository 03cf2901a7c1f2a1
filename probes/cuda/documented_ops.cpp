// PyTorch's documented list of CUDA-nondeterministic ops (torch.use_deterministic_algorithms), one
// probe per entry, registered as "cuda/documented/NAME" (suite "cuda"). Each probe is shaped so the
// documented cause can show: indices with many repeats (atomics collide), overlapping windows
// (several outputs add into one input gradient), ties (which index wins). The documented
// behaviour under deterministic algorithms is in the description: "switches" (to a deterministic
// kernel) or "raises" (no deterministic kernel exists). Ops of this list that are also ordinary op
// probes are measured there: conv (cuda/ops/conv2d_*), cumsum, index_add, scatter_add
// (cuda/ops/...). reports/gpu/README.md holds the documented-vs-measured table.
#include <ATen/ops/adaptive_avg_pool2d.h>
#include <ATen/ops/adaptive_avg_pool3d.h>
#include <ATen/ops/adaptive_max_pool2d.h>
#include <ATen/ops/add.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/avg_pool3d.h>
#include <ATen/ops/bincount.h>
#include <ATen/ops/bmm.h>
#include <ATen/ops/conv_transpose2d.h>
#include <ATen/ops/ctc_loss.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/embedding_bag.h>
#include <ATen/ops/fractional_max_pool2d.h>
#include <ATen/ops/fractional_max_pool3d.h>
#include <ATen/ops/full.h>
#include <ATen/ops/gather.h>
#include <ATen/ops/grid_sampler.h>
#include <ATen/ops/histc.h>
#include <ATen/ops/index_copy.h>
#include <ATen/ops/index_put.h>
#include <ATen/ops/index_select.h>
#include <ATen/ops/log_softmax.h>
#include <ATen/ops/max_pool2d_with_indices.h>
#include <ATen/ops/max_pool3d.h>
#include <ATen/ops/max_unpool2d.h>
#include <ATen/ops/median.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/nll_loss.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/put.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/reflection_pad2d.h>
#include <ATen/ops/repeat_interleave.h>
#include <ATen/ops/replication_pad2d.h>
#include <ATen/ops/round.h>
#include <ATen/ops/scatter.h>
#include <ATen/ops/scatter_reduce.h>
#include <ATen/ops/sum.h>
#include <ATen/ops/tanh.h>
#include <ATen/ops/upsample_bilinear2d.h>
#include <ATen/ops/zeros.h>

#include <functional>
#include <string>
#include <tuple>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

using Fn = std::function<at::Tensor(const at::Tensor&)>;

// The gradient of 0.5 * sum(f(x)^2) with respect to x: every output element feeds a different
// weight back, so accumulation order matters wherever outputs share inputs.
at::Tensor gradient_of(const at::Tensor& input, const Fn& f) {
  at::Tensor x = input.detach().requires_grad_();
  at::Tensor y = f(x);
  at::mul(at::sum(at::mul(y, y)), 0.5).backward();
  return x.grad();
}

// A probe of the backward of `f` at a normal input of `shape`.
OpSpec backward_of(std::vector<std::int64_t> shape, Fn f) {
  return {[shape](ProbeContext& ctx) { return Tensors{normal_input(ctx, shape, 1)}; },
          [f](ProbeContext&, const Tensors& in) {
            return NamedTensors{{"grad_input", gradient_of(in[0], f)}};
          }};
}

// Registers one documented op. `documented`: "switches" or "raises", as the docs list it.
bool documented(const std::string& name, const std::string& documented, const std::string& what,
                std::function<OpSpec()> spec) {
  ProbeRegistry::instance().add(
      {"cuda/documented/" + name,
       what + " [documented: " + documented + "]",
       {"cuda"},
       true,
       [spec](const ProbeOptions&) { return make_op_probe(spec(), /*on_cuda=*/true); }});
  return true;
}

// --- switch to a deterministic kernel under deterministic algorithms ---

[[maybe_unused]] const bool kConvTranspose =
    documented("conv_transpose2d_backward", "switches", "ConvTranspose2d input gradient", [] {
      return OpSpec{[](ProbeContext& ctx) {
                      return Tensors{normal_input(ctx, {8, 16, 32, 32}, 1),
                                     normal_input(ctx, {16, 8, 3, 3}, 2)};
                    },
                    [](ProbeContext&, const Tensors& in) {
                      at::Tensor w = in[1].detach().requires_grad_();
                      at::Tensor g = gradient_of(in[0], [&](const at::Tensor& x) {
                        return at::conv_transpose2d(x, w, {}, 2, 1);
                      });
                      return NamedTensors{{"grad_input", g}, {"grad_weight", w.grad()}};
                    }};
    });

[[maybe_unused]] const bool kReplicationPad =
    documented("replication_pad2d_backward", "switches", "ReplicationPad2d backward", [] {
      return backward_of({8, 16, 64, 64}, [](const at::Tensor& x) {
        return at::replication_pad2d(x, {3, 3, 3, 3});
      });
    });

[[maybe_unused]] const bool kSparseBmm = documented(
    "bmm_sparse_dense", "switches", "bmm of a sparse (10% nonzero) and a dense batch", [] {
      return OpSpec{
          [](ProbeContext& ctx) {
            at::Tensor dense = normal_input(ctx, {8, 256, 256}, 1);
            at::Tensor keep =
                at::rand({8, 256, 256}, cpu_input_generator(ctx, 2)).lt(0.1).to(ctx.device());
            return Tensors{at::mul(dense, keep).to_sparse(), normal_input(ctx, {8, 256, 64}, 3)};
          },
          [](ProbeContext&, const Tensors& in) {
            return NamedTensors{{"out", at::bmm(in[0], in[1])}};
          }};
    });

// Index tensors for the indexing ops: `count` indices into `range` rows (many repeats).
OpSpec indexed(std::int64_t count, std::int64_t range, std::vector<std::int64_t> source_shape,
               std::function<at::Tensor(const at::Tensor& index, const at::Tensor& source)> op) {
  return {[=](ProbeContext& ctx) {
            return Tensors{index_input(ctx, {count}, range, 1), normal_input(ctx, source_shape, 2)};
          },
          [op](ProbeContext&, const Tensors& in) {
            return NamedTensors{{"out", op(in[0], in[1])}};
          }};
}

[[maybe_unused]] const bool kIndexPutNoAccumulate = documented(
    "index_put", "switches",
    "index_put_ (accumulate=False) with repeated indices: which write wins", [] {
      return indexed(65536, 256, {65536}, [](const at::Tensor& index, const at::Tensor& source) {
        at::Tensor out = at::zeros({256}, source.options());
        return out.index_put_(c10::List<c10::optional<at::Tensor>>{index}, source, false);
      });
    });

[[maybe_unused]] const bool kIndexPutAccumulate = documented(
    "index_put_accumulate", "switches", "index_put_ (accumulate=True) with repeated indices", [] {
      return indexed(65536, 256, {65536}, [](const at::Tensor& index, const at::Tensor& source) {
        at::Tensor out = at::zeros({256}, source.options());
        return out.index_put_(c10::List<c10::optional<at::Tensor>>{index}, source, true);
      });
    });

[[maybe_unused]] const bool kGatherBackward =
    documented("gather_backward", "switches", "gather input gradient, repeated indices", [] {
      return OpSpec{
          [](ProbeContext& ctx) {
            return Tensors{normal_input(ctx, {64, 128}, 1), index_input(ctx, {64, 8192}, 128, 2)};
          },
          [](ProbeContext&, const Tensors& in) {
            const at::Tensor index = in[1];
            return NamedTensors{{"grad_input", gradient_of(in[0], [&](const at::Tensor& x) {
                                   return at::gather(x, 1, index);
                                 })}};
          }};
    });

[[maybe_unused]] const bool kIndexSelectBackward = documented(
    "index_select_backward", "switches", "index_select input gradient, repeated indices", [] {
      return OpSpec{
          [](ProbeContext& ctx) {
            return Tensors{normal_input(ctx, {256, 64}, 1), index_input(ctx, {32768}, 256, 2)};
          },
          [](ProbeContext&, const Tensors& in) {
            const at::Tensor index = in[1];
            return NamedTensors{{"grad_input", gradient_of(in[0], [&](const at::Tensor& x) {
                                   return at::index_select(x, 0, index);
                                 })}};
          }};
    });

[[maybe_unused]] const bool kRepeatInterleaveBackward = documented(
    "repeat_interleave_backward", "switches", "repeat_interleave (x64) input gradient", [] {
      return backward_of({1024, 64},
                         [](const at::Tensor& x) { return at::repeat_interleave(x, 64, 0); });
    });

[[maybe_unused]] const bool kIndexCopy =
    documented("index_copy", "switches", "index_copy_ with repeated indices: which row wins", [] {
      return indexed(8192, 64, {8192, 32}, [](const at::Tensor& index, const at::Tensor& source) {
        return at::zeros({64, 32}, source.options()).index_copy_(0, index, source);
      });
    });

[[maybe_unused]] const bool kScatter = documented(
    "scatter_src", "switches", "scatter_ of a tensor src with repeated indices: which write wins",
    [] {
      return indexed(65536, 256, {65536}, [](const at::Tensor& index, const at::Tensor& source) {
        return at::zeros({256}, source.options()).scatter_(0, index, source);
      });
    });

[[maybe_unused]] const bool kScatterReduceSum =
    documented("scatter_reduce_sum", "switches", "scatter_reduce_ (sum) with repeated indices", [] {
      return indexed(65536, 256, {65536}, [](const at::Tensor& index, const at::Tensor& source) {
        return at::zeros({256}, source.options()).scatter_reduce_(0, index, source, "sum");
      });
    });

[[maybe_unused]] const bool kScatterReduceMean = documented(
    "scatter_reduce_mean", "switches", "scatter_reduce_ (mean) with repeated indices", [] {
      return indexed(65536, 256, {65536}, [](const at::Tensor& index, const at::Tensor& source) {
        return at::zeros({256}, source.options()).scatter_reduce_(0, index, source, "mean");
      });
    });

[[maybe_unused]] const bool kMaxPool3dBackward =
    documented("max_pool3d_backward", "switches (2.15 docs; raises in 2.11)", "MaxPool3d (overlapping windows) backward", [] {
      return backward_of({4, 8, 16, 32, 32}, [](const at::Tensor& x) {
        return at::max_pool3d(x, {3, 3, 3}, {1, 1, 1});
      });
    });

[[maybe_unused]] const bool kEmbeddingBackward =
    documented("embedding_backward", "switches", "Embedding weight gradient, repeated ids", [] {
      return OpSpec{
          [](ProbeContext& ctx) {
            return Tensors{normal_input(ctx, {512, 64}, 1), index_input(ctx, {64, 512}, 512, 2)};
          },
          [](ProbeContext&, const Tensors& in) {
            const at::Tensor ids = in[1];
            return NamedTensors{{"grad_weight", gradient_of(in[0], [&](const at::Tensor& w) {
                                   return at::embedding(w, ids);
                                 })}};
          }};
    });

// --- raise under deterministic algorithms (no deterministic kernel) ---

[[maybe_unused]] const bool kAvgPool3d =
    documented("avg_pool3d_backward", "raises", "AvgPool3d (overlapping windows) backward", [] {
      return backward_of({4, 8, 16, 32, 32}, [](const at::Tensor& x) {
        return at::avg_pool3d(x, {3, 3, 3}, {1, 1, 1});
      });
    });

[[maybe_unused]] const bool kAdaptiveAvgPool2d =
    documented("adaptive_avg_pool2d_backward", "raises", "AdaptiveAvgPool2d backward", [] {
      return backward_of({16, 32, 63, 63}, [](const at::Tensor& x) {
        return at::adaptive_avg_pool2d(x, {10, 10});
      });
    });

[[maybe_unused]] const bool kAdaptiveAvgPool3d =
    documented("adaptive_avg_pool3d_backward", "raises", "AdaptiveAvgPool3d backward", [] {
      return backward_of({4, 8, 15, 31, 31}, [](const at::Tensor& x) {
        return at::adaptive_avg_pool3d(x, {4, 10, 10});
      });
    });

[[maybe_unused]] const bool kAdaptiveMaxPool2d =
    documented("adaptive_max_pool2d_backward", "raises", "AdaptiveMaxPool2d backward", [] {
      return backward_of({16, 32, 63, 63}, [](const at::Tensor& x) {
        return std::get<0>(at::adaptive_max_pool2d(x, {10, 10}));
      });
    });

[[maybe_unused]] const bool kFractionalMaxPool2d =
    documented("fractional_max_pool2d_backward", "raises", "FractionalMaxPool2d backward", [] {
      return OpSpec{
          [](ProbeContext& ctx) {
            return Tensors{
                normal_input(ctx, {16, 32, 64, 64}, 1),
                at::rand({16, 32, 2}, cpu_input_generator(ctx, 2)).to(ctx.tensor_options())};
          },
          [](ProbeContext&, const Tensors& in) {
            const at::Tensor samples = in[1];
            return NamedTensors{
                {"grad_input", gradient_of(in[0], [&](const at::Tensor& x) {
                   return std::get<0>(at::fractional_max_pool2d(x, {3, 3}, {40, 40}, samples));
                 })}};
          }};
    });

[[maybe_unused]] const bool kFractionalMaxPool3d =
    documented("fractional_max_pool3d_backward", "raises", "FractionalMaxPool3d backward", [] {
      return OpSpec{
          [](ProbeContext& ctx) {
            return Tensors{
                normal_input(ctx, {4, 8, 16, 32, 32}, 1),
                at::rand({4, 8, 3}, cpu_input_generator(ctx, 2)).to(ctx.tensor_options())};
          },
          [](ProbeContext&, const Tensors& in) {
            const at::Tensor samples = in[1];
            return NamedTensors{{"grad_input", gradient_of(in[0], [&](const at::Tensor& x) {
                                   return std::get<0>(at::fractional_max_pool3d(
                                       x, {3, 3, 3}, {10, 20, 20}, samples));
                                 })}};
          }};
    });

[[maybe_unused]] const bool kMaxUnpool2d = documented(
    "max_unpool2d", "raises",
    "MaxUnpool2d forward with indices from overlapping windows (repeated targets)", [] {
      return OpSpec{[](ProbeContext& ctx) {
                      // Rounded inputs make ties, so overlapping windows share their argmax.
                      at::Tensor x = at::round(normal_input(ctx, {16, 32, 64, 64}, 1));
                      auto pooled = at::max_pool2d_with_indices(x, {3, 3}, {1, 1});
                      return Tensors{std::get<0>(pooled), std::get<1>(pooled)};
                    },
                    [](ProbeContext&, const Tensors& in) {
                      return NamedTensors{{"out", at::max_unpool2d(in[0], in[1], {64, 64})}};
                    }};
    });

[[maybe_unused]] const bool kInterpolateBilinear = documented(
    "interpolate_bilinear_backward", "raises", "interpolate (bilinear, x2.5) backward", [] {
      return backward_of({16, 32, 32, 32}, [](const at::Tensor& x) {
        return at::upsample_bilinear2d(x, {80, 80}, false);
      });
    });

[[maybe_unused]] const bool kReflectionPad =
    documented("reflection_pad2d_backward", "raises", "ReflectionPad2d backward", [] {
      return backward_of({8, 16, 64, 64}, [](const at::Tensor& x) {
        return at::reflection_pad2d(x, {3, 3, 3, 3});
      });
    });

[[maybe_unused]] const bool kNllLoss =
    documented("nll_loss", "raises", "NLLLoss forward (mean over 65536 samples)", [] {
      return OpSpec{[](ProbeContext& ctx) {
                      return Tensors{at::log_softmax(normal_input(ctx, {65536, 16}, 1), 1),
                                     index_input(ctx, {65536}, 16, 2)};
                    },
                    [](ProbeContext&, const Tensors& in) {
                      return NamedTensors{{"out", at::nll_loss(in[0], in[1])}};
                    }};
    });

[[maybe_unused]] const bool kCtcLoss =
    documented("ctc_loss_backward", "raises", "CTCLoss backward", [] {
      return OpSpec{[](ProbeContext& ctx) {
                      // (time 50, batch 16, classes 20), targets of length 10 without the blank
                      // (0).
                      at::Tensor targets = at::add(index_input(ctx, {16, 10}, 19, 2), 1);
                      return Tensors{normal_input(ctx, {50, 16, 20}, 1), targets};
                    },
                    [](ProbeContext&, const Tensors& in) {
                      const at::Tensor targets = in[1];
                      const std::vector<std::int64_t> input_lengths(16, 50), target_lengths(16, 10);
                      at::Tensor logits = in[0].detach().requires_grad_();
                      at::ctc_loss(at::log_softmax(logits, 2), targets, input_lengths,
                                   target_lengths)
                          .backward();
                      return NamedTensors{{"grad_logits", logits.grad()}};
                    }};
    });

[[maybe_unused]] const bool kEmbeddingBagMax = documented(
    "embedding_bag_max_backward", "raises", "EmbeddingBag (mode max) weight gradient", [] {
      return OpSpec{
          [](ProbeContext& ctx) {
            return Tensors{normal_input(ctx, {256, 64}, 1), index_input(ctx, {64, 64}, 256, 2)};
          },
          [](ProbeContext&, const Tensors& in) {
            // 64 bags of 64 ids as flat ids + offsets: the backward needs real offsets (a 2-D
            // input with undefined offsets fails there: "Expected a proper Tensor ... 'offsets'").
            const at::Tensor ids = in[1].reshape({-1});
            const at::Tensor offsets = at::arange(0, ids.numel(), 64, ids.options());
            return NamedTensors{{"grad_weight", gradient_of(in[0], [&](const at::Tensor& w) {
                                   return std::get<0>(
                                       at::embedding_bag(w, ids, offsets, false, /*mode max=*/2));
                                 })}};
          }};
    });

[[maybe_unused]] const bool kPut = documented(
    "put", "raises", "put_ (accumulate=False) with repeated indices: which write wins", [] {
      return indexed(65536, 256, {65536}, [](const at::Tensor& index, const at::Tensor& source) {
        return at::zeros({16, 16}, source.options()).put_(index, source, false);
      });
    });

[[maybe_unused]] const bool kPutAccumulate =
    documented("put_accumulate", "raises", "put_ (accumulate=True) with repeated indices", [] {
      return indexed(65536, 256, {65536}, [](const at::Tensor& index, const at::Tensor& source) {
        return at::zeros({16, 16}, source.options()).put_(index, source, true);
      });
    });

[[maybe_unused]] const bool kHistc =
    documented("histc", "raises", "histc of 1M values into 100 bins", [] {
      return OpSpec{[](ProbeContext& ctx) { return Tensors{normal_input(ctx, {1 << 20}, 1)}; },
                    [](ProbeContext&, const Tensors& in) {
                      return NamedTensors{{"out", at::histc(in[0], 100, -3, 3)}};
                    }};
    });

[[maybe_unused]] const bool kBincount =
    documented("bincount_weights", "raises", "bincount of 1M ids into 64 bins, float weights", [] {
      return indexed(1 << 20, 64, {1 << 20}, [](const at::Tensor& index, const at::Tensor& w) {
        return at::bincount(index, w);
      });
    });

[[maybe_unused]] const bool kMedian = documented(
    "median_indices", "raises", "median along rows with ties: which index is returned", [] {
      return OpSpec{[](ProbeContext& ctx) {
                      return Tensors{at::round(normal_input(ctx, {256, 4096}, 1))};
                    },
                    [](ProbeContext&, const Tensors& in) {
                      auto [values, indices] = at::median(in[0], 1);
                      return NamedTensors{{"values", values}, {"indices", indices}};
                    }};
    });

[[maybe_unused]] const bool kGridSample =
    documented("grid_sample_backward", "raises", "grid_sample (bilinear) input gradient", [] {
      return OpSpec{
          [](ProbeContext& ctx) {
            return Tensors{normal_input(ctx, {8, 16, 32, 32}, 1),
                           at::tanh(normal_input(ctx, {8, 64, 64, 2}, 2))};
          },
          [](ProbeContext&, const Tensors& in) {
            const at::Tensor grid = in[1];
            return NamedTensors{{"grad_input", gradient_of(in[0], [&](const at::Tensor& x) {
                                   return at::grid_sampler(x, grid, 0, 0, false);
                                 })}};
          }};
    });

[[maybe_unused]] const bool kScatterReduceProd =
    documented("scatter_reduce_prod", "raises", "scatter_reduce_ (prod) with repeated indices", [] {
      return indexed(65536, 256, {65536}, [](const at::Tensor& index, const at::Tensor& source) {
        // Factors near one, so the products stay finite and their rounding shows.
        at::Tensor factors = at::add(at::mul(source, 0.01), 1.0);
        return at::ones({256}, source.options()).scatter_reduce_(0, index, factors, "prod");
      });
    });

}  // namespace
}  // namespace flakescope::probes
