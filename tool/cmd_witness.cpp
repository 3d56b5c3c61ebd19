// avow witness init|serve (a C2SP tlog-witness) and avow cosign (the log side: ask witnesses, store cosignatures).

#include "cli.hpp"

#include <cstdio>
#include <cstdlib>

namespace avow::tool {

void add_witness(CLI::App& app, Globals& g) {
  auto* w = app.add_subcommand("witness", k_about_witness);
  w->footer("Examples:\n  avow witness init /srv/witness --log \"$(avow -C archive checkpoint | head -1)+...\"\n"
            "  avow witness serve /srv/witness --listen 127.0.0.1:7380");
  w->require_subcommand(1);
  w->fallthrough();

  struct InitOpts {
    std::string dir;
    std::vector<std::string> logs;
    std::string name;
    std::string key;
  };
  auto io = std::make_shared<InitOpts>();
  auto* init = w->add_subcommand("init", "Create a witness folder: its key, vkey and the logs it trusts.");
  init->footer("Example: avow witness init /srv/witness --log example.org/archive+1a2b3c4d+AbC... --name example.net/w1\n"
               "The log's vkey is the 'log' line of `avow -C archive policy`.\n"
               "Exit 3: a malformed vkey or name; 4: DIR is not an empty folder; 5: an unusable --key file.");
  init->fallthrough();
  init->add_option("DIR", io->dir, "The witness folder to create (mode 0700).")->required();
  init->add_option("--log", io->logs, "C2SP vkey of a log to witness (its name is the log's origin); repeatable.")
      ->required();
  init->add_option("--name", io->name, "The witness's key name, such as example.net/witness (default: avow-witness-<id>).");
  init->add_option("--key", io->key, "An existing Ed25519 private key file to cosign with (default: generate DIR/witness.key).");
  init->callback([&g, io] {
    witness::InitOptions opts;
    opts.dir = io->dir;
    opts.log_vkeys = io->logs;
    if (!io->name.empty()) opts.name = io->name;
    if (!io->key.empty()) opts.key = io->key;
    auto r = witness_init(opts);
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    const std::string vkey_file = (r->dir / witness::k_vkey_file).string();
    if (g.json) {
      print_json({{"dir", r->dir.string()}, {"name", r->name}, {"vkey", r->vkey}, {"vkey_file", vkey_file},
                  {"key_file", r->key_file.string()}, {"generated_key", r->generated_key}, {"logs", r->origins}});
      return;
    }
    std::printf("witness %s created in %s\n", r->name.c_str(), r->dir.c_str());
    std::printf("vkey %s\n", r->vkey.c_str());
    for (const auto& o : r->origins) std::printf("witnesses log %s\n", o.c_str());
    std::printf("the log operator adds it with:\n  avow key add %s\n", vkey_file.c_str());
  });

  auto dir = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>();
  auto* serve = w->add_subcommand("serve", "Serve POST /add-checkpoint (C2SP tlog-witness) until SIGTERM or SIGINT.");
  serve->footer("Example: avow witness serve /srv/witness --listen 127.0.0.1:7380\n"
                "The first line on stdout is 'listening on http://HOST:PORT' (with --listen HOST:0, the port picked).\n"
                "One line per request goes to stderr. Exit 2: usage; 3: a malformed address; 4: an unusable witness "
                "folder or state file; 5: an unusable key; 6: the port is in use.");
  serve->fallthrough();
  serve->add_option("DIR", *dir, "The witness folder (made by avow witness init).")->required();
  serve->add_option("--listen", *listen, "HOST:PORT to listen on, such as 127.0.0.1:7380 (port 0: any free port).")
      ->required();
  serve->callback([&g, dir, listen] {
    WitnessServeOptions opts;
    opts.dir = *dir;
    opts.listen = *listen;
    opts.on_listening = [](const std::string& host, int port) {
      std::printf("listening on http://%s:%d\n", host.c_str(), port);
      std::fflush(stdout);
    };
    opts.log = [&g](const std::string& line) {
      if (!g.quiet) std::fprintf(stderr, "%s\n", line.c_str());
    };
    const char* crash = std::getenv("AVOW_TEST_WITNESS_CRASH_AFTER_PERSIST");
    opts.crash_after_persist = crash != nullptr && std::string_view(crash) == "1";
    if (auto ok = witness_serve(opts); !ok) {
      g.exit_code = report(ok.error());
      return;
    }
    std::fprintf(stderr, "avow: witness stopped\n");
  });

  struct CosignOpts {
    std::vector<std::string> urls;
    double timeout = 30;
  };
  auto co = std::make_shared<CosignOpts>();
  auto* cosign = app.add_subcommand("cosign", k_about_cosign);
  cosign->footer("Example: avow -C archive cosign --witness http://127.0.0.1:7380 --witness https://w2.example.net\n"
                 "Each witness must be in the archive's key state first (avow key add WITNESS.vkey).\n"
                 "Exit 0: at least one cosignature added (failed witnesses are listed); 1: a witness holds a checkpoint\n"
                 "this log does not extend (a split view), or no witness cosigned; 6: no witness could be reached.");
  cosign->fallthrough();
  cosign->add_option("--witness", co->urls, "URL of a witness (its submission prefix); repeatable.")->required();
  cosign->add_option("--timeout", co->timeout, "Seconds to wait for each witness (default 30).");
  cosign->callback([&g, co] {
    auto archive = open_or_report(g);
    if (!archive) return;
    Archive::CosignOptions opts;
    opts.urls = co->urls;
    opts.timeout = std::chrono::seconds(std::max<long long>(1, static_cast<long long>(co->timeout)));
    opts.passphrase = passphrase_source(g);
    auto r = archive->cosign(opts);
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    bool conflict = false;
    bool all_unreachable = true;
    for (const auto& o : r->witnesses) {
      conflict = conflict || o.conflict;
      all_unreachable = all_unreachable && o.unreachable;
    }
    if (conflict) g.exit_code = exit_code::problems;
    else if (all_unreachable) g.exit_code = exit_code::io;
    else if (r->commit.empty()) g.exit_code = exit_code::problems;
    if (g.json) {
      nlohmann::json ws = nlohmann::json::array();
      for (const auto& o : r->witnesses)
        ws.push_back({{"url", o.url}, {"witness", o.witness}, {"cosigned", o.cosigned}, {"unreachable", o.unreachable},
                      {"conflict", o.conflict}, {"detail", o.detail}});
      print_json({{"tree_size", r->tree_size}, {"commit", r->commit}, {"cosigned_by", r->cosigned_by}, {"witnesses", ws}});
      return;
    }
    for (const auto& o : r->witnesses) {
      if (o.cosigned) std::printf("%s: cosigned by %s\n", o.url.c_str(), o.witness.c_str());
      else
        std::printf("%s: %s%s\n", o.url.c_str(), o.conflict ? "CONFLICT: " : "failed: ", for_stdout(o.detail).c_str());
    }
    if (!r->commit.empty())
      std::printf("checkpoint %llu cosigned by %zu witness%s (commit %s)\n", static_cast<unsigned long long>(r->tree_size),
                  r->cosigned_by.size(), r->cosigned_by.size() == 1 ? "" : "es", r->commit.substr(0, 12).c_str());
    else std::printf("checkpoint %llu: no cosignature added\n", static_cast<unsigned long long>(r->tree_size));
    if (conflict)
      std::fprintf(stderr, "avow: error: a witness holds a checkpoint this log does not extend: a split view, or this "
                           "copy is not the log the witness saw\n");
    else if (all_unreachable) std::fprintf(stderr, "avow: error: no witness could be reached\n");
    else if (r->commit.empty()) std::fprintf(stderr, "avow: error: no witness cosigned the checkpoint\n");
  });
}

} // namespace avow::tool
