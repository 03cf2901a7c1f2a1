#pragma once
// The check every CUDA probe makes before it builds anything on the GPU.
#include "flakescope/probe.h"

namespace flakescope::probes {

// Throws UnavailableError("no CUDA device") when LibTorch has no CUDA or sees no device, and
// InputError when a device exists but the probe was not asked to run on it (--device cuda).
void require_cuda_device(const ProbeContext& ctx);

}  // namespace flakescope::probes
