#include "stats/number_text.h"

#include <sstream>

namespace flakescope::stats {

std::string format_number(double v) {
  std::ostringstream s;
  s.precision(3);
  s << v;
  return s.str();
}

}  // namespace flakescope::stats
