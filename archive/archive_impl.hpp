#pragma once

// Private to the façade (archive/*.cpp): the state behind avow::Archive and the derived-index plumbing.

#include <archive/archive.hpp>
#include <archive/crypto/signer.hpp>
#include <archive/index/index.hpp>
#include <archive/log/note.hpp>
#include <archive/log/tiles.hpp>
#include <archive/proof_bundle.hpp>
#include <archive/record/key_state.hpp>
#include <archive/record/layout.hpp>
#include <archive/store/git_store.hpp>
#include <archive/verify/incremental.hpp>
#include <archive/verify/log_reader.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace avow {

struct Archive::Impl {
  store::GitStore store;
  record::ArchiveConfig config;
  log::Verifier log_verifier;
  std::filesystem::path dir;
  Progress index_progress; // Archive::set_index_progress
};

namespace detail {

// Read the log's tiles and bundles (paths relative to log/) from the tree of `commit`; the store and commit must
// outlive the reader.
log::TileReader tile_reader(const store::GitStore& store, const store::Oid& commit);

// <git dir>/avow/index.sqlite
std::filesystem::path index_path(const store::GitStore& store);

// Open the derived index and bring it up to date with the checkpoint at `head`: nothing to do when it is current,
// the new entries only when it indexes a prefix of the log, a full rebuild when it is missing, unreadable or indexes
// another history. Each rebuild or repair adds a one-line notice. `progress` (or, when empty, the handle's
// index_progress): entries indexed of those to index.
Expected<index::Index> fresh_index(const Archive::Impl& impl, const store::Oid& head, std::vector<std::string>& notices,
                                   const Progress& progress = {});

// Remove from `rows` the entries after the log at `head`: a writer may add them to the index at any time, and they
// are not in `head`'s tree (their texts cannot be read there).
Expected<void> drop_after(const Archive::Impl& impl, const store::Oid& head, std::vector<index::Row>& rows);

// Add the `count` entries a write just committed (checkpoint `note`) to `idx`, under the index lock; true when the
// index is then current (also when a reader got there first). False only means the index is stale: it follows on at
// next use.
bool add_written(const store::GitStore& store, index::Index& idx, const index::Index::EntryBatches& entries,
                 std::uint64_t count, std::string_view note);

// Where statements' texts come from when entries are indexed: for each SHA-256 of `sha256_hex` (64 lowercase hex),
// the text, or nullopt when the archive lacks it; in the same order. Asked for a chunk's texts at once, so that a
// source may read them in the order they lie in the packs.
using TextSource =
    std::function<std::vector<std::optional<std::string>>(std::span<const std::string_view> sha256_hex)>;
// The texts of `commit`, each read by its path (texts/ab/cd/<sha256>).
TextSource texts_by_path(const store::GitStore& store, const store::Oid& commit);

// Turn log entries (envelope JCS) starting at log index `first` into index entries; statement texts are taken from
// `text` unless it is empty.
Expected<std::vector<index::IndexEntry>> index_entries(std::uint64_t first, const std::vector<std::string>& envelopes,
                                                       const TextSource& text);

// The signed checkpoint at `commit` with the key state it commits to (archive/archive_proof.cpp). When the tree has
// log/keys, it must hash to the checkpoint's avow-keys line and start with the genesis log key of avow.json, and the
// checkpoint must verify under its log key in force; without log/keys (an archive written before key states), the
// checkpoint must have no avow-keys line and verify under the genesis key. invalid_input naming what is wrong.
struct KeyedCheckpoint {
  verify::SignedCheckpoint signed_checkpoint;
  std::optional<std::string> key_state_json; // log/keys, when present
  std::optional<record::KeyState> key_state;
  log::Verifier log_key;                     // the log key in force, which signed the checkpoint
};
Expected<KeyedCheckpoint> read_keyed_checkpoint(const Archive::Impl& impl, const store::Oid& commit);

// The log-key hand-overs of the log at `head` whose key state is `state` and checkpoint size `size`, oldest first:
// for each rotation entry r (a log key with added_at = r), the checkpoint of the first commit of main whose
// checkpoint size is > r, the log/keys of that commit, and a consistency proof from it to the next hand-over (or to
// `size`) computed from the tiles `read` gives. Reads one checkpoint per commit, and only when there was a rotation.
Expected<std::vector<HandoverLink>> collect_handovers(const Archive::Impl& impl, const record::KeyState& state,
                                                      std::uint64_t size, const log::TileReader& read);
// The one statement `prefix` names for a proof bundle, found without reading the whole log (archive/archive_proof.cpp):
// the index names the candidates and the key state (log/keys) the key.add of its signing key; both entries are then
// read from the log at `head` (one entry bundle each) and confirmed. nullopt whenever this cannot answer alone (no
// index or key state, no candidate or several, a candidate or key.add the log does not confirm, not one signature):
// the caller then scans the log, which also gives every refusal its message.
struct ProofTarget {
  std::uint64_t index = 0;
  std::string envelope;
  std::uint64_t key_add_index = 0;
  std::string key_add_envelope;
};
std::optional<ProofTarget> locate_for_proof(const Archive::Impl& impl, const store::Oid& head,
                                            const KeyedCheckpoint& keyed, std::string_view prefix);
// The same by reading every entry of the log at `head` (`size` entries): not_found, an ambiguous id (naming the
// candidates), not one signature, or no earlier key.add of its key, each with its message.
Expected<ProofTarget> scan_for_proof(const Archive::Impl& impl, const store::Oid& head, std::uint64_t size,
                                     std::string_view prefix);
// Keep `note` as the last checkpoint this copy saw (.git/avow/seen-checkpoint), best effort (archive/archive.cpp).
void remember_seen_checkpoint(const store::GitStore& store, std::string_view note);
// .git/avow/verified: the last commit a `verify` or `audit` of this copy found without problems, with the build of
// avow that checked it (archive/archive.cpp). A cache of this machine's own work, never evidence: `audit` checks only
// what was added since (verify::verify_extension), `verify` always checks everything. Best effort, like the above.
void remember_verified(const store::GitStore& store, const store::Oid& commit);
// The commit of .git/avow/verified when it was written by this build of avow; nullopt when it is missing, unreadable,
// malformed or of another build.
std::optional<store::Oid> verified_commit(const store::GitStore& store);
// See archive/archive_index.cpp.
void check_against_index(const index::Index& idx, verify::IncrementalReport& report);

// --- Keys (archive/archive_keys.cpp) ---

// Sign checkpoint `text` with `log_key` (key name `origin`); a hand-over checkpoint is signed by the old log key too
// (`old_log_key`), after the new key's line.
Expected<std::string> sign_checkpoint(std::string_view text, std::string_view origin, const crypto::Signer& log_key,
                                      const crypto::Signer* old_log_key);
// The log key that signs a checkpoint of `size` entries: the one in force in the state at that size (the old key up
// to and including the rotation entry's size, the new key after). nullptr when `keys` knows none.
const record::KeyEntry* log_key_for_size(const record::KeyState& keys, std::uint64_t size);
// The log key of this copy (git config avow.logkey: a key file or an ssh-agent key spec), opened; key error when there
// is none ("only the archive's operator can <what>") or it cannot be used. Whether it is the key in force is
// check_log_key's question.
struct LogKey {
  crypto::OwnedSigner key;
  std::string spec;
};
Expected<LogKey> open_log_key(const store::GitStore& store, const crypto::PassphraseSource& passphrase,
                              std::string_view what);
// The log key a write signs with (from `file`) must be the log key in force; key error naming it otherwise ("rotated
// out at entry N", or not the archive's log key).
Expected<void> check_log_key(const record::KeyState& keys, const crypto::PublicKey& key, std::string_view file);
// The archivist key of a write must be in force: added by a key.add entry and not revoked; key error naming it.
Expected<void> check_archivist_key(const record::KeyState& keys, std::string_view archivist_id);

// One commit of key events (archive/archive.cpp): on top of `head` (checkpoint `cp`, key state `keys` before them),
// append `envelopes`, put `files(commit time)`, write log/keys = `after` and a checkpoint committing to it, signed by
// `log_key` (and by `old_log_key` for a rotation's hand-over checkpoint); the commit is signed by `commit_key`, the
// log key in force before the write. Checks the seen checkpoint first; remembers the new one. Returns the commit.
struct KeyWrite {
  std::vector<std::string> envelopes;
  record::KeyState after;
  std::function<std::vector<std::pair<std::string, std::string>>(std::int64_t commit_time)> files;
  std::string summary;
  const crypto::Signer* log_key = nullptr;
  const crypto::Signer* old_log_key = nullptr;
  const crypto::Signer* commit_key = nullptr;
};
Expected<std::string> write_key_entries(Archive::Impl& impl, const store::Oid& head, const verify::SignedCheckpoint& cp,
                                        const record::KeyState& keys, const KeyWrite& write);

// Refuse to write (failed_precondition naming both times) when the local clock is more than
// verify::k_timestamp_tolerance before the archive's newest time at `head`: its newest token genTime or the head
// commit's committer time (archive/archive_time.cpp).
Expected<void> check_clock(const store::GitStore& store, const store::Oid& head);

// The cosignature verifier of a witness key: its key name with type 0x04 (tlog-cosignature) (archive_policy.cpp).
log::Verifier witness_verifier(const record::KeyEntry& k);

} // namespace detail
} // namespace avow
