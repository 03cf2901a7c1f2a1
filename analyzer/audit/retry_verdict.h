#pragma once
// Tests that carry a retry mechanism (transformers'/diffusers' is_flaky, pytest-rerunfailures, the
// flaky package), measured one attempt at a time by the pytest plugin: the per-attempt failure
// rate, the retries the target really needs, and a verdict a maintainer can paste.
#include <string>
#include <vector>

#include "audit/test_tally.h"
#include "flakescope/report_model.h"

namespace flakescope::audit {

// One entry per (test, setting) whose tally carries a retry mark.
std::vector<model::RetryMeasured> retry_verdicts(const std::vector<TestTally>& tests, double target,
                                                 double confidence);

}  // namespace flakescope::audit
