#include "cli.hpp"

#include <archive/util/file.hpp>

namespace avow::tool {

namespace {

// `show ID --warc FILE`: the record's original WARC, written like `proof -o`; exit 3 when it has no WARC original.
int write_warc(const Archive& archive, const RecordView& r, const std::string& file, const Globals& g) {
  auto original = archive.original(r);
  if (!original) return report(original.error());
  if (!*original || (*original)->ref.type != std::optional<std::string>("application/warc"))
    return report(Error{ErrorCode::invalid_input,
                        fmt::format("record {} has no WARC original (it is not a web capture)", r.id.substr(0, 16))});
  const std::string& bytes = (*original)->bytes;
  if (auto ok = write_file_atomic(file, bytes, FileMode::public_0644, Overwrite::yes); !ok) return report(ok.error());
  if (g.json) {
    print_json({{"file", file}, {"id", r.id}, {"bytes", bytes.size()}, {"sha256", (*original)->ref.sha256}});
  } else if (!g.quiet) {
    std::printf("WARC of record %s written to %s (%zu bytes)\n", r.id.c_str(), file.c_str(), bytes.size());
  }
  return 0;
}

} // namespace

void add_show(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("show", "Show one record, its signature status and its log index.");
  cmd->footer("Examples:\n  avow -C archive show 3f2a9c1e\n  avow -C archive show 3f2a9c1e --text\n"
              "  avow -C archive show 3f2a9c1e --tsa-cert tsa-ca.pem\n"
              "  avow -C archive show 3f2a9c1e --warc page.warc.gz   # a web capture's WARC, byte for byte");
  cmd->fallthrough();
  auto id = std::make_shared<std::string>();
  auto with_text = std::make_shared<bool>(false);
  cmd->add_option("id", *id, "Record id or a unique prefix of at least 8 hex digits.")->required();
  cmd->add_flag("--text", *with_text, "Also print the canonical text.");
  auto tsa_cert = std::make_shared<std::string>();
  cmd->add_option("--tsa-cert", *tsa_cert,
                  "PEM certificate(s) of the TSA's CA: say \"existed by\" only from time-stamp tokens that verify under it.");
  auto warc = std::make_shared<std::string>();
  cmd->add_option("--warc", *warc,
                  "Write the record's original WARC file (a web capture's, avow capture) to this file, byte for byte.");
  cmd->callback([&g, id, with_text, tsa_cert, warc] {
    std::optional<std::string> cert;
    if (!tsa_cert->empty()) {
      auto pem = read_file(*tsa_cert, crypto::k_max_tsa_cert_bytes);
      if (!pem) {
        g.exit_code = report(Error{pem.error().code, fmt::format("--tsa-cert: {}", pem.error().message)});
        return;
      }
      cert = std::move(*pem);
    }
    auto archive = open_or_report(g);
    if (!archive) return;
    auto found = archive->find(*id, *with_text);
    if (!found) {
      g.exit_code = found.error().code == ErrorCode::not_found ? (report(found.error()), exit_code::problems)
                                                                 : report(found.error());
      return;
    }
    if (found->size() > 1) {
      std::string ids;
      for (const auto& r : *found) ids += " " + r.id.substr(0, 16);
      g.exit_code = report(Error{ErrorCode::invalid_input, fmt::format("record id '{}' is ambiguous; candidates:{}", *id, ids)});
      return;
    }
    const auto& r = found->front();
    if (!warc->empty()) {
      g.exit_code = write_warc(*archive, r, *warc, g);
      return;
    }
    const auto record = nlohmann::json::parse(r.payload);
    // "Existed by": the earliest genTime among the RFC 3161 tokens over checkpoints that include this entry.
    auto tokens = archive->timestamps(cert);
    if (!tokens) {
      g.exit_code = report(tokens.error());
      return;
    }
    const Archive::Timestamp* earliest = nullptr;
    for (const auto& t : *tokens)
      if (t.tree_size > r.index && (!earliest || t.info.gen_time < earliest->info.gen_time)) earliest = &t;
    if (g.json) {
      nlohmann::json j = {{"id", r.id}, {"index", r.index}, {"kind", r.kind},
                          {"signature", {{"keyid", r.signer}, {"valid", r.signature_valid}}}, {"record", record}};
      if (r.text) j["text"] = *r.text;
      if (earliest)
        j["existed_by"] = {{"time", earliest->info.gen_time_text}, {"token", earliest->path}, {"tsa", earliest->info.tsa_name},
                           {"verified", earliest->verified}};
      print_json(j);
      return;
    }
    std::printf("record     %s\nindex      %llu\nkind       %s\nsignature  %s by %s\n", r.id.c_str(),
                static_cast<unsigned long long>(r.index), r.kind.c_str(), r.signature_valid ? "valid" : "INVALID",
                r.signer.substr(0, 16).c_str());
    if (earliest)
      std::printf("existed by %s (RFC 3161 token %s, %s)%s\n", earliest->info.gen_time_text.c_str(), earliest->path.c_str(),
                  earliest->info.tsa_name.empty() ? "TSA not named" : earliest->info.tsa_name.c_str(),
                  earliest->verified ? "" : "; the token was not checked against a TSA certificate (--tsa-cert)");
    std::printf("%s\n", record.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    if (r.text) std::printf("\n%s", for_stdout(*r.text).c_str());
    if (!r.signature_valid) g.exit_code = exit_code::problems;
  });
}

} // namespace avow::tool
