#include "cli.hpp"

namespace avow::tool {

void add_init(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("init", "Create an archive, with a log key and an archivist key unless given.");
  cmd->footer("Examples:\n"
              "  avow init ./archive --origin example.org/statements\n"
              "  avow --key ~/.config/avow/keys/me.pem init ./archive --origin example.org/statements\n"
              "  avow --key ssh-agent:SHA256:p/dch2rCZ4z+PSDEwnSLsslx29rd89GvMUc24ArhVO4 init ./archive --origin example.org/s\n"
              "  (the first archivist is then the Ed25519 key ssh-agent holds with that fingerprint, as ssh-add -l prints it)\n"
              "The origin names the log in every signed checkpoint: a schema-less URL (no 'https://'), printable\n"
              "ASCII without spaces or '+', at most 255 bytes. It cannot be changed later.");
  struct Opts {
    std::string dir;
    std::string origin;
    std::string log_key;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("dir", o->dir, "Folder for the new archive (default: -C or the current folder).");
  cmd->add_option("--origin", o->origin, "Log name used in checkpoints, a schema-less URL such as example.org/archive (no https://).")
      ->required();
  cmd->add_option("--log-key", o->log_key,
                  "Existing private key file to use as the log key, or ssh-agent:SHA256:FINGERPRINT for an Ed25519 key "
                  "held by ssh-agent.");
  cmd->callback([&g, o] {
    InitOptions opts;
    opts.dir = o->dir.empty() ? archive_dir(g) : std::filesystem::path(o->dir);
    opts.origin = o->origin;
    if (!g.key.empty()) opts.archivist_key = g.key;
    if (!o->log_key.empty()) opts.log_key = o->log_key;
    opts.key_dir = default_key_dir();
    opts.passphrase = passphrase_source(g);
    auto r = Archive::init(opts);
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    if (g.json) {
      print_json({{"archive", std::filesystem::absolute(opts.dir).string()},
                  {"origin", r->origin},
                  {"commit", r->commit},
                  {"log_key", {{"id", r->log_key_id}, {"file", r->log_key_file.string()}, {"generated", r->generated_log_key}}},
                  {"archivist_key",
                   {{"id", r->archivist_key_id}, {"file", r->archivist_key_file.string()}, {"generated", r->generated_archivist_key}}}});
      return;
    }
    std::printf("initialised archive '%s' in %s\n", r->origin.c_str(), opts.dir.string().c_str());
    std::printf("log key        %s  %s%s\n", r->log_key_id.substr(0, 16).c_str(), r->log_key_file.c_str(),
                r->generated_log_key ? " (new)" : "");
    std::printf("archivist key  %s  %s%s\n", r->archivist_key_id.substr(0, 16).c_str(), r->archivist_key_file.c_str(),
                r->generated_archivist_key ? " (new)" : "");
    if (r->generated_log_key || r->generated_archivist_key)
      std::printf("private keys stay outside the archive (0600); back them up\n");
  });
}

} // namespace avow::tool
