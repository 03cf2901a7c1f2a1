// The weight gradient of embedding_bag (sum mode): gradients of many bags accumulated into the
// rows they looked up. On CUDA the accumulation uses atomics unless deterministic algorithms are
// on.
#include <ATen/ops/arange.h>
#include <ATen/ops/embedding_bag.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/sum.h>

#include <tuple>

#include "ops/op_probe.h"

namespace flakescope::probes {
namespace {

constexpr std::int64_t kRows = 1000;
constexpr std::int64_t kLookups = 8192;
constexpr std::int64_t kBagSize = 8;

[[maybe_unused]] const bool kRegistered = register_op_probe(
    {"embedding_bag_backward",
     "embedding_bag (sum) weight gradient, 8192 lookups into 1000 rows: atomics on CUDA",
     {"default", "ops"},
     true,
     true,
     [] {
       return OpSpec{[](ProbeContext& ctx) {
                       at::Tensor offsets =
                           at::arange(0, kLookups, kBagSize,
                                      at::TensorOptions(at::kLong).device(ctx.device()));
                       return Tensors{normal_input(ctx, {kRows, 64}, 1),
                                      index_input(ctx, {kLookups}, kRows, 2), offsets,
                                      normal_input(ctx, {kLookups / kBagSize, 64}, 3)};
                     },
                     [](ProbeContext&, const Tensors& in) {
                       at::Tensor weight = in[0].detach().requires_grad_();
                       at::Tensor bags = std::get<0>(at::embedding_bag(weight, in[1], in[2]));
                       at::sum(at::mul(bags, in[3])).backward();
                       return NamedTensors{{"grad_weight", weight.grad()}};
                     }};
     }});

}  // namespace
}  // namespace flakescope::probes
