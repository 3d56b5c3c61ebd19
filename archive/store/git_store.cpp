#include <archive/store/git_store.hpp>

#include <archive/store/git_internal.hpp>
#include <archive/util/bytes.hpp>
#include <archive/util/file.hpp>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <mutex>
#include <span>
#include <system_error>

namespace avow::store {

namespace fs = std::filesystem;
using namespace detail;

namespace {

// <git dir>/avow/libgit2.config, written by init() and added (app level) to the config of every
// handle that opens the archive. libgit2 1.5 takes its pack "big file threshold" from the key
// pack.deltaCacheSize (a mix-up in pack-objects.c), so a value of 1 turns off the delta search for
// the packs a write builds: distinct statements rarely delta against each other, and the search
// took most of a large batch's time. Stock git does not read this file; `git gc` still deltifies.
constexpr std::string_view k_libgit2_config =
    "# Read by avow's git library (libgit2) only; stock git does not read this file.\n"
    "# libgit2 1.5 takes its big-file threshold from pack.deltaCacheSize: 1 turns off the delta\n"
    "# search when avow packs a write (statements rarely delta against each other).\n"
    "[pack]\n"
    "\tdeltaCacheSize = 1\n";

// Strip a trailing '/' that libgit2 puts on folder paths.
fs::path folder_path(const char* s) {
  std::string text = s ? s : "";
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return fs::path(text);
}

} // namespace

namespace detail {

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// Check a slash-separated repository path: non-empty components, none "." / ".." / ".git" (any
// case), no NUL. A hostile caller must not be able to address the .git folder or escape the tree.
Expected<void> check_path(std::string_view path) {
  if (path.empty()) return fail(ErrorCode::invalid_input, "invalid archive path '': empty");
  if (has_nul(path)) return fail(ErrorCode::invalid_input, "invalid archive path: it contains a NUL byte");
  if (path.size() > 4096) return fail(ErrorCode::invalid_input, "invalid archive path: longer than 4096 bytes");
  std::size_t start = 0;
  while (true) {
    const std::size_t end = path.find('/', start);
    const std::string_view part = path.substr(start, end == std::string_view::npos ? path.npos : end - start);
    if (part.empty()) return fail(ErrorCode::invalid_input, "invalid archive path '{}': empty component", path);
    if (part == "." || part == "..")
      return fail(ErrorCode::invalid_input, "invalid archive path '{}': '.' or '..' component", path);
    std::string lower(part);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
    if (lower == ".git") return fail(ErrorCode::invalid_input, "invalid archive path '{}': '.git' component", path);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return {};
}

Expected<CommitPtr> lookup_commit(git_repository* repo, const Oid& id) {
  const git_oid oid = to_git(id);
  git_commit* raw = nullptr;
  if (int rc = git_commit_lookup(&raw, repo, &oid); rc < 0) {
    if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC)
      return git_failure(rc, ErrorCode::not_found, "commit {} not found", id.hex());
    return git_failure(rc, ErrorCode::git, "cannot read commit {}", id.hex());
  }
  return CommitPtr{raw};
}

// Return the entry at `path` in `tree`, nullopt when absent.
Expected<std::optional<TreeEntryPtr>> entry_at(git_tree* tree, std::string_view path) {
  const std::string p(path);
  git_tree_entry* raw = nullptr;
  if (int rc = git_tree_entry_bypath(&raw, tree, p.c_str()); rc < 0) {
    if (rc == GIT_ENOTFOUND) {
      git_error_clear();
      return std::optional<TreeEntryPtr>{};
    }
    return git_failure(rc, ErrorCode::git, "cannot look up '{}'", path);
  }
  return std::optional<TreeEntryPtr>{TreeEntryPtr{raw}};
}

bool is_blob_entry(const git_tree_entry* e) { return git_tree_entry_type(e) == GIT_OBJECT_BLOB; }

Expected<std::optional<Oid>> read_head(git_repository* repo) {
  git_reference* raw = nullptr;
  if (int rc = git_reference_lookup(&raw, repo, k_main_ref); rc < 0) {
    if (rc == GIT_ENOTFOUND) {
      git_error_clear();
      return std::optional<Oid>{};
    }
    return git_failure(rc, ErrorCode::git, "cannot read {}", k_main_ref);
  }
  ReferencePtr ref{raw};
  if (git_reference_type(ref.get()) != GIT_REFERENCE_DIRECT)
    return fail(ErrorCode::failed_precondition, "{} is a symbolic reference", k_main_ref);
  return std::optional<Oid>{from_git(*git_reference_target(ref.get()))};
}

Expected<RepoPtr> open_repo(const fs::path& dir) {
  git_repository* raw = nullptr;
  if (int rc = git_repository_open_ext(&raw, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr); rc < 0) {
    if (rc == GIT_ENOTFOUND)
      return git_failure(rc, ErrorCode::failed_precondition, "'{}' is not an avow archive", dir.string());
    return git_failure(rc, ErrorCode::failed_precondition, "'{}' is not an avow archive: cannot open it",
                       dir.string());
  }
  return RepoPtr{raw};
}

Expected<void> add_app_config(git_repository* repo, const fs::path& file) {
  if (!fs::exists(file)) return {};
  git_config* cfg = nullptr;
  if (int rc = git_repository_config(&cfg, repo); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot open the repository config");
  ConfigPtr cfg_ptr{cfg};
  if (int rc = git_config_add_file_ondisk(cfg, file.c_str(), GIT_CONFIG_LEVEL_APP, repo, 0); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot read '{}'", file.string());
  return {};
}

Expected<RepoPtr> open_avow_repo(const fs::path& dir) {
  auto repo = open_repo(dir);
  if (!repo) return std::unexpected(repo.error());
  const char* git_dir = git_repository_path(repo->get());
  if (auto ok = add_app_config(repo->get(), fs::path(git_dir) / "avow" / "libgit2.config"); !ok)
    return std::unexpected(ok.error());
  return repo;
}

Expected<OdbPtr> repo_odb(git_repository* repo) {
  git_odb* raw = nullptr;
  if (int rc = git_repository_odb(&raw, repo); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot open the object database");
  return OdbPtr{raw};
}

} // namespace detail

namespace {

Expected<TreePtr> commit_tree(git_repository* repo, const Oid& id) {
  auto commit = lookup_commit(repo, id);
  if (!commit) return std::unexpected(commit.error());
  git_tree* raw = nullptr;
  if (int rc = git_commit_tree(&raw, commit->get()); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot read the tree of commit {}", id.hex());
  return TreePtr{raw};
}

// Read the blob at `path` of `tree`; nullopt when absent or not a blob.
Expected<std::optional<std::string>> read_blob(git_repository* repo, git_tree* tree, std::string_view path) {
  if (auto ok = check_path(path); !ok) return std::unexpected(ok.error());
  auto entry = entry_at(tree, path);
  if (!entry) return std::unexpected(entry.error());
  if (!*entry || !is_blob_entry((*entry)->get())) return std::optional<std::string>{};
  git_blob* raw = nullptr;
  if (int rc = git_blob_lookup(&raw, repo, git_tree_entry_id((*entry)->get())); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot read blob '{}'", path);
  BlobPtr blob{raw};
  const auto size = static_cast<std::size_t>(git_blob_rawsize(blob.get()));
  return std::optional<std::string>{std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())), size)};
}

Expected<ConfigPtr> local_config(git_repository* repo) {
  git_config* all = nullptr;
  if (int rc = git_repository_config(&all, repo); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot open the repository config");
  ConfigPtr all_ptr{all};
  git_config* local = nullptr;
  if (int rc = git_config_open_level(&local, all, GIT_CONFIG_LEVEL_LOCAL); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot open the local repository config");
  return ConfigPtr{local};
}

} // namespace

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------

std::string Oid::hex() const { return to_hex(ByteView(bytes.data(), bytes.size())); }

Expected<Oid> Oid::from_hex(std::string_view hex) {
  if (hex.size() != 40) return fail(ErrorCode::invalid_input, "invalid object id '{}': not 40 hex digits", hex);
  auto bytes = avow::from_hex(hex);
  if (!bytes) return fail(ErrorCode::invalid_input, "invalid object id '{}': not 40 hex digits", hex);
  Oid out;
  std::copy(bytes->begin(), bytes->end(), out.bytes.begin());
  return out;
}

namespace {
std::once_flag g_libgit2_options;
} // namespace

LibGit2Session::LibGit2Session() {
  git_libgit2_init();
  // Set once per process, so that ObjectCacheLimit's setting holds while stores are opened under it.
  std::call_once(g_libgit2_options, [] {
    // Packs, indexes and refs are fsynced, so a crash after the ref moved cannot lose the objects.
    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
    // Keep parsed trees in libgit2's object cache whatever their size: texts/ and its fan-out folders hold up to 256
    // entries (over the default 4 KiB limit), and every path lookup walks them, so without this each read of a text
    // inflated the same trees again.
    git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, static_cast<size_t>(1) << 20);
    // Memory that stays flat as an archive grows (issue 11): by default libgit2 maps packs in 1 GiB windows up to
    // 8 GiB and caches up to 256 MiB of parsed objects in each repository, so reading every object of a large archive
    // (verify, reindex) held most of its packs in memory. Windows are recycled least recently used first.
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, static_cast<size_t>(16) << 20);
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, k_mapped_pack_bytes);
    git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, static_cast<ssize_t>(k_object_cache_bytes));
  });
}
LibGit2Session::LibGit2Session(const LibGit2Session&) : LibGit2Session() {}
LibGit2Session::LibGit2Session(LibGit2Session&&) noexcept : LibGit2Session() {}
LibGit2Session::~LibGit2Session() { git_libgit2_shutdown(); }

ObjectCacheLimit::ObjectCacheLimit(std::size_t bytes) {
  git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, static_cast<ssize_t>(bytes));
}
ObjectCacheLimit::~ObjectCacheLimit() {
  git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, static_cast<ssize_t>(k_object_cache_bytes));
}

MappedPackLimit::MappedPackLimit(std::size_t bytes) {
  git_libgit2_opts(GIT_OPT_GET_MWINDOW_MAPPED_LIMIT, &m_previous);
  git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, bytes);
}
MappedPackLimit::~MappedPackLimit() { git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, m_previous); }

SkipObjectHashCheck::SkipObjectHashCheck() { git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0); }
SkipObjectHashCheck::~SkipObjectHashCheck() { git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1); }

// ---------------------------------------------------------------------------------------------

GitStore::GitStore() : m_repo(std::make_shared<RepoState>()) {}
GitStore::GitStore(GitStore&&) noexcept = default;
GitStore& GitStore::operator=(GitStore&&) noexcept = default;
GitStore::~GitStore() = default;

Expected<GitStore> GitStore::init(const fs::path& dir, Worktree worktree) {
  LibGit2Session session;
  std::error_code ec;
  const auto status = fs::status(dir, ec);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) return fail(ErrorCode::already_exists, "'{}' exists and is not a folder", dir.string());
    git_repository* probe = nullptr;
    if (git_repository_open_ext(&probe, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) == 0) {
      git_repository_free(probe);
      return fail(ErrorCode::already_exists, "'{}' is already a git repository", dir.string());
    }
    git_error_clear();
    const bool empty = fs::is_empty(dir, ec);
    if (ec) return fail(ErrorCode::io, "cannot read folder '{}': {}", dir.string(), ec.message());
    if (!empty) return fail(ErrorCode::already_exists, "'{}' is not empty", dir.string());
  }
  git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  opts.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
  opts.initial_head = "main";
  const fs::path init_path = worktree == Worktree::yes ? dir : dir / ".git";
  if (worktree == Worktree::no) opts.flags |= GIT_REPOSITORY_INIT_BARE;
  git_repository* raw = nullptr;
  if (int rc = git_repository_init_ext(&raw, init_path.c_str(), &opts); rc < 0) {
    if (rc == GIT_EEXISTS) return git_failure(rc, ErrorCode::already_exists, "cannot create archive '{}'", dir.string());
    return git_failure(rc, ErrorCode::git, "cannot create archive '{}'", dir.string());
  }
  RepoPtr repo{raw};
  {
    // The working tree shows the stored bytes, whatever the user's global line-ending settings.
    auto cfg = local_config(repo.get());
    if (!cfg) return std::unexpected(cfg.error());
    if (int rc = git_config_set_bool(cfg->get(), "core.autocrlf", 0); rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot configure archive '{}'", dir.string());
  }
  {
    // Settings only libgit2 reads (stock git never reads this file); see k_libgit2_config.
    const fs::path avow_dir = fs::path(folder_path(git_repository_path(repo.get()))) / "avow";
    fs::create_directories(avow_dir, ec);
    if (ec) return fail(ErrorCode::io, "cannot create '{}': {}", avow_dir.string(), ec.message());
    if (auto ok = write_file_atomic(avow_dir / "libgit2.config", k_libgit2_config, FileMode::public_0644, Overwrite::yes);
        !ok)
      return std::unexpected(ok.error());
  }
  repo.reset();
  return open(dir);
}

Expected<GitStore> GitStore::open(const fs::path& dir) {
  GitStore store;
  auto repo = open_avow_repo(dir);
  if (!repo) return std::unexpected(repo.error());
  auto& st = *store.m_repo;
  st.repo = std::move(*repo);
  auto odb = repo_odb(st.repo.get());
  if (!odb) return std::unexpected(odb.error());
  st.odb = std::move(*odb);
  const char* work = git_repository_workdir(st.repo.get());
  st.workdir = work ? folder_path(work) : folder_path(fs::absolute(dir).lexically_normal().c_str());
  st.git_dir = folder_path(git_repository_path(st.repo.get()));
  return store;
}

fs::path GitStore::workdir() const { return m_repo->workdir; }
fs::path GitStore::git_dir() const { return m_repo->git_dir; }

Expected<std::optional<Oid>> GitStore::head() const { return read_head(m_repo->repo.get()); }

Expected<std::optional<std::string>> GitStore::read_if_exists(const Oid& commit, std::string_view path) const {
  if (auto ok = check_path(path); !ok) return std::unexpected(ok.error());
  auto tree = commit_tree(m_repo->repo.get(), commit);
  if (!tree) return std::unexpected(tree.error());
  return read_blob(m_repo->repo.get(), tree->get(), path);
}

Expected<std::string> GitStore::read(const Oid& commit, std::string_view path) const {
  auto blob = read_if_exists(commit, path);
  if (!blob) return std::unexpected(blob.error());
  if (!*blob) return fail(ErrorCode::not_found, "'{}' not found in commit {}", path, commit.hex());
  return std::move(**blob);
}

Expected<std::vector<std::string>> GitStore::read_many(const Oid& commit, std::span<const std::string> paths) const {
  auto tree = commit_tree(m_repo->repo.get(), commit);
  if (!tree) return std::unexpected(tree.error());
  std::vector<std::string> out;
  out.reserve(paths.size());
  for (const auto& path : paths) {
    auto blob = read_blob(m_repo->repo.get(), tree->get(), path);
    if (!blob) return std::unexpected(blob.error());
    if (!*blob) return fail(ErrorCode::not_found, "'{}' not found in commit {}", path, commit.hex());
    out.push_back(std::move(**blob));
  }
  return out;
}

Expected<RepackReport> GitStore::repack(const RepackOptions& options) {
  if (m_repo->tx_open) return fail(ErrorCode::failed_precondition, "a write is in progress on this archive handle");
  auto report = detail::repack_packs(m_repo->git_dir, options);
  // Packs this handle may have loaded are gone (even after a failure part way).
  if (auto ok = detail::reopen_handle(*m_repo); !ok) return std::unexpected(ok.error());
  return report;
}

Expected<bool> GitStore::exists(const Oid& commit, std::string_view path) const {
  if (auto ok = check_path(path); !ok) return std::unexpected(ok.error());
  auto tree = commit_tree(m_repo->repo.get(), commit);
  if (!tree) return std::unexpected(tree.error());
  auto entry = entry_at(tree->get(), path);
  if (!entry) return std::unexpected(entry.error());
  return *entry && is_blob_entry((*entry)->get());
}

Expected<bool> GitStore::exists(const Oid& commit, std::string_view path, std::string_view content) const {
  if (auto ok = check_path(path); !ok) return std::unexpected(ok.error());
  git_oid oid;
  if (int rc = git_odb_hash(&oid, content.data(), content.size(), GIT_OBJECT_BLOB); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot hash '{}'", path);
  if (!detail::object_exists(*m_repo, oid)) return false;
  return exists(commit, path);
}

Expected<std::string> GitStore::read_object(const Oid& id) const {
  const git_oid oid = to_git(id);
  git_odb_object* raw = nullptr;
  if (int rc = git_odb_read(&raw, m_repo->odb.get(), &oid); rc < 0) {
    if (rc == GIT_ENOTFOUND) return git_failure(rc, ErrorCode::not_found, "object {} not found", id.hex());
    return git_failure(rc, ErrorCode::git, "cannot read object {}", id.hex());
  }
  OdbObjectPtr obj{raw};
  if (git_odb_object_type(obj.get()) != GIT_OBJECT_BLOB)
    return fail(ErrorCode::not_found, "object {} is not a blob", id.hex());
  return std::string(static_cast<const char*>(git_odb_object_data(obj.get())), git_odb_object_size(obj.get()));
}

Expected<std::uint64_t> GitStore::blob_size(const Oid& id) const {
  const git_oid oid = to_git(id);
  std::size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  if (int rc = git_odb_read_header(&size, &type, m_repo->odb.get(), &oid); rc < 0) {
    if (rc == GIT_ENOTFOUND) return git_failure(rc, ErrorCode::not_found, "object {} not found", id.hex());
    return git_failure(rc, ErrorCode::git, "cannot read object {}", id.hex());
  }
  if (type != GIT_OBJECT_BLOB) return fail(ErrorCode::not_found, "object {} is not a blob", id.hex());
  return std::uint64_t{size};
}

Expected<CommitInfo> GitStore::commit_info(const Oid& id) const {
  auto commit = lookup_commit(m_repo->repo.get(), id);
  if (!commit) return std::unexpected(commit.error());
  git_commit* c = commit->get();
  CommitInfo info;
  info.id = id;
  const unsigned n = git_commit_parentcount(c);
  for (unsigned i = 0; i < n; ++i) info.parents.push_back(from_git(*git_commit_parent_id(c, i)));
  info.tree = from_git(*git_commit_tree_id(c));
  const char* message = git_commit_message_raw(c);
  info.message = message ? message : "";
  const char* header = git_commit_raw_header(c);
  info.raw_header = header ? header : "";
  info.commit_time = static_cast<std::int64_t>(git_commit_time(c));
  const git_oid oid = to_git(id);
  git_odb_object* raw = nullptr;
  if (int rc = git_odb_read(&raw, m_repo->odb.get(), &oid); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot read commit {}", id.hex());
  OdbObjectPtr obj{raw};
  info.raw.assign(static_cast<const char*>(git_odb_object_data(obj.get())), git_odb_object_size(obj.get()));
  return info;
}

Expected<void> GitStore::for_each_commit(const std::function<Expected<void>(const CommitInfo&)>& fn) const {
  auto tip = head();
  if (!tip) return std::unexpected(tip.error());
  if (!*tip) return {};
  return for_each_commit_from(**tip, fn);
}

Expected<void> GitStore::for_each_commit_from(const Oid& tip,
                                              const std::function<Expected<void>(const CommitInfo&)>& fn) const {
  std::vector<Oid> chain;
  std::optional<Oid> at = tip;
  while (at) {
    chain.push_back(*at);
    auto commit = lookup_commit(m_repo->repo.get(), *at);
    if (!commit) return std::unexpected(commit.error());
    if (git_commit_parentcount(commit->get()) == 0)
      at.reset();
    else
      at = from_git(*git_commit_parent_id(commit->get(), 0));
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    auto info = commit_info(*it);
    if (!info) return std::unexpected(info.error());
    if (auto ok = fn(*info); !ok) return ok;
  }
  return {};
}

namespace {

enum class Kind { tree, blob, symlink, gitlink };
Kind kind_of(git_filemode_t mode) {
  switch (mode) {
  case GIT_FILEMODE_TREE: return Kind::tree;
  case GIT_FILEMODE_LINK: return Kind::symlink;
  case GIT_FILEMODE_COMMIT: return Kind::gitlink;
  default: return Kind::blob;
  }
}

// Add every non-tree entry under `tree` (at `prefix`) to `out` as `change`.
Expected<void> all_below(git_repository* repo, const git_tree* tree, const std::string& prefix, ChangeKind change,
                         std::vector<Change>& out, bool with_added = true) {
  for (std::size_t i = 0; i < git_tree_entrycount(tree); ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(tree, i);
    const std::string path = prefix + git_tree_entry_name(e);
    if (kind_of(git_tree_entry_filemode(e)) != Kind::tree) {
      out.push_back({change, path});
      continue;
    }
    git_tree* raw = nullptr;
    if (int rc = git_tree_lookup(&raw, repo, git_tree_entry_id(e)); rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot read tree '{}'", path);
    TreePtr sub{raw};
    if (auto ok = all_below(repo, sub.get(), path + "/", change, out, with_added); !ok) return ok;
  }
  return {};
}

// Compare two trees entry by entry, descending only into subtrees whose ids differ: the work follows the change,
// not the size of the trees (libgit2's tree-to-tree diff iterates every file of both). Each side's entries are found
// in the other by name (libgit2's binary search), so a batch commit, which changes every leaf folder of texts/,
// costs no allocation an entry; a path is only built for a change or a folder to descend into.
Expected<void> diff_trees(git_repository* repo, const git_tree* a, const git_tree* b, const std::string& prefix,
                          std::vector<Change>& out, bool with_added = true) {
  const auto subtree = [&](const git_tree_entry* e, const std::string& path) -> Expected<TreePtr> {
    git_tree* raw = nullptr;
    if (int rc = git_tree_lookup(&raw, repo, git_tree_entry_id(e)); rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot read tree '{}'", path);
    return TreePtr{raw};
  };
  // One side's entry `e` at `path` appears or disappears as `change`.
  const auto one_side = [&](const git_tree_entry* e, const std::string& path, ChangeKind change) -> Expected<void> {
    if (change == ChangeKind::added && !with_added) return {}; // nothing below a new entry is anything but added
    if (kind_of(git_tree_entry_filemode(e)) != Kind::tree) {
      out.push_back({change, path});
      return {};
    }
    auto t = subtree(e, path);
    if (!t) return std::unexpected(t.error());
    return all_below(repo, t->get(), path + "/", change, out);
  };
  if (a)
    for (std::size_t i = 0; i < git_tree_entrycount(a); ++i) {
      const git_tree_entry* o = git_tree_entry_byindex(a, i);
      if (git_tree_entry_byname(b, git_tree_entry_name(o)) == nullptr)
        if (auto ok = one_side(o, prefix + git_tree_entry_name(o), ChangeKind::deleted); !ok) return ok;
    }
  // The folders in both trees whose ids differ, compared once every old then every new one is read: the reads of
  // each side then follow one another in the packs (trees lie in path order there), not alternate between the two
  // commits' packs, each read searching the other's pack first and each switch mapping a window of its pack again.
  std::vector<std::pair<const git_tree_entry*, const git_tree_entry*>> folders;
  for (std::size_t i = 0; i < git_tree_entrycount(b); ++i) {
    const git_tree_entry* n = git_tree_entry_byindex(b, i);
    const git_tree_entry* o = a ? git_tree_entry_byname(a, git_tree_entry_name(n)) : nullptr;
    if (o == nullptr) {
      if (!with_added) continue;
      if (auto ok = one_side(n, prefix + git_tree_entry_name(n), ChangeKind::added); !ok) return ok;
      continue;
    }
    if (git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(n)) &&
        git_tree_entry_filemode(o) == git_tree_entry_filemode(n))
      continue;
    const std::string path = prefix + git_tree_entry_name(n);
    const Kind ko = kind_of(git_tree_entry_filemode(o));
    const Kind kn = kind_of(git_tree_entry_filemode(n));
    if (ko == Kind::tree && kn == Kind::tree) {
      folders.emplace_back(o, n);
    } else if (ko == Kind::tree || kn == Kind::tree) {
      // A blob that becomes a folder (or the reverse) is a deletion plus additions.
      if (auto ok = one_side(o, path, ChangeKind::deleted); !ok) return ok;
      if (auto ok = one_side(n, path, ChangeKind::added); !ok) return ok;
    } else {
      out.push_back({ko == kn ? ChangeKind::modified : ChangeKind::type_changed, path});
    }
  }
  // A group at a time, so that a hostile folder of millions of changed subfolders is not all held at once.
  constexpr std::size_t k_group = 1024;
  std::vector<TreePtr> olds;
  std::vector<TreePtr> news;
  for (std::size_t from = 0; from < folders.size(); from += k_group) {
    const auto group = std::span(folders).subspan(from, std::min(k_group, folders.size() - from));
    // Every old tree of the group, or every new one, into `trees`.
    const auto read_side = [&](bool old_side, std::vector<TreePtr>& trees) -> Expected<void> {
      trees.clear();
      for (const auto& [o, n] : group) {
        const git_tree_entry* e = old_side ? o : n;
        auto t = subtree(e, prefix + git_tree_entry_name(e));
        if (!t) return std::unexpected(t.error());
        trees.push_back(std::move(*t));
      }
      return {};
    };
    if (auto ok = read_side(true, olds); !ok) return ok;
    if (auto ok = read_side(false, news); !ok) return ok;
    for (std::size_t i = 0; i < group.size(); ++i) {
      const std::string path = prefix + git_tree_entry_name(group[i].second) + "/";
      if (auto ok = diff_trees(repo, olds[i].get(), news[i].get(), path, out, with_added); !ok) return ok;
    }
  }
  return {};
}

} // namespace

Expected<std::vector<Change>> GitStore::diff(const std::optional<Oid>& parent, const Oid& commit) const {
  return diff_impl(parent, commit, true);
}

Expected<std::vector<Change>> GitStore::diff_except_added(const std::optional<Oid>& parent, const Oid& commit) const {
  return diff_impl(parent, commit, false);
}

Expected<std::vector<Change>> GitStore::diff_impl(const std::optional<Oid>& parent, const Oid& commit,
                                                  bool with_added) const {
  git_repository* repo = m_repo->repo.get();
  TreePtr old_tree;
  if (parent) {
    auto t = commit_tree(repo, *parent);
    if (!t) return std::unexpected(t.error());
    old_tree = std::move(*t);
  }
  auto new_tree = commit_tree(repo, commit);
  if (!new_tree) return std::unexpected(new_tree.error());
  std::vector<Change> out;
  if (auto ok = diff_trees(repo, old_tree.get(), new_tree->get(), "", out, with_added); !ok)
    return std::unexpected(ok.error());
  std::stable_sort(out.begin(), out.end(), [](const Change& a, const Change& b) { return a.path < b.path; });
  return out;
}

namespace {

struct WalkState {
  git_odb* odb;
  std::string prefix; // "" or "dir/"
  const std::function<Expected<void>(TreeEntry&&)>* fn;
  std::optional<Error> error;
};

Expected<std::optional<EntryKind>> entry_kind(const git_tree_entry* e) {
  switch (git_tree_entry_filemode(e)) {
  case GIT_FILEMODE_BLOB: return std::optional<EntryKind>{EntryKind::blob};
  case GIT_FILEMODE_BLOB_EXECUTABLE: return std::optional<EntryKind>{EntryKind::executable};
  case GIT_FILEMODE_LINK: return std::optional<EntryKind>{EntryKind::symlink};
  case GIT_FILEMODE_COMMIT: return std::optional<EntryKind>{EntryKind::gitlink};
  case GIT_FILEMODE_TREE: return std::optional<EntryKind>{};
  default: break;
  }
  // Older git wrote 100664 and friends; libgit2 normalises them, so this is a corrupt entry.
  return fail(ErrorCode::git, "tree entry '{}' has an unknown mode {:o}", git_tree_entry_name(e),
              static_cast<unsigned>(git_tree_entry_filemode_raw(e)));
}

Expected<TreeEntry> make_entry(git_odb* odb, std::string path, const git_tree_entry* e, EntryKind kind) {
  TreeEntry out{std::move(path), kind, 0, from_git(*git_tree_entry_id(e))};
  if (kind != EntryKind::gitlink && odb) { // no odb: the size is not wanted
    std::size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (int rc = git_odb_read_header(&size, &type, odb, git_tree_entry_id(e)); rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot read blob '{}'", out.path);
    out.size = size;
  }
  return out;
}

int walk_cb(const char* root, const git_tree_entry* entry, void* payload) {
  auto* st = static_cast<WalkState*>(payload);
  auto kind = entry_kind(entry);
  if (!kind) {
    st->error = kind.error();
    return -1;
  }
  if (!*kind) return 0; // a folder: the walk descends into it
  auto e = make_entry(st->odb, st->prefix + root + git_tree_entry_name(entry), entry, **kind);
  if (!e) {
    st->error = e.error();
    return -1;
  }
  if (auto ok = (*st->fn)(std::move(*e)); !ok) {
    st->error = ok.error();
    return -1;
  }
  return 0;
}

} // namespace

Expected<std::vector<TreeEntry>> GitStore::list_entries(const Oid& commit, std::string_view prefix) const {
  std::vector<TreeEntry> out;
  auto walked = for_each_entry(commit, prefix, [&](TreeEntry&& e) -> Expected<void> {
    out.push_back(std::move(e));
    return {};
  });
  if (!walked) return std::unexpected(walked.error());
  return out;
}

Expected<void> GitStore::for_each_entry(const Oid& commit, std::string_view prefix,
                                        const std::function<Expected<void>(TreeEntry&&)>& fn, Sizes sizes) const {
  git_odb* odb = sizes == Sizes::read ? m_repo->odb.get() : nullptr;
  git_repository* repo = m_repo->repo.get();
  std::string folder(prefix);
  while (!folder.empty() && folder.back() == '/') folder.pop_back();
  if (!folder.empty()) {
    if (auto ok = check_path(folder); !ok) return std::unexpected(ok.error());
  }
  auto root = commit_tree(repo, commit);
  if (!root) return std::unexpected(root.error());
  TreePtr sub;
  git_tree* walk_root = root->get();
  if (!folder.empty()) {
    auto entry = entry_at(root->get(), folder);
    if (!entry) return std::unexpected(entry.error());
    if (!*entry) return {};
    const git_tree_entry* e = (*entry)->get();
    auto kind = entry_kind(e);
    if (!kind) return std::unexpected(kind.error());
    if (*kind) {
      auto one = make_entry(odb, folder, e, **kind);
      if (!one) return std::unexpected(one.error());
      return fn(std::move(*one));
    }
    git_tree* t = nullptr;
    if (int rc = git_tree_lookup(&t, repo, git_tree_entry_id(e)); rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot read folder '{}'", folder);
    sub.reset(t);
    walk_root = t;
  }
  WalkState st{odb, folder.empty() ? std::string() : folder + "/", &fn, std::nullopt};
  if (int rc = git_tree_walk(walk_root, GIT_TREEWALK_PRE, walk_cb, &st); rc < 0) {
    if (st.error) return std::unexpected(*st.error);
    return git_failure(rc, ErrorCode::git, "cannot list '{}' in commit {}", folder, commit.hex());
  }
  return {};
}

Expected<std::vector<std::pair<std::string, std::uint64_t>>> GitStore::list(const Oid& commit,
                                                                            std::string_view prefix) const {
  auto entries = list_entries(commit, prefix);
  if (!entries) return std::unexpected(entries.error());
  std::vector<std::pair<std::string, std::uint64_t>> out;
  out.reserve(entries->size());
  for (auto& e : *entries)
    if (e.kind != EntryKind::gitlink) out.emplace_back(std::move(e.path), e.size);
  return out;
}

Expected<std::optional<std::string>> GitStore::config_get(std::string_view name) const {
  if (has_nul(name)) return fail(ErrorCode::invalid_input, "invalid config key: it contains a NUL byte");
  auto cfg = local_config(m_repo->repo.get());
  if (!cfg) return std::unexpected(cfg.error());
  const std::string key(name);
  Buf value;
  if (int rc = git_config_get_string_buf(&value.buf, cfg->get(), key.c_str()); rc < 0) {
    if (rc == GIT_ENOTFOUND) {
      git_error_clear();
      return std::optional<std::string>{};
    }
    if (rc == GIT_EINVALIDSPEC) return git_failure(rc, ErrorCode::invalid_input, "invalid config key '{}'", name);
    return git_failure(rc, ErrorCode::git, "cannot read config key '{}'", name);
  }
  return std::optional<std::string>{value.str()};
}

Expected<void> GitStore::config_set(std::string_view name, std::string_view value) {
  if (has_nul(name) || has_nul(value))
    return fail(ErrorCode::invalid_input, "invalid config entry: it contains a NUL byte");
  auto cfg = local_config(m_repo->repo.get());
  if (!cfg) return std::unexpected(cfg.error());
  const std::string key(name);
  const std::string val(value);
  if (int rc = git_config_set_string(cfg->get(), key.c_str(), val.c_str()); rc < 0) {
    if (rc == GIT_EINVALIDSPEC) return git_failure(rc, ErrorCode::invalid_input, "invalid config key '{}'", name);
    return git_failure(rc, ErrorCode::git, "cannot write config key '{}'", name);
  }
  return {};
}
} // namespace avow::store
