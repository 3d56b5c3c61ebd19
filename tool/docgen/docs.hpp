#pragma once

// Man pages and shell completions written from the command tree itself (tool/app.hpp), at build time by the
// avow-docgen program (not linked into avow), so they cannot drift from the options avow really takes.

#include <CLI/CLI.hpp>

#include <string>

namespace avow::tool {

// Return the file name of the man page of `app`: "avow.1", "avow-key-generate.1".
std::string man_page_name(const CLI::App& app);
// Return the roff man page (section 1) of `app`: name, synopsis, description, options, subcommands, examples (the
// help footer), global options for a subcommand, and see-also links.
std::string man_page(const CLI::App& app);
// Return a bash completion script for the tree under `root` (complete -F _avow avow).
std::string bash_completion(const CLI::App& root);
// Return a zsh completion function file for the tree under `root` (#compdef avow).
std::string zsh_completion(const CLI::App& root);

} // namespace avow::tool
