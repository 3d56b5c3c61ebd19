// The pack writer: one pack per write, or one per core for a large write (libgit2's packbuilder and odb pack
// writer; no pack code of our own). Merging packs is pack_merge.cpp.

#include <archive/store/git_internal.hpp>
#include <archive/store/pack_sink.hpp>

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

// A write is packed on several threads only when each pack gets at least this many objects and bytes.
constexpr std::size_t k_min_shard_objects = 1024;
constexpr std::uint64_t k_min_shard_bytes = 4u << 20;
// The priority of the staged objects in a shard's odb: above the loose (1) and packed (2) backends.
constexpr int k_staged_priority = 1000;

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

void remove_pack_files(const fs::path& git_dir, const std::string& name) {
  for (const char* ext : {".keep", ".idx", ".rev", ".pack"}) {
    std::error_code ec;
    fs::remove(git_dir / "objects" / "pack" / (name + ext), ec);
  }
}

Expected<std::vector<std::string>> write_pack(git_repository* repo, git_odb* odb, git_odb_backend* staged,
                                              const fs::path& git_dir, std::span<const git_oid> objects,
                                              std::size_t max_packs) {
  std::vector<std::uint64_t> upto(objects.size() + 1, 0); // upto[i]: the bytes of objects[0, i)
  for (std::size_t i = 0; i < objects.size(); ++i) {
    size_t len = 0;
    git_object_t type{};
    upto[i + 1] = upto[i] + (staged->read_header(&len, &type, staged, &objects[i]) == 0 ? len : 0);
  }
  const std::uint64_t bytes = upto.back();
  // zlib runs on one core per pack: a large write is cut into one pack per core, each built on its own thread, each
  // a run of consecutive objects (of a batch: of consecutive entries) of about equal bytes (cut by count, the corpus's
  // first half, shorter texts, left one thread idle for a quarter of its batch). The cut depends on the core count
  // only; the git objects are the same either way.
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
      // The first object at or past the k-th and (k+1)-th shares of the bytes.
      const auto cut = [&](std::size_t j) {
        return j == shards ? objects.size()
                           : static_cast<std::size_t>(std::lower_bound(upto.begin(), upto.end(), bytes * j / shards) -
                                                      upto.begin());
      };
      const std::size_t from = cut(k), to = cut(k + 1);
      if (from == to) continue; // one large object holds more than a share: no empty pack
      threads.emplace_back([&, k, from, to] {
        results[k] = write_shard(git_dir, staged, objects.subspan(from, to - from));
        git_error_clear();
      });
    }
  }
  std::vector<std::string> names;
  const Expected<std::string>* failed = nullptr;
  for (auto& r : results) {
    if (!r) failed = failed ? failed : &r;
    else if (!r->empty()) names.push_back(std::move(*r));
  }
  if (failed) {
    // The packs the other threads wrote are nobody's (the caller only learns of the failure): removed here, best
    // effort, as an abandoned write removes its packs (a leftover would only be unreferenced objects).
    for (const auto& name : names) remove_pack_files(git_dir, name);
    return std::unexpected(failed->error());
  }
  // The packs came from other handles: let this one see them.
  if (int rc = git_odb_refresh(odb); rc < 0) return git_failure(rc, ErrorCode::git, "cannot reload the packs");
  return names;
}

} // namespace avow::store::detail
