#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "cuda/cublas_sgemm.h"
#include "cuda/device_memory.cuh"

namespace flakescope::cuda_kernels {
namespace {

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string(what) + ": cuBLAS status " +
                             std::to_string(static_cast<int>(status)));
  }
}

// One handle per process, as LibTorch keeps one per device and thread: its workspace (and so
// CUBLAS_WORKSPACE_CONFIG) is fixed when it is created. Never destroyed: the process owns it.
cublasHandle_t process_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    check(cublasCreate(&h), "cublasCreate");
    return h;
  }();
  return handle;
}

}  // namespace

void gpu_sgemm(const float* a, const float* b, float* c, std::int64_t m, std::int64_t n,
               std::int64_t k, bool allow_tf32) {
  cublasHandle_t handle = process_handle();
  check(cublasSetMathMode(handle, allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
        "cublasSetMathMode");
  DeviceBuffer da(m * k), db(k * n), dc(m * n);
  check(cudaMemcpy(da.ptr, a, m * k * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy a");
  check(cudaMemcpy(db.ptr, b, k * n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy b");
  const float one = 1.0f, zero = 0.0f;
  // Row-major C = A B is column-major C^T = B^T A^T: swap the operands, no transposes needed.
  check(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
                    static_cast<int>(k), &one, db.ptr, static_cast<int>(n), da.ptr,
                    static_cast<int>(k), &zero, dc.ptr, static_cast<int>(n)),
        "cublasSgemm");
  check(cudaMemcpy(c, dc.ptr, m * n * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy c");
}

}  // namespace flakescope::cuda_kernels
