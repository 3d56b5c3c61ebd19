// Archive::append as a pipeline of named stages (archive/archive_append.hpp); docs/ARCHITECTURE.md "Data flow of
// avow archive" describes each.

#include <archive/archive_append.hpp>

#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/layout.hpp>
#include <archive/record/record.hpp>
#include <archive/text/canonical.hpp>
#include <archive/text/date.hpp>
#include <archive/text/encoding.hpp>
#include <archive/text/key_material.hpp>
#include <archive/text/metadata.hpp>
#include <archive/util/memory.hpp>
#include <archive/util/time.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fcntl.h>
#include <unistd.h>

namespace avow {
namespace fs = std::filesystem;

namespace {

unsigned job_count(unsigned jobs) {
  if (jobs != 0) return jobs;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Run `fn(i)` for i in [0, n) on up to `jobs` threads; `fn` must be safe to call concurrently for distinct i.
template <class Fn> void parallel_for(std::size_t n, unsigned jobs, Fn&& fn) {
  const unsigned threads = static_cast<unsigned>(std::min<std::size_t>(job_count(jobs), std::max<std::size_t>(1, n / 64)));
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::jthread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (;;) {
        const std::size_t start = next.fetch_add(64);
        if (start >= n) return;
        for (std::size_t i = start; i < std::min(n, start + 64); ++i) fn(i);
      }
    });
}

Error with_context(const Error& e, std::string_view context) {
  return Error{e.code, fmt::format("{}: {}", context, e.message)};
}

} // namespace

namespace detail {

ProgressMeter::ProgressMeter(const Progress& progress, std::uint64_t total_units, std::uint64_t total_reported)
    : m_progress(progress), m_units(std::max<std::uint64_t>(1, total_units)), m_total(total_reported),
      m_step(std::max<std::uint64_t>(1, total_units / 200)) {}

void ProgressMeter::add(std::uint64_t n) {
  if (!m_progress) return;
  const std::uint64_t before = m_done.fetch_add(n);
  const std::uint64_t after = before + n;
  if (before / m_step == after / m_step) return;
  std::lock_guard guard(m_mutex);
  // Scaled to the reported total; never the final done == total, which only the driver reports.
  const std::uint64_t done = std::min(m_total > 0 ? m_total - 1 : 0, after * m_total / m_units);
  if (done < m_reported) return; // another thread reported more already: never go backwards
  m_reported = done;
  m_progress(done, m_total);
}

void ProgressMeter::finish() {
  if (!m_progress) return;
  std::lock_guard guard(m_mutex);
  m_progress(m_total, m_total);
}

// --- 1. Keys ---

Expected<SigningKeys> load_signing_keys(const Archive::Impl& impl, const AppendOptions& options) {
  const auto& store = impl.store;
  std::optional<fs::path> key_file = options.key;
  if (!key_file) {
    auto configured = store.config_get("avow.key");
    if (!configured) return std::unexpected(configured.error());
    if (!*configured) return fail(ErrorCode::key, "no archivist key: give --key FILE or set AVOW_KEY");
    key_file = fs::path(**configured);
  }
  auto archivist = crypto::open_signer(key_file->string(), options.passphrase);
  if (!archivist) return std::unexpected(archivist.error());
  auto log_key = open_log_key(store, options.passphrase, "append");
  if (!log_key) return std::unexpected(log_key.error());
  std::string archivist_id = crypto::key_id((*archivist)->public_key());
  if (archivist_id == impl.config.log_key_id || archivist_id == crypto::key_id(log_key->key.public_key()))
    return fail(ErrorCode::key, "the log key signs checkpoints and commits, not statements: give an archivist key");
  return SigningKeys{crypto::OwnedSigner(std::move(*archivist)), std::move(archivist_id), std::move(*log_key)};
}

// --- 2. Prepare ---

Expected<Prepared> prepare(const StatementInput& in, const std::string& archivist, const std::string& captured,
                           bool strict_dates) {
  Prepared p;
  if (in.bytes.size() > k_max_statement_bytes)
    return fail(ErrorCode::invalid_input, "statement is {} bytes, over the limit of {} bytes", in.bytes.size(),
                k_max_statement_bytes);
  std::string encoding = "UTF-8"; // the name text::encoding_name gives UTF-8
  std::string decoded_storage;
  std::string_view decoded = in.bytes;
  if (in.encoding) {
    auto name = text::encoding_name(*in.encoding);
    if (!name) return std::unexpected(name.error());
    encoding = *name;
    auto utf8 = text::to_utf8(in.bytes, *in.encoding);
    if (!utf8) return std::unexpected(utf8.error());
    decoded_storage = std::move(*utf8);
    decoded = decoded_storage;
    p.decoding_doubt = text::decoding_doubt(in.bytes, *in.encoding, decoded);
    if (p.decoding_doubt) p.warnings.push_back(*p.decoding_doubt + "; archived as decoded (--force)");
  }
  p.encoding = encoding;
  auto canon = text::canonicalize(decoded);
  if (!canon && !in.encoding && canon.error().message.starts_with("invalid UTF-8"))
    if (auto hint = text::encoding_hint(in.bytes))
      return fail(ErrorCode::invalid_input, "{}; {}", canon.error().message, *hint);
  if (!canon) return std::unexpected(canon.error());
  // Whatever its origin (a file, standard input, a manifest's text or path), a key is never made a public statement.
  if (auto key = text::private_key_material(canon->text))
    return fail(ErrorCode::invalid_input, "the text holds private key material ({}); private keys are never archived",
                *key);
  for (const auto& w : canon->warnings) p.warnings.push_back(w.message);
  p.canonical = std::move(canon->text);
  p.text_sha = to_hex(crypto::sha256(p.canonical));

  record::Statement s;
  s.text = {p.text_sha, p.canonical.size(), in.lang};
  if (in.captured_original) {
    // A web capture: the original is the WARC the text was extracted from, never the text's own bytes.
    const auto& o = *in.captured_original;
    p.original_sha = to_hex(crypto::sha256(o.bytes));
    s.original = record::OriginalRef{*p.original_sha, o.bytes.size(), o.encoding, o.type};
  } else if (in.bytes != p.canonical) {
    p.original_sha = to_hex(crypto::sha256(in.bytes));
    s.original = record::OriginalRef{*p.original_sha, in.bytes.size(), encoding};
  }
  s.title = in.title;
  s.source = {in.source, in.publisher};
  if (auto w = text::iri_bidi_warning(in.source)) p.warnings.push_back(std::move(*w));
  if (in.published) {
    text::DateOptions date_options{std::nullopt, in.lang, std::nullopt};
    if (in.date_order && !(date_options.order = text::date_order_from_name(*in.date_order)))
      return fail(ErrorCode::invalid_input, "date order '{}' is not dmy, mdy or ymd", *in.date_order);
    auto parsed = text::parse_published(*in.published, in.tz ? std::optional<std::string_view>(*in.tz) : std::nullopt,
                                        date_options);
    if (!parsed) return std::unexpected(with_context(parsed.error(), "published"));
    for (auto& w : parsed->warnings) p.warnings.push_back(std::move(w));
    if (!parsed->understood) {
      if (strict_dates)
        return fail(ErrorCode::invalid_input, "published '{}' is not a date any parser understands", *in.published);
      p.warnings.push_back(fmt::format("published '{}' is not a date any parser understands; kept as written",
                                       *in.published));
    }
    s.published = record::Published{parsed->as_written, parsed->utc, parsed->local, parsed->tz, parsed->calendar};
  } else if (in.tz) {
    return fail(ErrorCode::invalid_input, "--tz needs --published");
  }
  s.captured = captured;
  s.archivist = archivist;
  s.supersedes = in.supersedes;
  s.meta = in.meta;
  auto payload = record::payload(s);
  if (!payload) return std::unexpected(payload.error());
  p.payload = std::move(*payload);
  p.id = record::record_id(p.payload);
  return p;
}

Expected<std::vector<Prepared>> prepare_all(std::span<const StatementInput> inputs, const std::string& archivist_id,
                                            const std::string& captured, const AppendOptions& options,
                                            ProgressMeter& meter) {
  std::vector<Expected<Prepared>> prepared(inputs.size(), std::unexpected(Error{ErrorCode::internal, "not prepared"}));
  parallel_for(inputs.size(), options.jobs, [&](std::size_t i) {
    prepared[i] = prepare(inputs[i], archivist_id, captured, options.strict_dates);
    meter.add();
  });
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!prepared[i]) return std::unexpected(with_context(prepared[i].error(), fmt::format("'{}'", inputs[i].label)));
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (prepared[i]->decoding_doubt && !options.force)
      return fail(ErrorCode::invalid_input, "'{}': {}; check --encoding, or give --force to archive it as decoded",
                  inputs[i].label, *prepared[i]->decoding_doubt);
  std::vector<Prepared> out;
  out.reserve(inputs.size());
  for (auto& p : prepared) out.push_back(std::move(*p));
  return out;
}

// --- 3. Lock and read the state ---

Expected<WriteState> lock_and_read_state(Archive::Impl& impl, const SigningKeys& keys, const AppendOptions& options) {
  auto& store = impl.store;
  WriteState state;
  // A dry run only reads: it takes no lock and leaves no lock file.
  if (!options.dry_run) {
    auto acquired = store::WriterLock::acquire(store.git_dir(), options.lock_timeout);
    if (!acquired) return std::unexpected(acquired.error());
    state.lock = std::move(*acquired);
  }
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "archive has no commit");
  state.head = **head;
  auto cp = verify::read_checkpoint(store, state.head, impl.log_verifier, impl.config.origin);
  if (!cp) return fail(ErrorCode::failed_precondition, "cannot append: {}", cp.error().message);
  state.checkpoint = std::move(*cp);
  // The key state at the checkpoint we build on: the log key must be the one in force, the archivist key one added by a
  // key.add entry and not revoked.
  auto key_state = verify::key_state_at(store, state.head, state.checkpoint, impl.log_verifier);
  if (!key_state) return std::unexpected(key_state.error());
  state.keys = std::move(*key_state);
  if (auto ok = check_seen(store, state.head, state.checkpoint.checkpoint, state.keys); !ok)
    return std::unexpected(ok.error());
  if (auto ok = check_log_key(state.keys, keys.log.key.public_key(), keys.log.spec); !ok)
    return std::unexpected(ok.error());
  if (auto ok = check_archivist_key(state.keys, keys.archivist_id); !ok) return std::unexpected(ok.error());
  if (!options.dry_run)
    if (auto ok = check_clock(store, state.head); !ok) return std::unexpected(ok.error());
  return state;
}

// --- 4. Resolve revisions ---

Expected<RevisionPlan> resolve_revisions(std::span<const StatementInput> inputs, std::vector<Prepared>& prepared,
                                         const RevisionLookup& lookup,
                                         const std::function<Expected<Prepared>(const StatementInput&)>& reprepare,
                                         bool recapture, std::vector<std::string>& notices, RevisionMemory& memory) {
  RevisionPlan plan;
  plan.notes.resize(inputs.size());
  // Our own ids and text hashes are 64 lowercase hex digits: kept as their 32 bytes, given back as hex.
  const auto bytes_of = [](std::string_view hex) {
    crypto::Digest d{};
    if (auto b = from_hex(hex); b && b->size() == d.size()) std::copy(b->begin(), b->end(), d.begin());
    return d;
  };
  const auto hex_of = [](const crypto::Digest& d) { return to_hex(d); };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& in = inputs[i];
    auto& p = prepared[i];
    if (in.supersedes) {
      // A new version of a statement is a statement of the same source (FORMAT 16.2): a link across sources would let
      // one record claim to replace another's.
      std::string target_source;
      if (auto it = memory.ids.find(crypto::sha256(*in.supersedes)); it != memory.ids.end()) {
        target_source = *it->second;
      } else {
        auto known = lookup.statement(*in.supersedes);
        if (!known) return std::unexpected(known.error());
        if (!*known)
          return fail(ErrorCode::invalid_input, "'{}': supersedes names no statement in this archive: {}", in.label,
                      *in.supersedes);
        target_source = (*known)->source;
      }
      if (target_source != in.source)
        return fail(ErrorCode::invalid_input,
                    "'{}': supersedes {}, a statement of another source ({}); a new version must have the same source",
                    in.label, *in.supersedes, target_source);
    }
    std::optional<std::pair<std::string, std::string>> prev;
    if (auto it = memory.latest.find(in.source); it != memory.latest.end()) {
      prev = std::make_pair(hex_of(it->second.id), hex_of(it->second.text));
    } else {
      auto row = lookup.latest(in.source);
      if (!row) return std::unexpected(row.error());
      if (*row) prev = std::make_pair((*row)->id, (*row)->text_sha256);
    }
    if (prev && prev->second == p.text_sha && !recapture) {
      notices.push_back(fmt::format("'{}': this text from this source is already archived as {}; nothing "
                                    "recorded (use --recapture to record a new capture)",
                                    in.label, prev->first));
      continue;
    }
    if (prev && prev->second != p.text_sha && !in.supersedes) {
      StatementInput linked = in;
      linked.supersedes = prev->first;
      auto again = reprepare(linked);
      if (!again) return std::unexpected(with_context(again.error(), fmt::format("'{}'", in.label)));
      p = std::move(*again);
      plan.notes[i].push_back(fmt::format("supersedes {}, the previous version from this source", prev->first));
    }
    // One entry per record: an identical statement captured in the same second (a --recapture) has the same id.
    bool dup = memory.ids.contains(crypto::sha256(p.id));
    if (!dup) {
      auto held = lookup.statement(p.id);
      if (!held) return std::unexpected(held.error());
      dup = held->has_value();
    }
    if (dup) {
      notices.push_back(fmt::format("'{}': already recorded as {} (same statement, same capture second); "
                                    "nothing recorded", in.label, p.id));
      continue;
    }
    if (prev && prev->second != p.text_sha) {
      // A new text equal to an older version of this source (a revert): recorded as a new version, and said so.
      auto versions = lookup.versions(in.source);
      if (!versions) return std::unexpected(versions.error());
      for (std::size_t k = versions->size(); k-- > 0;) {
        const auto& v = (*versions)[k];
        if (v.text_sha256 != p.text_sha || v.kind != "statement" || !lookup.confirmed(v)) continue;
        plan.notes[i].push_back(fmt::format("same text as version {} (record {})", k + 1, v.id));
        break;
      }
    }
    const auto at =
        memory.latest.insert_or_assign(in.source, RevisionMemory::Version{bytes_of(p.id), bytes_of(p.text_sha)}).first;
    memory.ids.emplace(crypto::sha256(p.id), &at->first);
    plan.kept.push_back(i);
  }
  return plan;
}

// --- 5. Sign ---

Expected<std::vector<std::string>> sign_all(std::span<const StatementInput> inputs, std::span<const Prepared> prepared,
                                            std::span<const std::size_t> kept, const crypto::Signer& archivist,
                                            unsigned jobs, ProgressMeter& meter) {
  std::vector<Expected<std::string>> signed_envelopes(kept.size(), std::unexpected(Error{ErrorCode::internal, "unsigned"}));
  parallel_for(kept.size(), jobs, [&](std::size_t k) {
    signed_envelopes[k] = sign_log_entry(prepared[kept[k]].payload, archivist);
    meter.add();
  });
  std::vector<std::string> out;
  out.reserve(kept.size());
  for (std::size_t k = 0; k < kept.size(); ++k) {
    if (!signed_envelopes[k])
      return std::unexpected(with_context(signed_envelopes[k].error(), fmt::format("'{}'", inputs[kept[k]].label)));
    out.push_back(std::move(*signed_envelopes[k]));
  }
  return out;
}

// --- 6. Write ---

Expected<Written> write_commit(Archive::Impl& impl, const WriteState& state, const SigningKeys& keys,
                               const WindowSource& windows, unsigned jobs, ProgressMeter& meter,
                               std::uint64_t incoming) {
  auto& store = impl.store;
  // A text and sometimes an original for each input, and an entry bundle for each 256.
  const bool list = lists_objects_first(state.checkpoint.checkpoint.size, incoming);
  auto tx = store.begin(list ? 2 * incoming : 0);
  if (!tx) return std::unexpected(tx.error());
  if (tx->base() != state.head)
    return fail(ErrorCode::failed_precondition, "archive changed during the write (another writer?)");
  // Stage the texts and originals of the window's kept inputs, the files of the write that are not in the log. A
  // file already staged by this write (the same text twice) is not looked up again.
  const auto stage_files = [&](const Window& w) -> Expected<void> {
    const auto stage = [&](const std::string& path, std::string_view bytes) -> Expected<void> {
      if (tx->stages(path)) return {};
      auto exists = store.exists(state.head, path, bytes);
      if (!exists) return std::unexpected(exists.error());
      if (*exists) return {};
      return tx->put(path, bytes);
    };
    for (const std::size_t i : w.kept) {
      const auto& p = w.prepared[i];
      if (auto ok = stage(record::text_path(p.text_sha), p.canonical); !ok) return ok;
      if (p.original_sha) {
        const auto& in = w.inputs[i];
        if (auto ok = stage(record::original_path(*p.original_sha),
                            in.captured_original ? in.captured_original->bytes : in.bytes); !ok)
          return ok;
      }
    }
    return {};
  };
  Written out;
  out.first = state.checkpoint.checkpoint.size;
  std::vector<std::pair<std::uint64_t, std::string>> named; // (log index, record id) of every new entry
  // A window at a time: its files staged, its records signed (on all cores) and appended to the log, whose full tiles
  // and bundles are staged at once; the transaction writes what is staged to disk whenever it holds enough.
  const EntryFeed feed = [&](const EntrySink& add) -> Expected<void> {
    Window w;
    for (;;) {
      auto more = windows(w);
      if (!more) return std::unexpected(more.error());
      if (!*more) return {};
      if (w.kept.empty()) continue;
      if (auto ok = stage_files(w); !ok) return ok;
      auto envelopes = sign_all(w.inputs, w.prepared, w.kept, keys.archivist, jobs, meter);
      if (!envelopes) return std::unexpected(envelopes.error());
      for (std::size_t k = 0; k < w.kept.size(); ++k) {
        if (auto ok = add((*envelopes)[k]); !ok) return ok;
        named.emplace_back(out.first + named.size(), w.prepared[w.kept[k]].id);
      }
    }
  };
  auto new_size = append_entries(store, state.head, *tx, out.first, feed, impl.config, keys.log.key,
                                 state.checkpoint.checkpoint.root, state.keys);
  if (!new_size) return std::unexpected(new_size.error());
  out.entries = named.size();
  if (named.empty()) return out; // every input was already archived: the transaction goes unused
  out.new_size = *new_size;
  const std::string summary =
      named.size() == 1 ? std::string("archive 1 statement") : fmt::format("archive {} statements", named.size());
  release_freed_memory();
  auto commit = commit_entries(*tx, summary, out.first, out.new_size, std::move(named), keys.log.key);
  if (!commit) return std::unexpected(commit.error());
  out.commit = *commit;
  if (auto note = store.read(out.commit, record::k_checkpoint_path)) out.checkpoint = std::move(*note);
  return out;
}

// --- 7. Index ---

namespace {
constexpr std::size_t k_spool_memory = 16u << 20;
} // namespace

IndexSpool::~IndexSpool() {
  if (m_file) std::fclose(m_file);
}

Expected<void> IndexSpool::spill() {
  // An unnamed file (O_TMPFILE) next to the index: it is gone with the process, however the process ends.
  m_fd = ::open(m_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (m_fd < 0) {
    std::FILE* f = std::tmpfile(); // a file system without O_TMPFILE
    if (!f) return fail(ErrorCode::io, "cannot create a temporary file for the index: {}", std::strerror(errno));
    m_file = f;
  } else if (!(m_file = ::fdopen(m_fd, "w+b"))) {
    const int e = errno;
    ::close(m_fd);
    return fail(ErrorCode::io, "cannot create a temporary file for the index: {}", std::strerror(e));
  }
  if (std::fwrite(m_memory.data(), 1, m_memory.size(), m_file) != m_memory.size())
    return fail(ErrorCode::io, "cannot write a temporary file for the index: {}", std::strerror(errno));
  std::string().swap(m_memory);
  return {};
}

Expected<void> IndexSpool::put(std::string_view id, std::string_view payload, std::string_view text) {
  if (m_reading) return fail(ErrorCode::internal, "index spool: put after reading");
  std::string rec;
  for (const std::string_view part : {id, payload, text}) {
    const std::uint64_t n = part.size();
    rec.append(reinterpret_cast<const char*>(&n), sizeof n);
    rec.append(part);
  }
  if (!m_file) {
    m_memory += rec;
    if (m_memory.size() <= k_spool_memory) return {};
    return spill();
  }
  if (std::fwrite(rec.data(), 1, rec.size(), m_file) != rec.size())
    return fail(ErrorCode::io, "cannot write a temporary file for the index: {}", std::strerror(errno));
  return {};
}

Expected<bool> IndexSpool::next(std::vector<std::array<std::string, 3>>& batch, std::size_t max) {
  batch.clear();
  if (!m_reading) {
    m_reading = true;
    if (m_file && (std::fflush(m_file) != 0 || std::fseek(m_file, 0, SEEK_SET) != 0))
      return fail(ErrorCode::io, "cannot read a temporary file for the index: {}", std::strerror(errno));
  }
  const auto read = [&](void* into, std::size_t n) -> bool {
    if (m_file) return std::fread(into, 1, n, m_file) == n;
    if (m_memory.size() - m_read < n) return false;
    std::memcpy(into, m_memory.data() + m_read, n);
    m_read += n;
    return true;
  };
  while (batch.size() < max) {
    std::array<std::string, 3> rec;
    for (std::size_t k = 0; k < 3; ++k) {
      std::uint64_t n = 0;
      if (!read(&n, sizeof n)) {
        if (k == 0 && (m_file ? std::feof(m_file) != 0 : m_read == m_memory.size())) return !batch.empty();
        return fail(ErrorCode::io, "cannot read a temporary file for the index: it is cut short");
      }
      if (n > (std::uint64_t{1} << 32)) return fail(ErrorCode::io, "cannot read a temporary file for the index: bad length");
      rec[k].resize(static_cast<std::size_t>(n));
      if (n > 0 && !read(rec[k].data(), static_cast<std::size_t>(n)))
        return fail(ErrorCode::io, "cannot read a temporary file for the index: it is cut short");
    }
    batch.push_back(std::move(rec));
  }
  return true;
}

namespace {

// Parse a batch of written records (id, payload, text), number them from `next_index` on, and give them to `sink`.
Expected<void> sink_records(std::vector<std::array<std::string, 3>>& records, std::uint64_t& next_index,
                            std::vector<index::IndexEntry>& added, const index::Index::EntrySink& sink) {
  added.clear();
  for (auto& [id, payload, text] : records) {
    auto st = record::parse_payload(payload);
    if (!st) return std::unexpected(st.error());
    added.push_back({next_index++, std::move(id), std::move(*st), std::move(text)});
  }
  return sink(added);
}

} // namespace

bool update_index(const store::GitStore& store, index::Index& idx, const Written& written, IndexSpool& spool) {
  if (written.checkpoint.empty()) return true; // as before: without the note there is nothing to follow on from
  std::uint64_t next_index = written.first;
  const index::Index::EntryBatches batches = [&](const index::Index::EntrySink& sink) -> Expected<void> {
    std::vector<std::array<std::string, 3>> records;
    std::vector<index::IndexEntry> added;
    for (;;) {
      auto more = spool.next(records, k_write_chunk);
      if (!more) return std::unexpected(more.error());
      if (records.empty()) return {};
      if (auto ok = sink_records(records, next_index, added, sink); !ok) return ok;
      if (!*more) return {};
    }
  };
  return add_written(store, idx, batches, written.entries, written.checkpoint);
}

IndexFeeder::IndexFeeder(const std::filesystem::path& index_file, std::uint64_t first, std::uint64_t incoming) {
  try {
    m_thread = std::thread([this, index_file, first, incoming] { run(index_file, first, incoming); });
  } catch (const std::exception&) { // no thread to be had (std::system_error): the spool does it
    m_done = true;
  }
}

IndexFeeder::~IndexFeeder() { abandon(); }

void IndexFeeder::put(std::string_view id, std::string_view payload, std::string_view text) {
  const std::size_t bytes = id.size() + payload.size() + text.size();
  std::unique_lock lock(m_mutex);
  m_wake.wait(lock, [&] { return m_done || m_end != End::open || m_bytes < k_feed_queue_bytes; });
  if (m_done || m_end != End::open) return;
  m_queue.push_back({std::string(id), std::string(payload), std::string(text)});
  m_bytes += bytes;
  ++m_puts;
  lock.unlock();
  m_wake.notify_all();
}

void IndexFeeder::window_read(std::size_t inputs) {
  {
    std::lock_guard lock(m_mutex);
    m_inputs += inputs;
  }
  m_wake.notify_all();
}

bool IndexFeeder::end(End how, const std::string& checkpoint) {
  {
    std::lock_guard lock(m_mutex);
    if (m_end == End::open) {
      m_end = how;
      m_checkpoint = checkpoint;
    }
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
  std::lock_guard lock(m_mutex);
  return m_ok;
}

bool IndexFeeder::finish(const std::string& checkpoint) { return end(End::committed, checkpoint); }

void IndexFeeder::abandon() { (void)end(End::abandoned, std::string()); }

void IndexFeeder::run(const std::filesystem::path& index_file, std::uint64_t first, std::uint64_t incoming) {
  const auto feed = [&]() -> Expected<void> {
    // The lock, as every writer of the index takes it: a reader that finds the index behind the new commit waits for
    // this transaction rather than adding the same entries.
    auto lock = index::IndexLock::acquire(index_file, k_feed_lock_wait);
    if (!lock) return std::unexpected(lock.error());
    auto idx = index::Index::open(index_file);
    if (!idx) return std::unexpected(idx.error());
    if (auto ok = idx->limit_cache(k_feed_cache_kib); !ok) return ok;
    {
      // How many records will come: `incoming` inputs at the rate the first window kept them. Waited for until the
      // queue is full too (put() then waits for this thread), and known exactly once the write has ended.
      std::unique_lock lk(m_mutex);
      m_wake.wait(lk, [&] { return m_inputs > 0 || m_end != End::open || m_bytes >= k_feed_queue_bytes; });
      if (m_end != End::open)
        incoming = m_puts;
      else if (m_bytes < k_feed_queue_bytes && m_inputs > 0 && m_puts < m_inputs)
        incoming = static_cast<std::uint64_t>(static_cast<long double>(incoming) * m_puts / m_inputs);
    }
    std::uint64_t next_index = first;
    std::vector<std::array<std::string, 3>> records;
    std::vector<index::IndexEntry> added;
    const index::Index::EntryBatches batches = [&](const index::Index::EntrySink& sink) -> Expected<void> {
      for (;;) {
        records.clear();
        {
          std::unique_lock lk(m_mutex);
          m_wake.wait(lk, [&] { return !m_queue.empty() || m_end != End::open; });
          if (m_end == End::abandoned) return fail(ErrorCode::internal, "the write was abandoned");
          if (m_queue.empty()) return {}; // committed, and every record is in
          while (!m_queue.empty() && records.size() < k_write_chunk) {
            auto& r = m_queue.front();
            m_bytes -= r[0].size() + r[1].size() + r[2].size();
            records.push_back(std::move(r));
            m_queue.pop_front();
          }
        }
        m_wake.notify_all(); // room in the queue
        if (auto ok = sink_records(records, next_index, added, sink); !ok) return ok;
      }
    };
    const index::Index::NoteAfter note = [&]() -> Expected<std::string> {
      std::lock_guard lk(m_mutex);
      if (m_end != End::committed || m_checkpoint.empty()) return fail(ErrorCode::internal, "the write was abandoned");
      return m_checkpoint;
    };
    return idx->add(batches, note, incoming);
  };
  // Whatever goes wrong in here (std::bad_alloc, a std::system_error) fails the feeder, not the process: the index
  // connection, gone with the stack, rolls the transaction back.
  bool fed = false;
  try {
    fed = feed().has_value();
  } catch (const std::exception&) {
    fed = false;
  }
  {
    std::lock_guard lock(m_mutex);
    m_ok = fed;
    m_done = true;
    m_queue.clear();
    m_bytes = 0;
  }
  m_wake.notify_all();
}

} // namespace detail

namespace {

// The derived index as resolve_revisions sees it. The index is a cache anyone with access to this folder can edit:
// what it says is checked against the signed log before it shapes a record (a supersedes link, or skipping an
// input). If it lied, it is rebuilt from the log (once).
class ConfirmedIndex {
 public:
  ConfirmedIndex(Archive::Impl& impl, const detail::WriteState& state, std::vector<std::string>& notices)
      : m_impl(impl), m_state(state), m_notices(notices) {}
  ConfirmedIndex(const ConfirmedIndex&) = delete;
  ConfirmedIndex& operator=(const ConfirmedIndex&) = delete;

  Expected<void> open() {
    m_idx = detail::fresh_index(m_impl, m_state.head, m_notices);
    if (!m_idx) return std::unexpected(m_idx.error());
    return m_idx->limit_cache(detail::k_lookup_cache_kib);
  }
  // Close the connection (its page cache) once the revisions are resolved: the write's feeder has one of its own.
  void close() { m_idx = std::unexpected(Error{ErrorCode::internal, "closed"}); }

  // Called before the index is removed to be rebuilt (the write's index feeder must let go of it first).
  void before_rebuild(std::function<void()> f) { m_before_rebuild = std::move(f); }

  detail::RevisionLookup lookup() {
    return {[this](const std::string& source) { return latest(source); },
            [this](const std::string& id) { return statement(id); },
            [this](const std::string& source) { return m_idx->versions(source); },
            [this](const index::Row& row) { return confirmed(row); }};
  }

 private:
  // Log entry `i` at the write's base, from the last few entry bundles read: the rows a write confirms are mostly
  // neighbours in the log (a manifest run again names its statements in the order they were archived), and a bundle
  // is up to 256 envelopes to read and inflate (1.2 ms, against some 5 us to take one from it kept here). Null when
  // there is no such entry or its bundle cannot be read.
  const std::string* log_entry(std::uint64_t i) const {
    const std::uint64_t bundle = i / 256;
    auto it = std::find_if(m_bundles.begin(), m_bundles.end(), [&](const auto& b) { return b.first == bundle; });
    if (it == m_bundles.end()) {
      auto read = detail::read_log_bundle(m_impl.store, m_state.head, m_state.checkpoint.checkpoint.size, bundle);
      if (!read) return nullptr;
      if (m_bundles.size() == k_bundles_kept) m_bundles.pop_front();
      m_bundles.emplace_back(bundle, std::move(*read));
      it = std::prev(m_bundles.end());
    }
    return i % 256 < it->second.size() ? &it->second[i % 256] : nullptr;
  }
  bool confirmed(const index::Row& row) const {
    const std::string* entry = log_entry(row.index);
    if (!entry) return false;
    auto env = record::parse(*entry);
    if (!env || record::record_id(env->payload) != row.id) return false;
    auto st = record::parse_payload(env->payload);
    return st && st->source.uri == row.source && st->text.sha256 == row.text_sha256;
  }
  Expected<void> distrust() {
    if (m_rebuilt) return fail(ErrorCode::internal, "the rebuilt index still disagrees with the log");
    m_rebuilt = true;
    m_notices.push_back("the index disagreed with the signed log; rebuilding it");
    if (m_before_rebuild) m_before_rebuild();
    close(); // the connection, before the files are removed
    if (auto ok = index::Index::remove(detail::index_path(m_impl.store)); !ok) return std::unexpected(ok.error());
    std::vector<std::string> ignored;
    m_idx = detail::fresh_index(m_impl, m_state.head, ignored);
    if (!m_idx) return std::unexpected(m_idx.error());
    return m_idx->limit_cache(detail::k_lookup_cache_kib);
  }
  Expected<std::optional<index::Row>> latest(const std::string& source) {
    for (;;) {
      auto row = m_idx->latest_version(source);
      if (!row || !*row || confirmed(**row)) return row;
      if (auto ok = distrust(); !ok) return std::unexpected(ok.error());
    }
  }
  Expected<std::optional<index::Row>> statement(const std::string& id) {
    for (;;) {
      auto rows = m_idx->by_id_prefix(id);
      if (!rows) return std::unexpected(rows.error());
      auto it = std::find_if(rows->begin(), rows->end(), [&](const auto& r) { return r.id == id && r.kind == "statement"; });
      if (it == rows->end()) return std::optional<index::Row>{};
      if (confirmed(*it)) return std::optional<index::Row>{std::move(*it)};
      if (auto ok = distrust(); !ok) return std::unexpected(ok.error());
    }
  }


  Archive::Impl& m_impl;
  const detail::WriteState& m_state;
  std::vector<std::string>& m_notices;
  Expected<index::Index> m_idx = std::unexpected(Error{ErrorCode::internal, "not opened"});
  bool m_rebuilt = false;
  std::function<void()> m_before_rebuild;
  static constexpr std::size_t k_bundles_kept = 8; // some 2 MiB of envelopes at most
  mutable std::deque<std::pair<std::uint64_t, std::vector<std::string>>> m_bundles;
};

} // namespace

namespace {

// The inputs of a list in memory (files, standard input, captures).
class ListInputs final : public InputSource {
 public:
  explicit ListInputs(const std::vector<StatementInput>& inputs) : m_inputs(inputs) {}
  Expected<std::optional<StatementInput>> next() override {
    if (m_next == m_inputs.size()) return std::optional<StatementInput>{};
    return std::optional<StatementInput>{m_inputs[m_next++]};
  }
  std::uint64_t count() const override { return m_inputs.size(); }

 private:
  const std::vector<StatementInput>& m_inputs;
  std::size_t m_next = 0;
};

// Read the next window of up to k_write_chunk inputs from `source` into `w` and prepare them; false when there are
// none left.
Expected<bool> read_window(InputSource& source, detail::Window& w, const std::string& archivist_id,
                           const std::string& captured, const AppendOptions& options, detail::ProgressMeter& meter) {
  w.inputs.clear();
  w.prepared.clear();
  w.kept.clear();
  while (w.inputs.size() < detail::k_write_chunk) {
    auto in = source.next();
    if (!in) return std::unexpected(in.error());
    if (!*in) break;
    w.inputs.push_back(std::move(**in));
  }
  if (w.inputs.empty()) return false;
  auto prepared = detail::prepare_all(w.inputs, archivist_id, captured, options, meter);
  if (!prepared) return std::unexpected(prepared.error());
  w.prepared = std::move(*prepared);
  return true;
}

} // namespace

Expected<AppendResult> Archive::append(const std::vector<StatementInput>& inputs, const AppendOptions& options) {
  ListInputs list(inputs);
  return append(list, options);
}

Expected<AppendResult> Archive::append(InputSource& source, const AppendOptions& options) {
  // Progress counts each input twice (prepared, then signed) and reports it against the number of inputs.
  detail::ProgressMeter meter(options.progress, 2 * source.count(), source.count());

  auto keys = detail::load_signing_keys(*m_impl, options);
  if (!keys) return std::unexpected(keys.error());
  const std::string captured = format_rfc3339_utc(now_seconds());
  // The first window is read and checked before the lock is taken: a bad single statement fails at once.
  detail::Window first_window;
  auto any = read_window(source, first_window, keys->archivist_id, captured, options, meter);
  if (!any) return std::unexpected(any.error());
  if (!*any) return fail(ErrorCode::invalid_input, "nothing to archive");
  auto state = detail::lock_and_read_state(*m_impl, *keys, options);
  if (!state) return std::unexpected(state.error());

  AppendResult result;
  if (state->lock) result.notices = state->lock->recovered(); // leftovers of an interrupted write, removed under the lock
  ConfirmedIndex idx(*m_impl, *state, result.notices);
  if (auto ok = idx.open(); !ok) return std::unexpected(ok.error());
  const auto reprepare = [&](const StatementInput& in) {
    return detail::prepare(in, keys->archivist_id, captured, options.strict_dates);
  };
  const std::uint64_t first = state->checkpoint.checkpoint.size;
  result.tree_size = first;
  detail::RevisionMemory memory;
  detail::IndexSpool spool(detail::index_path(m_impl->store).parent_path());
  // The index is fed while the write goes on (and committed once the git commit stands); the spool is kept as well,
  // for when the feeder cannot (see detail::IndexFeeder).
  std::optional<detail::IndexFeeder> feeder;
  if (!options.dry_run) {
    feeder.emplace(detail::index_path(m_impl->store), first, source.count());
    idx.before_rebuild([&] { feeder->abandon(); });
  }
  bool first_given = false;
  // Each window: read and prepared (the first one already is), its revisions resolved, and what it keeps recorded in
  // the result (and, for a write, in the spool the index is fed from once the commit stands).
  const detail::WindowSource windows = [&](detail::Window& w) -> Expected<bool> {
    if (!first_given) {
      first_given = true;
      w = std::move(first_window);
    } else {
      auto more = read_window(source, w, keys->archivist_id, captured, options, meter);
      if (!more) return more;
      if (!*more) {
        memory = detail::RevisionMemory{}; // the input is read: make room for the commit
        idx.close();
        return false;
      }
    }
    auto plan = detail::resolve_revisions(w.inputs, w.prepared, idx.lookup(), reprepare, options.recapture,
                                          result.notices, memory);
    if (!plan) return std::unexpected(plan.error());
    w.kept = std::move(plan->kept);
    for (const std::size_t i : w.kept) {
      auto& p = w.prepared[i];
      if (!options.dry_run) {
        if (auto ok = spool.put(p.id, p.payload, p.canonical); !ok) return std::unexpected(ok.error());
        feeder->put(p.id, p.payload, p.canonical);
      }
      result.records.push_back({p.id, first + result.records.size(), w.inputs[i].label, std::move(p.warnings),
                                std::move(plan->notes[i]), p.canonical.size(), p.encoding,
                                options.dry_run ? std::make_shared<const DryRunRecord>(
                                                      DryRunRecord{p.payload, p.text_sha, p.canonical})
                                                : nullptr});
    }
    if (!options.dry_run) feeder->window_read(w.inputs.size());
    return true;
  };

  if (options.dry_run) {
    detail::Window w;
    for (;;) {
      auto more = windows(w);
      if (!more) return std::unexpected(more.error());
      if (!*more) break;
    }
    meter.finish();
    return result;
  }
  auto written = detail::write_commit(*m_impl, *state, *keys, windows, options.jobs, meter, source.count());
  if (!written) return std::unexpected(written.error());
  release_freed_memory();
  meter.finish();
  if (written->entries == 0) return result; // every input was already archived
  result.tree_size = written->new_size;
  result.commit = written->commit.hex();
  // After the commit stands: remember its checkpoint (first: whatever the index does, a later rollback of this write
  // must be seen), then commit the index the feeder filled meanwhile; should it have failed, bring the index along
  // from the spool. An index that fails here is only stale: it is rebuilt on next use.
  if (written->checkpoint.empty()) return result;
  detail::remember_seen_checkpoint(m_impl->store, written->checkpoint);
  if (feeder->finish(written->checkpoint)) return result;
  feeder->abandon();
  auto index = index::Index::open(detail::index_path(m_impl->store));
  if (!index || !detail::update_index(m_impl->store, *index, *written, spool))
    result.notices.push_back("the index could not be updated; it will be rebuilt");
  return result;
}

} // namespace avow
