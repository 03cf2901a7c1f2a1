#pragma once
// Shared checks for the tensor file readers: one-line errors, checked sizes, safe quoting of bytes
// that came from a file. Internal to analyzer/io.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace flakescope::io {

// Throws InputError("<origin>: <problem>").
[[noreturn]] void fail(std::string_view origin, const std::string& problem);

// Quotes bytes from a file for an error message: printable ASCII kept, everything else as \xNN,
// cut after `max_chars`, so a hostile name can never break the one-line error format.
std::string printable(std::string_view bytes, std::size_t max_chars = 48);

// Number of elements of `shape` (all dimensions >= 0, at most kMaxTensorDims of them). Throws when
// the count or count * dtype_size overflows std::int64_t; the check does not depend on the order
// of the dimensions or on a zero among them.
std::uint64_t checked_byte_size(const std::vector<std::int64_t>& shape, DType dtype,
                                std::string_view origin);

// "(2, 3)" for messages.
std::string shape_string(const std::vector<std::int64_t>& shape);

// A bool tensor holds one byte per element, 0 or 1; anything else would be undefined behaviour once
// the bytes are viewed as C++ or LibTorch bools.
void check_bool_bytes(const unsigned char* data, std::size_t size, std::string_view origin);

}  // namespace flakescope::io
