#pragma once
// Element types flakescope understands, independent of LibTorch, so the metrics, the tensor file
// readers and the statistics work on plain buffers.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace flakescope {

enum class DType : std::uint8_t {
  kFloat64,
  kFloat32,
  kFloat16,
  kBFloat16,
  kInt64,
  kInt32,
  kInt16,
  kInt8,
  kUInt8,
  kBool,
};

std::string_view dtype_name(DType t);                     // "float32" (torch's spelling)
std::optional<DType> parse_dtype(std::string_view name);  // accepts "float32", "float", "fp32", ...
std::size_t dtype_size(DType t);
bool dtype_is_floating(DType t);

// torch.testing.assert_close defaults for a dtype (rtol, atol); integers compare exactly (0, 0).
struct Tolerance {
  double rtol;
  double atol;
};
Tolerance default_tolerance(DType t);

// Decoding of the 16-bit float formats (exact, by bit manipulation).
double half_to_double(std::uint16_t bits);
double bfloat16_to_double(std::uint16_t bits);

}  // namespace flakescope
