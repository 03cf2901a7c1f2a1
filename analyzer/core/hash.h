#pragma once
// A fast 64-bit hash of a byte buffer, used to count distinct outputs without keeping them.
// Not cryptographic; collisions only make flakescope under-count distinct outputs, and bitwise
// identity to the first run is always decided by comparing bytes, never by hash.
#include <cstddef>
#include <cstdint>

namespace flakescope {

std::uint64_t hash_bytes(const void* data, std::size_t size, std::uint64_t seed = 0);

}  // namespace flakescope
