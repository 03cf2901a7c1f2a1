#pragma once
// Builders for tensor files in memory, shared by the reader tests, and a decoder of HostTensor
// elements to double for comparing with independently computed values.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "flakescope/error.h"
#include "io/tensor_file.h"

namespace flakescope::testing {

// An .npy file: magic, version, little-endian header length, the header dict padded with spaces
// and a newline to a multiple of 64 bytes (as numpy writes it), then `data`.
inline std::string make_npy(std::string_view dict, std::string_view data, int major = 1) {
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  std::string header(dict);
  const std::size_t prefix = 8 + len_bytes;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < len_bytes; ++i)
    out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + std::string(data);
}

// A safetensors file: u64 little-endian header length, the header text as given, then `data`.
inline std::string make_safetensors(std::string_view header, std::string_view data) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + std::string(header) + std::string(data);
}

template <typename T>
std::string bytes_of(const std::vector<T>& values) {
  std::string s(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(s.data(), values.data(), s.size());
  return s;
}

template <typename T>
std::vector<T> values_of(const HostTensor& t) {
  EXPECT_EQ(t.data.size() % sizeof(T), 0u);
  std::vector<T> v(t.data.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

inline double element(const HostTensor& t, std::size_t i) {
  const unsigned char* p = t.data.data() + i * dtype_size(t.dtype);
  auto load = [p](auto v) {
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  switch (t.dtype) {
    case DType::kFloat64:
      return load(double{});
    case DType::kFloat32:
      return load(float{});
    case DType::kFloat16:
      return half_to_double(load(std::uint16_t{}));
    case DType::kBFloat16:
      return bfloat16_to_double(load(std::uint16_t{}));
    case DType::kInt64:
      return static_cast<double>(load(std::int64_t{}));
    case DType::kInt32:
      return load(std::int32_t{});
    case DType::kInt16:
      return load(std::int16_t{});
    case DType::kInt8:
      return load(std::int8_t{});
    case DType::kUInt8:
      return load(std::uint8_t{});
    case DType::kBool:
      return load(std::uint8_t{});
  }
  return 0;
}

// Runs `parse` and returns the InputError's message; fails the test when nothing is thrown.
template <typename F>
std::string error_of(F&& parse) {
  try {
    parse();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

}  // namespace flakescope::testing
