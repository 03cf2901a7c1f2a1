#include "cuda/raw_cuda_available.h"

#include <string>

#include "flakescope/error.h"
#ifdef FLAKESCOPE_HAVE_CUDA
#include "cuda/cuda_runtime_check.h"
#endif

namespace flakescope::probes {

void require_raw_cuda() {
#ifdef FLAKESCOPE_HAVE_CUDA
  const std::string reason = cuda_kernels::cuda_unavailable_reason();
  if (!reason.empty()) throw UnavailableError("no CUDA device: " + reason);
#else
  throw UnavailableError("no CUDA device: flakescope was built without the CUDA toolkit");
#endif
}

}  // namespace flakescope::probes
