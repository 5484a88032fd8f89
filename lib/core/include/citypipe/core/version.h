// The build's identity, for --version. The version is written once, in the
// top-level CMakeLists.txt's project(VERSION); the commit is read from git at
// build time ("unknown" outside a git checkout, "-dirty" with local changes).
#pragma once

#include <string_view>

namespace citypipe {

std::string_view version();
std::string_view build_commit();

}  // namespace citypipe
