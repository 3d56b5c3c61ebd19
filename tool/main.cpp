#include "cli.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) try {
  using namespace avow::tool;
  CLI::App app{"avow: a tamper-evident, append-only archive of public statements.\n"
               "Example: avow init demo --origin example.org/demo && avow -C demo archive press.txt --source https://example.org/pr/1"};
  app.name("avow");
  app.require_subcommand(1);
  app.fallthrough();
  Globals g;
  app.add_option("-C,--archive", g.archive, "Archive folder (default: the current folder).")->envname("AVOW_ARCHIVE");
  app.add_option("--key", g.key, "Archivist private key file (default: from the archive's local config).")
      ->envname("AVOW_KEY");
  app.add_option("--passphrase-file", g.passphrase_file,
                 "File holding the passphrase of an encrypted key (or set AVOW_PASSPHRASE).")
      ->envname("AVOW_PASSPHRASE_FILE");
  app.add_flag("--json", g.json, "Machine output: one JSON document on stdout.");
  app.add_flag("-q,--quiet", g.quiet, "Print no warnings or progress.");
  app.add_option("-j,--jobs", g.jobs, "Worker threads (default: all cores).");
  app.set_version_flag("--version", std::string("avow 0.1.0"));
  add_init(app, g);
  add_archive(app, g);
  add_verify(app, g);
  add_show(app, g);
  add_key(app, g);
  add_proof(app, g);
  add_checkpoint(app, g);
  add_query(app, g);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : exit_code::usage;
  }
  std::fflush(stdout);
  return g.exit_code;
} catch (const std::exception& e) {
  std::fprintf(stderr, "avow: error: internal error: %s\n", e.what());
  return avow::tool::exit_code::internal;
}
