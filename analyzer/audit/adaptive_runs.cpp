#include "audit/adaptive_runs.h"

namespace flakescope::audit {

bool AdaptiveRule::settled(const TestTally& t) const {
  if (t.trials() == 0) return t.runs() >= options().min_runs;
  return stopper_.should_stop(t.failures(), t.trials());
}

bool AdaptiveRule::should_stop(const Tallies& tallies, std::string* reason) const {
  for (const auto* list : {&tallies.command, &tallies.tests})
    for (const auto& t : *list)
      if (!settled(t)) {
        if (reason) *reason = t.name + " (" + t.setting + ") needs more runs";
        return false;
      }
  if (reason) *reason = "every test's failure rate is settled";
  return true;
}

}  // namespace flakescope::audit
