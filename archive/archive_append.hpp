#pragma once

// Private to the façade: the stages of Archive::append (archive/archive_append.cpp), each a function whose inputs and
// outputs are in its signature, called in order by the short driver Archive::append:
//
//   load_signing_keys -> prepare_all (first window) -> lock_and_read_state -> write_commit, which takes one window of
//   k_write_chunk inputs at a time (read, prepare_all, resolve_revisions, stage, sign_all, append) -> update_index
//
// Nothing is written to the archive before write_commit, and a write_commit that fails leaves nothing behind (its
// transaction removes the packs it wrote); update_index only touches the derived index (a cache).

#include <archive/archive.hpp>
#include <archive/archive_impl.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/crypto/signer.hpp>
#include <archive/index/index.hpp>
#include <archive/record/key_state.hpp>
#include <archive/store/git_store.hpp>
#include <archive/store/writer_lock.hpp>
#include <archive/verify/log_reader.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace avow::detail {

// Report `done` of `total` units of work through `progress` from any thread: calls are serialised, at most about one
// per 1/200 of the work (and never with done == total: the driver makes that last call itself, after the commit).
class ProgressMeter {
 public:
  ProgressMeter(const Progress& progress, std::uint64_t total_units, std::uint64_t total_reported);
  // Count `n` more units done.
  void add(std::uint64_t n = 1);
  // Report done == total.
  void finish();

 private:
  const Progress& m_progress;
  std::uint64_t m_units;
  std::uint64_t m_total;
  std::uint64_t m_step;
  std::atomic<std::uint64_t> m_done{0};
  std::mutex m_mutex;
  std::uint64_t m_reported = 0; // guarded by m_mutex
};

// --- 1. Keys ---
// The archivist key (`options.key`, else avow.key of .git/config) and the log key (avow.logkey), opened. Whether they
// are in force is checked against the key state in lock_and_read_state. key error when either is missing or
// unusable, or when the archivist key is the log key.
struct SigningKeys {
  crypto::OwnedSigner archivist;
  std::string archivist_id;
  LogKey log;
};
Expected<SigningKeys> load_signing_keys(const Archive::Impl& impl, const AppendOptions& options);

// --- 2. Prepare ---
// A statement checked and turned into a record, not yet signed or written.
struct Prepared {
  std::string canonical;
  std::string text_sha;
  std::optional<std::string> original_sha;
  std::string payload;
  std::string id;
  std::vector<std::string> warnings;
  std::string encoding;                      // "UTF-8" or the canonical name of the encoding it was decoded from
  std::optional<std::string> decoding_doubt; // why the decoded text looks wrong for its encoding (refused unless forced)
};
// Check one input and build its statement record, signed by nobody yet: size limit, optional transcoding,
// canonical form, private key material, the published date, the record's JCS payload and id. invalid_input naming
// what is wrong.
Expected<Prepared> prepare(const StatementInput& in, const std::string& archivist, const std::string& captured,
                           bool strict_dates);
// Prepare every input on up to `options.jobs` threads; the first bad input (in input order) fails the call, its label
// in the message; so does a doubtful decoding unless `options.force`.
Expected<std::vector<Prepared>> prepare_all(std::span<const StatementInput> inputs, const std::string& archivist_id,
                                            const std::string& captured, const AppendOptions& options,
                                            ProgressMeter& meter);

// --- 3. Lock and read the state ---
// The writer lock (none for a dry run), the tip of main, its checkpoint verified with the log key, the key state at
// it; the seen checkpoint must be extended by the tip's log, the keys must be in force, and (unless a dry run) the
// clock must not be behind the tip. failed_precondition, key or io errors; nothing is written.
struct WriteState {
  std::optional<store::WriterLock> lock;
  store::Oid head;
  verify::SignedCheckpoint checkpoint;
  record::KeyState keys;
};
Expected<WriteState> lock_and_read_state(Archive::Impl& impl, const SigningKeys& keys, const AppendOptions& options);

// --- 4. Resolve revisions ---
// What resolve_revisions asks of the archive. Each answer comes from the derived index and is confirmed against the
// signed log by the caller's functions (archive/archive_append.cpp does so, rebuilding the index when it lied).
struct RevisionLookup {
  // The newest version of `source`, or nullopt.
  std::function<Expected<std::optional<index::Row>>(const std::string& source)> latest;
  // The statement with record id `id` in the log (confirmed), or nullopt.
  std::function<Expected<std::optional<index::Row>>(const std::string& id)> statement;
  // Every version of `source`, oldest first (unconfirmed rows; see `confirmed`).
  std::function<Expected<std::vector<index::Row>>(const std::string& source)> versions;
  // Whether `row` is what the signed log holds at its index.
  std::function<bool(const index::Row& row)> confirmed;
};
// Which inputs to write, in input order, and the notes of each input (by input index).
struct RevisionPlan {
  std::vector<std::size_t> kept;
  std::vector<std::vector<std::string>> notes;
};
// What resolve_revisions remembers of the inputs kept so far in this append, from one window to the next: about 250
// bytes an input (ids and hashes kept as 32 bytes; each source once).
struct RevisionMemory {
  struct DigestHash {
    std::size_t operator()(const crypto::Digest& d) const noexcept {
      std::size_t h = 0;
      std::memcpy(&h, d.data(), sizeof h);
      return h;
    }
  };
  struct Version {
    crypto::Digest id;   // the record id, as bytes
    crypto::Digest text; // the text's SHA-256
  };
  std::unordered_map<std::string, Version> latest; // source -> its newest version kept
  // SHA-256 of a kept record id (as written, hex) -> its source (a key of `latest`, whose nodes never move).
  std::unordered_map<crypto::Digest, const std::string*, DigestHash> ids;
};
// For each input in order: an explicit supersedes must name a known statement of the same source (else
// invalid_input); the same text as
// the source's latest version is dropped unless `recapture`; another text without supersedes is prepared again by
// `reprepare` with supersedes = the latest version's id; a record id already in the log or earlier in the batch is
// dropped; a text equal to an older version gets a note. Dropped inputs add a line to `notices`. `memory` holds the
// inputs kept by earlier calls of the same append (earlier windows), and gains this call's.
Expected<RevisionPlan> resolve_revisions(std::span<const StatementInput> inputs, std::vector<Prepared>& prepared,
                                         const RevisionLookup& lookup,
                                         const std::function<Expected<Prepared>(const StatementInput&)>& reprepare,
                                         bool recapture, std::vector<std::string>& notices, RevisionMemory& memory);

// --- 5. Sign ---
// Sign the DSSE envelopes of the records `kept` (indexes into `prepared`) with `archivist` on up to `jobs` threads; the
// envelopes in the order of `kept`.
Expected<std::vector<std::string>> sign_all(std::span<const StatementInput> inputs, std::span<const Prepared> prepared,
                                            std::span<const std::size_t> kept, const crypto::Signer& archivist,
                                            unsigned jobs, ProgressMeter& meter);

// --- 6. Write ---
// One transaction on top of `state.head`: the new texts and originals, the log entries, tiles, checkpoint and
// log/keys, one commit signed by the log key; main moved by compare-and-swap. failed_precondition when main moved.
// The inputs come a window at a time (`windows`, read, prepared and resolved by the caller); each window's kept records
// are signed (sign_all) and staged before the next is asked for, so that a large batch never holds its inputs,
// envelopes, entry bundles and staged objects in memory at once (the transaction packs what is staged whenever it
// grows large, and removes those packs if the write fails).
inline constexpr std::size_t k_write_chunk = 2048;
struct Window {
  std::vector<StatementInput> inputs;
  std::vector<Prepared> prepared;  // one per input
  std::vector<std::size_t> kept;   // indexes into inputs, in order: the ones to write
};
// Fills `w` with the next window and returns true; false after the last one. Its error fails the write.
using WindowSource = std::function<Expected<bool>(Window& w)>;
struct Written {
  store::Oid commit;          // zero when no window kept anything: nothing was committed
  std::uint64_t first = 0;    // log index of the first new entry
  std::uint64_t new_size = 0; // the new checkpoint's size
  std::string checkpoint;     // the new signed checkpoint note, empty if it could not be read back
  std::uint64_t entries = 0;  // new entries
};
// `incoming`: how many inputs the windows hold (0: not known). A write of many against the log
// (lists_objects_first) begins by listing the archive's objects, so that checking whether each new text is already
// there does not search every pack (store::GitStore::begin).
Expected<Written> write_commit(Archive::Impl& impl, const WriteState& state, const SigningKeys& keys,
                               const WindowSource& windows, unsigned jobs, ProgressMeter& meter,
                               std::uint64_t incoming = 0);
// Whether a write of `incoming` statements onto a log of `size` entries lists the archive's objects first: at least
// 4,096 statements, and at least 1/128 of the log. Listing costs about 0.25 us an entry of the log (1.3 objects an
// entry); each statement saves two look-ups that miss, about 34 us each at 1,000,000 entries in 66 packs (and more
// with more packs): a batch of 200,000 onto 800,000 entries took 89.5 s with them (bench/README.md, nineteenth
// session).
inline constexpr std::uint64_t k_list_objects_min = 4096;
inline constexpr std::uint64_t k_list_objects_ratio = 128;
constexpr bool lists_objects_first(std::uint64_t size, std::uint64_t incoming) {
  return incoming >= k_list_objects_min && incoming * k_list_objects_ratio >= size;
}

// --- 7. Index ---
// The written records (id, JCS payload, canonical text), kept for update_index until the commit stands: in memory up
// to 16 MiB, then in an unnamed temporary file next to the index, so that a large batch does not hold its texts.
class IndexSpool {
 public:
  explicit IndexSpool(std::filesystem::path dir) : m_dir(std::move(dir)) {}
  ~IndexSpool();
  IndexSpool(const IndexSpool&) = delete;
  IndexSpool& operator=(const IndexSpool&) = delete;
  Expected<void> put(std::string_view id, std::string_view payload, std::string_view text);
  // Read the records back in the order put, a batch of up to `max` at a time; false after the last one.
  Expected<bool> next(std::vector<std::array<std::string, 3>>& batch, std::size_t max);

 private:
  Expected<void> spill();
  std::filesystem::path m_dir;
  std::string m_memory;
  std::size_t m_read = 0; // into m_memory
  int m_fd = -1;
  std::FILE* m_file = nullptr;
  bool m_reading = false;
};
// Add the written entries (from `spool`) to `idx` with the new checkpoint; false when the index could not be updated
// (it is then only stale). Never fails the write. (The caller has remembered the checkpoint already.)
bool update_index(const store::GitStore& store, index::Index& idx, const Written& written, IndexSpool& spool);

// The index fed while the write goes on. A thread of its own, with its own connection to the index and holding the
// index lock, adds the kept records (the ones the spool keeps, in the same order, numbered from `first`) in one
// transaction as the windows give them, and commits it with the new checkpoint once the git commit stands (finish).
// Otherwise it rolls back (abandon, or destruction): the index is then as before, never ahead of the log. Readers
// are not held up (they read the index as it was; opening it takes no write lock). The corpus batch spent 2.5 of
// 6.2 s in the index after the commit, on one core (bench/README.md, twentieth session).
// put() waits while k_feed_queue_bytes are queued: the write goes at the index's pace rather than holding the texts.
// A feeder that failed (the lock not had within k_feed_lock_wait, a database error, no thread to be had, an exception
// in it) takes nothing more and finish() says false; the caller then adds the records from the spool as before
// (update_index).
// Whether the index's secondary indexes are sorted anew (index::Index::sorts_indexes) depends on how many records
// come, which only the windows tell: the feeder starts adding once the first window is read (window_read), and counts
// `incoming` inputs at the rate that window kept them (a manifest run again keeps few of its lines: ten sorts of the
// whole index for them would cost more than the write).
inline constexpr std::size_t k_feed_queue_bytes = std::size_t{4} << 20;
// The page caches of the write's two index connections (16 MiB each when opened): with both full, a batch of 100,000
// onto 1,000,000 entries peaked at 270 MiB (bench/README.md, twenty-first session).
inline constexpr std::size_t k_feed_cache_kib = 4096;
inline constexpr std::size_t k_lookup_cache_kib = 2048;
inline constexpr std::chrono::milliseconds k_feed_lock_wait{2000};
class IndexFeeder {
 public:
  IndexFeeder(const std::filesystem::path& index_file, std::uint64_t first, std::uint64_t incoming);
  ~IndexFeeder();
  IndexFeeder(const IndexFeeder&) = delete;
  IndexFeeder& operator=(const IndexFeeder&) = delete;
  void put(std::string_view id, std::string_view payload, std::string_view text);
  // A window of `inputs` inputs is resolved (its kept records put).
  void window_read(std::size_t inputs);
  // Commit the records with `checkpoint` (the new signed note, after the git commit); true when the index holds them.
  bool finish(const std::string& checkpoint);
  // Roll back and wait for the thread; put() then takes nothing. Safe to call more than once.
  void abandon();

 private:
  enum class End { open, committed, abandoned };
  void run(const std::filesystem::path& index_file, std::uint64_t first, std::uint64_t incoming);
  bool end(End how, const std::string& checkpoint);
  std::mutex m_mutex;
  std::condition_variable m_wake; // both ways: records queued or an end given; room in the queue or the thread done
  std::deque<std::array<std::string, 3>> m_queue;
  std::size_t m_bytes = 0;
  End m_end = End::open;
  std::string m_checkpoint;
  bool m_done = false; // the thread has finished (committed, rolled back or failed)
  bool m_ok = false;   // it committed the records with m_checkpoint
  std::uint64_t m_puts = 0;   // records put so far
  std::uint64_t m_inputs = 0; // inputs of the windows read so far
  std::thread m_thread; // last: started once the members above are constructed
};

// --- Shared with archive/archive.cpp (defined there) ---

// Read entry bundle `bundle` (the entries from 256*bundle on, up to 256) of a log of `size` entries at `head`.
Expected<std::vector<std::string>> read_log_bundle(const store::GitStore& store, const store::Oid& head,
                                                   std::uint64_t size, std::uint64_t bundle);
// Refuse to write on top of a history that contradicts the checkpoint this copy saw last; O(log n).
Expected<void> check_seen(const store::GitStore& store, const store::Oid& head, const log::Checkpoint& now,
                          const record::KeyState& keys);
// Serialise the DSSE envelope of `payload` signed by `key`.
Expected<std::string> sign_log_entry(std::string_view payload, const crypto::Signer& key);
// Takes the log entries (envelopes) one at a time, in log order; fails with the sink's first error.
using EntrySink = std::function<Expected<void>(std::string_view entry)>;
// Gives every new log entry, in order, to the sink it is called with (a chunk at a time, so they need not all be in
// memory at once); returns the first error.
using EntryFeed = std::function<Expected<void>(const EntrySink& add)>;
// Append the entries of `feed` to the log at `base` (size `old_size`, signed root `old_root`) inside `tx`, each full
// tile and entry bundle staged as soon as it is built, and write the new signed checkpoint and log/keys (`keys`, the
// state after the new entries); returns the new size.
Expected<std::uint64_t> append_entries(const store::GitStore& store, const store::Oid& base, store::Transaction& tx,
                                       std::uint64_t old_size, const EntryFeed& feed,
                                       const record::ArchiveConfig& config, const crypto::Signer& log_key,
                                       const log::Hash& old_root, const record::KeyState& keys);
// Commit `tx` with the avow commit message (summary, Avow-Entries, Avow-Tree-Size, Avow-Record lines for `records`),
// signed by `log_key` (SSHSIG). `records` is emptied (freed) once the message is built.
Expected<store::Oid> commit_entries(store::Transaction& tx, std::string_view summary, std::uint64_t first,
                                    std::uint64_t new_size,
                                    std::vector<std::pair<std::uint64_t, std::string>>&& records,
                                    const crypto::Signer& log_key);

} // namespace avow::detail
