#include <cuda_runtime.h>

#include "cuda/cuda_runtime_check.h"

namespace flakescope::cuda_kernels {

std::string cuda_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear it, so the next CUDA call does not report it again
    return cudaGetErrorString(status);
  }
  if (count == 0) return "the CUDA runtime reports 0 devices";
  return {};
}

}  // namespace flakescope::cuda_kernels
