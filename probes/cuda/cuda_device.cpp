#include "cuda/cuda_device.h"

#include <ATen/Context.h>

#include "flakescope/error.h"

namespace flakescope::probes {

void require_cuda_device(const ProbeContext& ctx) {
  // hasCUDA() is false both for a CPU-only LibTorch and for a CUDA LibTorch without a device.
  if (!at::globalContext().hasCUDA()) throw UnavailableError("no CUDA device");
  if (!ctx.device().is_cuda()) {
    throw InputError("CUDA probes run on the GPU: pass --device cuda");
  }
}

}  // namespace flakescope::probes
