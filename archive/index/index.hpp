#pragma once

#include <archive/record/key_event.hpp>
#include <archive/record/record.hpp>
#include <archive/util/error.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// The derived index (SPEC section 5): a SQLite database, normally .git/avow/index.sqlite, that answers lookups, `avow
// log`, `check`, `history` and `audit` quickly. It is a cache of the archive, never evidence: `verify` never reads it,
// and deleting or corrupting it loses nothing because it is rebuilt from the log. Whoever opens it compares
// indexed_checkpoint() with log/checkpoint and rebuilds (clear() + add()) when they differ. Any Error from open(), or
// a query failing on a damaged file, means: remove() the files and rebuild.
//
// All SQL is fixed text with bound parameters; no user input is ever spliced into SQL or into an FTS5 expression
// (--grep words are quoted as FTS5 string literals and bound). An Index is one SQLite connection: movable, not
// copyable, and not to be used from two threads at once.
namespace avow::index {

// One log entry to index: its log index, record id, parsed record and, for statements, the canonical text (for
// --grep; may be empty when unavailable, the entry is then simply not found by text search).
struct IndexEntry {
  std::uint64_t index = 0;
  std::string id;
  std::variant<record::Statement, record::KeyEvent> record;
  std::string text;
};

// One indexed entry, flattened. Absent optional fields are empty strings. Statement rows leave key_id, role and
// reason empty; key-event rows ("key.add"/"key.revoke") fill kind, captured, archivist (the signer), key_id, role and
// reason, and leave the statement fields empty.
struct Row {
  std::uint64_t index = 0;
  std::string id;
  std::string kind;
  std::string source, publisher, title, lang, archivist, captured;
  std::string published_as_written, published_utc, published_local, published_tz;
  std::string text_sha256, original_sha256, original_encoding, supersedes;
  std::uint64_t text_bytes = 0, original_bytes = 0;
  std::string meta_json; // the meta object as canonical JSON ("{}" when empty; "" for key events)
  std::string key_id, role, reason;
  std::string published_calendar; // "islamic-umalqura" when the date was read as Hijri; empty for Gregorian
  friend bool operator==(const Row&, const Row&) = default;
};

// Which time --since/--until compare.
//  published: published.utc when the record has it (exact instant); otherwise the date part of published.local,
//    compared with the date part of the bound (a wall time without a zone cannot be placed more exactly than its day).
//    Records with neither never match a time bound.
//  captured: the captured time (always UTC).
enum class TimeField { published, captured };

struct Filter {
  std::optional<std::string> source, publisher, archivist, kind; // exact matches
  // A BCP 47 tag, compared case-insensitively and by subtag prefix: "en" matches en, EN, en-GB; "en-GB" only en-GB
  // (and its own extensions such as en-GB-oxendict).
  std::optional<std::string> lang;
  std::optional<std::string> grep; // words, all required (FTS5, case- and Latin-diacritic-insensitive, harakat ignored)
  // RFC 3339 with Z or an offset ("2019-03-29T15:36:00+03:00"), or a date "YYYY-MM-DD". since is inclusive; until is
  // inclusive (a date includes its whole day). invalid_input for any other form.
  std::optional<std::string> since, until;
  TimeField time_field = TimeField::published;
  std::uint64_t limit = 0; // 0: no limit
  bool oldest_first = false;
};

struct Count {
  std::string key; // the value counted ("" for entries that do not have it)
  std::uint64_t count = 0;
  friend bool operator==(const Count&, const Count&) = default;
};

struct Audit {
  std::uint64_t entries = 0;    // all entries matching the filter
  std::uint64_t statements = 0; // of them, statements
  std::uint64_t key_events = 0; // of them, key events
  std::uint64_t texts = 0;      // distinct canonical texts (text_sha256) among the statements
  // Statement counts, most frequent first (ties by key ascending).
  std::vector<Count> publishers, archivists, langs;
  // Statements per month "YYYY-MM" of the filter's time_field (published: of utc, else of local; "" when none),
  // in ascending month order.
  std::vector<Count> months;
  std::vector<Row> key_event_rows;  // in log order
  std::vector<Count> top_sources;   // sources by number of statements (versions), most first, ties by source
};

// Return `uri` reduced for "did you mean" suggestions only (sources are evidence and are matched exactly): without
// its #fragment, with the scheme and host in ASCII lowercase, without a default port (http/ws 80, https/wss 443,
// ftp 21) or an empty one, and without trailing slashes on the path. "HTTPS://E.org:443/x/#top" -> "https://e.org/x".
std::string source_key(std::string_view uri);

// Return the key id that `given` names among `key_ids` (64 lowercase hex each): `given` is a full id or a prefix of
// at least 8 hex digits, either case. A full id is returned lowercased as is (known or not); a prefix that starts
// exactly one of `key_ids` gives that id, one that starts none is returned lowercased (it then matches nothing).
// invalid_input for fewer than 8 or more than 64 digits, a non-hex character, or a prefix that starts more than one
// id (the message lists them).
Expected<std::string> resolve_key_prefix(std::string_view given, std::span<const std::string> key_ids);

class Index {
public:
  // Open or create the index database `file` (its folder must exist): WAL mode, schema created if the file is new.
  // failed_precondition if the file is not an avow index of this schema version (PRAGMA user_version), is not a
  // SQLite database, or is corrupt; io if it cannot be opened. The caller then remove()s it and rebuilds.
  static Expected<Index> open(const std::filesystem::path& file);
  // Delete the database `file` and its -wal and -shm companions (missing files are fine); io on failure.
  static Expected<void> remove(const std::filesystem::path& file);

  Index(Index&&) noexcept;
  Index& operator=(Index&&) noexcept;
  ~Index();

  // Return the checkpoint note the index was last brought up to; nullopt for a fresh or cleared index.
  Expected<std::optional<std::string>> indexed_checkpoint() const;
  // Return the number of indexed entries (they are always log indexes 0..size()-1).
  Expected<std::uint64_t> size() const;

  // Add `entries` and record `checkpoint_note` as the indexed checkpoint, in one transaction (all or nothing).
  // failed_precondition unless the entries' indexes are size(), size()+1, ... in order; invalid_input for an entry
  // without a record id; io on a database failure. An empty `entries` only records the checkpoint.
  Expected<void> add(std::span<const IndexEntry> entries, std::string_view checkpoint_note);
  // The same, with the entries given a batch at a time: `batches` calls its sink with each batch in order and
  // returns the sink's first error, or one of its own; any error fails the add (rolled back). A large append adds
  // its entries this way, never holding them all in memory.
  // `incoming` is how many entries the batches will add (0: not known): when sorts_indexes() says so, the secondary
  // indexes are dropped at the start of the transaction and sorted anew at its end, instead of being updated entry by
  // entry (the same index, in a fraction of the time when the entries are many; see sorts_indexes).
  using EntrySink = std::function<Expected<void>(std::span<const IndexEntry> batch)>;
  using EntryBatches = std::function<Expected<void>(const EntrySink& sink)>;
  Expected<void> add(const EntryBatches& batches, std::string_view checkpoint_note, std::uint64_t incoming = 0);
  // As above, with the checkpoint's note asked for once every batch is in: a write that feeds the index while it writes
  // its packs learns its checkpoint last. An error from `checkpoint_note` rolls the whole addition back.
  using NoteAfter = std::function<Expected<std::string>()>;
  Expected<void> add(const EntryBatches& batches, const NoteAfter& checkpoint_note, std::uint64_t incoming = 0);
  // Whether adding `incoming` entries to an index of `size` sorts its secondary indexes anew rather than updating
  // them: at least k_sorted_add_min entries, and at least 1/k_sorted_add_ratio of the index they make. Updating puts
  // each entry in ten B-trees at random places, which at 800,000 entries cost some 180 us an entry (pages read and
  // written back through a 16 MiB cache); sorting costs some 8 us an entry of the whole index.
  static constexpr std::uint64_t k_sorted_add_min = 4096;
  static constexpr std::uint64_t k_sorted_add_ratio = 8;
  static bool sorts_indexes(std::uint64_t size, std::uint64_t incoming) {
    return incoming >= k_sorted_add_min && incoming * k_sorted_add_ratio >= size + incoming;
  }
  // Remove every entry and the indexed checkpoint (before a rebuild).
  Expected<void> clear();
  // Hold at most `kib` KiB of pages in this connection's cache (16 MiB when opened): a write keeps two connections
  // open beside its own buffers (its look-ups, and the feeder's inserts), and pages it lets go are read again from
  // the file, which the system caches.
  Expected<void> limit_cache(std::size_t kib);

  // Return the entries matching every set field of `filter`, newest (highest log index) first unless
  // filter.oldest_first, at most filter.limit of them. invalid_input for a malformed since/until or a grep without
  // any word.
  Expected<std::vector<Row>> log(const Filter& filter) const;
  // Like log(), streamed: call `row` for each matching entry as it is read, in the same order; returns their number.
  // `row` must not use this Index.
  Expected<std::uint64_t> log_each(const Filter& filter, const std::function<void(const Row&)>& row) const;
  // Return every entry whose record id starts with `prefix` (1..64 hex digits, either case), in log order; the caller
  // enforces the 8-digit minimum and reports ambiguity. invalid_input for a prefix that is not hex.
  Expected<std::vector<Row>> by_id_prefix(std::string_view prefix) const;
  // Return the statements whose canonical text has SHA-256 `text_sha256` (lowercase hex), in log order.
  Expected<std::vector<Row>> by_text(std::string_view text_sha256) const;
  // Return the statements whose original bytes have SHA-256 `original_sha256`, in log order.
  Expected<std::vector<Row>> by_original(std::string_view original_sha256) const;
  // Return the statements whose source.uri is exactly `source`, in log order (oldest version first).
  Expected<std::vector<Row>> versions(std::string_view source) const;
  // Return the last statement (highest log index) whose source.uri is exactly `source`; nullopt if none.
  Expected<std::optional<Row>> latest_version(std::string_view source) const;
  // Return the number of entries matching `filter` (its limit and order are ignored). invalid_input as log().
  Expected<std::uint64_t> count(const Filter& filter) const;
  // Return the sources that differ from `source` but are the same under source_key(), with their number of
  // statements, most first (ties by source), at most `limit`.
  Expected<std::vector<Count>> near_sources(std::string_view source, std::size_t limit) const;
  // Return every key id the log names: the keys its key.add entries add and the keys that signed key events (the
  // log key), ascending.
  Expected<std::vector<std::string>> key_ids() const;
  // Return up to `limit` statements whose texts share the most telling words of `text` (its 32 longest distinct
  // words, any of them), best full-text rank (BM25) first: a shortlist for "what is this text closest to".
  Expected<std::vector<Row>> similar_texts(std::string_view text, std::size_t limit) const;
  // Return the aggregates of the entries matching `filter` (its limit and order are ignored), with at most
  // `top_sources` sources. invalid_input as log().
  Expected<Audit> audit(const Filter& filter, std::size_t top_sources = 10) const;

private:
  friend class IndexBuilder;
  struct Impl;
  explicit Index(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// Builds the index `file` anew, for a rebuild (reindex, or an index that is missing, unreadable or of another
// history): the rows go into a new file next to it, "<file>.new", written without a journal or fsync and on a thread
// of the builder's own (so the caller reads and parses the next entries meanwhile), in one transaction; the secondary
// indexes are sorted once at the end instead of updated per row. finish() makes it an index like open() does (WAL,
// schema version, the checkpoint), syncs it to disk and only then renames it over `file` (whose old -wal and -shm are
// removed first). Until then `file` is untouched: a build that fails or is killed leaves the old index as it was and a
// stray "<file>.new", which the next build removes. A builder destroyed without finish() removes its file. The caller
// holds the IndexLock. Memory stays bounded: at most two batches wait for the thread.
class IndexBuilder {
public:
  // Start a build of `file` (its folder must exist); io on failure.
  static Expected<IndexBuilder> create(const std::filesystem::path& file);
  // Queue `entries`, whose indexes must continue 0, 1, 2, ... across calls (failed_precondition otherwise;
  // invalid_input for an entry without a record id). Waits while two batches are queued. An error of an earlier batch
  // is returned here or by finish().
  Expected<void> add(std::vector<IndexEntry> entries);
  // Finish the build with `checkpoint_note` as the indexed checkpoint, move the file into place and return the
  // number of entries indexed. The builder is spent afterwards.
  Expected<std::uint64_t> finish(std::string_view checkpoint_note);

  IndexBuilder(IndexBuilder&&) noexcept;
  IndexBuilder& operator=(IndexBuilder&&) noexcept;
  ~IndexBuilder();

private:
  struct Impl;
  explicit IndexBuilder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// Serialises the processes that bring one index up to date (readers following on after a write, the writer adding its
// entries, a rebuild): an exclusive flock on the file `lock_path(file)` (.git/avow/index.lock), created 0600 if
// missing and never removed. The kernel drops it when its holder dies, so it can never be left stale. Without it two
// processes that both saw the index at size N would both add entry N, and one of them would fail. An index that is
// already current is read without it (SQLite's WAL gives every read a consistent snapshot).
class IndexLock {
public:
  // Take the lock, retrying until `timeout` has passed: failed_precondition "the index is being updated by another
  // process (waited N s)" on timeout; io when the file cannot be created or locked.
  static Expected<IndexLock> acquire(const std::filesystem::path& file, std::chrono::milliseconds timeout);
  // Return the lock file of the index `file`: its name with the extension replaced by ".lock".
  static std::filesystem::path lock_path(const std::filesystem::path& file);

  IndexLock(IndexLock&& other) noexcept;
  IndexLock& operator=(IndexLock&& other) noexcept;
  IndexLock(const IndexLock&) = delete;
  IndexLock& operator=(const IndexLock&) = delete;
  ~IndexLock(); // releases the lock

private:
  explicit IndexLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

} // namespace avow::index
