#pragma once
// Numbers in the statistics' reasons: three significant digits ("0.139", "1.3e-06").
#include <string>

namespace flakescope::stats {

std::string format_number(double v);

}  // namespace flakescope::stats
