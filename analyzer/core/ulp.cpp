#include "core/ulp.h"

#include <cmath>
#include <cstring>

namespace flakescope {
namespace {

// Maps sign-magnitude bits of a width-`bits` float to a monotone signed integer.
template <typename U>
__int128 ordered(U raw, int bits) {
  const U sign_mask = static_cast<U>(U{1} << (bits - 1));
  const __int128 magnitude = static_cast<__int128>(raw & static_cast<U>(~sign_mask));
  return (raw & sign_mask) ? -magnitude : magnitude;
}

template <typename U>
std::uint64_t distance(U a, U b, int bits, bool a_nan, bool b_nan) {
  if (a_nan || b_nan) return (a_nan && b_nan) ? 0 : kUlpNaNMismatch;
  __int128 d = ordered(a, bits) - ordered(b, bits);
  if (d < 0) d = -d;
  return d > static_cast<__int128>(UINT64_MAX - 1) ? UINT64_MAX - 1 : static_cast<std::uint64_t>(d);
}

bool half_is_nan(std::uint16_t h) {
  return (h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0;
}
bool bf16_is_nan(std::uint16_t h) {
  return (h & 0x7f80) == 0x7f80 && (h & 0x007f) != 0;
}

}  // namespace

std::uint64_t ulp_distance(float a, float b) {
  std::uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return distance(ua, ub, 32, std::isnan(a), std::isnan(b));
}

std::uint64_t ulp_distance(double a, double b) {
  std::uint64_t ua, ub;
  std::memcpy(&ua, &a, 8);
  std::memcpy(&ub, &b, 8);
  return distance(ua, ub, 64, std::isnan(a), std::isnan(b));
}

std::uint64_t ulp_distance_half(std::uint16_t a, std::uint16_t b) {
  return distance(a, b, 16, half_is_nan(a), half_is_nan(b));
}

std::uint64_t ulp_distance_bfloat16(std::uint16_t a, std::uint16_t b) {
  return distance(a, b, 16, bf16_is_nan(a), bf16_is_nan(b));
}

}  // namespace flakescope
