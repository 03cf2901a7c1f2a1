#pragma once
// The check the raw-kernel probes make in setup(): throws UnavailableError("no CUDA device: ...")
// when flakescope was built without the CUDA toolkit or the CUDA runtime sees no usable device.
namespace flakescope::probes {

void require_raw_cuda();

}  // namespace flakescope::probes
