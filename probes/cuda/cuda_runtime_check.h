#pragma once
// Whether the CUDA runtime can use a device, asked of the runtime itself (not of LibTorch), so the
// raw-kernel probes work with a CPU-only LibTorch too. No CUDA types: included from plain C++.
#include <string>

namespace flakescope::cuda_kernels {

// Empty when a CUDA device can be used; otherwise the runtime's reason ("no CUDA-capable device
// is detected", "CUDA driver version is insufficient ...").
std::string cuda_unavailable_reason();

}  // namespace flakescope::cuda_kernels
