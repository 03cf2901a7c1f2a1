#pragma once
// Distance in units in the last place between two floating-point values of the same format.
//
// Values are mapped onto a monotone integer line (negative floats mirrored), so the distance
// counts the representable values between them: +0 and -0 are 0 apart, the smallest subnormals
// on either side of zero are 2 apart, and the largest finite value is 1 from infinity. NaN against
// NaN is 0 (for determinism, NaN in the same place is "the same"); NaN against anything else is
// the maximum (kUlpNaNMismatch).
#include <cstdint>

namespace flakescope {

inline constexpr std::uint64_t kUlpNaNMismatch = UINT64_MAX;

std::uint64_t ulp_distance(float a, float b);
std::uint64_t ulp_distance(double a, double b);
std::uint64_t ulp_distance_half(std::uint16_t a_bits, std::uint16_t b_bits);
std::uint64_t ulp_distance_bfloat16(std::uint16_t a_bits, std::uint16_t b_bits);

}  // namespace flakescope
