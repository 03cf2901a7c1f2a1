#include "io/reader_support.h"

#include <cstdio>
#include <limits>

#include "flakescope/error.h"
#include "io/tensor_file.h"

namespace flakescope::io {

void fail(std::string_view origin, const std::string& problem) {
  throw InputError(std::string(origin) + ": " + problem);
}

std::string printable(std::string_view bytes, std::size_t max_chars) {
  std::string out = "'";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == max_chars) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    }
  }
  return out + "'";
}

std::uint64_t checked_byte_size(const std::vector<std::int64_t>& shape, DType dtype,
                                std::string_view origin) {
  if (shape.size() > kMaxTensorDims) {
    fail(origin, std::to_string(shape.size()) + " dimensions, more than the supported " +
                     std::to_string(kMaxTensorDims));
  }
  // Multiply the nonzero dimensions (and the element size) so that (0, 2^40, 2^40) is refused
  // exactly like (2^40, 2^40, 0): the size would overflow for any nonzero dimension.
  constexpr auto kLimit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t product = dtype_size(dtype);
  bool has_zero = false;
  for (const std::int64_t d : shape) {
    if (d < 0) fail(origin, "negative dimension in shape " + shape_string(shape));
    if (d == 0) {
      has_zero = true;
      continue;
    }
    if (__builtin_mul_overflow(product, static_cast<std::uint64_t>(d), &product) ||
        product > kLimit) {
      fail(origin, "shape " + shape_string(shape) + " overflows the size of a tensor");
    }
  }
  return has_zero ? 0 : product;
}

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

void check_bool_bytes(const unsigned char* data, std::size_t size, std::string_view origin) {
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] > 1) {
      fail(origin, "bool element " + std::to_string(i) + " holds " + std::to_string(data[i]) +
                       ", not 0 or 1");
    }
  }
}

}  // namespace flakescope::io
