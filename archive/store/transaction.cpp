// Transaction: staging blobs in memory, building the tree and the signed commit, writing its objects as one pack, and
// the compare-and-swap of refs/heads/main; and GitStore::begin, which starts one.

#include <archive/store/git_internal.hpp>

#include <archive/util/bytes.hpp>
#include <archive/util/memory.hpp>

#include <git2/sys/mempack.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <set>
#include <unordered_set>

namespace avow::store {

namespace fs = std::filesystem;
using namespace detail;

namespace {

constexpr int k_mempack_priority = 1000; // above the loose (1) and packed (2) backends
constexpr std::uint64_t k_flush_bytes = k_staged_flush_bytes;

} // namespace

// ---------------------------------------------------------------------------------------------

Expected<void> detail::reopen_handle(RepoState& rs) {
  rs.reopen = true; // until it is done: should opening fail, the next begin() tries again
  auto fresh = open_avow_repo(rs.git_dir);
  if (!fresh) return std::unexpected(fresh.error());
  auto fresh_odb = repo_odb(fresh->get());
  if (!fresh_odb) return std::unexpected(fresh_odb.error());
  rs.odb = std::move(*fresh_odb);
  rs.repo = std::move(*fresh);
  rs.mempack = nullptr; // it went with the old odb; begin() attaches a new one
  rs.reopen = false;
  return {};
}

void TxState::remove_written_packs() {
  for (const auto& name : written_packs) remove_pack_files(rs->git_dir, name);
  written_packs.clear();
  rs->reopen = true;
}

Transaction::Transaction(std::unique_ptr<detail::TxState> state) : m_state(std::move(state)) {}
Transaction::Transaction(Transaction&&) noexcept = default;
Transaction& Transaction::operator=(Transaction&&) noexcept = default;
Transaction::~Transaction() = default;

std::optional<Oid> Transaction::base() const { return m_state->base; }
std::int64_t Transaction::time() const { return m_state->time; }
std::size_t Transaction::size() const { return m_state->updates.size(); }
bool Transaction::stages(std::string_view path) const {
  const auto it = m_state->updates.find(std::string(path));
  return it != m_state->updates.end() && it->second.has_value();
}
const std::vector<std::string>& Transaction::warnings() const { return m_state->warnings; }

namespace {

// write_pack, remembering the packs it wrote (by the names their writers gave them) in `s.written_packs`: a stock
// `git gc` run beside the write must never see its packs removed with an abandoned write's.
Expected<void> write_tracked_pack(TxState& s, std::span<const git_oid> objects, std::size_t max_packs = 0) {
  auto names = write_pack(s.rs->repo.get(), s.rs->odb.get(), s.rs->mempack, s.rs->git_dir, objects, max_packs);
  if (!names) return std::unexpected(names.error());
  for (auto& name : *names)
    if (!name.empty()) s.written_packs.push_back(std::move(name));
  return {};
}

// Write the blobs staged so far to packs and drop them from the mempack. The packs are unreferenced until the commit
// moves main; an abandoned write removes them (TxState::remove_written_packs). The objects keep the order they were
// staged in, which for a batch is the order of its entries (each text, then the bundles and tiles as they fill): a
// reader of the log in order (verify, reindex) then reads each pack from front to back. In object id order, as
// before, it read the texts of 30,000 entries from anywhere in two 9 MB packs at once, and thrashed libgit2's pack
// windows (bench/README.md, fourteenth session).
Expected<void> flush_staged(TxState& s, std::size_t max_packs = 0) {
  if (auto ok = write_tracked_pack(s, s.staged, max_packs); !ok) return ok;
  // Let the odb see the new packs (a rescan of the pack folder, once a flush), so that a blob put again after it (one
  // text also stored as an original) is found there and not written twice.
  if (int rc = git_odb_refresh(s.rs->odb.get()); rc < 0) return git_failure(rc, ErrorCode::git, "cannot reload the packs");
  if (int rc = git_mempack_reset(s.rs->mempack); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot reset the in-memory object store");
  std::vector<git_oid>().swap(s.staged);
  s.staged_bytes = 0;
  release_freed_memory(); // the staged objects' memory goes back to the system, not only to the heap: a large write stays flat
  return {};
}

} // namespace

Expected<void> Transaction::flush() {
  auto& s = *m_state;
  if (s.committed) return fail(ErrorCode::failed_precondition, "transaction already committed");
  if (s.staged.empty()) return {};
  return flush_staged(s);
}

Expected<void> Transaction::put(std::string_view path, std::string_view data) {
  auto& s = *m_state;
  if (s.committed) return fail(ErrorCode::failed_precondition, "transaction already committed");
  if (auto ok = check_path(path); !ok) return ok;
  // Hash the blob ourselves and hand it to the mempack directly. git_blob_create_from_buffer would go
  // through git_odb_write, which "freshens" every new object: a miss rescans objects/pack and tries
  // utimensat on a loose path, per blob, which made big batches spend most of their time in the file
  // system. An object already on disk (looked up without a rescan) is not written again.
  git_oid oid;
  if (int rc = git_odb_hash(&oid, data.data(), data.size(), GIT_OBJECT_BLOB); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot stage '{}'", path);
  if (!object_exists(*s.rs, oid)) {
    git_odb_backend* mp = s.rs->mempack;
    if (int rc = mp->write(mp, &oid, data.data(), data.size(), GIT_OBJECT_BLOB); rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot stage '{}'", path);
    if (s.rs->filter) s.rs->filter->add(oid);
    s.staged.push_back(oid);
    s.staged_bytes += data.size();
  }
  s.updates.insert_or_assign(std::string(path), oid);
  if (s.staged_bytes >= k_flush_bytes) return flush_staged(s);
  return {};
}

Expected<void> Transaction::remove(std::string_view path) {
  auto& s = *m_state;
  if (s.committed) return fail(ErrorCode::failed_precondition, "transaction already committed");
  if (auto ok = check_path(path); !ok) return ok;
  const std::string key(path);
  bool in_base = false;
  if (s.base_tree) {
    auto entry = entry_at(s.base_tree.get(), path);
    if (!entry) return std::unexpected(entry.error());
    in_base = *entry && is_blob_entry((*entry)->get());
  }
  auto it = s.updates.find(key);
  const bool staged = it != s.updates.end() && it->second.has_value();
  if (!in_base && !staged) return fail(ErrorCode::not_found, "cannot remove '{}': no such file in the archive", path);
  if (in_base)
    s.updates.insert_or_assign(key, std::nullopt);
  else
    s.updates.erase(it);
  return {};
}

namespace {

// Return the objects of this write that are only in the mempack (see commit(), step 3), each once: the commit and
// its tree, then the objects staged since the last flush in the order they were staged (as flush_staged keeps it),
// then any other blob of the updates and the trees of their folders.
Expected<std::vector<git_oid>> new_objects(const TxState& s, git_tree* tree, const git_oid& tree_id,
                                           const git_oid& commit_id) {
  git_odb_backend* mp = s.rs->mempack;
  struct OidHash {
    std::size_t operator()(const git_oid& id) const {
      std::size_t h = 0;
      std::memcpy(&h, id.id, sizeof h);
      return h;
    }
  };
  struct OidEqual {
    bool operator()(const git_oid& a, const git_oid& b) const { return git_oid_equal(&a, &b); }
  };
  std::unordered_set<git_oid, OidHash, OidEqual> seen;
  std::vector<git_oid> out;
  const auto take = [&](const git_oid& id) {
    if (!seen.contains(id) && mp->exists(mp, &id) == 1) {
      seen.insert(id);
      out.push_back(id);
    }
  };
  take(commit_id);
  take(tree_id);
  for (const auto& id : s.staged) take(id);
  std::set<std::string> folders;
  for (const auto& [path, blob] : s.updates) {
    if (blob) take(*blob);
    for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
      folders.insert(path.substr(0, slash));
  }
  for (const auto& folder : folders) {
    auto entry = entry_at(tree, folder);
    if (!entry) return std::unexpected(entry.error());
    if (*entry && git_tree_entry_type((*entry)->get()) == GIT_OBJECT_TREE) take(*git_tree_entry_id((*entry)->get()));
  }
  return out;
}

} // namespace

namespace {

// A write with this many updates builds its second-level folders one at a time (see commit(), step 1), with libgit2's
// object cache held to k_tree_build_cache_bytes meanwhile.
constexpr std::size_t k_folder_by_folder = 2048;
constexpr std::size_t k_tree_build_cache_bytes = 2u << 20;

// The second-level folder of `path` ("texts/ab" of "texts/ab/cd/<hash>"); empty when the path has fewer than three
// components (it is updated from the root).
std::string_view second_level_folder(std::string_view path) {
  const auto a = path.find('/');
  if (a == std::string_view::npos) return {};
  const auto b = path.find('/', a + 1);
  return b == std::string_view::npos ? std::string_view{} : path.substr(0, b);
}

git_tree_update update_of(const std::string& path, const std::optional<git_oid>& blob) {
  git_tree_update u{};
  u.path = path.c_str();
  if (blob) {
    u.action = GIT_TREE_UPDATE_UPSERT;
    u.id = *blob;
    u.filemode = GIT_FILEMODE_BLOB;
  } else {
    u.action = GIT_TREE_UPDATE_REMOVE;
  }
  return u;
}

// Add to `s.staged` the new trees of a folder just built (`folder`, whose tree is `tree`), those only in the mempack
// (the others were on disk already): the folder's own and those of the folders on the way to each of `relative`
// (the updated paths, relative to it). Each is found by its entry in its parent, as in new_objects(): the leaf
// folders' trees are never loaded (a lookup would keep them in libgit2's object cache).
Expected<void> stage_new_trees(TxState& s, git_tree* tree, const git_oid& folder,
                               const std::vector<std::string>& relative) {
  git_odb_backend* mp = s.rs->mempack;
  const auto stage = [&](const git_oid& id) {
    if (mp->exists(mp, &id) != 1) return;
    size_t len = 0;
    git_object_t type{};
    if (mp->read_header(&len, &type, mp, &id) == 0) s.staged_bytes += len;
    s.staged.push_back(id);
  };
  stage(folder);
  std::set<std::string_view> seen;
  for (const std::string& path : relative)
    for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      const std::string_view sub(path.data(), slash);
      if (!seen.insert(sub).second) continue;
      auto entry = entry_at(tree, sub);
      if (!entry) return std::unexpected(entry.error());
      if (*entry && git_tree_entry_type((*entry)->get()) == GIT_OBJECT_TREE) stage(*git_tree_entry_id((*entry)->get()));
    }
  return {};
}

// The object database a large write with an ObjectFilter builds its trees against (filtered_tree_repo). libgit2 writes
// each new tree through git_odb_write, which first "freshens" it: a search of every pack that misses, then a rescan of
// the pack folder and the search again (15.6% of a batch of 200,000 onto 800,000 entries in 66 packs, the filter's
// first use; bench/README.md, nineteenth session). Here one backend answers for the write's odb: its look-ups through
// object_exists (the filter, then the odb without a rescan), its writes into the mempack (and the filter), and it has
// no refresh, so libgit2 rescans nothing. Reads go to the write's odb, which holds the mempack and the disk.
struct FilteredBackend {
  git_odb_backend parent;
  RepoState* rs;

  static RepoState& state(git_odb_backend* b) { return *reinterpret_cast<FilteredBackend*>(b)->rs; }
  static int read(void** data, size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* id) {
    git_odb_object* obj = nullptr;
    if (int rc = git_odb_read(&obj, state(b).odb.get(), id); rc < 0) return rc;
    *len = git_odb_object_size(obj);
    *type = git_odb_object_type(obj);
    *data = git_odb_backend_data_alloc(b, *len);
    if (*data == nullptr) {
      git_odb_object_free(obj);
      return -1;
    }
    if (*len > 0) std::memcpy(*data, git_odb_object_data(obj), *len);
    git_odb_object_free(obj);
    return 0;
  }
  static int read_header(size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* id) {
    return git_odb_read_header(len, type, state(b).odb.get(), id);
  }
  static int exists(git_odb_backend* b, const git_oid* id) { return object_exists(state(b), *id) ? 1 : 0; }
  static int freshen(git_odb_backend* b, const git_oid* id) {
    return object_exists(state(b), *id) ? 0 : GIT_ENOTFOUND;
  }
  static int write(git_odb_backend* b, const git_oid* id, const void* data, size_t len, git_object_t type) {
    RepoState& rs = state(b);
    if (int rc = rs.mempack->write(rs.mempack, id, data, len, type); rc < 0) return rc;
    if (rs.filter) rs.filter->add(*id);
    return 0;
  }
  static void free(git_odb_backend* b) { delete reinterpret_cast<FilteredBackend*>(b); }
};

// A repository over an odb of one FilteredBackend, for building the trees of a write that has an ObjectFilter; the
// write's own handle otherwise. Its objects must be freed before it.
Expected<RepoPtr> filtered_tree_repo(RepoState& rs) {
  git_odb* raw_odb = nullptr;
  if (int rc = git_odb_new(&raw_odb); rc < 0) return git_failure(rc, ErrorCode::git, "cannot create an object database");
  const OdbPtr odb(raw_odb);
  auto* backend = new FilteredBackend{};
  if (int rc = git_odb_init_backend(&backend->parent, GIT_ODB_BACKEND_VERSION); rc < 0) {
    delete backend;
    return git_failure(rc, ErrorCode::git, "cannot create an object database");
  }
  backend->rs = &rs;
  backend->parent.read = &FilteredBackend::read;
  backend->parent.read_header = &FilteredBackend::read_header;
  backend->parent.exists = &FilteredBackend::exists;
  backend->parent.freshen = &FilteredBackend::freshen;
  backend->parent.write = &FilteredBackend::write;
  backend->parent.free = &FilteredBackend::free;
  if (int rc = git_odb_add_backend(odb.get(), &backend->parent, 1); rc < 0) {
    delete backend;
    return git_failure(rc, ErrorCode::git, "cannot create an object database");
  }
  git_repository* raw = nullptr;
  if (int rc = git_repository_wrap_odb(&raw, odb.get()); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot create a repository for the trees");
  return RepoPtr(raw); // holds its own reference to the odb
}

// The updates of a large write with each second-level folder built on its own: its updates applied to that folder's
// tree alone (git_tree_create_updated), its new trees staged like blobs and packed with them whenever they hold
// k_flush_bytes, and the folder then one update of the root (upsert of its new tree, or removal when it ends up
// empty). `folder_paths` keeps the strings the returned updates point at.
Expected<std::vector<git_tree_update>> folder_by_folder(TxState& s, std::vector<std::string>& folder_paths) {
  RepoPtr filtered;
  if (s.rs->filter) {
    auto made = filtered_tree_repo(*s.rs);
    if (!made) return std::unexpected(made.error());
    filtered = std::move(*made);
  }
  git_repository* repo = filtered ? filtered.get() : s.rs->repo.get();
  std::vector<git_tree_update> out;
  std::size_t folders = 0;
  for (auto it = s.updates.begin(); it != s.updates.end(); ++it)
    if (const auto f = second_level_folder(it->first); !f.empty() && (folders == 0 || folder_paths.back() != f)) {
      folder_paths.emplace_back(f);
      ++folders;
    }
  std::size_t next_folder = 0;
  std::vector<std::string> relative;
  std::vector<git_tree_update> inner;
  for (auto it = s.updates.begin(); it != s.updates.end();) {
    const std::string_view folder = second_level_folder(it->first);
    if (folder.empty()) {
      out.push_back(update_of(it->first, it->second));
      ++it;
      continue;
    }
    const std::string& name = folder_paths[next_folder++];
    relative.clear();
    inner.clear();
    auto end = it;
    for (; end != s.updates.end() && second_level_folder(end->first) == folder; ++end)
      relative.push_back(end->first.substr(folder.size() + 1));
    std::size_t k = 0;
    for (auto jt = it; jt != end; ++jt, ++k) inner.push_back(update_of(relative[k], jt->second));
    TreePtr baseline;
    if (s.base_tree) {
      auto entry = entry_at(s.base_tree.get(), name);
      if (!entry) return std::unexpected(entry.error());
      if (*entry && git_tree_entry_type((*entry)->get()) == GIT_OBJECT_TREE) {
        git_tree* raw = nullptr;
        if (int rc = git_tree_lookup(&raw, repo, git_tree_entry_id((*entry)->get())); rc < 0)
          return git_failure(rc, ErrorCode::git, "cannot read the tree of '{}'", name);
        baseline.reset(raw);
      }
    }
    git_oid folder_id;
    if (int rc = git_tree_create_updated(&folder_id, repo, baseline.get(), inner.size(), inner.data()); rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot build the tree of '{}'", name);
    git_tree* raw = nullptr;
    if (int rc = git_tree_lookup(&raw, repo, &folder_id); rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot read the new tree of '{}'", name);
    TreePtr folder_tree{raw};
    const bool empty = git_tree_entrycount(folder_tree.get()) == 0;
    git_tree_update u{};
    u.path = name.c_str();
    if (empty) {
      // Nothing left in the folder: it goes, as it would in one update from the root (never an empty tree).
      if (baseline) {
        u.action = GIT_TREE_UPDATE_REMOVE;
        out.push_back(u);
      }
    } else {
      u.action = GIT_TREE_UPDATE_UPSERT;
      u.id = folder_id;
      u.filemode = GIT_FILEMODE_TREE;
      out.push_back(u);
      if (auto ok = stage_new_trees(s, folder_tree.get(), folder_id, relative); !ok) return std::unexpected(ok.error());
    }
    // One pack per flush here, not one per core: a batch into a 7M-entry archive made ~20 packs of trees where
    // the commit's single write used to make 2, and every lookup that misses searches each pack. Measured on one
    // 100,000 chunk at 7.5M: +21 packs, 202 s with a pack per core; +6 packs, 194 s with one.
    if (s.staged_bytes >= k_flush_bytes)
      if (auto ok = flush_staged(s, 1); !ok) return std::unexpected(ok.error());
    it = end;
  }
  return out;
}

} // namespace

Expected<Oid> Transaction::commit(std::string_view message, const Signer& signer) {
  auto& s = *m_state;
  if (s.committed) return fail(ErrorCode::failed_precondition, "transaction already committed");
  if (has_nul(message)) return fail(ErrorCode::invalid_input, "invalid commit message: it contains a NUL byte");
  git_repository* repo = s.rs->repo.get();

  // 1. The tree: only the trees on the touched paths are rewritten. A large write touches tens of thousands of
  // fan-out folders (texts/ab/cd: FORMAT.md §5) whose new trees, built in one call, all waited in memory for the pack
  // of step 3 (a batch of 100,000 statements into 5.8M entries peaked at 924 MB, most of it those trees). So a large
  // write builds each second-level folder on its own and packs its new trees as they accumulate; the result is the
  // same tree.
  std::vector<std::string> folder_paths;
  std::vector<git_tree_update> updates;
  if (s.updates.size() >= k_folder_by_folder) {
    // Each folder's trees are read once here, so caching them only holds memory: libgit2's cache kept ~45 MB of
    // parsed leaf trees at the peak of a 100,000-statement batch.
    const ObjectCacheLimit small(k_tree_build_cache_bytes);
    auto grouped = folder_by_folder(s, folder_paths);
    if (!grouped) return std::unexpected(grouped.error());
    updates = std::move(*grouped);
  } else {
    updates.reserve(s.updates.size());
    for (const auto& [path, blob] : s.updates) updates.push_back(update_of(path, blob));
  }
  git_oid tree_id;
  if (int rc = git_tree_create_updated(&tree_id, repo, s.base_tree.get(), updates.size(), updates.data()); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot build the archive tree");
  git_tree* tree_raw = nullptr;
  if (int rc = git_tree_lookup(&tree_raw, repo, &tree_id); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot read the new archive tree");
  TreePtr tree{tree_raw};

  // 2. The commit object, signed when asked.
  git_signature* sig_raw = nullptr;
  if (int rc = git_signature_new(&sig_raw, "avow", "avow@localhost", static_cast<git_time_t>(s.time), 0); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot create the commit signature");
  SignaturePtr who{sig_raw};
  const git_commit* parents[1] = {s.base_commit.get()};
  std::string unsigned_commit;
  {
    // A large write's message holds a line per record: no copy of it outlives this block.
    const std::string msg(message);
    Buf buffer;
    if (int rc = git_commit_create_buffer(&buffer.buf, repo, who.get(), who.get(), nullptr, msg.c_str(), tree.get(),
                                          s.base_commit ? 1 : 0, s.base_commit ? parents : nullptr);
        rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot create the commit");
    unsigned_commit = buffer.str();
  }
  std::optional<std::string> signature;
  if (signer) {
    auto text = signer(unsigned_commit);
    if (!text) return std::unexpected(text.error());
    // libgit2 1.5 writes "\n " for every '\n' of the signature and then its own '\n': a trailing
    // newline would leave an extra " \n" line that stock git never writes.
    if (!text->empty() && text->back() == '\n') text->pop_back();
    if (text->empty()) return fail(ErrorCode::invalid_input, "cannot sign the commit: the signature is empty");
    if (has_nul(*text)) return fail(ErrorCode::invalid_input, "cannot sign the commit: the signature holds a NUL byte");
    signature = std::move(*text);
  }
  git_oid commit_id;
  if (int rc = git_commit_create_with_signature(&commit_id, repo, unsigned_commit.c_str(),
                                                signature ? signature->c_str() : nullptr, nullptr);
      rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot write the commit");
  std::string().swap(unsigned_commit); // in the mempack now

  // 3. All new objects (blobs, trees, the commit) go to disk as one pack. git_mempack_dump of
  // libgit2 1.5 packs the commit's whole tree (git_packbuilder_insert_commit is recursive), which
  // would make every write O(archive size); so the pack holds exactly the objects this write
  // created: the commit, the trees on the touched paths and the staged blobs, each only if it is in
  // the mempack (objects already on disk were never written to it).
  auto objects = new_objects(s, tree.get(), tree_id, commit_id);
  if (!objects) return std::unexpected(objects.error());
  if (auto ok = write_tracked_pack(s, *objects); !ok) return std::unexpected(ok.error());
  if (int rc = git_mempack_reset(s.rs->mempack); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot reset the in-memory object store");

  // 4. Compare-and-swap the branch: the one step that changes history.
  git_reference* ref_raw = nullptr;
  int rc = 0;
  s.discard_packs = false; // from here main may point at them
  if (s.base) {
    const git_oid expected = to_git(*s.base);
    rc = git_reference_create_matching(&ref_raw, repo, k_main_ref, &commit_id, 1, &expected, "avow: commit");
  } else {
    rc = git_reference_create(&ref_raw, repo, k_main_ref, &commit_id, 0, "avow: commit (initial)");
  }
  if (rc < 0) {
    if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ENOTFOUND || rc == GIT_ELOCKED) {
      git_error_clear();
      s.discard_packs = true; // main did not move
      return fail(ErrorCode::failed_precondition, "archive changed during the write (another writer?)");
    }
    // The rename may have happened and a later step failed (fsync of refs/heads): then say that the commit is in.
    const std::string why = git_message(rc);
    git_oid now{};
    if (git_reference_name_to_id(&now, repo, k_main_ref) == 0 && git_oid_equal(&now, &commit_id))
      return fail(ErrorCode::io, "cannot make {} durable: commit {} is in place, but a power failure may undo it: {}",
                  k_main_ref, from_git(commit_id).hex(), why);
    return fail(ErrorCode::git, "cannot move {}: {}", k_main_ref, why);
  }
  ReferencePtr ref{ref_raw};
  s.committed = true;
  s.release(); // the handle may start the next write

  // 5. Working tree and index, for the touched paths only. History is already final.
  std::vector<std::string> paths;
  std::vector<char*> path_ptrs;
  paths.reserve(s.updates.size());
  for (const auto& entry : s.updates) paths.push_back(entry.first);
  for (auto& p : paths) path_ptrs.push_back(p.data());
  if (!path_ptrs.empty() && git_repository_workdir(repo) != nullptr) {
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
    co.paths.strings = path_ptrs.data();
    co.paths.count = path_ptrs.size();
    co.baseline = s.base_tree.get();
    if (int crc = git_checkout_tree(repo, reinterpret_cast<const git_object*>(tree.get()), &co); crc < 0) {
      s.warnings.push_back(fmt::format("commit {} stands, but the working tree was not updated: {}",
                                       from_git(commit_id).hex(), git_message(crc)));
      git_error_clear();
    }
  }

  // 6. Keep the number of packs logarithmic. The merge drops packs that this handle may have
  // loaded, so the handle is reopened afterwards (no libgit2 object of it is alive here).
  ref.reset();
  tree.reset();
  s.base_tree.reset();
  s.base_commit.reset();
  auto merged = consolidate_packs(repo, s.rs->odb.get(), s.rs->git_dir);
  if (!merged) {
    s.warnings.push_back(fmt::format("commit {} stands, but packs were not consolidated: {}",
                                     from_git(commit_id).hex(), merged.error().message));
  } else if (*merged && !s.rs->tx_open) {
    if (auto ok = reopen_handle(*s.rs); !ok)
      s.warnings.push_back(fmt::format("cannot reopen the archive after consolidating packs: {}", ok.error().message));
  }
  return from_git(commit_id);
}

Expected<Transaction> GitStore::begin(std::uint64_t new_objects) {
  auto& rs = *m_repo;
  if (rs.tx_open) return fail(ErrorCode::failed_precondition, "a write is already in progress on this archive handle");
  std::unique_ptr<ObjectFilter> filter;
  if (new_objects > 0) {
    // Listed with this handle closed (ObjectFilter::of_repository lists each pack alone), then opened again: the one
    // libgit2 object of it alive here is its repository (the caller holds none, as for any reopen). Should opening
    // it again fail (the folder gone), the write fails and the next begin() tries again. Opening it anew is also what
    // makes object_exists() safe to trust: the odb's object cache starts empty.
    rs.mempack = nullptr;
    rs.odb.reset();
    rs.repo.reset();
    rs.reopen = true;
    auto listed = ObjectFilter::of_repository(rs.git_dir, new_objects);
    if (!listed) {
      (void)reopen_handle(rs); // the handle stays usable for reads after a listing that failed
      return std::unexpected(listed.error());
    }
    filter = std::make_unique<ObjectFilter>(std::move(*listed));
    release_freed_memory(); // the listing's pack indexes and id arrays, given back before the write grows
  }
  if (rs.reopen)
    if (auto ok = reopen_handle(rs); !ok) return std::unexpected(ok.error());
  if (!rs.mempack) {
    git_odb_backend* mempack = nullptr;
    if (int rc = git_mempack_new(&mempack); rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot create the in-memory object store");
    if (int rc = git_odb_add_backend(rs.odb.get(), mempack, k_mempack_priority); rc < 0) {
      mempack->free(mempack);
      return git_failure(rc, ErrorCode::git, "cannot attach the in-memory object store");
    }
    rs.mempack = mempack; // now owned by the odb
  }
  auto state = std::make_unique<TxState>();
  state->rs = m_repo;
  rs.tx_open = true; // from here on the TxState destructor resets the mempack and clears the flag
  state->holds_slot = true;
  rs.filter = std::move(filter); // dropped with the slot (TxState::release)
  if (int rc = git_mempack_reset(rs.mempack); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot reset the in-memory object store");
  auto tip = read_head(rs.repo.get());
  if (!tip) return std::unexpected(tip.error());
  state->base = *tip;
  if (state->base) {
    auto commit = lookup_commit(rs.repo.get(), *state->base);
    if (!commit) return std::unexpected(commit.error());
    git_tree* t = nullptr;
    if (int rc = git_commit_tree(&t, commit->get()); rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot read the tree of commit {}", state->base->hex());
    state->base_tree.reset(t);
    state->base_commit = std::move(*commit);
  }
  // Commit times never go backwards along main: a rotated log key is valid in keys/allowed_signers up to the rotation
  // commit's time and its successor from then on, and git checks a commit at its committer time.
  state->time = static_cast<std::int64_t>(std::time(nullptr));
  if (state->base_commit)
    state->time = std::max(state->time, static_cast<std::int64_t>(git_commit_time(state->base_commit.get())));
  return Transaction(std::move(state));
}

} // namespace avow::store
