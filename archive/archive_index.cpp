// The façade's use of the derived index: keeping it fresh, and the queries behind log, check, history and audit.

#include <archive/archive_impl.hpp>

#include <archive/crypto/sha256.hpp>
#include <archive/json/jcs.hpp>
#include <archive/log/proof.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/record.hpp>
#include <archive/text/canonical.hpp>
#include <archive/text/diff.hpp>
#include <archive/text/encoding.hpp>
#include <archive/store/remote.hpp>
#include <archive/util/memory.hpp>
#include <archive/util/ordered.hpp>
#include <archive/verify/log_reader.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <set>
#include <thread>

#include <unistd.h>

namespace avow {
namespace fs = std::filesystem;

namespace detail {

fs::path index_path(const store::GitStore& store) { return store.git_dir() / "avow" / "index.sqlite"; }

namespace {
// How long a command waits for another process that is updating the index (a full rebuild of a large archive).
constexpr std::chrono::milliseconds k_index_lock_timeout{300000};
} // namespace

log::TileReader tile_reader(const store::GitStore& store, const store::Oid& commit) {
  return [&store, commit](const std::string& path) -> Expected<Bytes> {
    auto data = store.read(commit, std::string(record::k_log_prefix) + path);
    if (!data) return std::unexpected(data.error());
    return Bytes(data->begin(), data->end());
  };
}

TextSource texts_by_path(const store::GitStore& store, const store::Oid& commit) {
  return [&store, commit](std::span<const std::string_view> sha256_hex) {
    std::vector<std::optional<std::string>> out;
    out.reserve(sha256_hex.size());
    for (const auto hex : sha256_hex) {
      auto text = store.read(commit, record::text_path(hex));
      out.push_back(text ? std::optional<std::string>(std::move(*text)) : std::nullopt);
    }
    return out;
  };
}

Expected<std::vector<index::IndexEntry>> index_entries(std::uint64_t first, const std::vector<std::string>& envelopes,
                                                       const TextSource& text) {
  std::vector<index::IndexEntry> out;
  out.reserve(envelopes.size());
  for (std::size_t k = 0; k < envelopes.size(); ++k) {
    const std::uint64_t i = first + k;
    auto env = record::parse(envelopes[k]);
    if (!env) return fail(ErrorCode::invalid_input, "entry {}: {}", i, env.error().message);
    auto value = json::parse_canonical(env->payload);
    if (!value) return fail(ErrorCode::invalid_input, "entry {}: {}", i, value.error().message);
    auto kind = record::record_kind(*value);
    if (!kind) return fail(ErrorCode::invalid_input, "entry {}: {}", i, kind.error().message);
    index::IndexEntry e;
    e.index = i;
    e.id = record::record_id(env->payload);
    if (*kind == "statement") {
      auto st = record::from_json(*value);
      if (!st) return fail(ErrorCode::invalid_input, "entry {}: {}", i, st.error().message);
      e.record = std::move(*st);
    } else {
      auto ev = record::key_event_from_json(*value);
      if (!ev) return fail(ErrorCode::invalid_input, "entry {}: {}", i, ev.error().message);
      e.record = std::move(*ev);
    }
    out.push_back(std::move(e));
  }
  if (text) {
    std::vector<std::size_t> at;
    std::vector<std::string_view> wanted;
    for (std::size_t k = 0; k < out.size(); ++k)
      if (const auto* st = std::get_if<record::Statement>(&out[k].record)) {
        at.push_back(k);
        wanted.push_back(st->text.sha256);
      }
    auto texts = text(wanted);
    for (std::size_t j = 0; j < at.size() && j < texts.size(); ++j)
      if (texts[j]) out[at[j]].text = std::move(*texts[j]);
  }
  return out;
}

namespace {

// Entries are read, parsed and indexed this many at a time.
constexpr std::uint64_t k_chunk = 4096;

// How many threads read and parse chunks of entries (each with its own GitStore); as many chunks may be read and not
// yet taken (one a reader, 10-20 MB each at 4,096 entries: two a reader took a rebuild's peak to 263 MB at 1M).
unsigned chunk_readers() { return std::clamp(std::thread::hardware_concurrency(), 1u, 4u); }

// The GitStore of each worker of for_each_ordered: worker 0 uses the caller's (whose thread only consumes meanwhile),
// the others open their own the first time (a libgit2 repository is not used by two threads at once).
class WorkerStores {
 public:
  WorkerStores(const store::GitStore& store, unsigned workers) : m_store(store), m_own(workers) {}
  unsigned workers() const { return static_cast<unsigned>(m_own.size()); }
  Expected<const store::GitStore*> get(unsigned worker) {
    if (worker == 0) return &m_store;
    if (!m_own[worker]) {
      auto opened = store::GitStore::open(m_store.workdir());
      if (!opened) return std::unexpected(opened.error());
      m_own[worker].emplace(std::move(*opened));
    }
    return &*m_own[worker];
  }

 private:
  const store::GitStore& m_store;
  std::vector<std::optional<store::GitStore>> m_own;
};

// Where each text of a commit is: one walk of texts/ lists every text's blob id, so that a rebuild reads each text by
// its id. Read by path, each text cost a look-up of its texts/ab/cd tree, and those trees lie all over the newest
// packs: at 1,000,000 entries the rebuild spent most of its time mapping and unmapping pack windows for them. 28 bytes
// a text (the first 8 bytes of its SHA-256 and its blob id, sorted); a blob is taken only if its SHA-256 is the one
// asked for, so a name that is not a text's digest, or two texts that share the 8 bytes, cost a read, never a wrong
// text. A text the listing does not have is read by its path (it is then most likely absent).
class TextLocator {
  static constexpr std::size_t k_walk_cache_bytes = std::size_t{2} << 20;
  static constexpr std::size_t k_walk_mapped_bytes = std::size_t{128} << 20;

 public:
  // The folders texts/00 .. texts/ff are walked on up to chunk_readers() threads (`stores`), and each one's entries come
  // in name order, so the listing is sorted as it is put together: 1.4 s on one core at 1,000,000 texts, while the
  // others waited.
  static Expected<TextLocator> build(WorkerStores& stores, const store::Oid& commit) {
    TextLocator out;
    // Each tree is read once (no use caching them), from the newest packs, which a wider map reads quicker.
    const store::ObjectCacheLimit cache(k_walk_cache_bytes);
    const store::MappedPackLimit mapped(k_walk_mapped_bytes);
    auto walked = for_each_ordered<std::vector<Slot>>(
        k_buckets_per_byte, stores.workers(), stores.workers(),
        [&](unsigned worker, std::size_t folder) -> Expected<std::vector<Slot>> {
          auto store = stores.get(worker);
          if (!store) return std::unexpected(store.error());
          std::vector<Slot> slots;
          auto listed = (*store)->for_each_entry(
              commit, fmt::format("{}{:02x}", record::k_texts_prefix, folder),
              [&slots](store::TreeEntry&& e) -> Expected<void> {
                if (e.kind != store::EntryKind::blob) return {};
                const std::string_view name = std::string_view(e.path).substr(e.path.rfind('/') + 1);
                Slot s;
                if (name.size() != 64 || !key_of(name, s.key)) return {};
                s.id = e.id;
                slots.push_back(s);
                return {};
              },
              store::GitStore::Sizes::skip);
          if (!listed) return std::unexpected(listed.error());
          return slots;
        },
        [&out](std::size_t, std::vector<Slot>&& slots) -> Expected<void> {
          out.m_slots.insert(out.m_slots.end(), slots.begin(), slots.end());
          return {};
        });
    if (!walked) return std::unexpected(walked.error());
    if (!std::is_sorted(out.m_slots.begin(), out.m_slots.end(), before))
      std::sort(out.m_slots.begin(), out.m_slots.end(), before);
    out.m_slots.shrink_to_fit();
    // m_first[b]: the first slot whose key starts with the two bytes b (so a look-up searches a handful of slots, not
    // the whole listing: its binary search was 2% of a rebuild, a cache miss a step).
    out.m_first.assign(k_buckets + 1, 0);
    std::size_t at = 0;
    for (std::size_t b = 0; b < k_buckets; ++b) {
      while (at < out.m_slots.size() && bucket_of(out.m_slots[at]) < b) ++at;
      out.m_first[b] = static_cast<std::uint32_t>(at);
    }
    out.m_first[k_buckets] = static_cast<std::uint32_t>(out.m_slots.size());
    return out;
  }

  // Read in the order of the blobs' ids. Batches written before the fourteenth session of issue 11 packed their
  // objects in id order, cut by id into one pack per core: the reads of a chunk then sweep each pack once instead of
  // hopping between its windows. Batches now pack their entries in order, so a chunk's texts lie in one stretch of
  // one or two packs, which the order of the reads inside it hardly matters to.
  TextSource source(const store::GitStore& store, const store::Oid& commit) const {
    return [this, &store, commit](std::span<const std::string_view> sha256_hex) {
      std::vector<std::optional<std::string>> out(sha256_hex.size());
      std::vector<std::pair<const Slot*, std::size_t>> reads; // (candidate, which text)
      std::vector<Bytes> digests(sha256_hex.size());
      for (std::size_t k = 0; k < sha256_hex.size(); ++k) {
        Slot probe;
        auto wanted = from_hex(sha256_hex[k]);
        if (!wanted || wanted->size() != 32 || !key_of(sha256_hex[k], probe.key)) continue;
        digests[k] = std::move(*wanted);
        const std::size_t b = bucket_of(probe);
        auto [lo, hi] = std::equal_range(m_slots.begin() + m_first[b], m_slots.begin() + m_first[b + 1], probe, before);
        for (auto it = lo; it != hi; ++it) reads.emplace_back(&*it, k);
      }
      std::sort(reads.begin(), reads.end(),
                [](const auto& a, const auto& b) { return a.first->id.bytes < b.first->id.bytes; });
      for (const auto& [slot, k] : reads) {
        if (out[k]) continue;
        auto bytes = store.read_object(slot->id);
        if (bytes && crypto::equal_constant_time(crypto::sha256(*bytes), digests[k])) out[k] = std::move(*bytes);
      }
      for (std::size_t k = 0; k < sha256_hex.size(); ++k) {
        if (out[k]) continue;
        auto text = store.read(commit, record::text_path(sha256_hex[k]));
        if (text) out[k] = std::move(*text);
      }
      return out;
    };
  }

  std::size_t size() const { return m_slots.size(); }

 private:
  struct Slot {
    std::array<std::uint8_t, 8> key{};
    store::Oid id;
  };
  static_assert(sizeof(Slot) == 28);
  static constexpr std::size_t k_buckets_per_byte = 256;
  static constexpr std::size_t k_buckets = k_buckets_per_byte * k_buckets_per_byte;
  static std::uint64_t number(const std::array<std::uint8_t, 8>& key) {
    std::uint64_t v = 0;
    for (const std::uint8_t b : key) v = v << 8 | b;
    return v;
  }
  static std::size_t bucket_of(const Slot& s) { return std::size_t{s.key[0]} << 8 | s.key[1]; }
  static bool before(const Slot& a, const Slot& b) { return number(a.key) < number(b.key); }
  // The first 8 bytes of the 64 hex digits `hex` (lowercase, as text paths are written); false for anything else.
  static bool key_of(std::string_view hex, std::array<std::uint8_t, 8>& key) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    for (std::size_t i = 0; i < key.size(); ++i) {
      const int hi = nibble(hex[2 * i]);
      const int lo = nibble(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) return false;
      key[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
  }
  std::vector<Slot> m_slots;
  std::vector<std::uint32_t> m_first; // k_buckets + 1 entries
};

// An index that follows on over at least 1/32 of the log reads the texts through a TextLocator: its walk of texts/
// costs about 2 us a text of the whole archive, a text read by path some 100-400 us at 1,000,000 entries.
constexpr std::uint64_t k_follow_on_listing_ratio = 32;

// Read and parse the entries [first, size) of the log at `at` and hand them to `take(end, entries)` on the calling
// thread, in log order, a chunk at a time; with first == size, one empty chunk (a follow-on that only records a new
// checkpoint). Chunks end on multiples of k_chunk (so of 256), or at the log's end: read_entries(end) reads the bundle
// that ends a chunk as the log of `end` entries has it, which for any other end is a partial bundle the tip no longer
// holds. The chunks are read on chunk_readers() threads (a rebuild of 1,000,000 entries spent 30 of its 41 s reading
// and parsing on one thread while the builder waited), each with its GitStore from `stores`. Texts come from `texts`,
// or by path without it.
Expected<void> read_chunks(WorkerStores& stores, const store::Oid& at, std::uint64_t first, std::uint64_t size,
                           const TextLocator* texts,
                           const std::function<Expected<void>(std::uint64_t, std::vector<index::IndexEntry>&&)>& take) {
  const std::uint64_t base = first / k_chunk;
  const std::uint64_t chunks = first >= size ? 1 : (size - 1) / k_chunk - base + 1;
  const auto end_of = [&](std::size_t c) { return std::min(size, (base + c + 1) * k_chunk); };
  return for_each_ordered<std::vector<index::IndexEntry>>(
      static_cast<std::size_t>(chunks), stores.workers(), stores.workers(),
      [&](unsigned reader, std::size_t c) -> Expected<std::vector<index::IndexEntry>> {
        auto own = stores.get(reader);
        if (!own) return std::unexpected(own.error());
        const std::uint64_t start = c == 0 ? first : (base + c) * k_chunk;
        auto envelopes = verify::read_entries(**own, at, end_of(c), start);
        if (!envelopes) return std::unexpected(envelopes.error());
        return index_entries(start, *envelopes, texts ? texts->source(**own, at) : texts_by_path(**own, at));
      },
      [&](std::size_t c, std::vector<index::IndexEntry>&& entries) { return take(end_of(c), std::move(entries)); });
}

// Build the index anew from the log of `cp` at `at` (see index::IndexBuilder: a new file renamed into place when
// complete): the chunks read_chunks reads are handed to the builder, whose thread stores them while the next are read.
Expected<index::Index> build_index(const store::GitStore& store, const store::Oid& at, const verify::SignedCheckpoint& cp,
                                   const Progress& progress) {
  const fs::path file = index_path(store);
  auto builder = index::IndexBuilder::create(file);
  if (!builder) return std::unexpected(builder.error());
  const std::uint64_t size = cp.checkpoint.size;
  const store::SkipObjectHashCheck unchecked; // a cache: verify checks the objects
  {
    WorkerStores stores(store, chunk_readers());
    auto texts = TextLocator::build(stores, at);
    if (!texts) return std::unexpected(texts.error());
    auto read = read_chunks(stores, at, 0, size, &*texts,
                            [&](std::uint64_t end, std::vector<index::IndexEntry>&& entries) -> Expected<void> {
                              if (auto ok = builder->add(std::move(entries)); !ok) return std::unexpected(ok.error());
                              if (progress) progress(end, size);
                              return {};
                            });
    if (!read) return std::unexpected(read.error());
  } // the listing goes before the builder sorts its indexes
  release_freed_memory(); // the readers' heaps, so that the sorts' memory does not come on top of them
  auto built = builder->finish(cp.note);
  if (!built) return std::unexpected(built.error());
  return index::Index::open(file);
}

// fresh_index, or with `rebuild` a build from scratch whatever the index holds (reindex).
Expected<index::Index> bring_up_to_date(const Archive::Impl& impl, const store::Oid& head,
                                        std::vector<std::string>& notices, const Progress& progress, bool rebuild) {
  const auto& store = impl.store;
  const fs::path file = index_path(store);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  auto cp = verify::read_checkpoint(store, head, impl.log_verifier, impl.config.origin);
  if (!cp) return std::unexpected(cp.error());
  // An index that is current is used as it is, without the index lock.
  if (!rebuild && fs::exists(file, ec)) {
    if (auto idx = index::Index::open(file)) {
      auto indexed = idx->indexed_checkpoint();
      if (indexed && *indexed && **indexed == cp->note) return std::move(*idx);
    }
  }
  // Otherwise bring it up to date under the index lock, so that concurrent readers and the writer never add the same
  // entries twice (one of them would fail): whoever comes second finds the work done, or follows on from it.
  auto lock = index::IndexLock::acquire(file, k_index_lock_timeout);
  // A read-only archive (a read-only mount, a copy owned by another user): answer from an index built in memory.
  const bool read_only =
      !rebuild && !lock && ::access(file.parent_path().c_str(), W_OK) != 0 && (errno == EROFS || errno == EACCES);
  if (!lock && !read_only) return std::unexpected(lock.error());
  if (read_only) notices.push_back("the archive is read-only; the index is built in memory for this command");
  // Bring it to the log as it is now: a reader that read the branch before a writer moved it must not take the index
  // back to the older log (it would be rebuilt, and the writer would then have to follow on again). The index may so
  // hold entries after `head`; callers ignore those (as they do entries a writer adds meanwhile).
  store::Oid at = head;
  if (auto now = store.head(); now && *now && **now != head) {
    if (auto now_cp = verify::read_checkpoint(store, **now, impl.log_verifier, impl.config.origin)) {
      at = **now;
      cp = std::move(now_cp);
    }
  }
  if (rebuild) return build_index(store, at, *cp, progress);
  const bool existed = read_only || fs::exists(file, ec);
  if (!existed) {
    notices.push_back("the index was missing; rebuilding it");
    return build_index(store, at, *cp, progress);
  }
  auto idx = index::Index::open(read_only ? fs::path(":memory:") : file);
  if (!idx) {
    notices.push_back(fmt::format("the index was unreadable ({}); rebuilding it", idx.error().message));
    return build_index(store, at, *cp, progress);
  }
  auto indexed = idx->indexed_checkpoint();
  if (!indexed) return std::unexpected(indexed.error());
  if (*indexed && **indexed == cp->note) return std::move(*idx);

  auto have = idx->size();
  if (!have) return std::unexpected(have.error());
  std::uint64_t first = 0;
  if (*indexed && *have <= cp->checkpoint.size) {
    // The index follows on if what it indexed is a prefix of the current log.
    auto old = log::parse_note(**indexed);
    auto old_cp = old ? log::parse_checkpoint_text(old->text) : Expected<log::Checkpoint>(std::unexpected(Error{}));
    const log::TileReader reader = tile_reader(store, at);
    if (old_cp && old_cp->size == *have) {
      auto root = log::root_from_tiles(*have, cp->checkpoint.size, reader);
      if (root && crypto::equal_constant_time(*root, old_cp->root)) first = *have;
    }
  }
  if (first == 0 && *have > 0)
    notices.push_back("the index does not match the archive's history; rebuilding it");
  if (first == 0 && !read_only) {
    idx = std::unexpected(Error{ErrorCode::internal, "closed"}); // close the connection before the file is replaced
    return build_index(store, at, *cp, progress);
  }
  if (first == 0 && *have > 0)
    if (auto ok = idx->clear(); !ok) return std::unexpected(ok.error());
  // Index the missing entries in chunks, each its own transaction; the checkpoint is recorded with the last one.
  // When they are a large part of the log (a pull of many entries), their texts are read as a rebuild reads them.
  WorkerStores stores(store, chunk_readers());
  std::optional<TextLocator> texts;
  if ((cp->checkpoint.size - first) * k_follow_on_listing_ratio >= cp->checkpoint.size) {
    auto listed = TextLocator::build(stores, at);
    if (!listed) return std::unexpected(listed.error());
    texts = std::move(*listed);
  }
  const std::uint64_t size = cp->checkpoint.size;
  // Many entries against the index's size (index::Index::sorts_indexes): all in one transaction, the secondary indexes
  // sorted anew at its end (800,000 entries following on over 200,000 took 42 s entry by entry, more than a rebuild of
  // the whole million). Otherwise a transaction a chunk, so that a follow-on that is stopped keeps what it added.
  if (index::Index::sorts_indexes(first, size - first)) {
    auto added = idx->add(
        [&](const index::Index::EntrySink& sink) -> Expected<void> {
          return read_chunks(stores, at, first, size, texts ? &*texts : nullptr,
                             [&](std::uint64_t end, std::vector<index::IndexEntry>&& entries) -> Expected<void> {
                               if (auto ok = sink(entries); !ok) return ok;
                               if (progress) progress(end - first, size - first);
                               return {};
                             });
        },
        cp->note, size - first);
    if (!added) return std::unexpected(added.error());
    return std::move(*idx);
  }
  auto read = read_chunks(stores, at, first, size, texts ? &*texts : nullptr,
                          [&](std::uint64_t end, std::vector<index::IndexEntry>&& entries) -> Expected<void> {
                            const bool last = end >= size;
                            if (auto ok = idx->add(entries, last ? std::string_view(cp->note) : std::string_view{}); !ok)
                              return std::unexpected(ok.error());
                            if (progress) progress(end - first, size - first);
                            return {};
                          });
  if (!read) return std::unexpected(read.error());
  return std::move(*idx);
}

} // namespace

Expected<index::Index> fresh_index(const Archive::Impl& impl, const store::Oid& head, std::vector<std::string>& notices,
                                   const Progress& progress) {
  return bring_up_to_date(impl, head, notices, progress ? progress : impl.index_progress, false);
}

Expected<void> drop_after(const Archive::Impl& impl, const store::Oid& head, std::vector<index::Row>& rows) {
  auto cp = verify::read_checkpoint(impl.store, head, impl.log_verifier, impl.config.origin);
  if (!cp) return std::unexpected(cp.error());
  std::erase_if(rows, [&](const index::Row& r) { return r.index >= cp->checkpoint.size; });
  return {};
}

bool add_written(const store::GitStore& store, index::Index& idx, const index::Index::EntryBatches& entries,
                 std::uint64_t count, std::string_view note) {
  auto lock = index::IndexLock::acquire(index_path(store), k_index_lock_timeout);
  if (!lock) return false;
  auto indexed = idx.indexed_checkpoint();
  if (indexed && *indexed && **indexed == note) return true; // a reader followed on first
  return idx.add(entries, note, count).has_value();
}

} // namespace detail

namespace {

Expected<store::Oid> head_of(const Archive::Impl& impl) {
  auto head = impl.store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "archive has no commit");
  return **head;
}

// Replace filter.archivist (a key id or a unique prefix of one, see index::resolve_key_prefix) by the full id of the
// key it names among the keys the log knows.
Expected<void> resolve_archivist(const index::Index& idx, const std::string& log_key_id, index::Filter& filter) {
  if (!filter.archivist) return {};
  auto ids = idx.key_ids();
  if (!ids) return std::unexpected(ids.error());
  ids->push_back(log_key_id);
  auto id = index::resolve_key_prefix(*filter.archivist, *ids);
  if (!id) return std::unexpected(id.error());
  filter.archivist = std::move(*id);
  return {};
}

std::string entries_word(std::uint64_t n) { return n == 1 ? "entry" : "entries"; }

// "did you mean 'https://e.org/x' (3 entries)?" when the index holds sources that are `source` but for a trailing
// slash, a fragment, a default port or the case of the scheme or host; nullopt when there is none.
Expected<std::optional<std::string>> did_you_mean(const index::Index& idx, const std::string& source) {
  auto near = idx.near_sources(source, 3);
  if (!near) return std::unexpected(near.error());
  if (near->empty()) return std::optional<std::string>{};
  std::string out = "did you mean ";
  for (std::size_t i = 0; i < near->size(); ++i) {
    const auto& c = (*near)[i];
    if (i > 0) out += i + 1 == near->size() ? " or " : ", ";
    out += fmt::format("'{}' ({} {})", c.key, c.count, entries_word(c.count));
  }
  return std::optional<std::string>{out + "?"};
}

// Say why `filter` selects nothing: a --source that exists only in a near spelling, else the first filter whose
// removal alone yields entries (re-counted on the index), else that the filters only exclude everything together.
Expected<std::string> explain_empty(const index::Index& idx, const index::Filter& filter) {
  if (filter.source) {
    index::Filter only;
    only.source = filter.source;
    auto n = idx.count(only);
    if (!n) return std::unexpected(n.error());
    if (*n == 0) {
      auto hint = did_you_mean(idx, *filter.source);
      if (!hint) return std::unexpected(hint.error());
      if (*hint) return fmt::format("no entries match --source '{}'; {}", *filter.source, **hint);
    }
  }
  using Field = std::optional<std::string> index::Filter::*;
  const std::pair<const char*, Field> fields[] = {
      {"--source", &index::Filter::source}, {"--publisher", &index::Filter::publisher},
      {"--archivist", &index::Filter::archivist}, {"--lang", &index::Filter::lang},
      {"--kind", &index::Filter::kind}, {"--grep", &index::Filter::grep},
      {"--since", &index::Filter::since}, {"--until", &index::Filter::until}};
  bool any = false;
  for (const auto& [name, field] : fields) {
    if (!(filter.*field)) continue;
    any = true;
    index::Filter others = filter;
    others.*field = std::nullopt;
    auto n = idx.count(others);
    if (!n) return std::unexpected(n.error());
    if (*n > 0)
      return fmt::format("no entries match: {} '{}' matches none of the {} {} the other filters", name,
                         *(filter.*field), *n, *n == 1 ? "entry that passes" : "entries that pass");
  }
  if (!any) return std::string("no entries match");
  return std::string("no entries match: the filters exclude everything together (dropping any one still leaves none)");
}

} // namespace

Expected<std::vector<index::Row>> Archive::log(const index::Filter& filter, std::vector<std::string>& notices) const {
  std::vector<index::Row> rows;
  auto n = log_each(filter, notices, [&rows](const index::Row& r) { rows.push_back(r); });
  if (!n) return std::unexpected(n.error());
  return rows;
}

Expected<std::uint64_t> Archive::log_each(const index::Filter& filter, std::vector<std::string>& notices,
                                          const std::function<void(const index::Row&)>& row) const {
  auto head = head_of(*m_impl);
  if (!head) return std::unexpected(head.error());
  auto idx = detail::fresh_index(*m_impl, *head, notices);
  if (!idx) return std::unexpected(idx.error());
  index::Filter f = filter;
  if (auto ok = resolve_archivist(*idx, m_impl->config.log_key_id, f); !ok) return std::unexpected(ok.error());
  auto n = idx->log_each(f, row);
  if (!n) return std::unexpected(n.error());
  if (*n == 0) {
    auto why = explain_empty(*idx, f);
    if (!why) return std::unexpected(why.error());
    notices.push_back(std::move(*why));
  }
  return n;
}

Expected<std::uint64_t> Archive::reindex(std::vector<std::string>& notices, const Progress& progress) const {
  auto head = head_of(*m_impl);
  if (!head) return std::unexpected(head.error());
  std::vector<std::string> ignored;
  auto idx = detail::bring_up_to_date(*m_impl, *head, ignored, progress, true);
  if (!idx) return std::unexpected(idx.error());
  (void)notices;
  return idx->size();
}

Expected<Archive::CheckResult> Archive::check(std::string_view bytes, const std::optional<std::string>& source,
                                              std::vector<std::string>& notices,
                                              const std::optional<std::string>& encoding) const {
  auto head = head_of(*m_impl);
  if (!head) return std::unexpected(head.error());
  auto idx = detail::fresh_index(*m_impl, *head, notices);
  if (!idx) return std::unexpected(idx.error());
  // Decoded as archive decodes it; the byte-identical matches below still use the bytes as given (an original).
  std::string decoded;
  if (encoding) {
    auto utf8 = text::to_utf8(bytes, *encoding);
    if (!utf8) return std::unexpected(utf8.error());
    decoded = std::move(*utf8);
    if (auto doubt = text::decoding_doubt(bytes, *encoding, decoded)) notices.push_back(*doubt);
  }
  auto canon = text::canonicalize(encoding ? std::string_view(decoded) : bytes);
  if (!canon && !encoding && canon.error().message.starts_with("invalid UTF-8"))
    if (auto hint = text::encoding_hint(bytes))
      return fail(ErrorCode::invalid_input, "{}; {}", canon.error().message, *hint);
  if (!canon) return std::unexpected(canon.error());
  const std::string raw_sha = to_hex(crypto::sha256(bytes));
  const std::string canon_sha = to_hex(crypto::sha256(canon->text));
  CheckResult r;
  std::set<std::uint64_t> seen;
  const auto add = [&](const std::vector<index::Row>& rows, bool identical) {
    for (const auto& row : rows)
      if (seen.insert(row.index).second) r.matches.push_back({row, identical});
  };
  for (const auto& sha : {raw_sha}) {
    auto by_text = idx->by_text(sha);
    if (!by_text) return std::unexpected(by_text.error());
    add(*by_text, true);
    auto by_original = idx->by_original(sha);
    if (!by_original) return std::unexpected(by_original.error());
    add(*by_original, true);
  }
  auto canonical = idx->by_text(canon_sha);
  if (!canonical) return std::unexpected(canonical.error());
  add(*canonical, false);
  std::sort(r.matches.begin(), r.matches.end(), [](const auto& a, const auto& b) { return a.row.index < b.row.index; });
  if (!r.matches.empty()) return r;

  // No match: the closest version of that source, or without a source the closest of the statements that share the
  // most telling words with the text (a full-text shortlist of 20), by word-level similarity.
  auto versions = source ? idx->versions(*source) : idx->similar_texts(canon->text, 20);
  if (!versions) return std::unexpected(versions.error());
  if (source && versions->empty()) {
    auto hint = did_you_mean(*idx, *source);
    if (!hint) return std::unexpected(hint.error());
    if (*hint) notices.push_back(fmt::format("no entries match --source '{}'; {}", *source, **hint));
  }
  std::set<std::string> compared;
  for (const auto& v : *versions) {
    if (!compared.insert(v.text_sha256).second) continue; // the same text again: the first (oldest) one stands
    auto text = m_impl->store.read(*head, record::text_path(v.text_sha256));
    if (!text) continue;
    auto diff = text::word_diff(*text, canon->text);
    if (!diff) continue;
    const double sim = text::similarity(*diff);
    if (!r.closest || sim > r.similarity) {
      r.closest = v;
      r.diff = std::move(*diff);
      r.similarity = sim;
    }
  }
  return r;
}

Expected<std::vector<Archive::Version>> Archive::history(std::string_view source, std::vector<std::string>& notices) const {
  auto head = head_of(*m_impl);
  if (!head) return std::unexpected(head.error());
  auto idx = detail::fresh_index(*m_impl, *head, notices);
  if (!idx) return std::unexpected(idx.error());
  auto rows = idx->versions(source);
  if (!rows) return std::unexpected(rows.error());
  if (auto ok = detail::drop_after(*m_impl, *head, *rows); !ok) return std::unexpected(ok.error());
  if (rows->empty()) {
    auto hint = did_you_mean(*idx, std::string(source));
    if (!hint) return std::unexpected(hint.error());
    if (*hint) notices.push_back(fmt::format("no entries match --source '{}'; {}", source, **hint));
  }
  std::vector<Version> out;
  std::string previous;
  for (auto& row : *rows) {
    Version v{std::move(row), {}};
    auto text = m_impl->store.read(*head, record::text_path(v.row.text_sha256));
    if (!text) return std::unexpected(text.error());
    if (!out.empty() && v.row.text_sha256 == out.back().row.text_sha256) {
      v.same_as_previous = true; // a recapture of the same text: nothing to diff
    } else if (!out.empty()) {
      auto diff = text::word_diff(previous, *text);
      if (!diff) return std::unexpected(diff.error());
      v.diff = std::move(*diff);
    }
    previous = std::move(*text);
    out.push_back(std::move(v));
  }
  return out;
}

// What only the entries before an extension can settle, asked of the derived index `idx` (which indexes at least
// those): a new entry repeating an earlier record, a new statement superseding one that is not an earlier statement
// or one of another source. Used by pull (our main and a remote's extension) and audit (what was added since this
// copy's last clean verify).
void detail::check_against_index(const index::Index& idx, verify::IncrementalReport& report) {
  const auto held = [&](const std::string& id, bool statement) -> std::optional<index::Row> {
    auto rows = idx.by_id_prefix(id);
    if (rows)
      for (auto& row : *rows)
        if (row.id == id && row.index < report.old_size && (!statement || row.kind == "statement")) return std::move(row);
    return std::nullopt;
  };
  for (const auto& [i, id] : report.record_ids)
    if (auto at = held(id, false))
      report.problems.push_back({"duplicate_record", i, std::nullopt, std::nullopt,
                                 fmt::format("entry {} repeats record {} of entry {}: one record must appear once in the "
                                             "log", i, id.substr(0, 16), at->index),
                                 {}});
  for (const auto& s : report.supersedes_before) {
    const auto target = held(s.id, true);
    if (!target)
      report.problems.push_back({"supersedes_unknown", s.entry, std::nullopt, std::nullopt,
                                 fmt::format("entry {} supersedes {}, which is not an earlier statement", s.entry,
                                             s.id.substr(0, 16)),
                                 {}});
    else if (target->source != s.source)
      report.problems.push_back({"supersedes_other_source", s.entry, std::nullopt, std::nullopt,
                                 fmt::format("entry {} supersedes {} of entry {}, a statement of another source: a new "
                                             "version must have the same source", s.entry, s.id.substr(0, 16),
                                             target->index),
                                 {}});
  }
}

Expected<AuditReport> Archive::audit(const index::Filter& given, std::vector<std::string>& notices,
                                     bool whole_check, const Progress& progress) const {
  auto head = head_of(*m_impl);
  if (!head) return std::unexpected(head.error());
  auto idx = detail::fresh_index(*m_impl, *head, notices);
  if (!idx) return std::unexpected(idx.error());
  index::Filter resolved = given;
  if (auto ok = resolve_archivist(*idx, m_impl->config.log_key_id, resolved); !ok) return std::unexpected(ok.error());
  const index::Filter& filter = resolved;
  auto agg = idx->audit(filter, 20);
  if (!agg) return std::unexpected(agg.error());
  if (agg->entries == 0) {
    auto why = explain_empty(*idx, filter);
    if (!why) return std::unexpected(why.error());
    notices.push_back(std::move(*why));
  }
  auto cp = verify::read_checkpoint(m_impl->store, *head, m_impl->log_verifier, m_impl->config.origin);
  if (!cp) return std::unexpected(cp.error());
  AuditReport r;
  r.origin = m_impl->config.origin;
  r.generated = format_rfc3339_utc(now_seconds());
  r.tree_size = cp->checkpoint.size;
  r.root_hex = to_hex(cp->checkpoint.root);
  r.checkpoint = cp->note;
  r.entries = agg->entries;
  r.statements = agg->statements;
  const auto counts = [](const std::vector<index::Count>& in, bool shorten) {
    AuditReport::Counts out;
    for (const auto& c : in) out.emplace_back(shorten ? c.key.substr(0, 16) : c.key, c.count);
    return out;
  };
  r.by_publisher = counts(agg->publishers, false);
  r.by_archivist = counts(agg->archivists, true);
  r.by_lang = counts(agg->langs, false);
  r.by_month = counts(agg->months, false);
  for (auto& m : r.by_month)
    if (m.first.empty()) m.first = "unknown";
  for (const auto& k : agg->key_event_rows) r.key_events.push_back({k.index, k.kind, k.key_id, k.role, k.captured});
  for (const auto& s : agg->top_sources) {
    if (s.count < 2) continue;
    AuditReport::Source src{s.key, s.count, {}, {}};
    if (auto versions = idx->versions(s.key); versions && !versions->empty()) {
      src.first_captured = versions->front().captured;
      src.last_captured = versions->back().captured;
    }
    r.most_revised.push_back(std::move(src));
  }
  r.texts = agg->texts; // distinct texts among the selected statements
  // The check. When this build of avow verified an ancestor of main here without problems, only what was added since
  // is checked, as `pull` checks a remote's extension: audit then takes time in the new entries, not in the archive.
  const auto& store = m_impl->store;
  bool checked = false;
  if (const auto base = whole_check ? std::nullopt : detail::verified_commit(store)) {
    auto descends = *base == *head ? Expected<bool>(true) : store::is_ancestor(store.git_dir(), *base, *head);
    if (descends && *descends && *base == *head) {
      checked = true;
      r.checked_since = base->hex();
      r.checked_from = r.tree_size;
    } else if (descends && *descends) {
      auto ext = verify::verify_extension(store, *base, *head, verify::Options{});
      if (ext) {
        detail::check_against_index(*idx, *ext);
        checked = true;
        r.checked_since = base->hex();
        r.checked_from = ext->old_size;
        r.checked_commits = ext->commits;
        r.problems = std::move(ext->problems);
      }
    }
  }
  if (!checked) { // the whole archive
    verify::Options quick;
    quick.quick = true;
    quick.tip = *head;
    quick.progress = progress;
    auto report = verify::run(store, quick);
    if (!report) return std::unexpected(report.error());
    r.problems = std::move(report->problems);
  }
  r.checked = true;
  if (r.problems.empty()) detail::remember_verified(store, *head);
  auto tokens = timestamps(std::nullopt);
  if (!tokens) return std::unexpected(tokens.error());
  for (const auto& t : *tokens) r.timestamps.push_back({t.path, t.tree_size, t.info.gen_time_text, t.info.tsa_name});
  std::string words;
  const auto say = [&](std::string_view what, const std::optional<std::string>& v) {
    if (v) words += fmt::format("{}{} = {}", words.empty() ? "" : ", ", what, *v);
  };
  say("source", filter.source);
  say("publisher", filter.publisher);
  say("archivist", filter.archivist);
  say("lang", filter.lang);
  say("kind", filter.kind);
  say("text contains", filter.grep);
  const char* field = filter.time_field == index::TimeField::published ? "published" : "captured";
  if (filter.since) words += fmt::format("{}{} since {}", words.empty() ? "" : ", ", field, *filter.since);
  if (filter.until) words += fmt::format("{}{} until {}", words.empty() ? "" : ", ", field, *filter.until);
  r.filter = words;
  return r;
}

} // namespace avow
