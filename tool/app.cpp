#include "app.hpp"

#include <archive/version.hpp>

#include <algorithm>
#include <cstdio>
#include <optional>

namespace avow::tool {

namespace {

void add_version(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("version", "Print the version, the git revision and the library versions.");
  cmd->footer("Examples:\n  avow version\n  avow version --json");
  cmd->fallthrough();
  cmd->callback([&g] {
    if (g.json) {
      nlohmann::json libs = nlohmann::json::object();
      for (const auto& [name, v] : library_versions()) libs[name] = v;
      print_json({{"version", version()}, {"revision", git_revision()}, {"libraries", libs}});
      return;
    }
    std::fputs(version_text().c_str(), stdout);
  });
}

// Return the subcommand of `app` named `name`, or nullptr.
const CLI::App* find_subcommand(const CLI::App& app, std::string_view name) {
  for (const auto* sub : subcommands_of(app))
    if (sub->get_name() == name) return sub;
  return nullptr;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Return the subcommand of `app` closest to `name` (a prefix of it, or within two edits), or "".
std::string nearest_subcommand(const CLI::App& app, std::string_view name) {
  std::string best;
  std::size_t best_d = 3;
  for (const auto* sub : subcommands_of(app)) {
    const std::string& s = sub->get_name();
    std::size_t d = edit_distance(name, s);
    if (name.size() >= 2 && s.starts_with(name)) d = std::min<std::size_t>(d, 1);
    if (d < best_d) {
      best_d = d;
      best = s;
    }
  }
  return best;
}

std::string hint_for(const CLI::App& app) { return "avow: hint: run '" + command_path(app) + " --help' for usage\n"; }

int usage_error(const CLI::App& where, std::string message) {
  std::replace(message.begin(), message.end(), '\n', ' ');
  std::fprintf(stderr, "avow: error: %s\n%s", message.c_str(), hint_for(where).c_str());
  return exit_code::usage;
}

std::string unknown_command_message(const CLI::App& parent, const std::string& name) {
  std::string msg = parent.get_parent() ? "unknown subcommand '" + name + "' of '" + command_path(parent) + "'"
                                        : "unknown command '" + name + "'";
  if (auto near = nearest_subcommand(parent, name); !near.empty()) msg += ": did you mean '" + near + "'?";
  return msg;
}

// Return the option of `app` or of its parents (global options fall through) spelled `name`, or nullptr.
const CLI::Option* find_option(const CLI::App* app, const std::string& name) {
  for (; app != nullptr; app = app->get_parent())
    if (const auto* opt = app->get_option_no_throw(name)) return opt;
  return nullptr;
}

struct UnknownCommand {
  const CLI::App* parent;
  std::string name;
};

// Walk `argv` through the command tree the way CLI11 will, and return the first word that stands where a
// subcommand must be but names none. CLI11 itself would only say "A subcommand is required" or "arguments were not
// expected". Anything this walk does not understand is left to CLI11.
std::optional<UnknownCommand> find_unknown_command(const CLI::App& app, int argc, char** argv) {
  const CLI::App* cur = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (arg.size() > 1 && arg[0] == '-') {
      const bool long_form = arg.starts_with("--");
      if (arg.find('=') != std::string::npos || (!long_form && arg.size() > 2)) continue;
      const auto* opt = find_option(cur, arg);
      if (opt == nullptr) return std::nullopt;
      if (opt->get_expected_max() != 0 && !opt->get_positional()) ++i; // a flag expects 0 values
      continue;
    }
    const auto subs = subcommands_of(*cur);
    if (subs.empty()) continue;
    if (const auto* sub = find_subcommand(*cur, arg)) {
      cur = sub;
      continue;
    }
    // A word where the command takes positionals of its own is one of those, not a command.
    if (!cur->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty()) continue;
    return UnknownCommand{cur, arg};
  }
  return std::nullopt;
}

const CLI::App& deepest_selected(const CLI::App& app) {
  const CLI::App* cur = &app;
  for (;;) {
    const auto parsed = cur->get_subcommands();
    if (parsed.empty()) return *cur;
    cur = parsed.back();
  }
}

void print_short_usage(const CLI::App& app) {
  std::string names;
  for (const auto* sub : subcommands_of(app)) names += (names.empty() ? "" : ", ") + sub->get_name();
  std::fprintf(stderr,
               "usage: avow [-C DIR] [--json] [-q] COMMAND [ARGS...]\n"
               "commands: %s\n"
               "avow: error: no command given\n"
               "avow: hint: run 'avow --help' for the options, 'avow help COMMAND' for one command\n",
               names.c_str());
}

void add_help(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("help", "Print the help of avow, or of one command.");
  cmd->footer("Examples:\n  avow help\n  avow help archive\n  avow help key generate");
  cmd->fallthrough();
  auto words = std::make_shared<std::vector<std::string>>();
  cmd->add_option("command", *words, "The command (and subcommand) to explain.");
  const CLI::App* root = &app;
  cmd->callback([&g, root, words] {
    const CLI::App* cur = root;
    for (const auto& w : *words) {
      const auto* sub = find_subcommand(*cur, w);
      if (sub == nullptr) {
        g.exit_code = usage_error(*root, unknown_command_message(*cur, w));
        return;
      }
      cur = sub;
    }
    // The formatter directly: App::help() would follow the selected subcommand, `help` itself.
    std::fputs(cur->get_formatter()->make_help(cur, command_path(*cur), CLI::AppFormatMode::Normal).c_str(), stdout);
  });
}

} // namespace

std::vector<const CLI::App*> subcommands_of(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return !sub->get_name().empty(); });
}

std::string command_path(const CLI::App& app) {
  std::string path = app.get_name();
  for (const CLI::App* p = app.get_parent(); p != nullptr; p = p->get_parent()) path = p->get_name() + " " + path;
  return path;
}

std::string version_text() {
  std::string out = "avow " + version() + " (git " + git_revision() + ")\n";
  for (const auto& [name, v] : library_versions()) {
    out += name;
    out.append(name.size() < 9 ? 9 - name.size() : 1, ' ');
    out += v + "\n";
  }
  return out;
}

void build_app(CLI::App& app, Globals& g) {
  app.name("avow");
  app.description("avow: a tamper-evident, append-only archive of public statements.");
  app.footer("Examples:\n"
             "  avow init demo --origin example.org/demo\n"
             "  avow -C demo archive press.txt --source https://example.org/pr/1\n"
             "  avow -C demo verify\n"
             "Run 'avow help COMMAND' or 'avow COMMAND --help' for one command.");
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("-C,--archive", g.archive, "Archive folder (default: the current folder).")->envname("AVOW_ARCHIVE");
  app.add_option("--key", g.key,
                 "Archivist private key file, or ssh-agent:SHA256:FINGERPRINT for an Ed25519 key held by ssh-agent "
                 "(default: from the archive's local config).")
      ->envname("AVOW_KEY");
  app.add_option("--passphrase-file", g.passphrase_file,
                 "File whose first line is the passphrase of an encrypted key (or set AVOW_PASSPHRASE).")
      ->envname("AVOW_PASSPHRASE_FILE");
  app.add_flag("--json", g.json, "Machine output: one JSON document on stdout.");
  app.add_flag("-q,--quiet", g.quiet, "Print no warnings or progress.");
  app.add_option("-j,--jobs", g.jobs, "Worker threads (default: all cores).");
  // CLI11 ends the version text with its own newline.
  app.set_version_flag("--version", [] { auto v = version_text(); v.pop_back(); return v; },
                       "Print the version, git revision and library versions, and exit.");
  add_init(app, g);
  add_archive(app, g);
  add_capture(app, g);
  add_watch(app, g);
  add_verify(app, g);
  add_show(app, g);
  add_key(app, g);
  add_proof(app, g);
  add_checkpoint(app, g);
  add_query(app, g);
  add_repack(app, g);
  add_timestamp(app, g);
  add_site(app, g);
  add_remote(app, g);
  add_witness(app, g);
  add_version(app, g);
  add_help(app, g);
}

int run(int argc, char** argv) {
  CLI::App app;
  Globals g;
  build_app(app, g);
  if (argc <= 1) {
    print_short_usage(app);
    return exit_code::usage;
  }
  if (auto unknown = find_unknown_command(app, argc, argv))
    return usage_error(*unknown->parent, unknown_command_message(*unknown->parent, unknown->name));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version: CLI11 prints them on stdout, exit 0.
    if (e.get_exit_code() == 0) return app.exit(e);
    const CLI::App& where = deepest_selected(app);
    std::string message = e.what();
    if (message == "A subcommand is required")
      message = where.get_parent() ? "'" + command_path(where) + "' needs a subcommand" : "no command given";
    return usage_error(where, message);
  }
  std::fflush(stdout);
  return g.exit_code;
}

} // namespace avow::tool
