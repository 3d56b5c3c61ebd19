// The key life cycle of an archive: key add, revoke and log-key rotation, the key list, and the key state and
// hand-over checkpoints a proof bundle carries (docs/FORMAT.md, "Key state").

#include <archive/archive.hpp>

#include <archive/archive_impl.hpp>
#include <archive/crypto/ssh_agent.hpp>

#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/sshsig.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/key_state.hpp>
#include <archive/store/writer_lock.hpp>
#include <archive/text/metadata.hpp>
#include <archive/util/file.hpp>
#include <archive/verify/log_reader.hpp>

#include <algorithm>
#include <charconv>

namespace avow {
namespace fs = std::filesystem;

namespace detail {

Expected<std::string> sign_checkpoint(std::string_view text, std::string_view origin, const crypto::Signer& log_key,
                                      const crypto::Signer* old_log_key) {
  if (!old_log_key) return log::sign_note(text, origin, log_key);
  auto by_new = log::note_signature(text, origin, log_key);
  if (!by_new) return std::unexpected(by_new.error());
  auto by_old = log::note_signature(text, origin, *old_log_key);
  if (!by_old) return std::unexpected(by_old.error());
  return log::format_note(log::Note{std::string(text), {std::move(*by_new), std::move(*by_old)}});
}

const record::KeyEntry* log_key_for_size(const record::KeyState& keys, std::uint64_t size) {
  const record::KeyEntry* found = nullptr;
  for (const auto& k : keys.keys)
    if (k.role == record::k_role_log && k.in_force_at(size)) found = &k;
  return found;
}

Expected<LogKey> open_log_key(const store::GitStore& store, const crypto::PassphraseSource& passphrase,
                              std::string_view what) {
  auto spec = store.config_get("avow.logkey");
  if (!spec) return std::unexpected(spec.error());
  if (!*spec)
    return fail(ErrorCode::key, "this copy of the archive has no log key (avow.logkey in .git/config): only the "
                                "archive's operator can {}", what);
  auto key = crypto::open_signer(**spec, passphrase);
  if (!key) return std::unexpected(key.error());
  return LogKey{crypto::OwnedSigner(std::move(*key)), std::move(**spec)};
}

Expected<void> check_log_key(const record::KeyState& keys, const crypto::PublicKey& key, std::string_view file) {
  const std::string id = crypto::key_id(key);
  const record::KeyEntry* current = keys.log_key();
  if (current && current->id == id) return {};
  const record::KeyEntry* known = keys.find(id);
  if (known && known->role == record::k_role_log && known->revoked_at)
    return fail(ErrorCode::key,
                "log key {} ('{}') was rotated out at entry {}; the log key in force is {} (set avow.logkey to its file)",
                id.substr(0, 16), file, *known->revoked_at, current ? current->id.substr(0, 16) : std::string("?"));
  return fail(ErrorCode::key, "log key '{}' ({}) is not this archive's log key in force ({})", file, id.substr(0, 16),
              current ? current->id.substr(0, 16) : std::string("?"));
}

Expected<void> check_archivist_key(const record::KeyState& keys, std::string_view archivist_id) {
  const record::KeyEntry* k = keys.find(archivist_id);
  if (!k)
    return fail(ErrorCode::key, "archivist key {} is not trusted by this archive (no key.add entry adds it: avow key add)",
                archivist_id.substr(0, 16));
  if (k->role != record::k_role_archivist)
    return fail(ErrorCode::key, "key {} is a {} key, not an archivist key", archivist_id.substr(0, 16), k->role);
  if (k->revoked_at)
    return fail(ErrorCode::key, "archivist key {} was revoked by entry {} ({}); it signs no more statements",
                archivist_id.substr(0, 16), *k->revoked_at, k->reason.value_or(""));
  return {};
}

} // namespace detail

namespace {

// What every key command builds on: the writer lock, the head, its checkpoint and key state, and the log key in force
// loaded from avow.logkey.
struct KeyWriteBase {
  store::WriterLock lock;
  store::Oid head;
  verify::SignedCheckpoint cp;
  record::KeyState keys;
  crypto::OwnedSigner log_key;
};

Expected<KeyWriteBase> begin_key_write(Archive::Impl& impl, const crypto::PassphraseSource& passphrase,
                                       std::chrono::milliseconds timeout) {
  auto& store = impl.store;
  auto log_key = detail::open_log_key(store, passphrase, "change its keys");
  if (!log_key) return std::unexpected(log_key.error());
  auto lock = store::WriterLock::acquire(store.git_dir(), timeout);
  if (!lock) return std::unexpected(lock.error());
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "archive has no commit");
  auto cp = verify::read_checkpoint(store, **head, impl.log_verifier, impl.config.origin);
  if (!cp) return fail(ErrorCode::failed_precondition, "cannot append: {}", cp.error().message);
  if (auto ok = detail::check_clock(store, **head); !ok) return std::unexpected(ok.error());
  auto keys = verify::key_state_at(store, **head, *cp, impl.log_verifier);
  if (!keys) return std::unexpected(keys.error());
  if (auto ok = detail::check_log_key(*keys, log_key->key.public_key(), log_key->spec); !ok)
    return std::unexpected(ok.error());
  return KeyWriteBase{std::move(*lock), **head, std::move(*cp), std::move(*keys), std::move(log_key->key)};
}

Expected<std::string> key_event_entry(const record::KeyEvent& event, const crypto::Signer& log_key) {
  auto payload = record::payload(event);
  if (!payload) return std::unexpected(payload.error());
  auto env = record::sign(*payload, log_key);
  if (!env) return std::unexpected(env.error());
  return record::serialize(*env);
}

// Read an Ed25519 public key from an SPKI PEM file or an OpenSSH public key line; key error naming any other type.
Expected<crypto::PublicKey> read_public_key(const fs::path& file) {
  auto text = read_file(file, 64 * 1024);
  if (!text) {
    if (text.error().code == ErrorCode::not_found)
      return fail(ErrorCode::key, "cannot read public key file '{}': no such file", file.string());
    return fail(ErrorCode::key, "cannot read public key file '{}': {}", file.string(), text.error().message);
  }
  std::string_view t = *text;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\n' || t.front() == '\r' || t.front() == '\t')) t.remove_prefix(1);
  if (t.starts_with("-----BEGIN")) {
    if (!t.starts_with("-----BEGIN PUBLIC KEY-----"))
      return fail(ErrorCode::key, "'{}' is not a public key file (want an SPKI PEM or an ssh-ed25519 line); never give "
                                  "a private key to key add", file.string());
    auto pub = crypto::parse_public_key_pem(t);
    if (!pub) {
      const std::string& m = pub.error().message;
      if (const auto at = m.find("it is "); m.starts_with("cannot use public key") && at != std::string::npos) {
        const std::string type = m.substr(at + 6, m.find(',', at) - at - 6);
        return fail(ErrorCode::key, "public key '{}' is an {} key; avow keys are Ed25519", file.string(), type);
      }
      return fail(ErrorCode::key, "public key '{}': {}", file.string(), m);
    }
    return *pub;
  }
  const std::string_view type = t.substr(0, t.find_first_of(" \t\r\n"));
  if (type == "ssh-ed25519") {
    auto pub = crypto::parse_openssh_public_key(t.substr(0, t.find('\n')));
    if (!pub) return fail(ErrorCode::key, "public key '{}': {}", file.string(), pub.error().message);
    return *pub;
  }
  if (type.starts_with("ssh-") || type.starts_with("ecdsa-") || type.starts_with("sk-"))
    return fail(ErrorCode::key, "public key '{}' is an {} key; avow keys are Ed25519 (ssh-ed25519)", file.string(), type);
  return fail(ErrorCode::key, "'{}' is not a public key (want an SPKI PEM file or an 'ssh-ed25519 ...' line)",
              file.string());
}

// The C2SP vkey in `file` when it holds one (one line "<name>+<hex8>+<base64>", nothing else); nullopt for any other
// content (read_public_key judges it). invalid_input for a vkey that does not parse or is not a cosignature (type 0x04)
// key.
Expected<std::optional<log::Verifier>> read_witness_vkey(const fs::path& file) {
  auto text = read_file(file, 64 * 1024);
  if (!text) return std::optional<log::Verifier>{}; // read_public_key reports it
  std::string_view t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.remove_suffix(1);
  const auto plus = t.find('+');
  if (plus == std::string_view::npos || t.find_first_of("\n \t") != std::string_view::npos || t.starts_with("-----") ||
      t.find('+', plus + 1) == std::string_view::npos)
    return std::optional<log::Verifier>{};
  auto v = log::parse_vkey(t);
  if (!v) return fail(ErrorCode::invalid_input, "'{}' is not a valid vkey: {}", file.string(), v.error().message);
  if (v->type != log::k_sig_cosignature_v1)
    return fail(ErrorCode::invalid_input, "'{}' is a vkey of type 0x{:02x}, not a witness (cosignature/v1, type 0x04) key",
                file.string(), v->type);
  return std::optional<log::Verifier>(std::move(*v));
}

// Seconds since the epoch for "YYYYMMDDHHMMSSZ"; nullopt otherwise.
std::optional<std::int64_t> parse_ssh_time(std::string_view s) {
  if (s.size() != 15 || s.back() != 'Z') return std::nullopt;
  int v[6] = {};
  const int widths[6] = {4, 2, 2, 2, 2, 2};
  std::size_t pos = 0;
  for (int i = 0; i < 6; ++i) {
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + widths[i], v[i]);
    if (ec != std::errc{} || p != s.data() + pos + widths[i]) return std::nullopt;
    pos += widths[i];
  }
  std::tm tm{};
  tm.tm_year = v[0] - 1900;
  tm.tm_mon = v[1] - 1;
  tm.tm_mday = v[2];
  tm.tm_hour = v[3];
  tm.tm_min = v[4];
  tm.tm_sec = v[5];
  return static_cast<std::int64_t>(timegm(&tm));
}

// The rotation times an allowed_signers file the writer made names: the valid-after of each log key added by a
// rotation, by its rotation entry index.
std::map<std::uint64_t, std::int64_t> rotation_times(std::string_view allowed, const record::KeyState& keys) {
  std::map<std::uint64_t, std::int64_t> times;
  for (const auto& k : keys.keys) {
    if (k.role != record::k_role_log || !k.added_at) continue;
    const std::string key = crypto::openssh_public_key(k.public_key);
    const auto at = allowed.find(key);
    if (at == std::string_view::npos) continue;
    const auto line_start = allowed.rfind('\n', at);
    const std::string_view line = allowed.substr(line_start == std::string_view::npos ? 0 : line_start + 1,
                                                 at - (line_start == std::string_view::npos ? 0 : line_start + 1));
    const auto after = line.find("valid-after=\"");
    if (after == std::string_view::npos) continue;
    if (auto t = parse_ssh_time(line.substr(after + 13, 15))) times[*k.added_at] = *t;
  }
  return times;
}

Archive::KeyInfo key_info(const record::KeyEntry& k) {
  std::string status = !k.revoked_at ? "active" : k.role == record::k_role_log ? "rotated" : "revoked";
  return {k.id, k.role, std::move(status), k.name, k.added_at, k.revoked_at, k.reason};
}

} // namespace

Expected<std::vector<Archive::KeyInfo>> Archive::keys() const {
  auto view = key_state();
  if (!view) return std::unexpected(view.error());
  std::vector<KeyInfo> out;
  for (const auto& k : view->state.keys) out.push_back(key_info(k));
  return out;
}

Expected<Archive::KeyStateView> Archive::key_state() const {
  const auto& store = m_impl->store;
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "archive has no commit");
  auto cp = verify::read_checkpoint(store, **head, m_impl->log_verifier, m_impl->config.origin);
  if (!cp) return std::unexpected(cp.error());
  auto keys = verify::key_state_at(store, **head, *cp, m_impl->log_verifier);
  if (!keys) return std::unexpected(keys.error());
  return KeyStateView{std::move(*keys), cp->keys_jcs.value_or(std::string{}), cp->checkpoint.size, cp->note};
}

Expected<std::vector<Archive::Handover>> Archive::handovers() const {
  auto view = key_state();
  if (!view) return std::unexpected(view.error());
  std::vector<Handover> out;
  const record::KeyEntry* previous = view->state.genesis_log_key();
  for (const auto& k : view->state.keys) {
    if (k.role != record::k_role_log || !k.added_at) continue;
    out.push_back({*k.added_at, previous->id, k.id, {}, 0, {}, {}});
    previous = &k;
  }
  if (out.empty()) return out;
  // The hand-over commit of a rotation at entry r: the first commit whose checkpoint holds more than r entries.
  const auto& store = m_impl->store;
  std::size_t next = 0;
  auto walked = store.for_each_commit([&](const store::CommitInfo& c) -> Expected<void> {
    if (next >= out.size()) return {};
    const auto trailer = c.message.find("\nAvow-Tree-Size: ");
    if (trailer == std::string::npos) return {};
    std::uint64_t size = 0;
    const char* b = c.message.data() + trailer + 17;
    if (auto [p, ec] = std::from_chars(b, c.message.data() + c.message.size(), size); ec != std::errc{}) return {};
    while (next < out.size() && size > out[next].rotation_index) out[next++].commit = c.id.hex();
    return {};
  });
  if (!walked) return std::unexpected(walked.error());
  for (auto& h : out) {
    if (h.commit.empty())
      return fail(ErrorCode::failed_precondition, "no commit hands over to log key {} (run avow verify)",
                  h.new_key_id.substr(0, 16));
    auto oid = store::Oid::from_hex(h.commit);
    if (!oid) return std::unexpected(oid.error());
    auto cp = verify::read_checkpoint(store, *oid, m_impl->log_verifier, m_impl->config.origin);
    if (!cp) return std::unexpected(cp.error());
    if (!cp->keys_jcs) return fail(ErrorCode::failed_precondition, "hand-over commit {} has no log/keys", h.commit);
    const record::KeyEntry* old_key = cp->keys->find(h.old_key_id);
    auto note = log::parse_note(cp->note);
    const log::Verifier known[] = {verify::note_verifier(m_impl->config.origin, old_key->public_key)};
    if (!note || !log::verify_note(*note, known))
      return fail(ErrorCode::failed_precondition,
                  "the hand-over checkpoint of commit {} is not signed by the old log key {} (run avow verify)",
                  h.commit.substr(0, 12), h.old_key_id.substr(0, 16));
    h.size = cp->checkpoint.size;
    h.checkpoint = cp->note;
    h.key_state = *cp->keys_jcs;
  }
  return out;
}

namespace {

// Sign `event` (a key.add or key.revoke of an archivist or witness key) with the log key in force, check it against
// the key state, and write it in a commit of its own with `files`.
Expected<Archive::KeyChange> write_key_event(Archive::Impl& impl, const KeyWriteBase& base, record::KeyEvent event,
                                             std::vector<std::pair<std::string, std::string>> files,
                                             std::string summary) {
  event.captured = format_rfc3339_utc(now_seconds());
  event.archivist = crypto::key_id(base.log_key.public_key());
  auto entry = key_event_entry(event, base.log_key);
  if (!entry) return std::unexpected(entry.error());
  const std::uint64_t index = base.cp.checkpoint.size;
  record::KeyState after = base.keys;
  if (auto ok = record::apply(after, event, event.archivist, index); !ok)
    return fail(ErrorCode::failed_precondition, "{}", ok.error().message);
  detail::KeyWrite write;
  write.envelopes = {*entry};
  write.after = std::move(after);
  if (!files.empty()) write.files = [&files](std::int64_t) { return files; };
  write.summary = std::move(summary);
  write.log_key = write.commit_key = &base.log_key;
  auto commit = detail::write_key_entries(impl, base.head, base.cp, base.keys, write);
  if (!commit) return std::unexpected(commit.error());
  return Archive::KeyChange{event.key_id, index, index + 1, *commit};
}

} // namespace

Expected<Archive::KeyChange> Archive::add_key(const KeyAddOptions& given) {
  // A C2SP vkey (a witness's "<name>+<hex8>+<base64(0x04 || key)>") names its key: the name comes from it, the role
  // is witness (docs/FORMAT.md section 19).
  KeyAddOptions options = given;
  auto vkey = read_witness_vkey(options.public_key_file);
  if (!vkey) return std::unexpected(vkey.error());
  if (*vkey) {
    if (options.role.empty()) options.role = std::string(record::k_role_witness);
    if (options.role != record::k_role_witness)
      return fail(ErrorCode::invalid_input, "'{}' is a witness vkey: its role is witness, not {}",
                  options.public_key_file.string(), options.role);
    if (options.name && *options.name != (*vkey)->name)
      return fail(ErrorCode::invalid_input, "--name '{}' is not the name in the vkey '{}' (a witness's name is its key name)",
                  *options.name, (*vkey)->name);
    options.name = (*vkey)->name;
  } else if (options.role.empty() || !options.name) {
    return fail(ErrorCode::invalid_input, "key add needs --name and --role for a public key that is not a witness vkey");
  }
  if (options.role != record::k_role_archivist && options.role != record::k_role_witness)
    return fail(ErrorCode::invalid_input, "invalid role '{}': want archivist or witness", options.role);
  if (options.name) {
    if (options.name->empty() || options.name->size() > 128)
      return fail(ErrorCode::invalid_input, "invalid name: want 1 to 128 bytes");
    if (auto ok = text::check_single_line("name", *options.name); !ok) return std::unexpected(ok.error());
  }
  auto pub = *vkey ? Expected<crypto::PublicKey>((*vkey)->key) : read_public_key(options.public_key_file);
  if (!pub) return std::unexpected(pub.error());
  auto base = begin_key_write(*m_impl, options.passphrase, options.lock_timeout);
  if (!base) return std::unexpected(base.error());
  const std::string id = crypto::key_id(*pub);
  if (const record::KeyEntry* k = base->keys.find(id)) {
    if (k->revoked_at)
      return fail(ErrorCode::failed_precondition, "key {} was {} by entry {}; a key is never added again", id.substr(0, 16),
                  k->role == record::k_role_log ? "rotated out" : "revoked", *k->revoked_at);
    return fail(ErrorCode::failed_precondition, "key {} is already in this archive ({}{})", id.substr(0, 16), k->role,
                k->added_at ? fmt::format(", added by entry {}", *k->added_at) : std::string(", the genesis log key"));
  }
  record::KeyEvent event;
  event.kind = "key.add";
  event.key_id = id;
  event.public_key = *pub;
  event.role = options.role;
  event.name = options.name;
  return write_key_event(*m_impl, *base, std::move(event), {{record::key_path(id), crypto::public_key_pem(*pub)}},
                         fmt::format("add {} key {}", options.role, id.substr(0, 16)));
}

Expected<Archive::KeyChange> Archive::revoke_key(const KeyRevokeOptions& options) {
  std::string prefix = options.key;
  std::transform(prefix.begin(), prefix.end(), prefix.begin(), [](unsigned char c) { return std::tolower(c); });
  if (prefix.size() < 8 || prefix.size() > 64 ||
      !std::all_of(prefix.begin(), prefix.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return fail(ErrorCode::invalid_input, "invalid key id '{}': want 8 to 64 hex digits", options.key);
  if (options.reason.empty()) return fail(ErrorCode::invalid_input, "a revocation needs a reason (--reason TEXT)");
  if (auto ok = text::check_single_line("reason", options.reason); !ok) return std::unexpected(ok.error());
  auto base = begin_key_write(*m_impl, options.passphrase, options.lock_timeout);
  if (!base) return std::unexpected(base.error());
  std::vector<const record::KeyEntry*> matches;
  for (const auto& k : base->keys.keys)
    if (k.id.starts_with(prefix)) matches.push_back(&k);
  if (matches.empty()) return fail(ErrorCode::not_found, "no key {} in this archive", prefix);
  if (matches.size() > 1) {
    std::string ids;
    for (const auto* k : matches) ids += " " + k->id.substr(0, 16);
    return fail(ErrorCode::invalid_input, "key id '{}' is ambiguous; candidates:{}", prefix, ids);
  }
  const record::KeyEntry& k = *matches.front();
  if (k.role == record::k_role_log)
    return fail(ErrorCode::failed_precondition, "key {} is a log key: a log key is not revoked but rotated (avow key rotate)",
                k.id.substr(0, 16));
  if (k.revoked_at)
    return fail(ErrorCode::failed_precondition, "key {} was already revoked by entry {} ({})", k.id.substr(0, 16),
                *k.revoked_at, k.reason.value_or(""));
  if (k.role == record::k_role_archivist && base->keys.active_archivists() <= 1)
    return fail(ErrorCode::failed_precondition,
                "key {} is the last archivist key in force; add another archivist first (avow key add)", k.id.substr(0, 16));
  record::KeyEvent event;
  event.kind = "key.revoke";
  event.key_id = k.id;
  event.public_key = k.public_key;
  event.role = k.role;
  event.reason = options.reason;
  return write_key_event(*m_impl, *base, std::move(event), {},
                         fmt::format("revoke {} key {}", k.role, k.id.substr(0, 16)));
}

Expected<Archive::Rotation> Archive::rotate_log_key(const RotateOptions& options) {
  // The new key first: a key problem must leave the archive untouched.
  Rotation result;
  std::optional<crypto::OwnedSigner> new_key; // a key file, or an ssh-agent key that never reaches this process
  if (options.new_key) {
    const std::string spec = options.new_key->string();
    auto key = crypto::open_signer(spec, options.passphrase);
    if (!key) return std::unexpected(key.error());
    new_key.emplace(std::move(*key));
    result.new_key_file = crypto::is_agent_spec(spec) ? fs::path(spec) : fs::absolute(*options.new_key);
  }
  auto base = begin_key_write(*m_impl, options.passphrase, options.lock_timeout);
  if (!base) return std::unexpected(base.error());
  if (!new_key) {
    auto gen = generate_key(options.key_dir, std::nullopt, crypto::SecretBytes{});
    if (!gen) return std::unexpected(gen.error());
    auto key = crypto::read_private_key(gen->private_key_file, options.passphrase);
    if (!key) return std::unexpected(key.error());
    new_key.emplace(std::make_unique<crypto::PrivateKey>(std::move(*key)));
    result.new_key_file = gen->private_key_file;
    result.generated = true;
  }
  const crypto::Signer& old_key = base->log_key;
  const std::string old_id = crypto::key_id(old_key.public_key());
  const std::string id = crypto::key_id(new_key->public_key());
  if (const record::KeyEntry* k = base->keys.find(id))
    return fail(ErrorCode::key, "key {} is already in this archive's key state ({}); the new log key must be a new key",
                id.substr(0, 16), k->role);
  record::KeyEvent event;
  event.kind = "key.add";
  event.key_id = id;
  event.public_key = new_key->public_key();
  event.role = std::string(record::k_role_log);
  event.captured = format_rfc3339_utc(now_seconds());
  event.archivist = old_id;
  auto entry = key_event_entry(event, old_key);
  if (!entry) return std::unexpected(entry.error());
  const std::uint64_t index = base->cp.checkpoint.size;
  record::KeyState after = base->keys;
  if (auto ok = record::apply(after, event, old_id, index); !ok)
    return fail(ErrorCode::failed_precondition, "{}", ok.error().message);
  auto allowed = m_impl->store.read(base->head, record::k_allowed_signers_path);
  if (!allowed) return std::unexpected(allowed.error());
  auto times = rotation_times(*allowed, base->keys);

  detail::KeyWrite write;
  write.envelopes = {*entry};
  write.after = after;
  const std::string pem = crypto::public_key_pem(new_key->public_key());
  const std::string origin = m_impl->config.origin;
  write.files = [&](std::int64_t commit_time) {
    auto t = times;
    t[index] = commit_time;
    return std::vector<std::pair<std::string, std::string>>{
        {record::key_path(id), pem}, {std::string(record::k_allowed_signers_path), record::allowed_signers(origin, after, t)}};
  };
  write.summary = fmt::format("rotate the log key to {}", id.substr(0, 16));
  write.log_key = &*new_key;
  write.old_log_key = &old_key;
  write.commit_key = &old_key; // the rotation commit is signed by the key in force at its parent
  auto commit = detail::write_key_entries(*m_impl, base->head, base->cp, base->keys, write);
  if (!commit) return std::unexpected(commit.error());
  result.change = KeyChange{id, index, index + 1, *commit};
  result.old_key_id = old_id;
  if (auto ok = m_impl->store.config_set("avow.logkey", result.new_key_file.string()); !ok)
    return fail(ErrorCode::io, "the log key was rotated (commit {}), but avow.logkey could not be set to '{}': {}; set it "
                               "with git config avow.logkey FILE", commit->substr(0, 12), result.new_key_file.string(),
                ok.error().message);
  return result;
}

} // namespace avow
