#include "core/hash.h"

#include <cstring>

namespace flakescope {
namespace {

inline std::uint64_t mix(std::uint64_t x) {
  // splitmix64 finalizer: full avalanche for each 8-byte word.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::uint64_t hash_bytes(const void* data, std::size_t size, std::uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  // Four independent lanes so the multiply chains overlap; ~8 bytes/cycle on a modern core.
  std::uint64_t lanes[4] = {seed ^ 0x9e3779b97f4a7c15ULL, seed + 1, seed + 2, seed + 3};
  std::size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    for (int l = 0; l < 4; ++l) {
      std::uint64_t w;
      std::memcpy(&w, p + i + 8 * l, 8);
      lanes[l] = (lanes[l] ^ w) * 0x9fb21c651e98df25ULL;
      lanes[l] ^= lanes[l] >> 29;
    }
  }
  std::uint64_t h = mix(lanes[0]) ^ mix(lanes[1] + 1) ^ mix(lanes[2] + 2) ^ mix(lanes[3] + 3);
  for (; i + 8 <= size; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = mix(h ^ w);
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, p + i, size - i);
  return mix(h ^ tail ^ (static_cast<std::uint64_t>(size) << 3));
}

}  // namespace flakescope
