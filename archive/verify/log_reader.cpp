#include <archive/verify/log_reader.hpp>

#include <archive/log/tiles.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>

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

log::Verifier note_verifier(std::string_view origin, const crypto::PublicKey& key) {
  return log::Verifier{std::string(origin), log::key_id(origin, log::k_sig_ed25519, key), log::k_sig_ed25519, key};
}

namespace {

// Check that entry `index` of the log at `commit` is the key.add of log key `added`, signed by `previous`: what a
// rotation named in log/keys must be. One entry bundle read.
Expected<void> check_rotation_entry(const store::GitStore& store, const store::Oid& commit, std::uint64_t size,
                                    const record::KeyEntry& previous, const record::KeyEntry& added) {
  const std::uint64_t index = *added.added_at;
  const auto bad = [&](std::string_view why) {
    return fail(ErrorCode::invalid_input, "log/keys: the rotation to log key {} at entry {}: {}", added.id.substr(0, 16),
                index, why);
  };
  auto entry = read_entry(store, commit, size, index);
  if (!entry) return bad(entry.error().message);
  auto env = record::parse(*entry);
  if (!env) return bad(env.error().message);
  if (env->signatures.size() != 1 || env->signatures[0].keyid != previous.id ||
      !record::verify(*env, env->signatures[0], previous.public_key))
    return bad(fmt::format("the entry is not signed by the log key before it ({})", previous.id.substr(0, 16)));
  auto value = json::parse_canonical(env->payload);
  if (!value) return bad(value.error().message);
  auto event = record::key_event_from_json(*value);
  if (!event || event->kind != "key.add" || event->role != record::k_role_log || event->key_id != added.id)
    return bad("the entry is not the key.add of that log key");
  return {};
}

} // namespace

Expected<SignedCheckpoint> read_checkpoint(const store::GitStore& store, const store::Oid& commit,
                                           const log::Verifier& genesis, std::string_view origin) {
  auto text = store.read(commit, record::k_checkpoint_path);
  if (!text) return std::unexpected(text.error());
  auto note = log::parse_note(*text);
  if (!note) return fail(ErrorCode::invalid_input, "log/checkpoint: {}", note.error().message);
  auto cp = log::parse_checkpoint_text(note->text);
  if (!cp) return fail(ErrorCode::invalid_input, "log/checkpoint: {}", cp.error().message);
  if (cp->origin != origin)
    return fail(ErrorCode::invalid_input, "log/checkpoint: origin '{}' is not the archive's '{}'", cp->origin, origin);
  auto extension = record::find_key_state_extension(cp->extensions);
  if (!extension) return fail(ErrorCode::invalid_input, "log/checkpoint: {}", extension.error().message);
  auto keys_jcs = store.read_if_exists(commit, record::k_key_state_path);
  if (!keys_jcs) return std::unexpected(keys_jcs.error());
  SignedCheckpoint out{std::move(*cp), std::move(*text), std::nullopt, std::nullopt};
  log::Verifier signer = genesis;
  if (*keys_jcs) {
    if (!*extension)
      return fail(ErrorCode::invalid_input, "log/checkpoint has no avow-keys line, but the tree holds log/keys");
    if (**extension != record::key_state_extension_for(**keys_jcs))
      return fail(ErrorCode::invalid_input, "log/keys does not match the avow-keys line of log/checkpoint");
    auto state = record::parse_key_state(**keys_jcs);
    if (!state) return fail(ErrorCode::invalid_input, "log/keys: {}", state.error().message);
    if (state->genesis_log_key()->public_key != genesis.key)
      return fail(ErrorCode::invalid_input, "log/keys does not start with the log key of avow.json");
    const record::KeyEntry* previous = state->genesis_log_key();
    for (const auto& k : state->keys) {
      if ((k.added_at && *k.added_at >= out.checkpoint.size) || (k.revoked_at && *k.revoked_at >= out.checkpoint.size))
        return fail(ErrorCode::invalid_input, "log/keys names an entry beyond the checkpoint's size {}",
                    out.checkpoint.size);
      if (k.role != record::k_role_log || !k.added_at) continue;
      if (auto ok = check_rotation_entry(store, commit, out.checkpoint.size, *previous, k); !ok)
        return std::unexpected(ok.error());
      previous = &k;
    }
    signer = note_verifier(origin, state->log_key()->public_key);
    out.keys = std::move(*state);
    out.keys_jcs = std::move(**keys_jcs);
  } else if (*extension) {
    return fail(ErrorCode::invalid_input, "log/checkpoint has an avow-keys line, but the tree has no log/keys");
  }
  const log::Verifier known[] = {signer};
  if (auto ok = log::verify_note(*note, known); !ok) {
    if (out.keys && out.keys->log_key()->added_at)
      return fail(ErrorCode::invalid_input, "log/checkpoint: {} (under log key {}, in force since entry {})",
                  ok.error().message, out.keys->log_key()->id.substr(0, 16), *out.keys->log_key()->added_at);
    return fail(ErrorCode::invalid_input, "log/checkpoint: {}", ok.error().message);
  }
  return out;
}

Expected<std::string> read_entry(const store::GitStore& store, const store::Oid& commit, std::uint64_t size,
                                 std::uint64_t i) {
  if (i >= size) return fail(ErrorCode::invalid_input, "no entry {} in a log of {} entries", i, size);
  auto entries = read_entries(store, commit, std::min(size, (i / 256 + 1) * 256), i);
  if (!entries) return std::unexpected(entries.error());
  if (entries->empty()) return fail(ErrorCode::invalid_input, "no entry {}", i);
  return std::move(entries->front());
}

Expected<record::KeyState> key_state_at(const store::GitStore& store, const store::Oid& commit,
                                        const SignedCheckpoint& cp, const log::Verifier& genesis) {
  if (cp.keys) return *cp.keys;
  auto entries = read_entries(store, commit, cp.checkpoint.size);
  if (!entries) return std::unexpected(entries.error());
  record::KeyState state = record::initial_key_state(genesis.key);
  for (std::uint64_t i = 0; i < entries->size(); ++i) {
    auto env = record::parse((*entries)[i]);
    if (!env) continue; // verify reports it; it changes no key
    auto value = json::parse_canonical(env->payload);
    if (!value) continue;
    auto kind = record::record_kind(*value);
    if (!kind || *kind == "statement") continue;
    const auto bad = [&](std::string_view why) {
      return fail(ErrorCode::failed_precondition, "the key events of the log are invalid: entry {}: {} (run avow verify)",
                  i, why);
    };
    auto event = record::key_event_from_json(*value);
    if (!event) return bad(event.error().message);
    const record::KeyEntry* log_key = state.log_key();
    if (env->signatures.size() != 1 || !record::verify(*env, env->signatures[0], log_key->public_key))
      return bad("it is not signed by the log key in force");
    if (auto ok = record::apply(state, *event, env->signatures[0].keyid, i); !ok) return bad(ok.error().message);
  }
  return state;
}

} // namespace avow::verify
