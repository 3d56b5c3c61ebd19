#pragma once

// The avow command's side of the network commands: it does not link libcurl, gumbo or cpp-httplib (loading them
// and the 20 libraries they need is about half of every start), so capture, watch, timestamp, witness and cosign are
// run by the helper avow-net, found next to avow or in ../libexec/avow/ (the install layout), like git's
// git-remote-https.

#include <filesystem>
#include <optional>
#include <string>

namespace avow::tool {

// Return the network command that `argv` runs ("help capture" runs capture's help), or nullopt. Global options
// before the command and their values are skipped as CLI11 would parse them.
std::optional<std::string> network_command(int argc, char** argv);
// Where the helper is: `avow_dir`/avow-net, else `avow_dir`/../libexec/avow/avow-net; nullopt when neither is an
// executable file.
std::optional<std::filesystem::path> find_network_helper(const std::filesystem::path& avow_dir);
// When `argv` runs a network command, run the helper in place of this process with the same arguments (execv: the
// helper's output and exit code are avow's); when it cannot, print why and exit 6. Return when it is not one.
void hand_over_network_command(int argc, char** argv);

} // namespace avow::tool
