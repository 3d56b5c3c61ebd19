// Merging packs (libgit2's packbuilder with delta search, and its indexer; no pack code of our own): the geometric
// merge of small packs after each write (consolidate_packs), and the merge of settled packs that `avow repack` runs
// outside writes (repack_packs).

#include <archive/store/git_internal.hpp>
#include <archive/store/pack_sink.hpp>
#include <archive/store/writer_lock.hpp>

#include <archive/util/bytes.hpp>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace avow::store::detail {

namespace fs = std::filesystem;

namespace {

struct PackFile {
  fs::path base; // objects/pack/pack-<hash> without extension
  std::uint32_t count = 0;
  std::uintmax_t bytes = 0; // of the .pack file
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

bool oid_less(const git_oid& a, const git_oid& b) { return git_oid_cmp(&a, &b) < 0; }

// The objects of a version 2 pack index in the order its pack holds them (by offset): the 32-bit offset table after
// the ids and CRCs, and the 64-bit table after it for a pack over 2 GiB. Checked as hostile input: an offset that
// points outside the 64-bit table, or a table cut short, is an error.
Expected<std::vector<git_oid>> read_idx_in_pack_order(const fs::path& idx) {
  auto oids = read_idx_oids(idx, nullptr);
  if (!oids) return std::unexpected(oids.error());
  const auto n = static_cast<std::uint32_t>(oids->size());
  std::ifstream in(idx, std::ios::binary);
  const auto be32 = [](const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  };
  const auto truncated = [&] { return fail(ErrorCode::git, "pack index '{}' is truncated", idx.string()); };
  // header, fan-out, ids, CRCs
  in.seekg(static_cast<std::streamoff>(8 + 256 * 4 + std::uint64_t{n} * (GIT_OID_RAWSZ + 4)));
  std::vector<unsigned char> small(std::size_t{n} * 4);
  if (!in.read(reinterpret_cast<char*>(small.data()), static_cast<std::streamsize>(small.size()))) return truncated();
  std::vector<std::pair<std::uint64_t, std::uint32_t>> at(n); // offset, index in `oids`
  std::uint32_t large = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t v = be32(&small[std::size_t{i} * 4]);
    at[i] = {v, i};
    if (v & 0x80000000u) large = std::max(large, (v & 0x7fffffffu) + 1);
  }
  if (large > n) return fail(ErrorCode::git, "pack index '{}' has a bad offset table", idx.string());
  std::vector<unsigned char> big(std::size_t{large} * 8);
  if (large > 0 && !in.read(reinterpret_cast<char*>(big.data()), static_cast<std::streamsize>(big.size())))
    return truncated();
  for (auto& [offset, i] : at)
    if (offset & 0x80000000u) {
      const unsigned char* p = &big[(offset & 0x7fffffffu) * 8];
      offset = (std::uint64_t{be32(p)} << 32) | be32(p + 4);
    }
  std::sort(at.begin(), at.end());
  std::vector<git_oid> out;
  out.reserve(n);
  for (const auto& [offset, i] : at) out.push_back((*oids)[i]);
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
//
// The packbuilder writes objects in the order they were inserted (a delta's base first). With `blobs_as_written`
// empty, blobs go in as the walk meets them: in path order, which for the texts of an archive is the order of their
// hashes. A merge of a few small packs (consolidate_packs) keeps that. `avow repack` passes the packs it merges in the
// order they were written instead: the commits and trees go in as the walk meets them, then the blobs, and every
// object no walk reached, pack by pack, each in the order its pack holds them, so that the texts of one write stay
// together. Most of the packs a repack merges hold no commit (a batch flushes its texts to packs of their own, and its
// commit's pack is elsewhere), so the walk reaches nothing in them; they went in by object id, which shuffled the
// texts of a batch through the merged pack. A full verify reads texts in entry order, and a repack made it 65% slower
// (1,000,000 entries: 133.5 s before, 220.0 s after; bench/README.md, thirteenth and fourteenth sessions).
Expected<void> insert_named(git_repository* repo, git_odb* odb, git_packbuilder* pb, const std::vector<git_oid>& set,
                            std::span<const fs::path> blobs_as_written) {
  const auto index_of = [&](const git_oid& id) -> std::size_t {
    const auto it = std::lower_bound(set.begin(), set.end(), id, oid_less);
    return it != set.end() && git_oid_equal(&*it, &id) ? static_cast<std::size_t>(it - set.begin()) : set.size();
  };
  std::vector<bool> walked(set.size(), false);
  const bool defer_blobs = !blobs_as_written.empty();
  std::vector<std::string> blob_names(defer_blobs ? set.size() : 0); // with defer_blobs: the name of each blob met
  std::vector<bool> deferred(defer_blobs ? set.size() : 0, false);
  const auto fail_git = [](int rc) { return git_failure(rc, ErrorCode::git, "cannot merge packs"); };
  auto commits = commits_newest_first(repo, odb, set);
  if (!commits) return std::unexpected(commits.error());
  // Depth-first over the new trees; the stack holds (tree id, its path).
  std::vector<std::pair<git_oid, std::string>> stack;
  std::string name;
  for (const auto& commit : *commits) {
    if (int rc = git_packbuilder_insert(pb, &commit.id, nullptr); rc < 0) return fail_git(rc);
    if (const std::size_t at = index_of(commit.id); at < set.size()) walked[at] = true;
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
          if (defer_blobs) {
            blob_names[eat] = std::move(name);
            deferred[eat] = true;
          } else if (int rc = git_packbuilder_insert(pb, eid, name.c_str()); rc < 0) {
            return fail_git(rc);
          }
        }
      }
    }
  }
  for (const auto& idx : blobs_as_written) {
    auto in_pack_order = read_idx_in_pack_order(idx);
    if (!in_pack_order) return std::unexpected(in_pack_order.error());
    for (const auto& id : *in_pack_order) {
      const std::size_t at = index_of(id);
      if (at == set.size()) continue;
      if (deferred[at]) { // a blob the walk met and named
        deferred[at] = false;
        if (int rc = git_packbuilder_insert(pb, &id, blob_names[at].c_str()); rc < 0) return fail_git(rc);
        blob_names[at] = {};
      } else if (!walked[at]) { // an object no walk reached
        walked[at] = true;
        if (int rc = git_packbuilder_insert(pb, &id, nullptr); rc < 0) return fail_git(rc);
      }
    }
  }
  for (std::size_t at = 0; at < deferred.size(); ++at) // in no index read (not expected: `set` is their union)
    if (deferred[at])
      if (int rc = git_packbuilder_insert(pb, &set[at], blob_names[at].c_str()); rc < 0) return fail_git(rc);
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

bool settled(const PackFile& p) { return p.bytes >= k_settled_pack_bytes || p.count >= k_settled_pack_objects; }

// The packs of `folder` a merge may take: each with its index, and neither kept (.keep) nor promised (.promisor); a
// pack `skip_size` rules out by the size of its file is left out without reading its index. A pack that goes away
// while it is listed (merged by another process) is left out.
Expected<std::vector<PackFile>> list_packs(const fs::path& folder, bool (*skip_size)(std::uintmax_t)) {
  std::vector<PackFile> packs;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != ".pack") continue;
    // One stat settles most packs: consolidate_packs runs after every write, and opening the index of each of a large
    // archive's hundreds of settled packs (plus three stats each) was a third of a single append at 5.7M entries.
    std::error_code size_ec;
    const std::uintmax_t bytes = fs::file_size(p, size_ec);
    if (size_ec || (skip_size && skip_size(bytes))) continue;
    fs::path base = p;
    base.replace_extension();
    const auto sibling = [&](const char* ext) { return fs::path(base).concat(ext); };
    if (fs::exists(sibling(".keep")) || fs::exists(sibling(".promisor")) || !fs::exists(sibling(".idx"))) continue;
    PackFile pf{base, 0, bytes};
    if (auto r = read_idx_oids(sibling(".idx"), &pf.count); !r) {
      std::error_code gone;
      if (!fs::exists(sibling(".idx"), gone)) continue;
      return std::unexpected(r.error());
    }
    packs.push_back(std::move(pf));
  }
  if (ec) return fail(ErrorCode::io, "cannot list '{}': {}", folder.string(), ec.message());
  return packs;
}

// How far a merge of N objects is, in 2N steps: the delta search's share of the objects it has looked at, then the
// objects written. `report` (may be empty) hears each new figure; the delta search reports from its worker threads.
class MergeProgress {
 public:
  explicit MergeProgress(std::function<void(std::uint64_t)> report) : m_report(std::move(report)) {}
  static int on_delta(int stage, std::uint32_t current, std::uint32_t total, void* payload) {
    auto* self = static_cast<MergeProgress*>(payload);
    if (stage == GIT_PACKBUILDER_DELTAFICATION && total > 0 && self->m_report) {
      std::lock_guard lock(self->m_mutex);
      self->m_report(self->m_objects * std::min(current, total) / total);
    }
    return 0;
  }
  void written(std::uint64_t n) {
    if (!m_report) return;
    std::lock_guard lock(m_mutex);
    m_report(m_objects + std::min<std::uint64_t>(n, m_objects));
  }
  void set_objects(std::uint64_t n) { m_objects = n; }

 private:
  std::function<void(std::uint64_t)> m_report;
  std::mutex m_mutex;
  std::uint64_t m_objects = 0;
};

// Merge the packs `group` into one pack written into the folder `out` (objects/pack, or a folder to move it from),
// fsynced by libgit2's indexer. `on_progress` (may be empty) hears how far it is, from 0 to twice the group's objects
// (MergeProgress). With BlobOrder::as_written, the blobs and the objects no tree walk reaches keep the order of the
// packs they come from (insert_named), the packs taken oldest first by the time their files were written (a copy that
// did not keep those times gives them an arbitrary order, and each pack's objects still stay together). Returns the new pack's name ("pack-<hash>") once it is
// checked to hold every object of the group.
enum class BlobOrder { by_path, as_written };

Expected<std::string> merge_group(git_repository* repo, git_odb* odb, const fs::path& git_dir,
                                  std::span<const PackFile> group, const fs::path& out,
                                  const std::function<void(std::uint64_t)>& on_progress, BlobOrder blob_order) {
  std::vector<git_oid> set;
  for (const auto& pf : group) {
    auto oids = read_idx_oids(fs::path(pf.base).concat(".idx"), nullptr);
    if (!oids) return std::unexpected(oids.error());
    set.insert(set.end(), oids->begin(), oids->end());
  }
  std::sort(set.begin(), set.end(), oid_less);
  set.erase(std::unique(set.begin(), set.end(), [](const git_oid& a, const git_oid& b) { return git_oid_equal(&a, &b); }),
            set.end());
  const std::size_t expected = set.size();
  MergeProgress progress(on_progress);
  progress.set_objects(expected);

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
  if (on_progress) git_packbuilder_set_callbacks(pb.get(), &MergeProgress::on_delta, &progress);
  std::vector<fs::path> written_order; // the indexes of `group`, oldest pack first
  if (blob_order == BlobOrder::as_written) {
    std::vector<std::pair<fs::file_time_type, fs::path>> by_time;
    for (const auto& pf : group) {
      std::error_code ec;
      const auto time = fs::last_write_time(fs::path(pf.base).concat(".pack"), ec);
      by_time.emplace_back(ec ? fs::file_time_type::min() : time, fs::path(pf.base).concat(".idx"));
    }
    std::sort(by_time.begin(), by_time.end());
    for (auto& [time, idx] : by_time) written_order.push_back(std::move(idx));
  }
  if (auto ok = insert_named(repo, odb, pb.get(), set, written_order); !ok) return std::unexpected(ok.error());
  set = {};
  git_indexer* idx_raw = nullptr;
  git_indexer_options opts = GIT_INDEXER_OPTIONS_INIT;
  if (int rc = git_indexer_new(&idx_raw, out.c_str(), 0, odb, &opts); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot merge packs");
  std::unique_ptr<git_indexer, CFree<&git_indexer_free>> indexer{idx_raw};
  git_indexer_progress stats{};
  // Streamed: the packbuilder hands each compressed object to the indexer, which writes it to the new pack file; the
  // merged pack is never held in memory (it was, 2.7 GB at 600,000 entries).
  auto sink = pack_sink([&](const char* data, size_t size) {
    const int rc = git_indexer_append(indexer.get(), data, size, &stats);
    if (rc >= 0) progress.written(stats.received_objects);
    return rc;
  });
  int rc = git_packbuilder_foreach(pb.get(), &decltype(sink)::collect, &sink);
  if (rc >= 0) rc = sink.flush();
  if (rc < 0) return git_failure(rc, ErrorCode::git, "cannot merge packs");
  if (rc = git_indexer_commit(indexer.get(), &stats); rc < 0) return git_failure(rc, ErrorCode::git, "cannot merge packs");
  if (stats.indexed_objects != expected)
    return fail(ErrorCode::git, "the merged pack holds {} objects, not the {} of the packs it merges",
                stats.indexed_objects, expected);
  return std::string("pack-") + git_indexer_name(indexer.get());
}

// Delete the packs of `merged` (but the one named `kept`), each index first: a reader never finds an index whose
// pack is gone.
void remove_packs(std::span<const PackFile> merged, const std::string& kept) {
  std::error_code ec;
  for (const auto& pf : merged) {
    if (pf.base.filename() == kept) continue;
    for (const char* ext : {".idx", ".pack", ".rev", ".bitmap"}) fs::remove(fs::path(pf.base).concat(ext), ec);
  }
}

} // namespace

Expected<bool> consolidate_packs(git_repository* repo, git_odb* odb, const fs::path& git_dir) {
  const fs::path folder = git_dir / "objects" / "pack";
  auto packs = list_packs(folder, [](std::uintmax_t bytes) { return bytes >= k_settled_pack_bytes; });
  if (!packs) return std::unexpected(packs.error());
  std::erase_if(*packs, [](const PackFile& p) { return settled(p); });
  if (packs->size() < k_min_packs_to_consolidate) return false;
  const std::vector<PackFile> merge = packs_to_merge(std::move(*packs));
  if (merge.empty()) return false;
  auto merged = merge_group(repo, odb, git_dir, merge, folder, {}, BlobOrder::by_path);
  if (!merged) return std::unexpected(merged.error());
  remove_packs(merge, *merged);
  return true;
}

namespace {

// The groups `avow repack` merges, from the packs it may take (`candidates`): with `all`, every one; otherwise those
// whose sizes break the geometric progression (packs_to_merge). Either way in ascending order of objects, cut into
// groups of at most `max_objects` objects and `max_bytes` bytes each; a group of one pack is not merged.
std::vector<std::vector<PackFile>> plan_groups(std::vector<PackFile> candidates, bool all, std::uint64_t max_objects,
                                               std::uint64_t max_bytes) {
  std::vector<PackFile> take;
  if (all) {
    take = std::move(candidates);
    std::sort(take.begin(), take.end(), [](const PackFile& a, const PackFile& b) {
      return a.count != b.count ? a.count < b.count : a.base < b.base;
    });
  } else {
    take = packs_to_merge(std::move(candidates)); // sorted the same way
  }
  std::vector<std::vector<PackFile>> groups;
  std::vector<PackFile> group;
  std::uint64_t objects = 0, bytes = 0;
  const auto close = [&] {
    if (group.size() >= 2) groups.push_back(std::move(group));
    group.clear();
    objects = bytes = 0;
  };
  for (auto& pf : take) {
    if (!group.empty() && (objects + pf.count > max_objects || bytes + pf.bytes > max_bytes)) close();
    objects += pf.count;
    bytes += pf.bytes;
    group.push_back(std::move(pf));
  }
  close();
  return groups;
}

// An exclusive flock on <git dir>/avow/repack.lock for as long as it lives: one repack at a time.
class RepackLock {
 public:
  static Expected<RepackLock> acquire(const fs::path& git_dir) {
    std::error_code ec;
    fs::create_directories(git_dir / "avow", ec);
    const fs::path path = git_dir / "avow" / "repack.lock";
    RepackLock lock;
    lock.m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock.m_fd < 0) return fail(ErrorCode::io, "cannot lock '{}': {}", path.string(), std::strerror(errno));
    while (::flock(lock.m_fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      if (errno == EWOULDBLOCK) return fail(ErrorCode::failed_precondition, "another repack of this archive is running");
      return fail(ErrorCode::io, "cannot lock '{}': {}", path.string(), std::strerror(errno));
    }
    return lock;
  }
  RepackLock(RepackLock&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
  RepackLock& operator=(RepackLock&&) = delete;
  ~RepackLock() {
    if (m_fd >= 0) ::close(m_fd); // releases the flock
  }

 private:
  RepackLock() = default;
  int m_fd = -1;
};

Expected<void> fsync_folder(const fs::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::io, "cannot open '{}': {}", folder.string(), std::strerror(errno));
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (rc != 0) return fail(ErrorCode::io, "cannot fsync '{}': {}", folder.string(), std::strerror(e));
  return {};
}

// Move the pack `name` (its .pack, then its .idx: a reader looks for indexes, and finds none without its pack) from
// `from` into `folder`, and make the moves durable. A pack of that name already there holds the same objects.
Expected<void> publish_pack(const fs::path& from, const fs::path& folder, const std::string& name) {
  for (const char* ext : {".pack", ".idx"}) {
    const fs::path src = from / (name + ext), dst = folder / (name + ext);
    std::error_code ec;
    if (fs::exists(dst, ec)) {
      fs::remove(src, ec);
      continue;
    }
    if (::rename(src.c_str(), dst.c_str()) != 0)
      return fail(ErrorCode::io, "cannot move '{}' to '{}': {}", src.string(), dst.string(), std::strerror(errno));
  }
  return fsync_folder(folder);
}

} // namespace

Expected<RepackReport> repack_packs(const fs::path& git_dir, const RepackOptions& options) {
  const fs::path folder = git_dir / "objects" / "pack";
  auto repack_lock = RepackLock::acquire(git_dir);
  if (!repack_lock) return std::unexpected(repack_lock.error());
  // The new packs are built here and moved into objects/pack under the writer lock: nothing in objects/pack is ever
  // half written by a repack, so a writer's clean-up of a dead writer's leftovers cannot take one for those. What a
  // killed repack left here is removed now (it holds the repack lock).
  std::optional<WriterLock> held;
  if (options.all) {
    auto lock = WriterLock::acquire(git_dir, options.lock_timeout);
    if (!lock) return std::unexpected(lock.error());
    held.emplace(std::move(*lock));
  }
  const fs::path work = git_dir / "avow" / "repack";
  std::error_code ec;
  fs::remove_all(work, ec);
  if (ec) return fail(ErrorCode::io, "cannot clear '{}': {}", work.string(), ec.message());
  fs::create_directories(work, ec);
  if (ec) return fail(ErrorCode::io, "cannot create '{}': {}", work.string(), ec.message());
  struct RemoveWork { // however the repack ends
    fs::path path;
    ~RemoveWork() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } remove_work{work};

  RepackReport report;
  auto before = list_packs(folder, nullptr);
  if (!before) return std::unexpected(before.error());
  report.packs_before = before->size();
  for (const auto& pf : *before) report.bytes_before += pf.bytes;
  // Without the writer lock only settled packs are taken: writes merge the others (consolidate_packs) and never
  // touch a settled one, so the two never merge or delete the same pack.
  std::vector<PackFile> candidates;
  for (auto& pf : *before)
    if (pf.count < options.max_objects && pf.bytes < options.max_bytes && (options.all || settled(pf)))
      candidates.push_back(std::move(pf));
  const auto groups = plan_groups(std::move(candidates), options.all, options.max_objects, options.max_bytes);
  // Progress in steps of MergeProgress: two for each object of the packs merged (their union may be a little less).
  std::uint64_t total = 0;
  for (const auto& g : groups)
    for (const auto& pf : g) total += 2 * std::uint64_t{pf.count};
  std::uint64_t done = 0;
  if (options.progress) options.progress(0, total);

  for (const auto& group : groups) {
    // A handle per group: the last group's packs are gone, and a handle that loaded their indexes would look there.
    auto repo = open_avow_repo(git_dir);
    if (!repo) return std::unexpected(repo.error());
    auto odb = repo_odb(repo->get());
    if (!odb) return std::unexpected(odb.error());
    std::uint64_t group_objects = 0;
    for (const auto& pf : group) group_objects += pf.count;
    std::function<void(std::uint64_t)> on_progress;
    if (options.progress)
      on_progress = [&](std::uint64_t n) { options.progress(done + std::min(n, 2 * group_objects), total); };
    auto name = merge_group(repo->get(), odb->get(), git_dir, group, work, on_progress, BlobOrder::as_written);
    if (!name) return std::unexpected(name.error());
    std::optional<WriterLock> publishing;
    if (!held) {
      auto lock = WriterLock::acquire(git_dir, options.lock_timeout);
      if (!lock) return std::unexpected(lock.error());
      publishing.emplace(std::move(*lock));
    }
    if (auto ok = publish_pack(work, folder, *name); !ok) return std::unexpected(ok.error());
    remove_packs(group, *name);
    done += 2 * group_objects;
    report.objects += group_objects;
    report.merged += group.size();
    ++report.written;
    if (options.progress) options.progress(done, total);
  }

  auto after = list_packs(folder, nullptr);
  if (!after) return std::unexpected(after.error());
  report.packs_after = after->size();
  for (const auto& pf : *after) report.bytes_after += pf.bytes;
  return report;
}

} // namespace avow::store::detail
