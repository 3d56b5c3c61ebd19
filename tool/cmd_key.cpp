#include "cli.hpp"

#include <archive/crypto/keyfile.hpp>

namespace avow::tool {

void add_key(CLI::App& app, Globals& g) {
  auto* key = app.add_subcommand("key", "Manage keys.");
  key->footer("Examples:\n  avow key generate --encrypt\n  avow -C archive key list");
  key->require_subcommand(1);
  key->fallthrough();

  auto* gen = key->add_subcommand("generate", "Create an Ed25519 key pair; the private key is written 0600.");
  gen->footer("Examples:\n  avow key generate\n"
              "  AVOW_PASSPHRASE=... avow key generate --encrypt -o ~/.config/avow/keys/me.pem");
  gen->fallthrough();
  auto out = std::make_shared<std::string>();
  auto encrypt = std::make_shared<bool>(false);
  gen->add_option("-o,--out", *out, "Private key file to create (default: ~/.config/avow/keys/<id>.pem).");
  gen->add_flag("--encrypt", *encrypt,
                "Encrypt the private key with a passphrase (AVOW_PASSPHRASE, --passphrase-file, or asked).");
  gen->callback([&g, out, encrypt] {
    const bool have_source = std::getenv("AVOW_PASSPHRASE") != nullptr || !g.passphrase_file.empty();
    auto pass = new_passphrase(g, *encrypt && !have_source);
    if (!pass) {
      g.exit_code = report(pass.error());
      return;
    }
    if (!*encrypt && !pass->empty()) *pass = crypto::SecretBytes{};
    auto r = generate_key(default_key_dir(), out->empty() ? std::nullopt : std::optional<std::filesystem::path>(*out), *pass);
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    if (g.json) {
      print_json({{"id", r->key_id}, {"file", r->private_key_file.string()}, {"public_key", r->public_key_pem},
                  {"encrypted", *encrypt}});
      return;
    }
    std::printf("key %s written to %s%s\n", r->key_id.substr(0, 16).c_str(), r->private_key_file.c_str(),
                *encrypt ? " (encrypted)" : "");
    std::printf("key id %s\n", r->key_id.c_str());
  });

  auto* list = key->add_subcommand("list", "List every key of the archive's key state, and private keys in the key folder.");
  list->footer("Examples:\n  avow -C archive key list\n  avow -C archive key list --json");
  list->fallthrough();
  list->callback([&g] {
    nlohmann::json j = {{"archive", nlohmann::json::array()}, {"local", nlohmann::json::array()}};
    auto archive = open_archive(g);
    if (archive) {
      auto keys = archive->keys();
      if (!keys) {
        g.exit_code = report(keys.error());
        return;
      }
      for (const auto& k : *keys) {
        nlohmann::json e = {{"id", k.key_id}, {"role", k.role}, {"status", k.status}};
        if (k.name) e["name"] = *k.name;
        if (k.added_at) e["added_at"] = *k.added_at;
        if (k.revoked_at) e["revoked_at"] = *k.revoked_at;
        if (k.reason) e["reason"] = *k.reason;
        if (k.role == "log" && k.status == "active") j["log_key"] = k.key_id;
        j["archive"].push_back(e);
      }
    } else if (!g.archive.empty()) {
      g.exit_code = report(archive.error());
      return;
    }
    std::error_code ec;
    const auto dir = default_key_dir();
    if (std::filesystem::is_directory(dir, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.path().extension() == ".pem") files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) j["local"].push_back({{"file", f.string()}});
    }
    if (g.json) {
      print_json(j);
      return;
    }
    if (archive) {
      std::printf("keys of archive '%s':\n", archive->origin().c_str());
      std::printf("  %-16s  %-9s  %-7s  %-9s  %-10s  %s\n", "ID", "ROLE", "STATUS", "ADDED", "REVOKED", "NAME / REASON");
      for (const auto& e : j["archive"]) {
        const std::string added = e.contains("added_at") ? fmt::format("entry {}", e["added_at"].get<std::uint64_t>()) : "genesis";
        const std::string revoked =
            e.contains("revoked_at") ? fmt::format("entry {}", e["revoked_at"].get<std::uint64_t>()) : "-";
        std::string about = e.contains("name") ? e["name"].get<std::string>() : "";
        if (e.contains("reason")) about += (about.empty() ? "" : "; ") + std::string("reason: ") + e["reason"].get<std::string>();
        std::printf("  %-16s  %-9s  %-7s  %-9s  %-10s  %s\n", e["id"].get<std::string>().substr(0, 16).c_str(),
                    e["role"].get<std::string>().c_str(), e["status"].get<std::string>().c_str(), added.c_str(),
                    revoked.c_str(), for_stdout(about).c_str());
      }
      if (j.contains("log_key")) std::printf("log key in force: %s\n", j["log_key"].get<std::string>().c_str());
      for (const auto& e : j["archive"])
        if (e["status"] == "rotated")
          std::printf("rotated log key: %s (until entry %llu)\n", e["id"].get<std::string>().c_str(),
                      static_cast<unsigned long long>(e["revoked_at"].get<std::uint64_t>()));
    }
    std::printf("private key files in %s:\n", dir.c_str());
    if (j["local"].empty()) std::printf("  (none)\n");
    for (const auto& e : j["local"]) std::printf("  %s\n", e["file"].get<std::string>().c_str());
  });

  struct WriteOpts {
    std::string public_key;
    std::string name;
    std::string role;
    std::string key;
    std::string reason;
    std::string new_log_key;
    bool generate = false;
    double lock_timeout = 10;
  };
  auto o = std::make_shared<WriteOpts>();
  const auto timeout = [o] { return std::chrono::milliseconds(static_cast<long long>(o->lock_timeout * 1000)); };
  const auto print_change = [&g](std::string_view what, const Archive::KeyChange& c) {
    if (g.json) {
      print_json({{"key", c.key_id}, {"entry", c.index}, {"tree_size", c.tree_size}, {"commit", c.commit}});
      return;
    }
    if (!g.quiet)
      std::printf("%s %s at entry %llu (commit %s)\n", std::string(what).c_str(), c.key_id.substr(0, 16).c_str(),
                  static_cast<unsigned long long>(c.index), c.commit.substr(0, 12).c_str());
  };

  auto* add = key->add_subcommand("add", "Add an archivist or witness public key (a key.add entry signed by the log key).");
  add->footer("Examples:\n  avow -C archive key add bob.pub.pem --name bob --role archivist\n"
              "  avow -C archive key add ~/.ssh/id_ed25519.pub --name carol --role archivist\n"
              "  avow -C archive key add /srv/witness/witness.vkey");
  add->fallthrough();
  add->add_option("PUBKEY", o->public_key,
                  "Ed25519 public key file: SPKI PEM, an 'ssh-ed25519 ...' line, or a witness's C2SP vkey (witness.vkey).")
      ->required();
  add->add_option("--name", o->name, "Who holds the key (one line, at most 128 bytes); a vkey names its own.");
  add->add_option("--role", o->role, "archivist (signs statements) or witness (the default for a vkey).")
      ->check(CLI::IsMember({"archivist", "witness"}));
  add->add_option("--lock-timeout", o->lock_timeout, "Seconds to wait for another writer (default 10).");
  add->callback([&g, o, timeout, print_change] {
    auto archive = open_or_report(g);
    if (!archive) return;
    auto r = archive->add_key({o->public_key, o->role, o->name.empty() ? std::nullopt : std::optional<std::string>(o->name),
                               passphrase_source(g), timeout()});
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    print_change("added " + (o->role.empty() ? std::string("witness") : o->role) + " key", *r);
  });

  auto* revoke = key->add_subcommand("revoke", "Revoke an archivist or witness key (a key.revoke entry).");
  revoke->footer("Examples:\n  avow -C archive key revoke 1a2b3c4d --reason 'laptop stolen'");
  revoke->fallthrough();
  revoke->add_option("KEYID", o->key, "The key id, or a unique prefix of 8 or more hex digits.")->required();
  revoke->add_option("--reason", o->reason, "Why (one line).")->required();
  revoke->add_option("--lock-timeout", o->lock_timeout, "Seconds to wait for another writer (default 10).");
  revoke->callback([&g, o, timeout, print_change] {
    auto archive = open_or_report(g);
    if (!archive) return;
    auto r = archive->revoke_key({o->key, o->reason, passphrase_source(g), timeout()});
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    print_change("revoked key", *r);
  });

  auto* rotate = key->add_subcommand("rotate", "Replace the log key, with a hand-over checkpoint signed by both keys.");
  rotate->footer("Examples:\n  avow -C archive key rotate --log new-log.pem\n  avow -C archive key rotate --generate\n  avow -C archive key rotate --log ssh-agent:SHA256:<fingerprint>");
  rotate->fallthrough();
  auto* log_opt = rotate->add_option("--log", o->new_log_key, "The new log key: an Ed25519 private key file, or ssh-agent:SHA256:<fingerprint> for a key held by ssh-agent.");
  auto* gen_opt = rotate->add_flag("--generate", o->generate, "Generate the new log key into the key folder.");
  log_opt->excludes(gen_opt);
  rotate->add_option("--lock-timeout", o->lock_timeout, "Seconds to wait for another writer (default 10).");
  rotate->callback([&g, o, timeout] {
    if (o->new_log_key.empty() && !o->generate) {
      std::fprintf(stderr, "avow: error: key rotate needs --log FILE (the new private log key) or --generate\n");
      g.exit_code = exit_code::usage;
      return;
    }
    auto archive = open_or_report(g);
    if (!archive) return;
    Archive::RotateOptions opts;
    if (!o->new_log_key.empty()) opts.new_key = o->new_log_key;
    opts.key_dir = default_key_dir();
    opts.passphrase = passphrase_source(g);
    opts.lock_timeout = timeout();
    auto r = archive->rotate_log_key(opts);
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    if (g.json) {
      print_json({{"key", r->change.key_id}, {"old_key", r->old_key_id}, {"entry", r->change.index},
                  {"tree_size", r->change.tree_size}, {"commit", r->change.commit}, {"file", r->new_key_file.string()},
                  {"generated", r->generated}});
      return;
    }
    if (!g.quiet) {
      std::printf("rotated the log key from %s to %s at entry %llu (commit %s)\n", r->old_key_id.substr(0, 16).c_str(),
                  r->change.key_id.substr(0, 16).c_str(), static_cast<unsigned long long>(r->change.index),
                  r->change.commit.substr(0, 12).c_str());
      std::printf("new log key file %s%s (avow.logkey)\n", r->new_key_file.c_str(), r->generated ? " (generated)" : "");
    }
  });
}

} // namespace avow::tool
