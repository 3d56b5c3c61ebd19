#include "cli.hpp"
#include "output.hpp"

#include <archive/proof_bundle.hpp>
#include <archive/util/file.hpp>

namespace avow::tool {

void add_proof(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("proof", "Write an offline proof bundle for one statement.");
  cmd->footer("Example: avow proof 3f2a9c1e -o statement.avow-proof\n"
              "Check it anywhere, without the archive: avow verify-proof statement.avow-proof --policy archive.policy");
  cmd->fallthrough();
  auto id = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("id", *id, "Record id or a unique prefix of at least 8 hex digits.")->required();
  cmd->add_option("-o,--output", *out, "File to write (default: standard output).");
  cmd->callback([&g, id, out] {
    auto archive = open_or_report(g);
    if (!archive) return;
    auto p = archive->proof(*id);
    if (!p) {
      g.exit_code = p.error().code == ErrorCode::not_found ? (report(p.error()), exit_code::problems) : report(p.error());
      return;
    }
    if (out->empty()) {
      std::fwrite(p->bundle.data(), 1, p->bundle.size(), stdout);
      return;
    }
    if (auto ok = write_file_atomic(*out, p->bundle, FileMode::public_0644, Overwrite::yes); !ok) {
      g.exit_code = report(ok.error());
      return;
    }
    if (g.json) {
      print_json({{"file", *out}, {"id", p->id}, {"index", p->index}, {"tree_size", p->tree_size},
                  {"bytes", p->bundle.size()}, {"tiles_read", p->tiles_read}});
      return;
    }
    if (!g.quiet)
      std::printf("proof of entry %llu (record %s) at tree size %llu written to %s (%zu bytes)\n",
                  static_cast<unsigned long long>(p->index), p->id.c_str(), static_cast<unsigned long long>(p->tree_size),
                  out->c_str(), p->bundle.size());
  });

  auto* vp = app.add_subcommand("verify-proof", "Check a proof bundle offline against a trust policy.");
  vp->footer("Example: avow verify-proof statement.avow-proof --policy archive.policy --text copy-of-statement.txt\n"
             "A policy naming an older log key accepts a checkpoint signed by a newer one through the hand-overs the\n"
             "bundle carries; the key state shows whether the signing key was in force at the entry.\n"
             "Exit 0: proven; 1: not proven (the reason is printed); 3: unreadable policy or files.");
  vp->fallthrough();
  auto file = std::make_shared<std::string>();
  auto policy = std::make_shared<std::string>();
  auto text = std::make_shared<std::string>();
  vp->add_option("file", *file, "The proof bundle.")->required();
  vp->add_option("--policy", *policy, "C2SP tlog-policy file naming the log key (and witnesses) you trust.")->required();
  vp->add_option("--text", *text, "A copy of the statement's text to compare with the proven one.");
  vp->callback([&g, file, policy, text] {
    auto bundle = read_file(*file, k_max_bundle_bytes);
    if (!bundle) {
      g.exit_code = report(bundle.error());
      return;
    }
    auto policy_text = read_file(*policy, 1024 * 1024);
    if (!policy_text) {
      g.exit_code = report(policy_text.error());
      return;
    }
    std::optional<std::string> copy;
    if (!text->empty()) {
      auto t = read_file(*text, k_max_statement_bytes);
      if (!t) {
        g.exit_code = report(t.error());
        return;
      }
      copy = std::move(*t);
    }
    auto r = verify_bundle(*bundle, *policy_text, copy);
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    g.exit_code = r->proven ? exit_code::ok : exit_code::problems;
    if (g.json) {
      nlohmann::json j = {{"proven", r->proven}};
      if (!r->proven) j["reason"] = r->reason;
      else {
        j["id"] = r->record_id;
        j["index"] = r->index;
        j["origin"] = r->origin;
        j["tree_size"] = r->tree_size;
        j["root"] = r->root_hex;
        j["witnesses"] = r->witnesses;
        j["archivist"] = r->archivist;
        j["key_added_at"] = r->key_added_at;
        j["text_checked"] = r->text_checked;
        nlohmann::json ks = {{"shown", r->key_state_shown}};
        if (r->key_state_shown) {
          ks["in_force"] = true;
          if (!r->key_name.empty()) ks["name"] = r->key_name;
          if (r->key_revoked_at) {
            ks["revoked_at"] = *r->key_revoked_at;
            ks["reason"] = r->key_revoked_reason;
          }
        }
        j["key_state"] = ks;
        j["log_key"] = r->log_key;
        j["handovers"] = nlohmann::json::array();
        for (const auto& h : r->handovers)
          j["handovers"].push_back(
              {{"tree_size", h.tree_size}, {"rotated_at", h.rotated_at}, {"from", h.from_key}, {"to", h.to_key}});
        j["record"] = nlohmann::json::parse(r->payload);
      }
      print_json(j);
      return;
    }
    if (!r->proven) {
      std::printf("NOT proven: %s\n", r->reason.c_str());
      return;
    }
    std::printf("proven: record %s is entry %llu of log '%s' (tree size %llu, root %s)\n", r->record_id.c_str(),
                static_cast<unsigned long long>(r->index), r->origin.c_str(),
                static_cast<unsigned long long>(r->tree_size), r->root_hex.c_str());
    // Who said what, when and from where, as the signed record says; every string neutralised for the terminal.
    const auto line = [](const char* label, const std::string& value) {
      std::printf("  %-10s %s\n", label, terminal_field(value).c_str());
    };
    std::printf("statement:\n");
    line("source", r->source);
    line("publisher", r->publisher.empty() ? "(not given)" : r->publisher);
    if (!r->title.empty()) line("title", r->title);
    if (r->published_as_written.empty()) {
      line("published", "(not given)");
    } else {
      std::string when;
      if (!r->published_utc.empty()) when = r->published_utc;
      else if (!r->published_local.empty())
        when = "local time " + r->published_local + (r->published_tz.empty() ? ", zone unknown" : ", " + r->published_tz);
      else when = "not understood as a date";
      std::printf("  %-10s %s (%s)\n", "published", terminal_field(r->published_as_written).c_str(),
                  terminal_field(when).c_str());
    }
    line("captured", r->captured);
    if (!r->lang.empty()) line("language", r->lang);
    std::printf("  %-10s %llu bytes, sha256 %s\n", "text", static_cast<unsigned long long>(r->text_bytes),
                r->text_sha256.c_str());
    std::printf("signed by archivist key %s, added by the log key at entry %llu\n", r->archivist.substr(0, 16).c_str(),
                static_cast<unsigned long long>(r->key_added_at));
    if (!r->key_state_shown) {
      std::printf("key state: not shown (older bundle); a revocation of the key is not checked\n");
    } else {
      std::string key = r->archivist.substr(0, 16);
      if (!r->key_name.empty()) key += " (" + terminal_field(r->key_name) + ")";
      std::string status = "not revoked";
      if (r->key_revoked_at)
        status = fmt::format("key revoked later, by entry {} ({}); this entry came before", *r->key_revoked_at,
                             terminal_field(r->key_revoked_reason));
      std::printf("key state at tree size %llu: archivist key %s in force at entry %llu; %s\n",
                  static_cast<unsigned long long>(r->tree_size), key.c_str(),
                  static_cast<unsigned long long>(r->index), status.c_str());
    }
    for (const auto& h : r->handovers)
      std::printf("log key handed over by entry %llu (checkpoint of tree size %llu): %s -> %s\n",
                  static_cast<unsigned long long>(h.rotated_at), static_cast<unsigned long long>(h.tree_size),
                  h.from_key.substr(0, 16).c_str(), h.to_key.substr(0, 16).c_str());
    if (!r->witnesses.empty()) {
      std::string names;
      for (const auto& w : r->witnesses) names += (names.empty() ? "" : ", ") + w;
      std::printf("checkpoint cosigned by: %s\n", names.c_str());
    }
    if (r->text_checked) std::printf("the given text is the proven text\n");
  });
}

void add_checkpoint(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("checkpoint", "Print the archive's current signed checkpoint.");
  cmd->footer("Example: avow -C archive checkpoint > checkpoint.txt");
  cmd->fallthrough();
  cmd->callback([&g] {
    auto archive = open_or_report(g);
    if (!archive) return;
    auto cp = archive->checkpoint();
    if (!cp) {
      g.exit_code = report(cp.error());
      return;
    }
    if (g.json) {
      print_json({{"checkpoint", *cp}});
      return;
    }
    std::fwrite(cp->data(), 1, cp->size(), stdout);
  });

  auto* pol = app.add_subcommand("policy", "Print a C2SP tlog-policy that trusts this archive's log key in force.");
  pol->footer("Examples:\n  avow -C archive policy > archive.policy\n"
              "  avow -C archive policy --witness w1=https://w1.example.net --witness w2 --witness w3 --quorum 2\n"
              "Witnesses are named by their key name in the archive's key state (avow key list).\n"
              "Exit 3: an unknown witness or a bad quorum.");
  pol->fallthrough();
  auto pol_witnesses = std::make_shared<std::vector<std::string>>();
  auto pol_quorum = std::make_shared<std::string>();
  pol->add_option("--witness", *pol_witnesses, "NAME[=URL] of a witness key of the archive to require; repeatable.");
  pol->add_option("--quorum", *pol_quorum, "How many of the witnesses must cosign: K, any or all (default: a majority).");
  pol->callback([&g, pol_witnesses, pol_quorum] {
    if (!pol_quorum->empty() && pol_witnesses->empty()) {
      std::fprintf(stderr, "avow: error: --quorum needs --witness\n");
      g.exit_code = exit_code::usage;
      return;
    }
    auto archive = open_or_report(g);
    if (!archive) return;
    std::vector<Archive::PolicyWitness> ws;
    for (const auto& w : *pol_witnesses) {
      const auto eq = w.find('=');
      ws.push_back({w.substr(0, eq), eq == std::string::npos ? std::string() : w.substr(eq + 1)});
    }
    auto p = ws.empty() ? archive->policy() : archive->policy(ws, *pol_quorum);
    if (!p) {
      g.exit_code = report(p.error());
      return;
    }
    std::fwrite(p->data(), 1, p->size(), stdout);
  });
}

} // namespace avow::tool
