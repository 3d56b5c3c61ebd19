#pragma once

#include <archive/util/error.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// A generic git-backed store (libgit2 1.5). It knows nothing about records or logs: it reads and
// writes blobs by slash-separated path on the branch `refs/heads/main` of a non-bare repository,
// one commit per write, the ref moved by compare-and-swap.
//
// Thread safety: one GitStore (and each Transaction) must be used by one thread at a time. Threads
// that read in parallel open their own GitStore on the same folder (open() is cheap).
namespace avow::store {

// A SHA-1 git object id.
struct Oid {
  std::array<std::uint8_t, 20> bytes{};
  // Return the 40 lowercase hex digits.
  std::string hex() const;
  // Parse 40 hex digits (either case); invalid_input otherwise.
  static Expected<Oid> from_hex(std::string_view hex);
  bool operator==(const Oid&) const = default;
};

// One commit as stored. `raw` is the exact commit object (no "commit <len>\0" prefix), so a caller
// can check its signature (the signed payload is `raw` without the gpgsig header).
struct CommitInfo {
  Oid id;
  std::vector<Oid> parents;
  Oid tree;
  std::string message;    // the raw message, exactly as stored
  std::string raw_header; // the header block (tree, parent, author, committer, gpgsig...) without the blank line
  std::string raw;        // the whole commit object bytes (git_odb_read)
  std::int64_t commit_time = 0; // committer time, seconds since the epoch (untrusted)
};

enum class ChangeKind { added, modified, deleted, type_changed };
struct Change {
  ChangeKind kind;
  std::string path;
  bool operator==(const Change&) const = default;
};

// What a tree entry is (a hostile archive may hold any of them).
enum class EntryKind { blob, executable, symlink, gitlink };
struct TreeEntry {
  std::string path;
  EntryKind kind;
  std::uint64_t size; // blob size; 0 for a gitlink (and from GitStore::for_each_entry with Sizes::skip)
  Oid id{};           // the object the entry names (read it with read_object)
};

// The most memory libgit2's caches of parsed objects (trees, commits) may hold, over all repositories of the process.
inline constexpr std::size_t k_object_cache_bytes = std::size_t{16} << 20;

// The most of the packs libgit2 maps at once (in 16 MiB windows), over all repositories of the process.
inline constexpr std::size_t k_mapped_pack_bytes = std::size_t{48} << 20;

// A write's staged objects are written to packs once they hold this much (Transaction::put), so a large write keeps a
// bounded amount in memory. 48 MiB: a batch of 100,000 into 1,000,000 entries peaked at 259 MiB with 64 (the staged
// objects took ~87 MB of heap just before a flush), 234 MiB with 48, ~4% slower and one pack more; into 100,000
// entries 221 and 231 MiB.
inline constexpr std::uint64_t k_staged_flush_bytes = std::uint64_t{48} << 20;

// Keeps libgit2 initialised for as long as it lives (git_libgit2_init/shutdown are refcounted).
// Every copy or move holds its own reference.
class LibGit2Session {
 public:
  LibGit2Session();
  LibGit2Session(const LibGit2Session&);
  LibGit2Session(LibGit2Session&&) noexcept;
  LibGit2Session& operator=(const LibGit2Session&) = default;
  LibGit2Session& operator=(LibGit2Session&&) noexcept = default;
  ~LibGit2Session();
};

namespace detail {
struct RepoState;
struct TxState;
} // namespace detail

// A write in progress: stages blobs and removals on top of the head it started from. New objects
// go to an in-memory object backend (mempack) in front of the on-disk object database; a large write
// packs them to disk as it goes (see put). Only commit() moves the ref; destroying an uncommitted
// Transaction leaves no trace (the mempack is discarded, the packs it wrote are removed). It keeps its store's repository handle
// alive, so it may outlive the GitStore it came from.
class Transaction {
 public:
  // Receive the exact unsigned commit object bytes and return the armored SSHSIG text.
  using Signer = std::function<Expected<std::string>(std::string_view commit_buffer)>;

  Transaction(Transaction&&) noexcept;
  Transaction& operator=(Transaction&&) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Return the commit this transaction builds on (nullopt for the first commit).
  std::optional<Oid> base() const;
  // Return the committer time (seconds since the epoch, UTC) commit() will give the commit, fixed at begin(): the
  // later of now and the base commit's committer time, so commit times never go backwards along main.
  std::int64_t time() const;
  // Stage `data` as a regular blob (mode 100644) at `path`, replacing any earlier value. Fails with
  // invalid_input for a malformed path (empty, leading/trailing/double '/', "." or ".." or ".git"
  // components, NUL), failed_precondition after commit(), git when libgit2 fails. Once the staged blobs reach
  // k_staged_flush_bytes they are written to packs (unreferenced until commit(); io/git errors then), so a large write
  // stays bounded in memory.
  Expected<void> put(std::string_view path, std::string_view data);
  // Write the blobs staged so far to packs now (put() does so past k_staged_flush_bytes). Packs written before main
  // moves are removed again when the transaction is destroyed without a commit, or when its compare-and-swap fails.
  Expected<void> flush();
  // Stage the removal of the blob at `path` (in the base, or staged earlier); not_found if there is
  // no such blob, invalid_input for a malformed path, failed_precondition after commit().
  Expected<void> remove(std::string_view path);
  // Return the number of staged changes (puts and removals).
  std::size_t size() const;
  // Return whether a put() of `path` is staged.
  bool stages(std::string_view path) const;

  // Build the tree (only touched trees are rewritten), create the commit with `message` (author
  // and committer "avow <avow@localhost>", time time()), signed when `signer` is given (gpgsig header,
  // bytes as stock git writes them), write all new objects as packs (one, or for a large write one per core built
  // in parallel; blobs flushed by put() are already packed), then compare-and-swap
  // refs/heads/main from base() to the new commit. Afterwards the working tree and index are
  // brought up to date for the touched paths, and small packs are merged once there are 8 or more
  // (geometric, like `git repack --geometric=2`, so their number stays logarithmic); if either step
  // fails the commit still stands and the reason is in warnings(). Failures: failed_precondition "archive changed during the write (another
  // writer?)" if main moved since begin(), or if the transaction was already committed; whatever
  // `signer` returns; invalid_input for a signature that is empty or holds a NUL; git otherwise.
  Expected<Oid> commit(std::string_view message, const Signer& signer = {});

  // Return the warnings of commit() (working tree update failures); empty when all went well.
  const std::vector<std::string>& warnings() const;

 private:
  friend class GitStore;
  explicit Transaction(std::unique_ptr<detail::TxState> state);
  std::unique_ptr<detail::TxState> m_state;
};

// Sets libgit2's object cache limit (process-wide) to `bytes` while it lives, then back to k_object_cache_bytes: a
// walk that reads the same trees again (verify's diff of each commit with its parent) is quicker with a larger one.
// Objects cached above the default stay until their repository is closed, so use it with a store opened for the walk.
class ObjectCacheLimit {
 public:
  explicit ObjectCacheLimit(std::size_t bytes);
  ~ObjectCacheLimit();
  ObjectCacheLimit(const ObjectCacheLimit&) = delete;
  ObjectCacheLimit& operator=(const ObjectCacheLimit&) = delete;
};

// Sets libgit2's limit on mapped pack windows (process-wide) to `bytes` while it lives, then back to what it was (so
// limits nest). verify holds it at 32 MiB, which keeps its peak at 1,000,000 entries under 256 MiB and cost it
// nothing measurable there (211.6 s against 210.6 s), and its commit walk at 128 MiB; a batch write with 32 MiB took
// ~25% longer.
class MappedPackLimit {
 public:
  explicit MappedPackLimit(std::size_t bytes);
  ~MappedPackLimit();
  MappedPackLimit(const MappedPackLimit&) = delete;
  MappedPackLimit& operator=(const MappedPackLimit&) = delete;

 private:
  std::size_t m_previous = k_mapped_pack_bytes;
};

// Turns off (process-wide) libgit2's check that each object read from the packs hashes to its id, while it lives,
// then back on. Only for reads whose result is a cache that verify never trusts: building the derived index reads
// every text and its fan-out tree, and the SHA-1 of each was 11% of a reindex. verify, proofs and writes keep it.
class SkipObjectHashCheck {
 public:
  SkipObjectHashCheck();
  ~SkipObjectHashCheck();
  SkipObjectHashCheck(const SkipObjectHashCheck&) = delete;
  SkipObjectHashCheck& operator=(const SkipObjectHashCheck&) = delete;
};

// What GitStore::repack does (`avow repack`).
struct RepackOptions {
  // Also merge the small packs that every write merges itself, into as few packs as the limits allow; the writer lock
  // is then held for the whole run (writers wait). Without it only settled packs are merged (see repack()).
  bool all = false;
  // How long to wait for the writer lock: for the whole run with `all`, else for each move of a new pack into place.
  std::chrono::milliseconds lock_timeout{10000};
  // A merged pack holds at most this many objects and bytes, and a pack this large is never merged again: the merge's
  // memory grows with its number of objects: about 150 MiB of libgit2's delta window, delta cache and mapped packs, and
  // ~0.8 KB an object (at 1,000,000 entries, groups of ~510,000 objects peaked at 540 MiB, of 131,072 at 259 MiB);
  // its time with both.
  std::uint64_t max_objects = 3u << 15; // 98,304
  std::uint64_t max_bytes = std::uint64_t{1} << 30;
  // How far it is (may be empty): two steps for each object of the packs it merges, one as the delta search looks at
  // it and one as it is written; `done` reaches `total` at the end. Called from libgit2's delta search threads too,
  // one call at a time.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

// What a repack did. Sizes are of the .pack files.
struct RepackReport {
  std::size_t packs_before = 0;
  std::size_t packs_after = 0;
  std::size_t merged = 0;  // packs merged away
  std::size_t written = 0; // packs written
  std::uint64_t objects = 0; // objects rewritten
  std::uint64_t bytes_before = 0;
  std::uint64_t bytes_after = 0;
};

class GitStore {
 public:
  // Whether the repository has a checked-out working tree. An archive has none (Worktree::no): its
  // git dir is `dir/.git` with core.bare set, so writes never touch files outside .git, stay
  // O(change) however large the archive grows, and nobody mistakes an edited file for the record.
  // Browse it with `git show main:PATH`, or `git clone` it.
  enum class Worktree { no, yes };
  // Create a new repository at `dir` (created with its parents if missing) with HEAD ->
  // refs/heads/main and no commit: `dir/.git` is the git dir either way; with Worktree::yes `dir`
  // is its working tree. already_exists if `dir` is a git repository or a non-empty folder (or not
  // a folder); io/git when creation fails.
  static Expected<GitStore> init(const std::filesystem::path& dir, Worktree worktree = Worktree::no);
  // Open the repository at exactly `dir` (its git dir `dir/.git`, or `dir` itself for a bare
  // repository; no search upwards). failed_precondition "'DIR' is not an avow archive: ..." if it
  // is not a git repository.
  static Expected<GitStore> open(const std::filesystem::path& dir);

  GitStore(GitStore&&) noexcept;
  GitStore& operator=(GitStore&&) noexcept;
  GitStore(const GitStore&) = delete;
  GitStore& operator=(const GitStore&) = delete;
  ~GitStore();

  // Return the archive folder given to init() or open() (absolute): the working tree when there
  // is one.
  std::filesystem::path workdir() const;
  // Return the .git folder (absolute).
  std::filesystem::path git_dir() const;

  // Return the tip of refs/heads/main, nullopt when there is no commit yet. failed_precondition if
  // the ref is symbolic, git otherwise.
  Expected<std::optional<Oid>> head() const;

  // Read the blob at `path` (slash-separated) in the tree of `commit`. not_found if the commit or
  // the path is absent or the path is not a blob; invalid_input for a malformed path.
  Expected<std::string> read(const Oid& commit, std::string_view path) const;
  // Like read(), but nullopt instead of not_found when the path is absent (the commit must exist).
  Expected<std::optional<std::string>> read_if_exists(const Oid& commit, std::string_view path) const;
  // Read several blobs of `commit` in order; fails like read() on the first failure.
  Expected<std::vector<std::string>> read_many(const Oid& commit, std::span<const std::string> paths) const;
  // Read the blob `id` (e.g. a TreeEntry's id from list_entries), without a path lookup; not_found if the object is
  // absent or not a blob.
  Expected<std::string> read_object(const Oid& id) const;
  // The size of the blob `id` from its object header, without reading or inflating the blob; not_found like
  // read_object().
  Expected<std::uint64_t> blob_size(const Oid& id) const;
  // Return whether `path` names a blob in `commit`'s tree.
  Expected<bool> exists(const Oid& commit, std::string_view path) const;
  // exists() for a path whose blob would hold `content`: false at once, without reading a tree, when no blob with
  // that content is in the object database (then no tree can name it). A batch checks each of its texts this way:
  // most are new, and looking each one up by path read a leaf tree of the texts' fan-out per text.
  Expected<bool> exists(const Oid& commit, std::string_view path, std::string_view content) const;

  // Return the commit `id`; not_found if absent or not a commit.
  Expected<CommitInfo> commit_info(const Oid& id) const;
  // Walk refs/heads/main first-parent from the root to the tip (oldest first), calling `fn` per
  // commit; stops at and returns the first error of `fn`. No commit: `fn` is never called.
  Expected<void> for_each_commit(const std::function<Expected<void>(const CommitInfo&)>& fn) const;
  // Like for_each_commit, walking back from `tip` instead of refs/heads/main (a fetched commit not yet on main).
  Expected<void> for_each_commit_from(const Oid& tip, const std::function<Expected<void>(const CommitInfo&)>& fn) const;

  // Return the changes between the trees of `parent` and `commit`, sorted by path (nullopt parent:
  // everything is added). A blob that becomes a folder is a deletion plus additions.
  Expected<std::vector<Change>> diff(const std::optional<Oid>& parent, const Oid& commit) const;
  // Like diff() without the additions: what an append-only check needs, without listing every file of a folder
  // that is new as a whole (verify of a large first batch).
  Expected<std::vector<Change>> diff_except_added(const std::optional<Oid>& parent, const Oid& commit) const;

  // List the blobs (any blob mode) under the folder `prefix` ("" for the whole tree) of `commit`'s
  // tree, recursively, in git tree order, with their sizes. Empty if `prefix` does not exist; a
  // `prefix` naming a blob lists that blob. Gitlinks are skipped (see list_entries()).
  Expected<std::vector<std::pair<std::string, std::uint64_t>>> list(const Oid& commit,
                                                                    std::string_view prefix) const;
  // Like list(), with each entry's kind, gitlinks included.
  Expected<std::vector<TreeEntry>> list_entries(const Oid& commit, std::string_view prefix) const;
  // Like list_entries(), handing each entry to `fn` as it is found instead of collecting them (a tree of millions
  // of files is walked without holding its listing); an error `fn` returns stops the walk and is returned. With
  // Sizes::skip every size is 0: reading a blob's size costs an object header lookup, which dominates the walk of a
  // large tree, and a caller that reads the blobs anyway does not need it.
  enum class Sizes { read, skip };
  Expected<void> for_each_entry(const Oid& commit, std::string_view prefix,
                                const std::function<Expected<void>(TreeEntry&&)>& fn, Sizes sizes = Sizes::read) const;

  // Get/set a key of the repository's local config (.git/config), e.g. "avow.logkey". get returns
  // nullopt when unset locally (global and system config are not consulted).
  Expected<std::optional<std::string>> config_get(std::string_view name) const;
  Expected<void> config_set(std::string_view name, std::string_view value);

  // Start a write on top of the current head. One Transaction at a time per GitStore:
  // failed_precondition while another from this handle is alive (concurrent writers use separate
  // handles, serialise with WriterLock, and the compare-and-swap in commit() catches the rest).
  // `new_objects` > 0 says the write will stage about that many objects, nearly all new: begin() then lists every
  // object of the repository into a filter in memory (a Bloom filter, 1 to 2 bytes an object), and until the write
  // ends put(), exists(commit, path, content) and the commit's building of its new trees answer "not there" for most
  // new objects without searching the index of every pack (nor, for a tree, rescanning the pack folder as libgit2
  // does before each write). Listing costs about 0.3 s a million objects; a miss in the odb costs tens of
  // microseconds with dozens of packs. For a write large against the archive (a batch); git if the objects cannot be
  // listed. The handle is closed while they are listed and opened again: no libgit2 object of it may be alive.
  Expected<Transaction> begin(std::uint64_t new_objects = 0);

  // Merge packs outside writes, so that reads stay fast as the archive grows. Every write merges small packs itself
  // (geometric, like `git repack --geometric=2`), but leaves a pack alone once it is settled (8 MiB or 32,768
  // objects, about one per 16,000 entries): merging those inside a write took minutes at a million entries. Their
  // number grows with the archive (639 packs at 10,000,000 entries), and a look-up of an object searches each pack's
  // index. repack() merges the settled packs the same geometric way, in packs of at most options.max_objects objects,
  // without holding the writer lock while it merges: each new pack is built in <git dir>/avow/repack/, then moved
  // into objects/pack and the packs it replaces deleted under the writer lock (a moment). Only one repack runs at a
  // time (<git dir>/avow/repack.lock; failed_precondition otherwise). The history, the objects and their ids do not
  // change. The handle is reopened afterwards.
  Expected<RepackReport> repack(const RepackOptions& options);

 private:
  GitStore();
  Expected<std::vector<Change>> diff_impl(const std::optional<Oid>& parent, const Oid& commit, bool with_added) const;
  LibGit2Session m_session; // first member: outlives every libgit2 handle below
  std::shared_ptr<detail::RepoState> m_repo; // shared with the open Transaction, if any
};

} // namespace avow::store
