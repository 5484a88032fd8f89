// "Did you mean X?": the closest of a few known names to a mistyped one, by
// edit distance (insertions, deletions, substitutions and swaps of two
// neighbouring characters, each costing 1).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace citypipe {

// The optimal string alignment distance between a and b.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to word, if one is close enough to be a likely typo
// (at most 1 edit for short words, a third of the length for longer ones);
// the first of equally close ones. Never word itself.
std::optional<std::string> closest_name(std::string_view word, const std::vector<std::string>& candidates);

// "; did you mean 'X'?" for the closest candidate, or "" when none is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace citypipe
