// The avow command's placeholders for the network commands and the hand-over to avow-net (forward.hpp). Linked into
// avow before avow_cli, so its add_capture, add_watch, add_timestamp and add_witness are the ones avow's command tree
// uses and cmd_capture.cpp, cmd_timestamp.cpp and cmd_witness.cpp (with everything that needs libcurl, gumbo and
// cpp-httplib) are never linked into avow.

#include "tool/core/forward.hpp"

#include "tool/cli.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <system_error>
#include <unistd.h>

namespace avow::tool {
namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 5> k_network_commands = {"capture", "watch", "timestamp", "witness", "cosign"};

// The global options (app.cpp build_app) that take a value.
bool takes_value(std::string_view opt) {
  return opt == "-C" || opt == "--archive" || opt == "--key" || opt == "--passphrase-file" || opt == "-j" ||
         opt == "--jobs";
}

char** g_argv = nullptr; // the command line main() was given, for the placeholders' callbacks

[[noreturn]] void exec_helper(char** argv, std::string_view command) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  const auto helper = ec ? std::nullopt : find_network_helper(self.parent_path());
  if (!helper) {
    std::fprintf(stderr,
                 "avow: error: '%.*s' is run by the helper avow-net, which is not installed next to avow or in "
                 "../libexec/avow/\n",
                 static_cast<int>(command.size()), command.data());
    std::exit(exit_code::io);
  }
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(helper->c_str(), argv);
  std::fprintf(stderr, "avow: error: cannot run the helper '%s' for '%.*s': %s\n", helper->c_str(),
               static_cast<int>(command.size()), command.data(), std::strerror(errno));
  std::exit(exit_code::io);
}

// A placeholder: the same name and description as the helper's command, every argument accepted (no --help of its
// own: that is the helper's), and a callback that hands the command line over. main() hands it over before parsing;
// this is for a command line that its walk of argv reads differently from CLI11.
void add_placeholder(CLI::App& app, const char* name, const char* about) {
  auto* cmd = app.add_subcommand(name, about);
  cmd->set_help_flag();
  cmd->prefix_command();
  cmd->allow_extras();
  cmd->callback([name] { exec_helper(g_argv, name); });
}

} // namespace

std::optional<std::string> network_command(int argc, char** argv) {
  bool after_help = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (arg.size() > 1 && arg[0] == '-') {
      if (arg.find('=') == std::string_view::npos && takes_value(arg)) ++i; // -C DIR; -CDIR and --archive=DIR are one
      continue;
    }
    for (const auto name : k_network_commands)
      if (arg == name) return std::string(name);
    if (arg == "help" && !after_help) {
      after_help = true;
      continue;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<fs::path> find_network_helper(const fs::path& avow_dir) {
  for (const auto& p : std::array{avow_dir / "avow-net", avow_dir / ".." / "libexec" / "avow" / "avow-net"}) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0) return p.lexically_normal();
  }
  return std::nullopt;
}

void hand_over_network_command(int argc, char** argv) {
  g_argv = argv;
  if (const auto command = network_command(argc, argv)) exec_helper(argv, *command);
}

void add_capture(CLI::App& app, Globals&) { add_placeholder(app, "capture", k_about_capture); }
void add_watch(CLI::App& app, Globals&) { add_placeholder(app, "watch", k_about_watch); }
void add_timestamp(CLI::App& app, Globals&) { add_placeholder(app, "timestamp", k_about_timestamp); }
void add_witness(CLI::App& app, Globals&) {
  add_placeholder(app, "witness", k_about_witness);
  add_placeholder(app, "cosign", k_about_cosign);
}

} // namespace avow::tool
