#pragma once
// CPU-vs-GPU agreement: the same probe on the GPU and on the CPU, same inputs, one output per
// tensor holding the GPU result minus the CPU result ("gpu_minus_cpu/NAME").
#include <memory>

#include "flakescope/probe.h"

namespace flakescope::probes {

// `on_gpu` runs with the context's device (it should require CUDA in its setup); `on_cpu` runs
// with a copy of the context whose device is the CPU, started on the same run index.
std::unique_ptr<Probe> make_agreement_probe(std::unique_ptr<Probe> on_gpu,
                                            std::unique_ptr<Probe> on_cpu);

}  // namespace flakescope::probes
