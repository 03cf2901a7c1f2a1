#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "cuda/block_sum.h"
#include "cuda/device_memory.cuh"

namespace flakescope::cuda_kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kBlocks = 1024;  // many more partials than SMs, so arrival order really varies

// Grid-stride partial sums, then a shared-memory tree per block.
__global__ void block_partials(const float* values, std::size_t n, float* partials,
                               float* accumulator, bool atomic_combine) {
  __shared__ float shared[kThreads];
  float sum = 0.0f;
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(blockDim.x) * gridDim.x) {
    sum += values[i];
  }
  shared[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) shared[threadIdx.x] += shared[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    if (atomic_combine) {
      atomicAdd(accumulator, shared[0]);
    } else {
      partials[blockIdx.x] = shared[0];
    }
  }
}

// One thread adds the block partials in block order: slow but fixed.
__global__ void sum_in_order(const float* partials, int count, float* accumulator) {
  float sum = 0.0f;
  for (int i = 0; i < count; ++i) sum += partials[i];
  *accumulator = sum;
}

}  // namespace

float gpu_block_sum(const float* host_values, std::size_t n, BlockCombine combine) {
  DeviceBuffer values(n), partials(kBlocks), accumulator(1);
  check(cudaMemcpy(values.ptr, host_values, n * sizeof(float), cudaMemcpyHostToDevice),
        "cudaMemcpy to device");
  check(cudaMemset(accumulator.ptr, 0, sizeof(float)), "cudaMemset");
  const bool atomic_combine = combine == BlockCombine::kAtomicAdd;
  block_partials<<<kBlocks, kThreads>>>(values.ptr, n, partials.ptr, accumulator.ptr,
                                        atomic_combine);
  check(cudaGetLastError(), "block_partials launch");
  if (!atomic_combine) {
    sum_in_order<<<1, 1>>>(partials.ptr, kBlocks, accumulator.ptr);
    check(cudaGetLastError(), "sum_in_order launch");
  }
  float result = 0.0f;
  check(cudaMemcpy(&result, accumulator.ptr, sizeof(float), cudaMemcpyDeviceToHost),
        "cudaMemcpy to host");
  return result;
}

}  // namespace flakescope::cuda_kernels
