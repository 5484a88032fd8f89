// Small helpers that several areas need, each defined once here. (A suffix
// test is std::string_view::ends_with.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace citypipe {

// a / b rounded toward negative infinity (b != 0), so that a time before the
// epoch falls in the bucket or pane that holds it, not the next one up.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Hashes std::string keys and std::string_view look-ups alike, so that an
// unordered container declared with StringHash and std::equal_to<> finds a
// string_view without building a std::string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace citypipe
