#include <archive/archive.hpp>

#include <archive/archive_append.hpp>
#include <archive/archive_impl.hpp>
#include <archive/proof_bundle.hpp>

#include <archive/crypto/sha256.hpp>
#include <archive/crypto/ssh_agent.hpp>
#include <archive/crypto/sshsig.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/merkle.hpp>
#include <archive/log/note.hpp>
#include <archive/log/proof.hpp>
#include <archive/log/tiles.hpp>
#include <archive/log/tlog_proof.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/key_state.hpp>
#include <archive/record/layout.hpp>
#include <archive/record/record.hpp>
#include <archive/store/git_store.hpp>
#include <archive/store/writer_lock.hpp>
#include <archive/text/canonical.hpp>
#include <archive/text/date.hpp>
#include <archive/text/encoding.hpp>
#include <archive/text/key_material.hpp>
#include <archive/text/metadata.hpp>
#include <archive/util/file.hpp>
#include <archive/version.hpp>
#include <archive/verify/log_reader.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace avow {
namespace fs = std::filesystem;

namespace {

// Open the key named by `path`: a private key file, or an agent key ("ssh-agent:SHA256:...") whose private half never
// reaches this process.
Expected<crypto::OwnedSigner> load_key(const fs::path& path, const crypto::PassphraseSource& passphrase) {
  auto signer = crypto::open_signer(path.string(), passphrase);
  if (!signer) return std::unexpected(signer.error());
  return crypto::OwnedSigner(std::move(*signer));
}

// The value to keep in .git/config for the key named by `path`: an agent key spec as given, a file's absolute path.
std::string key_config_value(const fs::path& path) {
  return crypto::is_agent_spec(path.string()) ? path.string() : fs::absolute(path).string();
}

std::string allowed_signers_line(std::string_view origin, const crypto::PublicKey& key) {
  return fmt::format("{} namespaces=\"git\" {}\n", origin, crypto::openssh_public_key(key));
}

store::Transaction::Signer commit_signer(const crypto::Signer& log_key) {
  return [&log_key](std::string_view buffer) { return crypto::sshsig_sign(log_key, "git", as_bytes(buffer)); };
}

// Append the entries `feed` gives (in order) to the log whose tiles are in `base` (size `old_size`) inside `tx`, and
// write the new signed checkpoint and log/keys: `keys` is the key state after the new entries, and the checkpoint
// commits to it in its avow-keys line. The hand-over checkpoint of a rotation is signed by the new log key and by
// `old_log_key` too. Reads O(log n) tiles, never the whole log; each tile or bundle is staged in `tx` as soon as it is
// full, so the entries need not all be in memory at once.
Expected<std::uint64_t> append_to_log(const store::GitStore& store, const std::optional<store::Oid>& base,
                                      store::Transaction& tx, std::uint64_t old_size, const detail::EntryFeed& feed,
                                      const record::ArchiveConfig& config, const crypto::Signer& log_key,
                                      const std::optional<log::Hash>& old_root, const record::KeyState& keys,
                                      const crypto::Signer* old_log_key = nullptr) {
  const log::TileReader reader =
      base ? detail::tile_reader(store, *base) : log::TileReader([](const std::string& path) -> Expected<Bytes> {
        return fail(ErrorCode::not_found, "no tile '{}'", path);
      });
  const std::string prefix(record::k_log_prefix);
  Expected<void> staged; // the first failure to stage a full tile or bundle
  auto builder = log::TileBuilder::resume(
      old_size, reader,
      [&](log::TileWrite&& t) {
        if (staged) staged = tx.put(prefix + t.path, to_string(t.data));
      },
      log::TileBuilder::Bundles::yes);
  if (!builder) return std::unexpected(builder.error());
  // The tiles we extend must be the ones the signed checkpoint describes: never build on a tampered tile.
  if (old_root && !crypto::equal_constant_time(builder->root(), *old_root))
    return fail(ErrorCode::failed_precondition,
                "cannot append: the log tiles do not match the signed checkpoint (run avow verify)");
  const std::vector<log::TileWrite> old_partials = builder->partial_tiles();
  const auto add = [&](std::string_view entry) -> Expected<void> {
    if (auto ok = builder->append_entry(entry); !ok) return ok;
    return staged;
  };
  if (auto ok = feed(add); !ok) return std::unexpected(ok.error());
  if (!staged) return std::unexpected(staged.error());
  // The partial tiles and bundle of the new size replace those of the old one (as log::plan_append plans it).
  std::unordered_set<std::string> old_paths, new_paths;
  for (const auto& t : old_partials) old_paths.insert(t.path);
  for (const auto& t : builder->partial_tiles()) {
    new_paths.insert(t.path);
    if (!old_paths.contains(t.path))
      if (auto ok = tx.put(prefix + t.path, to_string(t.data)); !ok) return std::unexpected(ok.error());
  }
  for (const auto& t : old_partials)
    if (!new_paths.contains(t.path))
      if (auto ok = tx.remove(prefix + t.path); !ok) return std::unexpected(ok.error());
  const std::string keys_jcs = record::key_state_json(keys);
  const log::Checkpoint cp{config.origin, builder->size(), builder->root(), {record::key_state_extension_for(keys_jcs)}};
  auto note = detail::sign_checkpoint(log::checkpoint_text(cp), config.origin, log_key, old_log_key);
  if (!note) return std::unexpected(note.error());
  if (auto ok = tx.put(record::k_checkpoint_path, *note); !ok) return std::unexpected(ok.error());
  if (auto ok = tx.put(record::k_key_state_path, keys_jcs); !ok) return std::unexpected(ok.error());
  return builder->size();
}

// The same for entries all in memory.
Expected<std::uint64_t> append_to_log(const store::GitStore& store, const std::optional<store::Oid>& base,
                                      store::Transaction& tx, std::uint64_t old_size,
                                      const std::vector<std::string>& envelopes, const record::ArchiveConfig& config,
                                      const crypto::Signer& log_key, const std::optional<log::Hash>& old_root,
                                      const record::KeyState& keys, const crypto::Signer* old_log_key = nullptr) {
  const detail::EntryFeed feed = [&](const detail::EntrySink& add) -> Expected<void> {
    for (const auto& e : envelopes)
      if (auto ok = add(e); !ok) return ok;
    return {};
  };
  return append_to_log(store, base, tx, old_size, feed, config, log_key, old_root, keys, old_log_key);
}

std::string commit_message(std::string_view summary, std::uint64_t first, std::uint64_t new_size,
                           const std::vector<std::pair<std::uint64_t, std::string>>& records) {
  std::string msg = fmt::format("avow: {}\n\n", summary);
  if (new_size > first) msg += fmt::format("Avow-Entries: {}..{}\n", first, new_size - 1);
  msg += fmt::format("Avow-Tree-Size: {}\n", new_size);
  if (records.size() <= 32)
    for (const auto& [index, id] : records) msg += fmt::format("Avow-Record: {} {}\n", index, id);
  return msg;
}

Expected<std::string> sign_entry(std::string_view payload, const crypto::Signer& key) {
  auto env = record::sign(payload, key);
  if (!env) return std::unexpected(env.error());
  return record::serialize(*env);
}

// Return the key.add entry for `key`, signed by the log key.
Expected<std::string> key_add_entry(const crypto::PublicKey& key, const crypto::Signer& log_key,
                                    const std::string& captured) {
  record::KeyEvent e;
  e.kind = "key.add";
  e.key_id = crypto::key_id(key);
  e.public_key = key;
  e.role = std::string(record::k_role_archivist);
  e.captured = captured;
  e.archivist = crypto::key_id(log_key.public_key());
  auto payload = record::payload(e);
  if (!payload) return std::unexpected(payload.error());
  return sign_entry(*payload, log_key);
}

struct LoadedOrNew {
  crypto::OwnedSigner key;
  fs::path file;
  bool generated = false;
};

Expected<LoadedOrNew> load_or_generate(const std::optional<fs::path>& file, const fs::path& key_dir,
                                       const crypto::PassphraseSource& passphrase) {
  if (file) {
    auto key = load_key(*file, passphrase);
    if (!key) return std::unexpected(key.error());
    return LoadedOrNew{std::move(*key), key_config_value(*file), false};
  }
  auto gen = generate_key(key_dir, std::nullopt, crypto::SecretBytes{});
  if (!gen) return std::unexpected(gen.error());
  auto key = load_key(gen->private_key_file, passphrase);
  if (!key) return std::unexpected(key.error());
  return LoadedOrNew{std::move(*key), gen->private_key_file, true};
}

fs::path seen_checkpoint_path(const store::GitStore& store) { return store.git_dir() / "avow" / "seen-checkpoint"; }

// Keep `note` as the last checkpoint this copy saw. Best effort: failing to remember never fails a write or a verify
// (a read-only mirror can still be verified), it only weakens the next fork check.
void remember_checkpoint(const store::GitStore& store, std::string_view note) {
  std::error_code ec;
  fs::create_directories(seen_checkpoint_path(store).parent_path(), ec);
  (void)write_file_atomic(seen_checkpoint_path(store), note, FileMode::public_0644, Overwrite::yes);
}

fs::path verified_path(const store::GitStore& store) { return store.git_dir() / "avow" / "verified"; }

// Which build of avow checked: a marker written by another build (older or newer checks) is not taken.
std::string verified_by() { return fmt::format("avow {} {}", version(), git_revision()); }

constexpr std::string_view k_verified_magic = "avow-verified/1";

// Refuse to write on top of a history that contradicts the checkpoint this copy saw last (a reset or rewritten
// branch): writing would bury the evidence. O(log n): a consistency proof from the tiles.
Expected<void> check_seen_checkpoint(const store::GitStore& store, const store::Oid& head, const log::Checkpoint& now,
                                     const record::KeyState& keys) {
  auto seen = read_file(seen_checkpoint_path(store), 64 * 1024);
  if (!seen) return seen.error().code == ErrorCode::not_found ? Expected<void>{} : std::unexpected(seen.error());
  // Signed by the log key in force at its size: a checkpoint seen before a rotation stays valid under the old key.
  auto note = log::parse_note(*seen);
  auto cp = note ? log::parse_checkpoint_text(note->text) : Expected<log::Checkpoint>(std::unexpected(Error{}));
  if (cp) {
    const record::KeyEntry* signer = detail::log_key_for_size(keys, cp->size);
    const log::Verifier known[] = {verify::note_verifier(now.origin, signer ? signer->public_key : crypto::PublicKey{})};
    if (!signer || !log::verify_note(*note, known)) cp = std::unexpected(Error{});
  }
  const auto refuse = [&](std::string_view why) {
    return fail(ErrorCode::failed_precondition,
                "cannot append: {}; run avow verify (delete .git/avow/seen-checkpoint only if you rewrote the history "
                "on purpose)",
                why);
  };
  if (!cp || cp->origin != now.origin) return refuse("the checkpoint this copy saw last is not a valid checkpoint of this log");
  if (cp->size > now.size)
    return refuse(fmt::format("the log (size {}) is shorter than the checkpoint this copy saw (size {})", now.size, cp->size));
  if (cp->size == now.size) {
    if (!crypto::equal_constant_time(cp->root, now.root))
      return refuse("the log differs from the checkpoint this copy saw at the same size");
    return {};
  }
  if (cp->size == 0) return {};
  const log::TileReader reader = detail::tile_reader(store, head);
  auto proof = log::consistency_proof_from_tiles(cp->size, now.size, now.size, reader);
  if (!proof) return std::unexpected(proof.error());
  std::vector<Bytes> path;
  for (const auto& h : *proof) path.emplace_back(h.begin(), h.end());
  if (!log::verify_consistency(cp->size, now.size, path, cp->root, now.root))
    return refuse("the log does not extend the checkpoint this copy saw (its history was rewritten)");
  return {};
}

// Read entry bundle `bundle` (entries 256*bundle on) of a log of `size` entries at `head`.
Expected<std::vector<std::string>> read_bundle(const store::GitStore& store, const store::Oid& head, std::uint64_t size,
                                               std::uint64_t bundle) {
  if (bundle * 256 >= size) return fail(ErrorCode::not_found, "no entry {}", bundle * 256);
  const auto width = static_cast<unsigned>(std::min<std::uint64_t>(256, size - bundle * 256));
  auto data = store.read(head, std::string(record::k_log_prefix) + log::entries_path(bundle, width));
  if (!data) return std::unexpected(data.error());
  auto entries = log::decode_entry_bundle(as_bytes(*data));
  if (!entries || entries->size() != width) return fail(ErrorCode::invalid_input, "entry bundle {} is malformed", bundle);
  return std::move(*entries);
}

// Read log entry `i` of a log of `size` entries at `head` (one entry bundle).
Expected<std::string> read_entry(const store::GitStore& store, const store::Oid& head, std::uint64_t size, std::uint64_t i) {
  if (i >= size) return fail(ErrorCode::not_found, "no entry {}", i);
  auto entries = read_bundle(store, head, size, i / 256);
  if (!entries) return std::unexpected(entries.error());
  return std::move((*entries)[i % 256]);
}

} // namespace

void detail::remember_verified(const store::GitStore& store, const store::Oid& commit) {
  std::error_code ec;
  fs::create_directories(verified_path(store).parent_path(), ec);
  (void)write_file_atomic(verified_path(store),
                          fmt::format("{}\ncommit {}\nby {}\n", k_verified_magic, commit.hex(), verified_by()),
                          FileMode::public_0644, Overwrite::yes);
}

std::optional<store::Oid> detail::verified_commit(const store::GitStore& store) {
  auto text = read_file(verified_path(store), 4096);
  if (!text) return std::nullopt;
  const std::string_view t = *text;
  const std::string head = fmt::format("{}\ncommit ", k_verified_magic);
  const std::string tail = fmt::format("\nby {}\n", verified_by());
  if (t.size() != head.size() + 40 + tail.size() || !t.starts_with(head) || !t.ends_with(tail)) return std::nullopt;
  auto oid = store::Oid::from_hex(t.substr(head.size(), 40));
  if (!oid) return std::nullopt;
  return *oid;
}

void detail::remember_seen_checkpoint(const store::GitStore& store, std::string_view note) {
  remember_checkpoint(store, note);
}

Expected<std::vector<std::string>> detail::read_log_bundle(const store::GitStore& store, const store::Oid& head,
                                                           std::uint64_t size, std::uint64_t bundle) {
  return read_bundle(store, head, size, bundle);
}

Expected<void> detail::check_seen(const store::GitStore& store, const store::Oid& head, const log::Checkpoint& now,
                                  const record::KeyState& keys) {
  return check_seen_checkpoint(store, head, now, keys);
}

Expected<std::string> detail::sign_log_entry(std::string_view payload, const crypto::Signer& key) {
  return sign_entry(payload, key);
}

Expected<std::uint64_t> detail::append_entries(const store::GitStore& store, const store::Oid& base,
                                               store::Transaction& tx, std::uint64_t old_size, const EntryFeed& feed,
                                               const record::ArchiveConfig& config, const crypto::Signer& log_key,
                                               const log::Hash& old_root, const record::KeyState& keys) {
  return append_to_log(store, base, tx, old_size, feed, config, log_key, old_root, keys);
}

Expected<store::Oid> detail::commit_entries(store::Transaction& tx, std::string_view summary, std::uint64_t first,
                                            std::uint64_t new_size,
                                            std::vector<std::pair<std::uint64_t, std::string>>&& records,
                                            const crypto::Signer& log_key) {
  std::string message = commit_message(summary, first, new_size, records);
  std::vector<std::pair<std::uint64_t, std::string>>().swap(records); // in the message now: make room for the commit
  return tx.commit(message, commit_signer(log_key));
}

Expected<std::string> detail::write_key_entries(Archive::Impl& impl, const store::Oid& head,
                                                const verify::SignedCheckpoint& cp, const record::KeyState& keys,
                                                const KeyWrite& write) {
  auto& store = impl.store;
  if (auto ok = check_seen_checkpoint(store, head, cp.checkpoint, keys); !ok) return std::unexpected(ok.error());
  auto tx = store.begin();
  if (!tx) return std::unexpected(tx.error());
  if (tx->base() != head) return fail(ErrorCode::failed_precondition, "archive changed during the write (another writer?)");
  if (write.files)
    for (const auto& [path, data] : write.files(tx->time()))
      if (auto ok = tx->put(path, data); !ok) return std::unexpected(ok.error());
  const std::uint64_t first = cp.checkpoint.size;
  auto size = append_to_log(store, head, *tx, first, write.envelopes, impl.config, *write.log_key, cp.checkpoint.root,
                            write.after, write.old_log_key);
  if (!size) return std::unexpected(size.error());
  auto commit = tx->commit(commit_message(write.summary, first, *size, {}), commit_signer(*write.commit_key));
  if (!commit) return std::unexpected(commit.error());
  if (auto note = store.read(*commit, record::k_checkpoint_path)) remember_checkpoint(store, *note);
  return commit->hex();
}

fs::path default_key_dir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) return fs::path(xdg) / "avow" / "keys";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".config" / "avow" / "keys";
  return fs::path(".avow-keys");
}

Expected<GeneratedKey> generate_key(const fs::path& dir, const std::optional<fs::path>& out,
                                    const crypto::SecretBytes& passphrase) {
  auto key = crypto::PrivateKey::generate();
  if (!key) return std::unexpected(key.error());
  const std::string id = crypto::key_id(key->public_key());
  const fs::path file = out ? *out : dir / (id.substr(0, 16) + ".pem");
  if (auto ok = crypto::write_private_key(file, *key, passphrase); !ok) {
    if (ok.error().code == ErrorCode::already_exists) return fail(ErrorCode::key, "{}", ok.error().message);
    return std::unexpected(ok.error());
  }
  return GeneratedKey{id, fs::absolute(file), crypto::public_key_pem(key->public_key())};
}


Archive::Archive(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Archive::Archive(Archive&&) noexcept = default;
Archive& Archive::operator=(Archive&&) noexcept = default;
Archive::~Archive() = default;

void Archive::set_index_progress(Progress progress) { m_impl->index_progress = std::move(progress); }
const fs::path& Archive::dir() const { return m_impl->dir; }
const std::string& Archive::origin() const { return m_impl->config.origin; }

Expected<InitResult> Archive::init(const InitOptions& options) {
  // The origin is a signed-note key name and, by C2SP tlog-checkpoint, a schema-less URL: a scheme would be signed
  // into every checkpoint and would not match what witnesses and verifiers expect.
  if (const auto scheme = options.origin.find("://"); scheme != std::string::npos)
    return fail(ErrorCode::invalid_input, "invalid origin '{}': want a schema-less URL without '{}://', such as '{}'",
                options.origin, options.origin.substr(0, scheme), options.origin.substr(scheme + 3));
  if (!record::is_valid_origin(options.origin))
    return fail(ErrorCode::invalid_input,
                "invalid origin '{}': want a schema-less URL such as example.org/archive (no spaces, no '+')",
                options.origin);
  std::error_code ec;
  const bool existed = fs::exists(options.dir, ec);
  if (existed) {
    if (!fs::is_directory(options.dir, ec))
      return fail(ErrorCode::already_exists, "cannot create archive '{}': not a directory", options.dir.string());
    if (fs::exists(options.dir / ".git", ec))
      return fail(ErrorCode::already_exists, "cannot create archive '{}': it is already a git repository",
                  options.dir.string());
    if (!fs::is_empty(options.dir, ec))
      return fail(ErrorCode::already_exists, "cannot create archive '{}': the folder is not empty", options.dir.string());
  }
  // Keys first: a key problem must leave no half-made archive behind.
  auto log_key = load_or_generate(options.log_key, options.key_dir, options.passphrase);
  if (!log_key) return std::unexpected(log_key.error());
  auto archivist = load_or_generate(options.archivist_key, options.key_dir, options.passphrase);
  if (!archivist) return std::unexpected(archivist.error());
  if (log_key->key.public_key() == archivist->key.public_key())
    return fail(ErrorCode::key, "the log key and the archivist key must be different keys");

  const auto cleanup = [&] {
    std::error_code ignored;
    if (existed) fs::remove_all(options.dir / ".git", ignored);
    else fs::remove_all(options.dir, ignored);
  };
  auto result = [&]() -> Expected<InitResult> {
    auto store = store::GitStore::init(options.dir);
    if (!store) return std::unexpected(store.error());
    const auto& log_pub = log_key->key.public_key();
    const auto& arch_pub = archivist->key.public_key();
    record::ArchiveConfig config{options.origin, log::vkey(options.origin, log_pub), crypto::key_id(log_pub)};
    auto config_text = record::serialize_config(config);
    if (!config_text) return std::unexpected(config_text.error());
    const std::string captured = format_rfc3339_utc(now_seconds());
    auto entry = key_add_entry(arch_pub, log_key->key, captured);
    if (!entry) return std::unexpected(entry.error());
    // The key state after entry 0: the genesis log key and the first archivist.
    record::KeyState keys = record::initial_key_state(log_pub);
    const record::KeyEvent added{"key.add",       crypto::key_id(arch_pub), arch_pub,     std::string(record::k_role_archivist),
                                 captured,        config.log_key_id,        std::nullopt, std::nullopt};
    if (auto ok = record::apply(keys, added, config.log_key_id, 0); !ok) return std::unexpected(ok.error());

    auto tx = store->begin();
    if (!tx) return std::unexpected(tx.error());
    for (auto ok : {tx->put(record::k_config_path, *config_text),
                    tx->put(record::key_path(config.log_key_id), crypto::public_key_pem(log_pub)),
                    tx->put(record::key_path(crypto::key_id(arch_pub)), crypto::public_key_pem(arch_pub)),
                    tx->put(record::k_allowed_signers_path, allowed_signers_line(options.origin, log_pub))})
      if (!ok) return std::unexpected(ok.error());
    const std::vector<std::string> entries{*entry};
    auto size = append_to_log(*store, std::nullopt, *tx, 0, entries, config, log_key->key, log::empty_root(), keys);
    if (!size) return std::unexpected(size.error());
    const std::string msg =
        commit_message(fmt::format("init archive {}", options.origin), 0, *size, {});
    auto commit = tx->commit(msg, commit_signer(log_key->key));
    if (!commit) return std::unexpected(commit.error());
    if (auto ok = store->config_set("avow.logkey", log_key->file.string()); !ok)
      return std::unexpected(ok.error());
    if (auto ok = store->config_set("avow.key", archivist->file.string()); !ok)
      return std::unexpected(ok.error());
    // Start the derived index now, so the first query does not report it as missing. Best effort: it is a cache.
    if (auto opened = Archive::open(options.dir)) {
      std::vector<std::string> ignored;
      (void)detail::fresh_index(*opened->m_impl, *commit, ignored);
    }
    InitResult r;
    r.origin = options.origin;
    r.log_key_id = config.log_key_id;
    r.archivist_key_id = crypto::key_id(arch_pub);
    r.log_key_file = log_key->file;
    r.archivist_key_file = archivist->file;
    r.generated_log_key = log_key->generated;
    r.generated_archivist_key = archivist->generated;
    r.commit = commit->hex();
    return r;
  }();
  if (!result) cleanup();
  return result;
}

Expected<Archive> Archive::open(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return fail(ErrorCode::failed_precondition, "'{}' is not an avow archive (no such directory)", dir.string());
  auto store = store::GitStore::open(dir);
  if (!store)
    return fail(ErrorCode::failed_precondition, "'{}' is not an avow archive (not a git repository)", dir.string());
  auto head = store->head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "'{}' is not an avow archive (no commit on main)", dir.string());
  auto config = verify::read_config(*store, **head);
  if (!config) return std::unexpected(config.error());
  auto verifier = verify::log_verifier(*config);
  if (!verifier) return fail(ErrorCode::failed_precondition, "'{}': {}", dir.string(), verifier.error().message);
  return Archive(std::make_unique<Impl>(Impl{std::move(*store), std::move(*config), std::move(*verifier), dir, {}}));
}

Expected<store::RepackReport> Archive::repack(const store::RepackOptions& options) {
  return m_impl->store.repack(options);
}

Expected<verify::Report> Archive::verify(const verify::Options& options) const {
  return verify::run(m_impl->store, options);
}

Expected<verify::Report> Archive::verify_dir(const fs::path& dir, const verify::Options& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return fail(ErrorCode::failed_precondition, "'{}' is not an avow archive (no such directory)", dir.string());
  auto store = store::GitStore::open(dir);
  if (!store)
    return fail(ErrorCode::failed_precondition, "'{}' is not an avow archive (not a git repository)", dir.string());
  verify::Options opts = options;
  const fs::path seen_file = seen_checkpoint_path(*store);
  if (!opts.seen_checkpoint) {
    auto seen = read_file(seen_file, 64 * 1024);
    if (seen) opts.seen_checkpoint = std::move(*seen);
    else if (seen.error().code != ErrorCode::not_found) return std::unexpected(seen.error());
  }
  auto report = verify::run(*store, opts);
  // Remember what was verified: a later rewrite of the history is then a fork against this checkpoint.
  if (report && report->ok() && !report->checkpoint.empty()) {
    remember_checkpoint(*store, report->checkpoint);
    // What `audit` need not check again (see detail::remember_verified). Not for a check of another tip.
    if (report->commit && !options.tip) detail::remember_verified(*store, *report->commit);
  }
  return report;
}

Expected<std::vector<RecordView>> Archive::find(std::string_view prefix, bool with_text) const {
  if (prefix.size() < 8 || prefix.size() > 64 ||
      !std::all_of(prefix.begin(), prefix.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return fail(ErrorCode::invalid_input, "invalid record id '{}': want 8 to 64 lowercase hex digits", prefix);
  const auto& store = m_impl->store;
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  auto cp = verify::read_checkpoint(store, **head, m_impl->log_verifier, m_impl->config.origin);
  if (!cp) return std::unexpected(cp.error());
  // The index names the candidates; each is then read from the signed log itself (one entry bundle each), so what
  // is shown never comes from the cache. A candidate the log does not confirm sends us to a full scan.
  std::vector<std::uint64_t> candidates;
  std::vector<std::string> notices;
  bool scan = true;
  if (auto idx = detail::fresh_index(*m_impl, **head, notices)) {
    if (auto rows = idx->by_id_prefix(prefix)) {
      scan = false;
      for (const auto& r : *rows)
        if (r.index < cp->checkpoint.size) candidates.push_back(r.index); // not entries a writer added since
    }
  }
  std::vector<std::string> scanned;
  if (scan) {
    auto entries = verify::read_entries(store, **head, cp->checkpoint.size);
    if (!entries) return std::unexpected(entries.error());
    scanned = std::move(*entries);
    for (std::uint64_t i = 0; i < scanned.size(); ++i) candidates.push_back(i);
  }
  std::vector<RecordView> found;
  for (const std::uint64_t i : candidates) {
    std::string entry;
    if (scan) {
      entry = scanned[i];
    } else {
      auto e = read_entry(store, **head, cp->checkpoint.size, i);
      if (!e) return std::unexpected(e.error());
      entry = std::move(*e);
    }
    auto env = record::parse(entry);
    if (!env) continue;
    const std::string id = record::record_id(env->payload);
    if (!id.starts_with(prefix)) {
      if (!scan) return fail(ErrorCode::failed_precondition, "the index disagrees with the log; run avow reindex");
      continue;
    }
    RecordView view;
    view.id = id;
    view.index = i;
    view.payload = env->payload;
    view.envelope = entry;
    auto value = json::parse_canonical(env->payload);
    if (value) {
      if (auto kind = record::record_kind(*value)) view.kind = *kind;
    }
    if (!env->signatures.empty()) {
      const auto& sig = env->signatures.front();
      view.signer = sig.keyid;
      if (record::is_sha256_hex(sig.keyid)) {
        if (auto pem = store.read(**head, record::key_path(sig.keyid))) {
          if (auto pub = crypto::parse_public_key_pem(*pem))
            view.signature_valid = record::verify(*env, sig, *pub);
        }
      }
    }
    if (with_text && value && view.kind == "statement") {
      if (auto st = record::from_json(*value)) {
        auto text = store.read(**head, record::text_path(st->text.sha256));
        if (text) view.text = std::move(*text);
      }
    }
    found.push_back(std::move(view));
  }
  if (found.empty()) return fail(ErrorCode::not_found, "no record with id '{}'", prefix);
  return found;
}

Expected<Archive::Proof> Archive::proof(std::string_view prefix) const {
  if (prefix.size() < 8 || prefix.size() > 64 ||
      !std::all_of(prefix.begin(), prefix.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return fail(ErrorCode::invalid_input, "invalid record id '{}': want 8 to 64 lowercase hex digits", prefix);
  const auto& store = m_impl->store;
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  // The checkpoint under the log key in force, with the key state it commits to (when the archive has one).
  auto keyed = detail::read_keyed_checkpoint(*m_impl, **head);
  if (!keyed) return std::unexpected(keyed.error());
  const verify::SignedCheckpoint* cp = &keyed->signed_checkpoint;
  const std::uint64_t size = cp->checkpoint.size;
  // Through the index and the key state (a few entry bundles); else, and for every refusal, a scan of the log.
  auto target = detail::locate_for_proof(*m_impl, **head, *keyed, prefix);
  if (!target) {
    auto scanned = detail::scan_for_proof(*m_impl, **head, size, prefix);
    if (!scanned) return std::unexpected(scanned.error());
    target = std::move(*scanned);
  }
  const std::uint64_t index = target->index;
  auto found = record::parse(target->envelope);
  if (!found) return std::unexpected(found.error());
  const std::string keyid = found->signatures[0].keyid;
  auto statement = record::parse_payload(found->payload);
  if (!statement) return std::unexpected(statement.error());

  const log::TileReader reader = detail::tile_reader(store, **head);
  std::size_t reads = 0;
  const log::TileReader counting = [&](const std::string& path) -> Expected<Bytes> {
    ++reads;
    return reader(path);
  };
  auto path = log::inclusion_proof_from_tiles(index, size, size, counting);
  if (!path) return std::unexpected(path.error());
  auto key_path = log::inclusion_proof_from_tiles(target->key_add_index, size, size, counting);
  if (!key_path) return std::unexpected(key_path.error());
  auto text = store.read(**head, record::text_path(statement->text.sha256));
  if (!text) return std::unexpected(text.error());
  auto archivist_pem = store.read(**head, record::key_path(keyid));
  if (!archivist_pem) return std::unexpected(archivist_pem.error());
  // The log key that signed the key.add: the genesis key, or the one the key state says was in force at its entry.
  std::string key_add_signer = m_impl->config.log_key_id;
  if (keyed->key_state)
    for (const auto& k : keyed->key_state->keys)
      if (k.role == record::k_role_log && k.in_force_at(target->key_add_index)) key_add_signer = k.id;
  auto log_pem = store.read(**head, record::key_path(key_add_signer));
  if (!log_pem) return std::unexpected(log_pem.error());

  json::Value b = json::Value::object();
  b["format"] = std::string(k_bundle_format);
  b["envelope"] = target->envelope;
  b["text"] = std::move(*text);
  b["proof"] = log::format_tlog_proof(log::TlogProof{std::nullopt, index, std::move(*path), cp->note});
  b["key"] = {{"envelope", target->key_add_envelope},
              {"proof", log::format_tlog_proof(log::TlogProof{std::nullopt, target->key_add_index, std::move(*key_path),
                                                              cp->note})}};
  b["keys"] = {{keyid, *archivist_pem}, {key_add_signer, *log_pem}};
  if (keyed->key_state_json) {
    b["key_state"] = *keyed->key_state_json;
    auto links = detail::collect_handovers(*m_impl, *keyed->key_state, size, counting);
    if (!links) return std::unexpected(links.error());
    if (!links->empty()) {
      json::Value arr = json::Value::array();
      for (const auto& link : *links) {
        json::Value hashes = json::Value::array();
        for (const auto& h : link.consistency) hashes.push_back(base64_encode(h));
        arr.push_back({{"checkpoint", link.checkpoint}, {"consistency", std::move(hashes)}, {"key_state", link.key_state}});
      }
      b["handovers"] = std::move(arr);
    }
  }
  auto bytes = json::canonicalize(b);
  if (!bytes) return std::unexpected(bytes.error());
  std::string bundle = *bytes + "\n";
  // Never hand out a bundle that does not prove what it claims (a damaged log, a key.add not by the log key).
  auto own_policy = policy();
  if (!own_policy) return std::unexpected(own_policy.error());
  auto check = verify_bundle(bundle, *own_policy, std::nullopt);
  if (!check) return std::unexpected(check.error());
  if (!check->proven)
    return fail(ErrorCode::failed_precondition, "the archive does not prove entry {}: {} (run avow verify)", index,
                check->reason);
  return Proof{std::move(bundle), record::record_id(found->payload), index, size, reads};
}

Expected<std::string> Archive::checkpoint() const {
  auto head = m_impl->store.head();
  if (!head) return std::unexpected(head.error());
  auto keyed = detail::read_keyed_checkpoint(*m_impl, **head);
  if (!keyed) return std::unexpected(keyed.error());
  return keyed->signed_checkpoint.note;
}

} // namespace avow
