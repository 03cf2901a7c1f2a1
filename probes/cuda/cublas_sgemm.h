#pragma once
// A plain cuBLAS SGEMM, outside LibTorch: what cuBLAS itself does with a fixed problem, so a
// variation seen in at::matmul on CUDA can be told apart from one in cuBLAS. cuBLAS documents
// bitwise-repeatable results on one GPU model for one toolkit and stream, with TF32 off or on
// (TF32 changes the numbers, not their repeatability); CUBLAS_WORKSPACE_CONFIG is read when the
// handle is created, i.e. once per (worker) process. No CUDA types here.
#include <cstdint>

namespace flakescope::cuda_kernels {

// c (m x n) = a (m x k) * b (k x n), all row-major host arrays. `allow_tf32` selects
// CUBLAS_TF32_TENSOR_OP_MATH instead of the default math mode. Throws std::runtime_error naming
// the failing call.
void gpu_sgemm(const float* a, const float* b, float* c, std::int64_t m, std::int64_t n,
               std::int64_t k, bool allow_tf32);

}  // namespace flakescope::cuda_kernels
