#pragma once
// A float sum on the GPU in the classic shape: each block reduces its share in shared memory (a
// fixed tree, deterministic), then the block partials are combined either with one atomicAdd per
// block into a single accumulator (the order of arrival, hence the rounding, changes from run to
// run: the textbook source of GPU nondeterminism) or written out and added in block order (fixed).
// Host entry points only; no CUDA types, so plain C++ includes this.
#include <cstddef>

namespace flakescope::cuda_kernels {

enum class BlockCombine { kAtomicAdd, kInBlockOrder };

// Copies `n` floats from host memory to the device, sums them, returns the sum. Throws
// std::runtime_error naming the failing CUDA call.
float gpu_block_sum(const float* host_values, std::size_t n, BlockCombine combine);

}  // namespace flakescope::cuda_kernels
