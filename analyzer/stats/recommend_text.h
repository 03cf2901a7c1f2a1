#pragma once
// The human-readable block of `flakescope tolerance` for one series.
#include <ostream>
#include <string>

#include "stats/recommend.h"

namespace flakescope::stats {

void write_recommendation_text(std::ostream& os, const std::string& name, const Recommendation& r);

}  // namespace flakescope::stats
