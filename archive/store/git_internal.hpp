#pragma once
// Private to archive/store/*.cpp: the state shared by GitStore (git_store.cpp: reading, init, open) and Transaction
// (transaction.cpp: staging, the commit and the ref compare-and-swap), and the pack writer (pack.cpp).

#include <archive/store/git_handles.hpp>
#include <archive/store/git_store.hpp>

#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace avow::store::detail {

inline constexpr const char* k_main_ref = "refs/heads/main";

// Return whether `s` holds a NUL byte.
bool has_nul(std::string_view s);
// Check a slash-separated repository path: non-empty components, none "." / ".." / ".git" (any
// case), no NUL; invalid_input otherwise.
Expected<void> check_path(std::string_view path);
// Look up commit `id`; not_found when absent.
Expected<CommitPtr> lookup_commit(git_repository* repo, const Oid& id);
// Return the entry at `path` in `tree`, nullopt when absent.
Expected<std::optional<TreeEntryPtr>> entry_at(git_tree* tree, std::string_view path);
bool is_blob_entry(const git_tree_entry* e);
// Return the tip of refs/heads/main, nullopt when there is none.
Expected<std::optional<Oid>> read_head(git_repository* repo);
// Open the repository at exactly `dir`; failed_precondition if it is not one.
Expected<RepoPtr> open_repo(const std::filesystem::path& dir);
// Add `file` (when it exists) to the config of `repo` at the app level, above the repository's own config.
Expected<void> add_app_config(git_repository* repo, const std::filesystem::path& file);
// open_repo, then <git dir>/avow/libgit2.config: how every handle avow reads and writes with is set up.
Expected<RepoPtr> open_avow_repo(const std::filesystem::path& dir);
Expected<OdbPtr> repo_odb(git_repository* repo);

// --- pack.cpp ---

// Pack `objects`, all held by the `staged` backend of `odb` (the mempack), without delta search (see libgit2.config),
// and write the packs and their indexes into objects/pack, fsynced: one pack, or for a large write one per core built
// in parallel (each thread through its own handle on `git_dir`; `odb` is refreshed to see them), at most `max_packs`
// of them when it is not 0.
Expected<std::vector<std::string>> write_pack(git_repository* repo, git_odb* odb, git_odb_backend* staged,
                                              const std::filesystem::path& git_dir, std::span<const git_oid> objects, std::size_t max_packs = 0);
// Remove the files of pack `name` (as write_pack names it) from objects/pack, best effort: a pack left behind only
// holds unreferenced objects.
void remove_pack_files(const std::filesystem::path& git_dir, const std::string& name);
// Merge small packs into one when there are 8 or more (geometric, like `git repack --geometric=2`). Safe at any
// instant: the new pack is complete and fsynced before an old one is deleted, and it holds every object of them.
// Returns whether packs were merged (the caller must then reopen its handle).
Expected<bool> consolidate_packs(git_repository* repo, git_odb* odb, const std::filesystem::path& git_dir);
// GitStore::repack's work: merge settled packs (or every pack, with options.all) outside writes.
Expected<RepackReport> repack_packs(const std::filesystem::path& git_dir, const RepackOptions& options);

// --- object_filter.cpp ---

// Which objects a repository may hold: a Bloom filter over object ids, where may_contain() is false only for an id
// never added. A write of many new objects fills one with every object of the repository (each pack's index, listed
// one pack at a time, and the loose objects) before it stages anything, then with each object it stages; its existence
// checks (object_exists) then answer most "is this new object there" from memory. In the odb such a miss searches the index
// of every pack: with 66 packs, 30% of a batch of 200,000 statements onto 800,000 entries. Object ids are SHA-1
// digests, so four 32-bit words of the id are the four probes; an id made to collide costs one odb look-up, never a
// wrong answer. 8 to 16 bits an object (a false positive rate of 2.4% to 0.24%): 2 MiB at 1,000,000 entries.
class ObjectFilter {
 public:
  // Every object of the repository at `git_dir`, with room for `more` to be added; git when listing fails.
  static Expected<ObjectFilter> of_repository(const std::filesystem::path& git_dir, std::uint64_t more);
  void add(const git_oid& id);
  bool may_contain(const git_oid& id) const;

 private:
  static constexpr int k_probes = 4;
  explicit ObjectFilter(std::uint64_t capacity);
  std::vector<std::uint64_t> m_words;
  std::uint64_t m_mask = 0;
};

struct RepoState {
  LibGit2Session session; // first: outlives the handles
  RepoPtr repo;
  OdbPtr odb;
  std::filesystem::path workdir;
  std::filesystem::path git_dir;
  // The in-memory object backend in front of the on-disk odb (owned by `odb`), attached at the
  // first begin() and kept: libgit2 1.5 cannot detach a backend, and one long-lived handle keeps
  // the pack list and its indexes loaded between writes.
  git_odb_backend* mempack = nullptr;
  bool tx_open = false; // one transaction at a time per handle (they share the mempack)
  // An abandoned write removed packs this handle may have loaded: begin() reopens it before the next write, so that
  // no object of those packs is taken as already on disk.
  bool reopen = false;
  // The open write's ObjectFilter, when it was begun for many new objects (GitStore::begin); dropped when it ends.
  std::unique_ptr<ObjectFilter> filter;
};

// Whether the odb holds `id`: false at once when the write's filter says it cannot, else the odb without a rescan of
// the pack folder (the caller holds the writer lock; a pack another process wrote would only make this say false for
// an object that is there, which is then written again with the same id). An error counts as "not there" for the same
// reason. Safe only because a filtered write starts on a handle opened anew (begin()): the odb's object cache, which
// answers before the backends, then holds no object of an earlier write that was dropped from the mempack unwritten.
bool object_exists(const RepoState& rs, const git_oid& id);

// Open the repository and its odb again (the packs on disk changed under the handle). No libgit2 object of the old
// handle may be alive.
Expected<void> reopen_handle(RepoState& rs);

struct TxState {
  std::shared_ptr<RepoState> rs;
  std::optional<Oid> base;
  CommitPtr base_commit;
  TreePtr base_tree;
  std::map<std::string, std::optional<git_oid>> updates; // path -> blob, or nullopt for removal
  bool committed = false;
  bool holds_slot = false; // owns rs->tx_open and the mempack contents
  std::vector<std::string> warnings;
  std::int64_t time = 0; // committer time of the commit: max(now, the base commit's committer time)
  std::vector<git_oid> staged;   // blobs in the mempack not yet written to a pack
  std::uint64_t staged_bytes = 0;
  // Packs this write put in objects/pack (flushes, and the commit's own) while main may not point at them yet. A
  // write abandoned before main moved removes them: every object in them is new (put() stages only objects not on
  // disk), so nothing else needs them.
  std::vector<std::string> written_packs; // "pack-<hash>" names
  bool discard_packs = true;              // false from the compare-and-swap on, unless it surely failed

  TxState() = default;
  TxState(const TxState&) = delete;
  TxState& operator=(const TxState&) = delete;
  // Discard whatever is still staged in memory: an abandoned write leaves no trace.
  ~TxState() {
    base_tree.reset();
    base_commit.reset();
    if (rs && holds_slot) release();
    if (rs && !committed && discard_packs && !written_packs.empty()) remove_written_packs();
  }
  void remove_written_packs();
  void release() {
    if (rs->mempack) git_mempack_reset(rs->mempack);
    rs->filter.reset();
    rs->tx_open = false;
    holds_slot = false;
  }
};

} // namespace avow::store::detail
