#include "cli.hpp"

namespace avow::tool {

void add_show(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("show", "Show one record, its signature status and its log index.");
  cmd->footer("Examples:\n  avow -C archive show 3f2a9c1e\n  avow -C archive show 3f2a9c1e --text");
  cmd->fallthrough();
  auto id = std::make_shared<std::string>();
  auto with_text = std::make_shared<bool>(false);
  cmd->add_option("id", *id, "Record id or a unique prefix of at least 8 hex digits.")->required();
  cmd->add_flag("--text", *with_text, "Also print the canonical text.");
  cmd->callback([&g, id, with_text] {
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
    const auto record = nlohmann::json::parse(r.payload);
    if (g.json) {
      nlohmann::json j = {{"id", r.id}, {"index", r.index}, {"kind", r.kind},
                          {"signature", {{"keyid", r.signer}, {"valid", r.signature_valid}}}, {"record", record}};
      if (r.text) j["text"] = *r.text;
      print_json(j);
      return;
    }
    std::printf("record     %s\nindex      %llu\nkind       %s\nsignature  %s by %s\n", r.id.c_str(),
                static_cast<unsigned long long>(r.index), r.kind.c_str(), r.signature_valid ? "valid" : "INVALID",
                r.signer.substr(0, 16).c_str());
    std::printf("%s\n", record.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    if (r.text) std::printf("\n%s", for_stdout(*r.text).c_str());
    if (!r.signature_valid) g.exit_code = exit_code::problems;
  });
}

} // namespace avow::tool
