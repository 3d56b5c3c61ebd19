#include "cli.hpp"

#include <archive/util/file.hpp>

namespace avow::tool {

void add_verify(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("verify", "Check the whole archive: commits, signatures, texts, log and checkpoints.");
  cmd->footer("Examples:\n  avow -C archive verify\n  avow -C archive verify --json\n"
              "  avow -C archive verify --tsa-cert tsa-ca.pem\n"
              "Exit 0: verified clean; 1: problems found (each is listed).");
  cmd->fallthrough();
  auto quick = std::make_shared<bool>(false);
  cmd->add_flag("--quick", *quick, "Skip per-entry signatures and text re-hashing; still check commits and the log.");
  auto tsa_cert = std::make_shared<std::string>();
  cmd->add_option("--tsa-cert", *tsa_cert,
                  "PEM certificate(s) of the TSA's CA: every RFC 3161 token in log/timestamps/ must verify under it.");
  cmd->callback([&g, quick, tsa_cert] {
    verify::Options options{*quick, g.jobs, std::nullopt, std::nullopt};
    if (!tsa_cert->empty()) {
      auto pem = read_file(*tsa_cert, crypto::k_max_tsa_cert_bytes);
      if (!pem) {
        g.exit_code = report(Error{pem.error().code, fmt::format("--tsa-cert: {}", pem.error().message)});
        return;
      }
      options.tsa_cert_pem = std::move(*pem);
    }
    auto r = Archive::verify_dir(archive_dir(g), options);
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    g.exit_code = r->ok() ? exit_code::ok : exit_code::problems;
    if (g.json) {
      nlohmann::json j = {{"ok", r->ok()},          {"origin", r->origin},   {"tree_size", r->size},
                          {"root", r->root_hex},    {"commits", r->commits}, {"entries", r->entries},
                          {"statements", r->statements}, {"texts", r->texts}, {"checkpoints", r->checkpoints},
                          {"quick", *quick},        {"problems", nlohmann::json::array()}};
      j["timestamps"] = {{"count", r->timestamps}, {"checked", r->timestamps_checked}};
      if (!r->newest_timestamp.empty()) j["timestamps"]["newest"] = r->newest_timestamp;
      for (const auto& p : r->problems) {
        nlohmann::json e = {{"kind", p.kind}, {"message", p.message}};
        if (p.entry) e["entry"] = *p.entry;
        if (p.commit) e["commit"] = *p.commit;
        if (p.path) e["path"] = *p.path;
        if (!p.evidence.empty()) e["evidence"] = p.evidence;
        j["problems"].push_back(e);
      }
      j["notices"] = nlohmann::json::array();
      for (const auto& n : r->notices)
        j["notices"].push_back({{"kind", n.kind}, {"path", n.path.value_or("")}, {"message", n.message}});
      print_json(j);
      return;
    }
    for (const auto& p : r->problems) {
      std::string where;
      if (p.entry) where += fmt::format(" entry {}", *p.entry);
      if (p.commit) where += fmt::format(" commit {}", p.commit->substr(0, 12));
      if (p.path) where += fmt::format(" path {}", *p.path);
      std::printf("problem: %s%s: %s\n", p.kind.c_str(), where.c_str(), p.message.c_str());
      for (const auto& e : p.evidence) {
        std::printf("  evidence:\n");
        std::size_t pos = 0;
        while (pos < e.size()) {
          const auto eol = e.find('\n', pos);
          const auto line = e.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
          std::printf("    %s\n", line.c_str());
          if (eol == std::string::npos) break;
          pos = eol + 1;
        }
      }
    }
    for (const auto& n : r->notices) std::printf("notice: %s: %s\n", n.kind.c_str(), n.message.c_str());
    if (r->timestamps > 0)
      std::printf("time-stamps: %llu token%s%s%s\n", static_cast<unsigned long long>(r->timestamps),
                  r->timestamps == 1 ? "" : "s", r->timestamps_checked ? " checked against the TSA certificate" : "",
                  r->newest_timestamp.empty() ? "" : (", newest " + r->newest_timestamp).c_str());
    if (r->ok())
      std::printf("verified: archive '%s': %llu entries (%llu statements, %llu texts), %llu commits, tree size %llu, root %s\n",
                  r->origin.c_str(), static_cast<unsigned long long>(r->entries),
                  static_cast<unsigned long long>(r->statements), static_cast<unsigned long long>(r->texts),
                  static_cast<unsigned long long>(r->commits), static_cast<unsigned long long>(r->size), r->root_hex.c_str());
    else
      std::printf("NOT verified: archive '%s': %zu problem%s found\n", r->origin.c_str(), r->problems.size(),
                  r->problems.size() == 1 ? "" : "s");
  });
}

} // namespace avow::tool
