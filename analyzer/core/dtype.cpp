#include "core/dtype.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace flakescope {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::kFloat64:
      return "float64";
    case DType::kFloat32:
      return "float32";
    case DType::kFloat16:
      return "float16";
    case DType::kBFloat16:
      return "bfloat16";
    case DType::kInt64:
      return "int64";
    case DType::kInt32:
      return "int32";
    case DType::kInt16:
      return "int16";
    case DType::kInt8:
      return "int8";
    case DType::kUInt8:
      return "uint8";
    case DType::kBool:
      return "bool";
  }
  return "unknown";
}

std::optional<DType> parse_dtype(std::string_view n) {
  if (n == "float32" || n == "float" || n == "fp32" || n == "f32") return DType::kFloat32;
  if (n == "float64" || n == "double" || n == "fp64" || n == "f64") return DType::kFloat64;
  if (n == "float16" || n == "half" || n == "fp16" || n == "f16") return DType::kFloat16;
  if (n == "bfloat16" || n == "bf16") return DType::kBFloat16;
  if (n == "int64" || n == "long") return DType::kInt64;
  if (n == "int32" || n == "int") return DType::kInt32;
  if (n == "int16" || n == "short") return DType::kInt16;
  if (n == "int8") return DType::kInt8;
  if (n == "uint8") return DType::kUInt8;
  if (n == "bool") return DType::kBool;
  return std::nullopt;
}

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat64:
    case DType::kInt64:
      return 8;
    case DType::kFloat32:
    case DType::kInt32:
      return 4;
    case DType::kFloat16:
    case DType::kBFloat16:
    case DType::kInt16:
      return 2;
    case DType::kInt8:
    case DType::kUInt8:
    case DType::kBool:
      return 1;
  }
  return 1;
}

bool dtype_is_floating(DType t) {
  return t == DType::kFloat64 || t == DType::kFloat32 || t == DType::kFloat16 ||
         t == DType::kBFloat16;
}

Tolerance default_tolerance(DType t) {
  // torch.testing.assert_close's table (torch/testing/_comparison.py).
  switch (t) {
    case DType::kFloat16:
      return {1e-3, 1e-5};
    case DType::kBFloat16:
      return {1.6e-2, 1e-5};
    case DType::kFloat32:
      return {1.3e-6, 1e-5};
    case DType::kFloat64:
      return {1e-7, 1e-7};
    default:
      return {0.0, 0.0};
  }
}

double half_to_double(std::uint16_t h) {
  const int sign = (h >> 15) & 1;
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(static_cast<double>(mant), -24);  // subnormal
  } else if (exp == 31) {
    v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else {
    v = std::ldexp(static_cast<double>(mant | 0x400), exp - 25);
  }
  return sign ? -v : v;
}

double bfloat16_to_double(std::uint16_t b) {
  std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace flakescope
