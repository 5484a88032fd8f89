// FNV-1a: a 64-bit hash of bytes that is the same on every platform and
// library, for what must not change between runs (seeds, partitions).
#pragma once

#include <cstdint>
#include <string_view>

namespace citypipe {

inline constexpr std::uint64_t fnv1a_basis = 0xcbf29ce484222325ULL;

// The hash of bytes, or, given the hash of what came before, of the two together.
inline std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = fnv1a_basis) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace citypipe
