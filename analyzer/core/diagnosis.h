#pragma once
// The ablation diagnosis: which knobs, when freed, make a probe's output move. Works on the
// typed report model alone, so it also explains reports merged or loaded from disk.
#include "flakescope/report_model.h"

namespace flakescope {

// From the probe's settings: the knobs named as causes, their fixes, a summary of sentences, and
// whether the op raises when deterministic algorithms are on. `extra` carries "controlled" (the
// controlled setting's verdict, or "not run") and "shifts" (settings whose repeatable result
// differs from the controlled one's, when any).
model::Diagnosis diagnose_probe(const model::ProbeResult& probe);

}  // namespace flakescope
