#pragma once

// The whole command tree of avow and how a command line is run through it: one place for main(), the help test
// and the man page and completion generator, so that what they describe cannot drift from what runs.

#include "cli.hpp"

#include <string>
#include <vector>

namespace avow::tool {

// Add the global options and every subcommand to `app`; their callbacks write their exit code to `g`.
void build_app(CLI::App& app, Globals& g);
// Parse `argv` with a freshly built tree and run the chosen command; return the process exit code. A usage error
// prints "avow: error: <message>" and a hint naming the help to read, and returns exit_code::usage.
int run(int argc, char** argv);
// Return the named subcommands of `app`, in the order they were added.
std::vector<const CLI::App*> subcommands_of(const CLI::App& app);
// Return "avow key generate" for that subcommand: the names from the root down.
std::string command_path(const CLI::App& app);
// Return the one-line version ("avow 0.1.0 (git <revision>)") followed by one line per library.
std::string version_text();

} // namespace avow::tool
