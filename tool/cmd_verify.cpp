#include "cli.hpp"
#include "progress.hpp"

#include <archive/util/file.hpp>

namespace avow::tool {

void add_verify(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("verify", "Check the whole archive: commits, signatures, texts, log and checkpoints.");
  cmd->footer("Examples:\n  avow -C archive verify\n  avow -C archive verify --json\n"
              "  avow -C archive verify --tsa-cert tsa-ca.pem\n"
              "  avow -C archive verify --policy archive.policy\n"
              "Exit 0: verified clean; 1: problems found (each is listed); 3: unreadable or malformed policy.");
  cmd->fallthrough();
  auto quick = std::make_shared<bool>(false);
  cmd->add_flag("--quick", *quick, "Skip per-entry signatures and text re-hashing; still check commits and the log.");
  auto tsa_cert = std::make_shared<std::string>();
  cmd->add_option("--tsa-cert", *tsa_cert,
                  "PEM certificate(s) of the TSA's CA: every RFC 3161 token in log/timestamps/ must verify under it.");
  auto policy = std::make_shared<std::string>();
  cmd->add_option("--policy", *policy,
                  "C2SP tlog-policy file: the latest checkpoint must satisfy it (log key, following hand-overs, and "
                  "witness quorum).");
  cmd->callback([&g, quick, tsa_cert, policy] {
    std::optional<Archive::PolicyCheck> policy_check;
    if (!policy->empty()) {
      auto text = read_file(*policy, 1024 * 1024);
      if (!text) {
        g.exit_code = report(text.error());
        return;
      }
      auto checked = Archive::check_policy(archive_dir(g), *text);
      if (!checked) {
        g.exit_code = report(checked.error());
        return;
      }
      policy_check = std::move(*checked);
    }
    verify::Options options{*quick, g.jobs, std::nullopt, std::nullopt, std::nullopt, {}};
    if (!tsa_cert->empty()) {
      auto pem = read_file(*tsa_cert, crypto::k_max_tsa_cert_bytes);
      if (!pem) {
        g.exit_code = report(Error{pem.error().code, fmt::format("--tsa-cert: {}", pem.error().message)});
        return;
      }
      options.tsa_cert_pem = std::move(*pem);
    }
    ProgressBar bar(g);
    options.progress = bar.callback();
    auto r = Archive::verify_dir(archive_dir(g), options);
    bar.finish();
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    if (policy_check && policy_check->problem) r->problems.push_back(*policy_check->problem);
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
      if (policy_check) {
        j["policy"] = {{"satisfied", !policy_check->problem}, {"file", *policy}};
        if (!policy_check->problem)
          j["policy"].update({{"tree_size", policy_check->tree_size}, {"log_key", policy_check->log_key},
                              {"witnesses", policy_check->witnesses}, {"handovers", policy_check->handovers}});
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
    if (policy_check && !policy_check->problem) {
      std::string witnesses;
      for (const auto& w : policy_check->witnesses) witnesses += (witnesses.empty() ? "" : ", ") + w;
      std::printf("policy: the checkpoint of tree size %llu satisfies %s (log key %s%s%s)\n",
                  static_cast<unsigned long long>(policy_check->tree_size), policy->c_str(),
                  policy_check->log_key.substr(0, 16).c_str(),
                  policy_check->handovers ? fmt::format(", reached through {} hand-over{}", policy_check->handovers,
                                                        policy_check->handovers == 1 ? "" : "s").c_str() : "",
                  witnesses.empty() ? "" : (", cosigned by " + witnesses).c_str());
    }
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
