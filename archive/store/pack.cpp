// The pack writer: one pack per write, and the geometric merging of small packs (libgit2's packbuilder and
// indexer; no pack code of our own).

#include <archive/store/git_internal.hpp>

#include <archive/util/bytes.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>

#include <unistd.h>

namespace avow::store::detail {

namespace fs = std::filesystem;

namespace {

struct WritepackFree {
  void operator()(git_odb_writepack* w) const noexcept { w->free(w); }
};
using WritepackPtr = std::unique_ptr<git_odb_writepack, WritepackFree>;

// git_packbuilder_foreach callback: pass the pack to an indexer or an odb writepack as it is made, in pieces of up to
// k_piece bytes. The packbuilder writes tiny pieces (an object header, then zlib chunks), and the indexer unmaps its
// pack windows on every append: one call per piece spent most of a large write in munmap. Memory stays bounded: one
// piece per pack being written (they were 4 MiB; 1 MiB lowered a batch's peak by 11 MiB at the same speed).
constexpr std::size_t k_piece = 1u << 20;
template <class Append> struct PackSink {
  Append append;                   // int(const char* data, size_t size)
  std::string pending;
  static int collect(void* buf, size_t size, void* payload) {
    auto* self = static_cast<PackSink*>(payload);
    self->pending.append(static_cast<const char*>(buf), size);
    return self->pending.size() >= k_piece ? self->flush() : 0;
  }
  int flush() {
    if (pending.empty()) return 0;
    const int rc = append(pending.data(), pending.size());
    pending.clear();
    return rc;
  }
};
template <class Append> PackSink<Append> pack_sink(Append append) {
  PackSink<Append> sink{std::move(append), {}};
  sink.pending.reserve(k_piece + 64 * 1024);
  return sink;
}

struct PackFile {
  fs::path base; // objects/pack/pack-<hash> without extension
  std::uint32_t count = 0;
};

// Read the object ids of a version 2 pack index (objects/pack/*.idx).
Expected<std::vector<git_oid>> read_idx_oids(const fs::path& idx, std::uint32_t* count_only) {
  std::ifstream in(idx, std::ios::binary);
  if (!in) return fail(ErrorCode::io, "cannot read pack index '{}'", idx.string());
  unsigned char head[8 + 256 * 4];
  if (!in.read(reinterpret_cast<char*>(head), sizeof head))
    return fail(ErrorCode::git, "pack index '{}' is truncated", idx.string());
  static const unsigned char k_magic[8] = {0xff, 't', 'O', 'c', 0, 0, 0, 2};
  if (std::memcmp(head, k_magic, sizeof k_magic) != 0)
    return fail(ErrorCode::git, "pack index '{}' is not version 2", idx.string());
  const unsigned char* last = head + 8 + 255 * 4;
  const std::uint32_t n = (std::uint32_t{last[0]} << 24) | (std::uint32_t{last[1]} << 16) |
                          (std::uint32_t{last[2]} << 8) | std::uint32_t{last[3]};
  if (count_only) {
    *count_only = n;
    return std::vector<git_oid>{};
  }
  std::vector<git_oid> out(n);
  for (auto& oid : out)
    if (!in.read(reinterpret_cast<char*>(oid.id), GIT_OID_RAWSZ))
      return fail(ErrorCode::git, "pack index '{}' is truncated", idx.string());
  return out;
}

// Choose the packs to roll up so that the rest form a geometric progression (factor 2) by object
// count, as `git repack --geometric=2` does: each object is rewritten O(log n) times in all, and the
// number of packs stays O(log n), so appending does not slow down as the archive grows.
std::vector<PackFile> packs_to_merge(std::vector<PackFile> packs) {
  std::sort(packs.begin(), packs.end(), [](const PackFile& a, const PackFile& b) {
    return a.count != b.count ? a.count < b.count : a.base < b.base;
  });
  std::size_t split = 0; // packs[0, split) are merged
  for (std::size_t i = 1; i < packs.size(); ++i)
    if (std::uint64_t{packs[i - 1].count} * 2 > packs[i].count) split = i + 1;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < split; ++i) total += packs[i].count;
  while (split > 0 && split < packs.size() && total * 2 > packs[split].count) total += packs[split++].count;
  if (split < 2) return {};
  packs.resize(split);
  return packs;
}

constexpr std::size_t k_min_packs_to_consolidate = 8;
// A pack of this many objects or more is settled: never merged again. The merge reads, delta-searches and rewrites
// every object of the packs it merges, inside an append, so merging the packs of a large archive took a minute and
// over 600 MB (1,000,000 entries: 456,000 objects). Settled packs add one pack per this many objects written (one
// per ~2,000 single appends, or per large batch); reads look an object up in each pack's index.
constexpr std::uint32_t k_settled_pack_objects = 32768;
// Or of this many bytes: a batch of long texts writes few objects in large packs (the 14,167 statements of the corpus
// are two packs of 20,000 objects and 12 MB, one per core), and merging them with delta search took 4.7 s inside the
// next single append.
constexpr std::uintmax_t k_settled_pack_bytes = 8u << 20;

bool oid_less(const git_oid& a, const git_oid& b) { return git_oid_cmp(&a, &b) < 0; }

// The name the delta search sorts an object by (libgit2 hashes its last 16 characters): its path, with the ".p/<W>"
// of a partial tile or bundle cut off, so that every version of `log/tile/entries/002` (the partials 002.p/1 .. 255
// written one per append, and the full bundle) sorts together, largest first. Each partial is then a prefix of the
// one before it and packs as a delta of a few bytes: without it, N single appends stored N bundles of up to 256
// entries each, whole (35x the archive's text on disk).
std::string delta_name(std::string path) {
  if (const auto p = path.rfind(".p/"); p != std::string::npos && path.find('/', p + 3) == std::string::npos)
    path.resize(p);
  return path;
}

// The commits among `set` (sorted), newest first, the order git packs in: each run of commits that are parent and
// child inside the set from its newest back, the runs by their newest commit's time (newest first), then any commit
// no run reaches (a second parent) by id. The delta search sorts objects by name and size only, and keeps the order
// they were inserted in among equals; a folder whose size stops changing (`texts` at 256 subfolders, in every commit
// of an archive of a few thousand texts) then has its versions next to each other in the window, each a delta of a
// few dozen bytes against the next. Taken in id order, as before, the neighbours were unrelated versions and most
// were stored whole: 20.9 of the 54 MB of 10,000 single appends of the corpus (bench/README.md, session 9).
struct MergedCommit {
  git_oid id{};
  git_oid tree{};
  git_oid parent{};
  bool has_parent = false;
  git_time_t time = 0;
  bool taken = false;
};

Expected<std::vector<MergedCommit>> commits_newest_first(git_repository* repo, git_odb* odb,
                                                         const std::vector<git_oid>& set) {
  const auto fail_git = [](int rc) { return git_failure(rc, ErrorCode::git, "cannot merge packs"); };
  std::vector<MergedCommit> commits; // in id order, as `set`
  for (const auto& id : set) {
    std::size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (int rc = git_odb_read_header(&size, &type, odb, &id); rc < 0) return fail_git(rc);
    if (type != GIT_OBJECT_COMMIT) continue;
    git_commit* commit_raw = nullptr;
    if (int rc = git_commit_lookup(&commit_raw, repo, &id); rc < 0) return fail_git(rc);
    std::unique_ptr<git_commit, CFree<&git_commit_free>> commit{commit_raw};
    MergedCommit c;
    c.id = id;
    c.tree = *git_commit_tree_id(commit.get());
    if (git_commit_parentcount(commit.get()) > 0) {
      c.parent = *git_commit_parent_id(commit.get(), 0);
      c.has_parent = true;
    }
    c.time = git_commit_time(commit.get());
    commits.push_back(c);
  }
  const auto find = [&](const git_oid& id) -> MergedCommit* {
    const auto it = std::lower_bound(commits.begin(), commits.end(), id,
                                     [](const MergedCommit& c, const git_oid& k) { return oid_less(c.id, k); });
    return it != commits.end() && git_oid_equal(&it->id, &id) ? &*it : nullptr;
  };
  std::vector<git_oid> parents;
  for (const auto& c : commits)
    if (c.has_parent) parents.push_back(c.parent);
  std::sort(parents.begin(), parents.end(), oid_less);
  std::vector<MergedCommit*> heads; // commits of the set that no commit of the set has as its parent
  for (auto& c : commits)
    if (!std::binary_search(parents.begin(), parents.end(), c.id, oid_less)) heads.push_back(&c);
  std::sort(heads.begin(), heads.end(), [](const MergedCommit* a, const MergedCommit* b) {
    return a->time != b->time ? a->time > b->time : oid_less(a->id, b->id);
  });
  std::vector<MergedCommit> out;
  out.reserve(commits.size());
  for (MergedCommit* head : heads)
    for (MergedCommit* c = head; c && !c->taken; c = c->has_parent ? find(c->parent) : nullptr) {
      c->taken = true;
      out.push_back(*c);
    }
  for (const auto& c : commits)
    if (!c.taken) out.push_back(c);
  return out;
}

// Insert the objects of the packs to merge (`set`, sorted) into `pb`, named by their path for the delta search: walk
// the tree of each commit among them, newest first, descending only into trees that are in the set too (the others
// were written by older commits, and their objects are in other packs), so the walk follows the merged objects, not
// the archive. Objects no walk reaches (an orphan of a failed write) go in unnamed.
Expected<void> insert_named(git_repository* repo, git_odb* odb, git_packbuilder* pb, const std::vector<git_oid>& set) {
  const auto index_of = [&](const git_oid& id) -> std::size_t {
    const auto it = std::lower_bound(set.begin(), set.end(), id, oid_less);
    return it != set.end() && git_oid_equal(&*it, &id) ? static_cast<std::size_t>(it - set.begin()) : set.size();
  };
  std::vector<bool> walked(set.size(), false);
  const auto fail_git = [](int rc) { return git_failure(rc, ErrorCode::git, "cannot merge packs"); };
  auto commits = commits_newest_first(repo, odb, set);
  if (!commits) return std::unexpected(commits.error());
  // Depth-first over the new trees; the stack holds (tree id, its path).
  std::vector<std::pair<git_oid, std::string>> stack;
  std::string name;
  for (const auto& commit : *commits) {
    if (int rc = git_packbuilder_insert(pb, &commit.id, nullptr); rc < 0) return fail_git(rc);
    stack.emplace_back(commit.tree, std::string());
    while (!stack.empty()) {
      auto [tree_id, path] = std::move(stack.back());
      stack.pop_back();
      const std::size_t at = index_of(tree_id);
      if (at == set.size() || walked[at]) continue;
      walked[at] = true;
      name = delta_name(path);
      if (int rc = git_packbuilder_insert(pb, &tree_id, name.c_str()); rc < 0) return fail_git(rc);
      git_tree* tree_raw = nullptr;
      if (int rc = git_tree_lookup(&tree_raw, repo, &tree_id); rc < 0) return fail_git(rc);
      std::unique_ptr<git_tree, CFree<&git_tree_free>> tree{tree_raw};
      for (std::size_t i = 0, n = git_tree_entrycount(tree.get()); i < n; ++i) {
        const git_tree_entry* e = git_tree_entry_byindex(tree.get(), i);
        const git_oid* eid = git_tree_entry_id(e);
        const git_object_t etype = git_tree_entry_type(e);
        if (etype != GIT_OBJECT_TREE && etype != GIT_OBJECT_BLOB) continue; // a gitlink
        const std::size_t eat = index_of(*eid);
        if (eat == set.size()) continue;
        std::string child = path.empty() ? std::string(git_tree_entry_name(e)) : path + "/" + git_tree_entry_name(e);
        if (etype == GIT_OBJECT_TREE) {
          stack.emplace_back(*eid, std::move(child));
        } else if (!walked[eat]) {
          walked[eat] = true;
          name = delta_name(std::move(child));
          if (int rc = git_packbuilder_insert(pb, eid, name.c_str()); rc < 0) return fail_git(rc);
        }
      }
    }
  }
  for (const auto& id : set) // the packbuilder skips the ones already in
    if (int rc = git_packbuilder_insert(pb, &id, nullptr); rc < 0) return fail_git(rc);
  return {};
}

// <git dir>/avow/libgit2-merge.config: the delta search's memory for the merge. libgit2 1.5 reads pack.deltaCacheSize
// both as the size of its cache of computed deltas and as the size above which an object is not deltified (see
// k_libgit2_config in git_store.cpp): 32 MiB for both (an entry bundle is at most 16 MiB). pack.windowMemory bounds
// the objects held in the search window. Written when missing (a cache: the archive does not depend on it).
constexpr std::string_view k_merge_config =
    "# Read by avow's git library (libgit2) when it merges packs; stock git does not read this file.\n"
    "[pack]\n"
    "\tdeltaCacheSize = 33554432\n"
    "\twindowMemory = 67108864\n";

Expected<fs::path> merge_config(const fs::path& git_dir) {
  const fs::path path = git_dir / "avow" / "libgit2-merge.config";
  std::error_code ec;
  if (fs::exists(path, ec)) return path;
  const fs::path temp = fs::path(path).concat(".tmp." + std::to_string(::getpid()));
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << k_merge_config;
    if (!out.flush()) return fail(ErrorCode::io, "cannot write '{}'", temp.string());
  }
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ec);
    return fail(ErrorCode::io, "cannot write '{}'", path.string());
  }
  return path;
}

// A write is packed on several threads only when each pack gets at least this many objects and bytes.
constexpr std::size_t k_min_shard_objects = 1024;
constexpr std::uint64_t k_min_shard_bytes = 4u << 20;
// The priority of the staged objects in a shard's odb: above the loose (1) and packed (2) backends.
constexpr int k_staged_priority = 1000;

} // namespace

Expected<bool> consolidate_packs(git_repository* repo, git_odb* odb, const fs::path& git_dir) {
  const fs::path folder = git_dir / "objects" / "pack";
  std::vector<PackFile> packs;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != ".pack") continue;
    // One stat settles most packs: this listing runs after every write, and opening the index of each of a large
    // archive's hundreds of settled packs (plus three stats each) was a third of a single append at 5.7M entries.
    std::error_code size_ec;
    const std::uintmax_t bytes = fs::file_size(p, size_ec);
    if (size_ec || bytes >= k_settled_pack_bytes) continue;
    fs::path base = p;
    base.replace_extension();
    const auto sibling = [&](const char* ext) { return fs::path(base).concat(ext); };
    if (fs::exists(sibling(".keep")) || fs::exists(sibling(".promisor")) || !fs::exists(sibling(".idx"))) continue;
    PackFile pf{base, 0};
    if (auto r = read_idx_oids(sibling(".idx"), &pf.count); !r) return std::unexpected(r.error());
    if (pf.count >= k_settled_pack_objects) continue;
    packs.push_back(std::move(pf));
  }
  if (ec) return fail(ErrorCode::io, "cannot list '{}': {}", folder.string(), ec.message());
  if (packs.size() < k_min_packs_to_consolidate) return false;
  const std::vector<PackFile> merge = packs_to_merge(std::move(packs));
  if (merge.empty()) return false;

  std::vector<git_oid> set;
  for (const auto& pf : merge) {
    auto oids = read_idx_oids(fs::path(pf.base).concat(".idx"), nullptr);
    if (!oids) return std::unexpected(oids.error());
    set.insert(set.end(), oids->begin(), oids->end());
  }
  std::sort(set.begin(), set.end(), oid_less);
  set.erase(std::unique(set.begin(), set.end(), [](const git_oid& a, const git_oid& b) { return git_oid_equal(&a, &b); }),
            set.end());

  // The merge searches for deltas, unlike the write of each pack (avow/libgit2.config turns the search off for the
  // handles avow writes with): a handle of its own, with avow/libgit2-merge.config instead.
  auto delta_repo = open_repo(git_dir);
  if (!delta_repo) return std::unexpected(delta_repo.error());
  auto config_file = merge_config(git_dir);
  if (!config_file) return std::unexpected(config_file.error());
  if (auto ok = add_app_config(delta_repo->get(), *config_file); !ok) return std::unexpected(ok.error());
  git_packbuilder* pb_raw = nullptr;
  if (int rc = git_packbuilder_new(&pb_raw, delta_repo->get()); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot merge packs");
  std::unique_ptr<git_packbuilder, CFree<&git_packbuilder_free>> pb{pb_raw};
  git_packbuilder_set_threads(pb.get(), 0); // delta search on every core
  if (auto ok = insert_named(repo, odb, pb.get(), set); !ok) return std::unexpected(ok.error());
  set = {};
  git_indexer* idx_raw = nullptr;
  git_indexer_options opts = GIT_INDEXER_OPTIONS_INIT;
  if (int rc = git_indexer_new(&idx_raw, folder.c_str(), 0, odb, &opts); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot merge packs");
  std::unique_ptr<git_indexer, CFree<&git_indexer_free>> indexer{idx_raw};
  git_indexer_progress stats{};
  // Streamed: the packbuilder hands each compressed object to the indexer, which writes it to the new pack file; the
  // merged pack is never held in memory (it was, 2.7 GB at 600,000 entries).
  auto sink = pack_sink([&](const char* data, size_t size) { return git_indexer_append(indexer.get(), data, size, &stats); });
  int rc = git_packbuilder_foreach(pb.get(), &decltype(sink)::collect, &sink);
  if (rc >= 0) rc = sink.flush();
  if (rc < 0) return git_failure(rc, ErrorCode::git, "cannot merge packs");
  if (rc = git_indexer_commit(indexer.get(), &stats); rc < 0) return git_failure(rc, ErrorCode::git, "cannot merge packs");
  const std::string fresh = std::string("pack-") + git_indexer_name(indexer.get());
  for (const auto& pf : merge) {
    if (pf.base.filename() == fresh) continue;
    for (const char* ext : {".idx", ".pack", ".rev", ".bitmap"}) fs::remove(fs::path(pf.base).concat(ext), ec);
  }
  return true;
}

namespace {

// Pack `objects` into one pack written through `odb`'s pack writer (git_odb_write_pack: libgit2's indexer names the
// pack, writes its index and fsyncs both).
Expected<std::string> write_one_pack(git_repository* repo, git_odb* odb, std::span<const git_oid> objects) {
  git_packbuilder* pb_raw = nullptr;
  if (int rc = git_packbuilder_new(&pb_raw, repo); rc < 0) return git_failure(rc, ErrorCode::git, "cannot build the pack");
  std::unique_ptr<git_packbuilder, CFree<&git_packbuilder_free>> pb{pb_raw};
  for (const auto& id : objects)
    if (int rc = git_packbuilder_insert(pb.get(), &id, nullptr); rc < 0)
      return git_failure(rc, ErrorCode::git, "cannot build the pack");
  git_odb_writepack* wp_raw = nullptr;
  if (int rc = git_odb_write_pack(&wp_raw, odb, nullptr, nullptr); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot write the pack");
  WritepackPtr wp{wp_raw};
  git_indexer_progress stats{};
  // Streamed into the pack file as each object is compressed, never built whole in memory first.
  // The last 20 bytes of the stream are the pack's trailing checksum, which names it ("pack-<hex>").
  std::string tail;
  auto sink = pack_sink([&](const char* data, size_t size) {
    if (size >= 20) {
      tail.assign(data + size - 20, 20);
    } else {
      tail.append(data, size);
      if (tail.size() > 20) tail.erase(0, tail.size() - 20);
    }
    return wp->append(wp.get(), data, size, &stats);
  });
  int rc = git_packbuilder_foreach(pb.get(), &decltype(sink)::collect, &sink);
  if (rc >= 0) rc = sink.flush();
  if (rc < 0) return git_failure(rc, ErrorCode::git, "cannot write the pack");
  if (rc = wp->commit(wp.get(), &stats); rc < 0) return git_failure(rc, ErrorCode::git, "cannot write the pack");
  if (tail.size() != 20) return std::string();
  return "pack-" + to_hex(as_bytes(tail));
}

// A read-only odb backend that answers from another backend (the write's mempack), so that a second repository
// handle can pack objects staged in the first. libgit2 allows a backend in one odb only; the mempack's read
// functions only look up its hash table, so concurrent readers are safe while nobody writes to it.
struct ForwardingBackend {
  git_odb_backend parent;
  git_odb_backend* target;

  static git_odb_backend* target_of(git_odb_backend* b) { return reinterpret_cast<ForwardingBackend*>(b)->target; }
  static int read(void** data, size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* id) {
    git_odb_backend* t = target_of(b);
    return t->read(data, len, type, t, id);
  }
  static int read_header(size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* id) {
    git_odb_backend* t = target_of(b);
    return t->read_header(len, type, t, id);
  }
  static int exists(git_odb_backend* b, const git_oid* id) {
    git_odb_backend* t = target_of(b);
    return t->exists(t, id);
  }
  static void free(git_odb_backend* b) { delete reinterpret_cast<ForwardingBackend*>(b); }
};

// Pack `objects` (all in `staged`) through a repository handle of this thread's own: libgit2 handles are not shared
// between threads. The handle reads .git/avow/libgit2.config as GitStore::open does (no delta search).
Expected<std::string> write_shard(const fs::path& git_dir, git_odb_backend* staged, std::span<const git_oid> objects) {
  auto repo = open_avow_repo(git_dir);
  if (!repo) return std::unexpected(repo.error());
  auto odb = repo_odb(repo->get());
  if (!odb) return std::unexpected(odb.error());
  auto* fwd = new ForwardingBackend{};
  if (int rc = git_odb_init_backend(&fwd->parent, GIT_ODB_BACKEND_VERSION); rc < 0) {
    delete fwd;
    return git_failure(rc, ErrorCode::git, "cannot build the pack");
  }
  fwd->target = staged;
  fwd->parent.read = &ForwardingBackend::read;
  fwd->parent.read_header = &ForwardingBackend::read_header;
  fwd->parent.exists = &ForwardingBackend::exists;
  fwd->parent.free = &ForwardingBackend::free;
  if (int rc = git_odb_add_backend(odb->get(), &fwd->parent, k_staged_priority); rc < 0) {
    delete fwd;
    return git_failure(rc, ErrorCode::git, "cannot build the pack");
  }
  return write_one_pack(repo->get(), odb->get(), objects);
}

} // namespace

Expected<std::vector<std::string>> write_pack(git_repository* repo, git_odb* odb, git_odb_backend* staged,
                                              const fs::path& git_dir, std::span<const git_oid> objects,
                                              std::size_t max_packs) {
  std::uint64_t bytes = 0;
  for (const auto& id : objects) {
    size_t len = 0;
    git_object_t type{};
    if (staged->read_header(&len, &type, staged, &id) == 0) bytes += len;
  }
  // zlib runs on one core per pack: a large write is cut into one pack per core, each built on its own thread. The
  // objects are sorted by id, so equal slices hold about equal bytes. The cut depends on the core count only; the git
  // objects are the same either way.
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t shards = std::min<std::size_t>({max_packs == 0 ? cores : std::min(cores, max_packs),
                                                   objects.size() / k_min_shard_objects,
                                                   bytes / k_min_shard_bytes});
  if (shards <= 1) {
    auto name = write_one_pack(repo, odb, objects);
    if (!name) return std::unexpected(name.error());
    return std::vector<std::string>{std::move(*name)};
  }
  std::vector<Expected<std::string>> results(shards, std::string());
  {
    std::vector<std::jthread> threads;
    for (std::size_t k = 0; k < shards; ++k) {
      const std::size_t from = objects.size() * k / shards, to = objects.size() * (k + 1) / shards;
      threads.emplace_back([&, k, from, to] {
        results[k] = write_shard(git_dir, staged, objects.subspan(from, to - from));
        git_error_clear();
      });
    }
  }
  std::vector<std::string> names;
  for (auto& r : results) {
    if (!r) return std::unexpected(r.error());
    names.push_back(std::move(*r));
  }
  // The packs came from other handles: let this one see them.
  if (int rc = git_odb_refresh(odb); rc < 0) return git_failure(rc, ErrorCode::git, "cannot reload the packs");
  return names;
}

} // namespace avow::store::detail
