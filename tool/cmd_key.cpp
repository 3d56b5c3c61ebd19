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

  auto* list = key->add_subcommand("list", "List the keys the archive trusts, and private keys in the key folder.");
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
        if (k.added_at) e["added_at"] = *k.added_at;
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
      std::printf("keys trusted by archive '%s':\n", archive->origin().c_str());
      for (const auto& e : j["archive"])
        std::printf("  %s  %-9s  %s%s\n", e["id"].get<std::string>().substr(0, 16).c_str(),
                    e["role"].get<std::string>().c_str(), e["status"].get<std::string>().c_str(),
                    e.contains("added_at") ? fmt::format("  (added by entry {})", e["added_at"].get<std::uint64_t>()).c_str() : "");
    }
    std::printf("private key files in %s:\n", dir.c_str());
    if (j["local"].empty()) std::printf("  (none)\n");
    for (const auto& e : j["local"]) std::printf("  %s\n", e["file"].get<std::string>().c_str());
  });
}

} // namespace avow::tool
