#include <archive/verify/log_reader.hpp>

#include <archive/log/tiles.hpp>

namespace avow::verify {

Expected<log::Verifier> log_verifier(const record::ArchiveConfig& config) {
  auto v = log::parse_vkey(config.log_vkey);
  if (!v) return fail(ErrorCode::invalid_input, "avow.json: log key: {}", v.error().message);
  if (v->name != config.origin)
    return fail(ErrorCode::invalid_input, "avow.json: log key name '{}' is not the origin '{}'", v->name, config.origin);
  if (crypto::key_id(v->key) != config.log_key_id)
    return fail(ErrorCode::invalid_input, "avow.json: log key id does not match its vkey");
  return v;
}

Expected<record::ArchiveConfig> read_config(const store::GitStore& store, const store::Oid& commit) {
  auto text = store.read(commit, record::k_config_path);
  if (!text) {
    if (text.error().code == ErrorCode::not_found)
      return fail(ErrorCode::failed_precondition, "'{}' is not an avow archive (no avow.json)", store.workdir().string());
    return std::unexpected(text.error());
  }
  return record::parse_config(*text);
}

Expected<SignedCheckpoint> read_checkpoint(const store::GitStore& store, const store::Oid& commit,
                                           const log::Verifier& log_key, std::string_view origin) {
  auto text = store.read(commit, record::k_checkpoint_path);
  if (!text) return std::unexpected(text.error());
  auto note = log::parse_note(*text);
  if (!note) return fail(ErrorCode::invalid_input, "log/checkpoint: {}", note.error().message);
  const log::Verifier known[] = {log_key};
  if (auto ok = log::verify_note(*note, known); !ok)
    return fail(ErrorCode::invalid_input, "log/checkpoint: {}", ok.error().message);
  auto cp = log::parse_checkpoint_text(note->text);
  if (!cp) return fail(ErrorCode::invalid_input, "log/checkpoint: {}", cp.error().message);
  if (cp->origin != origin)
    return fail(ErrorCode::invalid_input, "log/checkpoint: origin '{}' is not the archive's '{}'", cp->origin, origin);
  return SignedCheckpoint{std::move(*cp), std::move(*text)};
}

Expected<std::vector<std::string>> read_entries(const store::GitStore& store, const store::Oid& commit,
                                                std::uint64_t size, std::uint64_t first) {
  std::vector<std::string> entries;
  if (first >= size) return entries;
  entries.reserve(std::min<std::uint64_t>(size - first, 1u << 20)); // a hostile size must not allocate before reading
  for (std::uint64_t bundle = first / 256; bundle * 256 < size; ++bundle) {
    const auto width = static_cast<std::uint32_t>(std::min<std::uint64_t>(256, size - bundle * 256));
    const std::string path = std::string(record::k_log_prefix) + log::entries_path(bundle, width);
    auto data = store.read(commit, path);
    if (!data) return fail(ErrorCode::invalid_input, "entry bundle '{}' cannot be read: {}", path, data.error().message);
    auto decoded = log::decode_entry_bundle(as_bytes(*data));
    if (!decoded) return fail(ErrorCode::invalid_input, "entry bundle '{}': {}", path, decoded.error().message);
    if (decoded->size() != width)
      return fail(ErrorCode::invalid_input, "entry bundle '{}' holds {} entries, want {}", path, decoded->size(), width);
    for (std::uint64_t k = 0; k < decoded->size(); ++k)
      if (bundle * 256 + k >= first) entries.emplace_back(std::move((*decoded)[k]));
  }
  return entries;
}

} // namespace avow::verify
