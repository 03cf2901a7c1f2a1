#pragma once
// CUDA runtime error checks and an owning device buffer, shared by the raw calibration kernels.
#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace flakescope::cuda_kernels {

// Throws with the call's name and CUDA's message: the probe turns it into an "error" verdict.
inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
  }
}

// Frees device buffers on every path, exceptions included.
struct DeviceBuffer {
  float* ptr = nullptr;
  explicit DeviceBuffer(std::size_t count) {
    check(cudaMalloc(&ptr, count * sizeof(float)), "cudaMalloc");
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

}  // namespace flakescope::cuda_kernels
