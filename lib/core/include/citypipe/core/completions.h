// Shell completions made from a tool's CLI11 definitions, so they list exactly
// the options --help shows. `TOOL --completions bash|zsh|fish` prints them;
// the build writes them for installation.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace citypipe {

// The completion script of app (command name tool) for shell bash, zsh or
// fish; nullopt for another shell.
std::optional<std::string> completion_script(const CLI::App& app, std::string_view tool, std::string_view shell);

}  // namespace citypipe
