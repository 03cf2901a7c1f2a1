#pragma once
// The ablation diagnosis: the command ran with every knob controlled, with each knob alone freed,
// and with all free, on the same seeds. A knob is a cause when freeing it alone raises the failure
// rate above the all-controlled one by more than chance: a one-sided Fisher exact test on the two
// 2x2 counts at level 1 - confidence. Then controlling that knob is what makes the failures go
// away.
#include <vector>

#include "flakescope/report_model.h"

#include "audit/test_tally.h"

namespace flakescope::audit {

// The "ablation" section: per test that failed anywhere, its rate in every setting (with
// Clopper-Pearson intervals), the causes (knob names), the p-values, a sentence, and the fixes.
// `reference` is the all-controlled setting's name.
model::Ablation diagnose_ablation(const Tallies& tallies, const std::vector<std::string>& settings,
                                  double confidence);

}  // namespace flakescope::audit
