// The one set of checks for numeric and duration options, with readable
// messages ("--speed: must be greater than 0, got 0"; "--lateness: '5x' is
// not a duration (e.g. 250ms, 30s, 5m, 1h, 1d)"), for every tool:
//
//   app.add_option("--trees", n)->check(citypipe::integer_in(1, 100000));
//   app.add_option("--lateness", text)->check(citypipe::duration_check());
#pragma once

#include <cstdint>

#include <CLI/CLI.hpp>

namespace citypipe {

// A duration as parse_duration reads it (250ms, 30s, 5m, 1h, 1d; not negative).
CLI::Validator duration_check();
// A duration greater than zero.
CLI::Validator positive_duration_check();
// A whole number from lo to hi (no sign for a non-negative lo).
CLI::Validator integer_in(std::int64_t lo, std::int64_t hi);
// A number from lo to hi; lo_open excludes lo itself ("greater than 0").
CLI::Validator number_in(double lo, double hi, bool lo_open = false);
// A number greater than zero.
CLI::Validator positive_number();

}  // namespace citypipe
