#include <archive/verify/verify.hpp>

#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/crypto/sshsig.hpp>
#include <archive/log/merkle.hpp>
#include <archive/log/tiles.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/key_state.hpp>
#include <archive/record/record.hpp>
#include <archive/text/canonical.hpp>
#include <archive/text/encoding.hpp>
#include <archive/verify/checks.hpp>
#include <archive/verify/log_reader.hpp>
#include <archive/verify/timestamps.hpp>
#include <archive/store/writer_lock.hpp>
#include <archive/util/memory.hpp>
#include <archive/util/time.hpp>

#include <algorithm>
#include <charconv>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace avow::verify {
namespace {

// The 32 bytes that `hex` (64 hex digits: a SHA-256, a record id) spells; nullopt for anything else.
std::optional<crypto::Digest> digest_of_hex(std::string_view hex) {
  auto bytes = from_hex(hex);
  if (!bytes || bytes->size() != crypto::Digest{}.size()) return std::nullopt;
  crypto::Digest out;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

unsigned job_count(unsigned jobs) { return jobs != 0 ? jobs : std::max(1u, std::thread::hardware_concurrency()); }

// Run `fn(worker, i)` for i in [0, n) on `threads` workers taking chunks from a shared counter. The calling thread is
// worker 0; it alone calls `tick(done)` (items finished so far) after each of its chunks, and once with n at the end.
template <class Fn, class Tick> void parallel_for(std::size_t n, unsigned threads, Fn&& fn, Tick&& tick) {
  threads = static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(threads, (n + 63) / 64)));
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> finished{0};
  const auto work = [&](unsigned worker) {
    for (;;) {
      const std::size_t start = next.fetch_add(64);
      if (start >= n) return;
      const std::size_t end = std::min(n, start + 64);
      for (std::size_t i = start; i < end; ++i) fn(worker, i);
      const std::size_t done = finished.fetch_add(end - start) + (end - start);
      if (worker == 0) tick(done);
    }
  };
  {
    std::vector<std::jthread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
  }
  tick(n);
}

template <class Fn> void parallel_for(std::size_t n, unsigned threads, Fn&& fn) {
  parallel_for(n, threads, std::forward<Fn>(fn), [](std::size_t) {});
}

class Checker {
public:
  Checker(const store::GitStore& store, const Options& options) : m_store(store), m_options(options) {}

  Expected<Report> run() {
    auto head = m_options.tip ? Expected<std::optional<store::Oid>>(m_options.tip) : m_store.head();
    if (!head) return std::unexpected(head.error());
    if (!*head)
      return fail(ErrorCode::failed_precondition, "'{}' is not an avow archive (no commit on main)",
                  m_store.workdir().string());
    m_head = **head;
    m_report.commit = m_head;
    auto config = read_config(m_store, m_head);
    if (!config) {
      if (config.error().code != ErrorCode::invalid_input) return std::unexpected(config.error());
      problem("config_invalid", {}, m_head.hex(), std::string(record::k_config_path), config.error().message);
      return m_report;
    }
    m_config = *config;
    m_report.origin = m_config.origin;
    auto verifier = log_verifier(m_config);
    if (!verifier) {
      problem("config_invalid", {}, {}, std::string(record::k_config_path), verifier.error().message);
      return m_report;
    }
    m_log_key = *verifier;

    // Which log key signs what depends on the key events of the log, so the commits are read first, then the entries
    // of the latest checkpoint, a window at a time (so that memory does not grow with the log), then the key state
    // they make is followed along the commits.
    if (auto ok = check_commits(); !ok) return std::unexpected(ok.error());
    const bool head_readable = !m_commits.empty() && m_commits.back().parsed.has_value();
    m_states.assign(1, {0, record::initial_key_state(m_log_key.key)});
    std::optional<Error> unreadable;
    if (head_readable) {
      if (auto ok = check_entries_in_windows(m_commits.back().parsed->size); !ok) {
        unreadable = ok.error();
        forget_entries();
      }
    }
    flush(m_parse_problems);
    // Of one entry: a duplicate first, then what its key says, then its supersedes, as the checks run in that order
    // for each entry.
    std::vector<Problem> records = std::move(m_duplicate_problems);
    for (auto* more : {&m_key_problems, &m_supersedes_problems})
      for (auto& p : *more) records.push_back(std::move(p));
    std::stable_sort(records.begin(), records.end(),
                     [](const Problem& a, const Problem& b) { return a.entry.value_or(0) < b.entry.value_or(0); });
    flush(records);
    check_commit_keys();
    if (m_checkpoints.empty() || !m_checkpoints.back().valid) {
      problem("checkpoint_invalid", {}, m_head.hex(), std::string(record::k_checkpoint_path),
              "the latest checkpoint cannot be checked, so the log cannot be verified");
      return finish();
    }
    const std::uint64_t size = m_checkpoints.back().size;
    m_report.size = size;
    m_report.root_hex = to_hex(m_checkpoints.back().root);
    m_report.checkpoint = checkpoint_note(m_checkpoints.back().commit);
    if (unreadable) {
      problem("entry_bundle_invalid", {}, {}, std::nullopt, unreadable->message);
      return finish();
    }
    m_report.entries = m_size;
    m_report.texts = m_texts_claimed + m_unlisted_texts.size();
    check_log();
    flush(m_signature_problems);
    flush(m_text_problems);
    check_timestamps(m_store, m_head, timestamp_input(), m_options, m_report, m_expected_files);
    check_files();
    return finish();
  }

private:
  struct CheckpointAt {
    std::string commit;
    std::uint64_t size = 0;
    log::Hash root{};
    bool valid = false;
  };

  // Record a problem: in the report, or in the buffer m_sink names while the entries are checked a window at a time
  // (each kind of check keeps its own buffer, so the report lists them in the same order whatever the window size).
  void problem(std::string kind, std::optional<std::uint64_t> entry, std::optional<std::string> commit,
               std::optional<std::string> path, std::string message, std::vector<std::string> evidence = {}) {
    std::lock_guard lock(m_mutex);
    (m_sink ? *m_sink : m_report.problems)
        .push_back({std::move(kind), entry, std::move(commit), std::move(path), std::move(message), std::move(evidence)});
  }
  void flush(std::vector<Problem>& buffer) {
    for (auto& p : buffer) m_report.problems.push_back(std::move(p));
    buffer = {};
  }

  // The note of the checkpoint at `commit`, for evidence (empty if it cannot be read).
  std::string checkpoint_note(const std::string& commit) {
    auto oid = store::Oid::from_hex(commit);
    if (!oid) return {};
    auto text = m_store.read(*oid, record::k_checkpoint_path);
    return text ? *text : std::string{};
  }

  // Tell the caller how far the entry checks are (throttled here: every call costs a std::function).
  void report_progress(std::uint64_t done, std::uint64_t total) {
    if (!m_options.progress) return;
    if (done != total && done - m_progress_last < 1024) return;
    m_progress_last = done;
    m_options.progress(done, total);
  }

  Report finish() {
    std::stable_sort(m_report.problems.begin(), m_report.problems.end(), [](const Problem& a, const Problem& b) {
      return a.entry.value_or(0) < b.entry.value_or(0);
    });
    return m_report;
  }

  // One commit as read, before the key state says who had to sign it.
  struct CommitAt {
    std::string id;
    std::int64_t time = 0;                    // committer time
    std::optional<crypto::PublicKey> signer;  // the key of its valid SSHSIG
    std::optional<std::uint64_t> claimed;     // Avow-Tree-Size of its message
    std::optional<log::Note> note;            // log/checkpoint, parsed but not yet verified
    std::optional<log::Checkpoint> parsed;    // its text, origin checked
    std::optional<std::string> keys_jcs;      // log/keys
    bool allowed_signers_changed = false;
  };

  // SPEC 7.1: history is linear, each commit only appends, and its SSHSIG is well formed (which log key must have
  // made it is checked in check_commit_keys). Also reads the checkpoint and log/keys of every commit.
  Expected<void> check_commits() {
    // Each diff reads the trees of a commit its predecessor's diff read too: a cache keeps them, in a store opened
    // for this walk and closed after it, so that the memory goes back before the entries are read.
    std::optional<store::GitStore> walker;
    {
      store::ObjectCacheLimit cache(k_commit_walk_cache_bytes);
      const store::MappedPackLimit windows(k_commit_walk_mapped_bytes);
      if (auto opened = store::GitStore::open(m_store.workdir())) walker.emplace(std::move(*opened));
      if (walker) {
        auto walked = check_commits(*walker);
        walker.reset();
        release_freed_memory(); // the cache's memory goes back to the system, not only to the heap
        return walked;
      }
    }
    return check_commits(m_store);
  }
  Expected<void> check_commits(const store::GitStore& store) {
    std::optional<store::Oid> previous;
    std::uint64_t index = 0;
    auto walked = store.for_each_commit_from(m_head, [&](const store::CommitInfo& c) -> Expected<void> {
      const std::string id = c.id.hex();
      ++m_report.commits;
      if (index == 0 ? !c.parents.empty() : (c.parents.size() != 1 || !previous || c.parents[0] != *previous))
        problem("history_not_linear", {}, id, std::nullopt,
                fmt::format("commit {} has {} parents; main must be a single line of commits", id.substr(0, 12),
                            c.parents.size()));
      CommitAt at;
      at.id = id;
      at.time = c.commit_time;
      const SplitCommit split = split_signature(c.raw);
      if (!split.signature) {
        problem("commit_unsigned", {}, id, std::nullopt,
                fmt::format("commit {} is not signed (every archive commit is signed by the log key)", id.substr(0, 12)));
      } else {
        auto signer = crypto::sshsig_verify(*split.signature, "git", as_bytes(split.payload));
        if (!signer)
          problem("commit_signature_invalid", {}, id, std::nullopt,
                  fmt::format("commit {} signature does not verify: {}", id.substr(0, 12), signer.error().message));
        else at.signer = *signer;
      }
      if (previous) {
        // Additions are always allowed (change_rule), so they are not listed: a large batch adds every file anew.
        auto changes = store.diff_except_added(previous, c.id);
        if (!changes) return std::unexpected(changes.error());
        for (const auto& ch : *changes) {
          const ChangeRule rule = change_rule(ch);
          if (rule == ChangeRule::allowed_signers_change)
            at.allowed_signers_changed = true; // allowed in a rotation's commit only: judged in check_commit_keys
          else if (rule == ChangeRule::forbidden)
            problem("history_not_append_only", {}, id, ch.path, forbidden_change_message(id, ch));
        }
      }
      at.claimed = tree_size_trailer(c.message);
      auto bad_checkpoint = [&](std::string_view why) {
        problem("checkpoint_invalid", {}, id, std::string(record::k_checkpoint_path),
                fmt::format("checkpoint of commit {}: {}", id.substr(0, 12), why));
      };
      if (auto text = store.read(c.id, record::k_checkpoint_path); !text) {
        bad_checkpoint(text.error().message);
      } else if (auto note = log::parse_note(*text); !note) {
        bad_checkpoint(fmt::format("log/checkpoint: {}", note.error().message));
      } else if (auto cp = log::parse_checkpoint_text(note->text); !cp) {
        bad_checkpoint(fmt::format("log/checkpoint: {}", cp.error().message));
      } else if (cp->origin != m_config.origin) {
        bad_checkpoint(fmt::format("log/checkpoint: origin '{}' is not the archive's '{}'", cp->origin, m_config.origin));
      } else {
        at.note = std::move(*note);
        at.parsed = std::move(*cp);
      }
      auto keys = store.read_if_exists(c.id, record::k_key_state_path);
      if (!keys) return std::unexpected(keys.error());
      at.keys_jcs = std::move(*keys);
      m_commits.push_back(std::move(at));
      previous = c.id;
      ++index;
      return {};
    });
    return walked;
  }

  // The key state at tree size `size`: what the key events among the first `size` entries made.
  const record::KeyState& state_at(std::uint64_t size) const {
    const auto it = std::upper_bound(m_states.begin(), m_states.end(), size,
                                     [](std::uint64_t s, const auto& st) { return s < st.first; });
    return std::prev(it)->second;
  }
  // The log key that signs a checkpoint of `size` entries (and the commits whose parent's checkpoint has that size).
  const record::KeyEntry* log_key_at(std::uint64_t size) const { return state_at(size).log_key(); }

  log::Verifier verifier_of(const record::KeyEntry& k) const { return note_verifier(m_config.origin, k.public_key); }

  // SPEC 7.1 with key state: each commit is signed by the log key in force at its parent's checkpoint; each checkpoint
  // by the log key in force at its size, a hand-over checkpoint by the old key too; log/keys and the avow-keys line
  // are the recomputed key state; keys/allowed_signers changes only in a rotation's commit.
  void check_commit_keys() {
    const record::KeyState& final_state = m_states.back().second;
    // The rotations: for each log key a key.add brought in, the key before it.
    struct Rotation {
      std::uint64_t index;
      const record::KeyEntry* old_key;
      const record::KeyEntry* new_key;
      std::optional<std::size_t> commit; // the hand-over commit: the first whose checkpoint holds the rotation entry
    };
    std::vector<Rotation> rotations;
    const record::KeyEntry* before = final_state.genesis_log_key();
    for (const auto& k : final_state.keys) {
      if (k.role != record::k_role_log || !k.added_at) continue;
      rotations.push_back({*k.added_at, before, &k, std::nullopt});
      before = &k;
    }
    std::optional<std::uint64_t> parent_size;
    bool seen_extension = false;
    for (std::size_t n = 0; n < m_commits.size(); ++n) {
      const CommitAt& c = m_commits[n];
      const std::string short_id = c.id.substr(0, 12);
      // The commit's signature: the genesis log key for the first commit, else the key in force at its parent.
      const record::KeyEntry* want = parent_size ? log_key_at(*parent_size) : final_state.genesis_log_key();
      if (c.signer && want && crypto::key_id(*c.signer) != want->id) {
        const std::string got = crypto::key_id(*c.signer);
        const record::KeyEntry* known = final_state.find(got);
        if (known && known->role == record::k_role_log && known->revoked_at && parent_size && *parent_size > *known->revoked_at)
          problem("commit_signature_invalid", {}, c.id, std::nullopt,
                  fmt::format("commit {} is signed by log key {}, which was rotated out at entry {}; the log key in force "
                              "is {}", short_id, got.substr(0, 16), *known->revoked_at, want->id.substr(0, 16)));
        else
          problem("commit_signature_invalid", {}, c.id, std::nullopt,
                  fmt::format("commit {} is signed by key {}, not the log key in force ({})", short_id,
                              got.substr(0, 16), want->id.substr(0, 16)));
      }
      for (auto& r : rotations)
        if (!r.commit && c.parsed && c.parsed->size > r.index) {
          r.commit = n;
          m_rotation_times[r.index] = c.time;
        }
      CheckpointAt at{c.id, 0, {}, false};
      if (c.parsed) {
        const std::uint64_t size = c.parsed->size;
        const record::KeyEntry* signer = log_key_at(size);
        const log::Verifier known[] = {verifier_of(*signer)};
        if (auto ok = log::verify_note(*c.note, known); !ok) {
          problem("checkpoint_invalid", {}, c.id, std::string(record::k_checkpoint_path),
                  fmt::format("checkpoint of commit {} (size {}) is not signed by the log key in force at that size ({}): {}",
                              short_id, size, signer->id.substr(0, 16), ok.error().message));
        } else {
          at = {c.id, size, c.parsed->root, true};
          ++m_report.checkpoints;
          check_cosignatures(c, final_state);
        }
        for (const auto& r : rotations) {
          if (r.commit != n) continue;
          const log::Verifier old_known[] = {verifier_of(*r.old_key)};
          if (!log::verify_note(*c.note, old_known))
            problem("handover_unsigned", {}, c.id, std::string(record::k_checkpoint_path),
                    fmt::format("the hand-over checkpoint of commit {} (size {}) is not signed by the old log key {} "
                                "(rotated out at entry {})", short_id, size, r.old_key->id.substr(0, 16), r.index));
        }
        check_key_state_of(c, seen_extension);
        if (at.valid) {
          if (c.claimed != at.size)
            problem("commit_message_mismatch", {}, c.id, std::nullopt,
                    fmt::format("commit {} message does not name the tree size of its checkpoint ({})", short_id, at.size));
          for (auto it = m_checkpoints.rbegin(); it != m_checkpoints.rend(); ++it) {
            if (!it->valid) continue;
            if (it->size > at.size)
              problem("log_truncated", {}, c.id, std::string(record::k_checkpoint_path),
                      fmt::format("commit {} has a checkpoint of size {} after one of size {} (commit {})", short_id,
                                  at.size, it->size, it->commit.substr(0, 12)));
            break;
          }
        }
        parent_size = size;
      }
      if (c.allowed_signers_changed &&
          std::none_of(rotations.begin(), rotations.end(), [&](const Rotation& r) { return r.commit == n; }))
        problem("history_not_append_only", {}, c.id, std::string(record::k_allowed_signers_path),
                fmt::format("commit {} changes '{}' but rotates no log key; archive commits may only add files", short_id,
                            record::k_allowed_signers_path));
      m_checkpoints.push_back(std::move(at));
    }
  }

  // Every cosignature line (tlog-cosignature, type 0x04) of the checkpoint of commit `c` by a witness key of the key
  // state must verify; lines by keys the archive does not know are ignored (C2SP signed-note).
  void check_cosignatures(const CommitAt& c, const record::KeyState& state) {
    for (const auto& k : state.keys) {
      if (k.role != record::k_role_witness || !k.name) continue;
      const log::Verifier v{*k.name, log::key_id(*k.name, log::k_sig_cosignature_v1, k.public_key),
                            log::k_sig_cosignature_v1, k.public_key};
      for (const auto& s : c.note->signatures) {
        if (s.name != v.name || s.id != v.id) continue;
        if (auto ok = log::verify_cosignature(c.note->text, s, v); !ok)
          problem("cosignature_invalid", {}, c.id, std::string(record::k_checkpoint_path),
                  fmt::format("the cosignature by witness '{}' on the checkpoint of commit {} (size {}) does not verify: {}",
                              v.name, c.id.substr(0, 12), c.parsed->size, ok.error().message));
      }
    }
  }

  // log/keys of commit `c` and the avow-keys line of its checkpoint must be the key state recomputed at its size. A
  // checkpoint without the line is accepted only before the first one that has it (an archive written before).
  void check_key_state_of(const CommitAt& c, bool& seen_extension) {
    const std::string short_id = c.id.substr(0, 12);
    const std::uint64_t size = c.parsed->size;
    const auto mismatch = [&](std::string path, std::string why) {
      problem("key_state_mismatch", {}, c.id, std::move(path), fmt::format("commit {}: {}", short_id, why));
    };
    auto extension = record::find_key_state_extension(c.parsed->extensions);
    if (!extension) {
      mismatch(std::string(record::k_checkpoint_path), extension.error().message);
      return;
    }
    // Beyond the entries read (a bundle is unreadable, or the checkpoint is larger than the log) the key state cannot
    // be recomputed; entry_bundle_invalid or checkpoint_beyond_log names that problem.
    if (size > m_size) {
      seen_extension = seen_extension || extension->has_value();
      return;
    }
    const record::KeyState& state = state_at(size);
    if (*extension) {
      seen_extension = true;
      if (**extension != record::key_state_extension(state))
        mismatch(std::string(record::k_checkpoint_path),
                 fmt::format("the avow-keys line of the checkpoint (size {}) does not match the key state recomputed "
                             "from the first {} entries", size, size));
    } else if (seen_extension) {
      mismatch(std::string(record::k_checkpoint_path),
               fmt::format("the checkpoint (size {}) has no avow-keys line, after checkpoints that had one", size));
    }
    if (c.keys_jcs) {
      if (!*extension)
        mismatch(std::string(record::k_key_state_path), "the tree holds log/keys but its checkpoint has no avow-keys line");
      else if (*c.keys_jcs != record::key_state_json(state))
        mismatch(std::string(record::k_key_state_path),
                 fmt::format("log/keys is not the key state recomputed from the first {} entries", size));
    } else if (*extension) {
      mismatch(std::string(record::k_key_state_path), "the checkpoint has an avow-keys line but the tree has no log/keys");
    }
  }

  // One text or original in the compact listing: 54 bytes (byte-aligned).
  struct Listed {
    crypto::Digest digest;
    store::Oid id;
    std::uint8_t kind; // a store::EntryKind
    bool expected;     // named by an entry
  };
  static_assert(sizeof(Listed) == 54);
  // One log entry's record, for check_records.
  struct RecordAt {
    crypto::Digest id;
    std::uint64_t index : 62;
    std::uint64_t statement : 1; // a statement (not a key event)
    std::uint64_t known : 1;     // a statement with one signature: later entries may supersede it
  };
  struct Supersedes {
    std::uint64_t entry;
    std::string target; // record id
    std::string uri;    // the superseding statement's source
  };


  // ---- The entries, a window at a time ----

  // The entries are read, parsed and checked Options::window at a time (a multiple of the 256 entries of a bundle);
  // what is kept for the whole log is a few dozen bytes an entry: its record id, its text's place in the tree
  // listing, its capture time when the archive holds time-stamp tokens.
  std::uint64_t window() const {
    const std::uint64_t bundles = std::clamp<std::uint64_t>(m_options.window / 256 + (m_options.window % 256 != 0), 1, 1u << 20);
    return bundles * 256;
  }
  // The object cache while prepare_listing walks the tree.
  static constexpr std::size_t k_listing_cache_bytes = std::size_t{2} << 20;
  // The object cache while check_commits diffs the commits (store::ObjectCacheLimit): enough for the trees an
  // append's diff shares with the next one's. A batch rewrites every leaf folder of texts/, so no cache holds the
  // trees of its diff; at 1,000,000 entries 48 MiB bought nothing there and took the walk's peak over 256 MiB.
  static constexpr std::size_t k_commit_walk_cache_bytes = std::size_t{16} << 20;
  // The pack windows check_commits maps at most (store::MappedPackLimit). A diff reads the trees of both commits in
  // path order from every pack they lie in (each write's per-core packs, and older packs for the folders the last
  // write left alone), each read needing a 16 MiB window of its pack. At 1,000,000 entries (five batches) under
  // verify's 32 MiB the walk mapped 12,500 windows in 11.4 s; with 128 MiB 1,660 in 8.4 s (before the diff read one
  // side's folders after the other, 240,000 and 65,000). The windows go back to verify's limit as the entries are read.
  static constexpr std::size_t k_commit_walk_mapped_bytes = std::size_t{128} << 20;

  // SPEC 7.2 to 7.4 for the `n` entries of the head's checkpoint: each window is parsed (7.2), its key state followed,
  // its leaves hashed into the tiles and the checkpoint roots (7.4), its signatures and texts checked (7.2, 7.3).
  // Fails when an entry bundle cannot be read; the caller then forgets what the windows before found.
  Expected<void> check_entries_in_windows(std::uint64_t n) {
    m_size = n;
    prepare_listing();
    prepare_roots();
    m_state = m_states.front().second;
    auto listed = m_store.list(m_head, record::k_timestamps_prefix.substr(0, record::k_timestamps_prefix.size() - 1));
    m_has_tokens = listed && !listed->empty();
    m_records.reserve(std::min<std::uint64_t>(n, 1u << 20)); // a hostile size must not allocate before reading
    log::TileBuilder tiles([&](log::TileWrite&& t) { compare_tile(std::move(t)); }, log::TileBuilder::Bundles::no);
    log::CompactRange range;
    take_roots(range);
    for (std::uint64_t first = 0; first < n; first += window()) {
      const std::uint64_t end = std::min(n, first + window());
      {
        auto entries = read_entries(m_store, m_head, end, first);
        if (!entries) return std::unexpected(entries.error());
        parse_window(first, *entries);
      }
      follow_key_state(first);
      hash_window(tiles, range);
      check_signatures(first);
      check_texts(first);
      keep_capture_times(first);
    }
    if (!m_log_invalid)
      for (auto& t : tiles.partial_tiles()) compare_tile(std::move(t));
    m_parsed = {};
    m_leaves = {};
    m_to_check = {};
    check_records();
    return {};
  }

  // What the windows found, forgotten: a bundle could not be read, and the report says only that.
  void forget_entries() {
    m_parse_problems = {};
    m_key_problems = {};
    m_duplicate_problems = {};
    m_supersedes_problems = {};
    m_tile_problems = {};
    m_signature_problems = {};
    m_text_problems = {};
    m_states.resize(1);
    m_report.statements = 0;
    m_key_files.clear();
    m_key_pubs.clear();
    m_key_events = 0;
    m_records = {};
    m_supersedes = {};
    m_roots = {};
    m_captured = {};
    m_size = 0;
  }

  // SPEC 7.2: every entry of the window is canonical and matches its schema; its leaf hash is kept for hash_window.
  void parse_window(std::uint64_t first, const std::vector<std::string>& entries) {
    const std::size_t w = entries.size();
    m_parsed.clear();
    m_parsed.resize(w);
    m_leaves.resize(w);
    m_sink = &m_parse_problems;
    parallel_for(w, job_count(m_options.jobs), [&](unsigned, std::size_t k) {
      std::optional<Problem> bad;
      m_parsed[k] = parse_entry(first + k, entries[k], bad);
      m_leaves[k] = log::leaf_hash(entries[k]);
      if (bad) problem(bad->kind, bad->entry, bad->commit, bad->path, bad->message);
    }, [&](std::size_t done) {
      if (m_options.quick) report_progress(first + done, m_size); // a full verify reports its signature checks instead
    });
    m_sink = nullptr;
  }

  // SPEC 7.2: every entry is signed by a key trusted at that point: key events by the log key in force, statements by
  // an archivist key added before them and not revoked before them (record::apply, the writer's rule). Follows the key
  // state along the window (m_state, m_states) and chooses the key each signature is checked with; keeps each
  // record's id for check_records.
  void follow_key_state(std::uint64_t first) {
    const std::size_t w = m_parsed.size();
    m_sink = &m_key_problems;
    m_to_check.assign(w, {});
    for (std::size_t k = 0; k < w; ++k) {
      const std::uint64_t i = first + k;
      auto& p = m_parsed[k];
      if (!p.ok) continue;
      RecordAt at{};
      at.id = digest_of_hex(record::record_id(p.envelope.payload)).value_or(crypto::Digest{});
      at.index = i;
      at.statement = p.statement.has_value();
      const EntryKey judged = entry_key(m_state, p, i, [&](Problem&& pr) {
        problem(std::move(pr.kind), pr.entry, std::move(pr.commit), std::move(pr.path), std::move(pr.message));
      });
      if (p.envelope.signatures.size() == 1) {
        m_to_check[k] = judged.key;
        if (p.key_event) {
          ++m_key_events;
          if (judged.key) {
            if (p.key_event->kind == "key.add") {
              m_key_files.insert(record::key_path(p.key_event->key_id));
              m_key_pubs[p.key_event->key_id] = p.key_event->public_key;
            }
            if (judged.applied) m_states.push_back({i + 1, m_state});
          }
        } else {
          ++m_report.statements;
          const auto& st = *p.statement;
          if (st.supersedes) m_supersedes.push_back({i, *st.supersedes, st.source.uri});
          at.known = true; // a statement later entries may supersede
        }
      }
      m_records.push_back(at);
    }
    m_sink = nullptr;
  }

  // SPEC 7.2, over the whole log once the windows are read: one record appears once; a `supersedes` names an earlier
  // statement of the same source. The record ids are sorted (40 bytes an entry) instead of kept in a hash map; the
  // source of a superseded statement is read again from its bundle.
  void check_records() {
    m_sink = &m_duplicate_problems;
    std::sort(m_records.begin(), m_records.end(), [](const RecordAt& a, const RecordAt& b) {
      return a.id != b.id ? a.id < b.id : a.index < b.index;
    });
    for (std::size_t g = 0; g < m_records.size();) {
      std::size_t e = g + 1;
      while (e < m_records.size() && m_records[e].id == m_records[g].id) ++e;
      for (std::size_t k = g + 1; k < e; ++k)
        problem("duplicate_record", static_cast<std::uint64_t>(m_records[k].index), {}, std::nullopt,
                fmt::format("entry {} repeats record {} of entry {}: one record must appear once in the log",
                            static_cast<std::uint64_t>(m_records[k].index), to_hex(m_records[k].id).substr(0, 16),
                            static_cast<std::uint64_t>(m_records[g].index)));
      g = e;
    }
    m_sink = &m_supersedes_problems;
    struct SourceCheck {
      const Supersedes* s;
      std::uint64_t target; // the first entry holding the superseded record
    };
    std::vector<SourceCheck> sources;
    for (const auto& s : m_supersedes) {
      RecordAt key{};
      bool known = false;
      const RecordAt* target = nullptr;
      if (auto id = digest_of_hex(s.target)) {
        key.id = *id;
        auto it = std::lower_bound(m_records.begin(), m_records.end(), key,
                                   [](const RecordAt& a, const RecordAt& b) { return a.id < b.id; });
        if (it != m_records.end() && it->id == key.id) target = &*it;
        for (; it != m_records.end() && it->id == key.id && it->index < s.entry; ++it) known = known || it->known;
      }
      if (!known)
        problem("supersedes_unknown", s.entry, {}, std::nullopt,
                fmt::format("entry {} supersedes {}, which is not an earlier statement", s.entry, s.target.substr(0, 16)));
      else if (target->statement)
        sources.push_back({&s, target->index});
    }
    std::sort(sources.begin(), sources.end(), [](const SourceCheck& a, const SourceCheck& b) { return a.target < b.target; });
    std::optional<std::uint64_t> bundle;
    std::vector<std::string> entries;
    for (const auto& c : sources) {
      if (bundle != c.target / 256) {
        bundle = c.target / 256;
        auto read = read_entries(m_store, m_head, std::min(m_size, (*bundle + 1) * 256), *bundle * 256);
        entries = read ? std::move(*read) : std::vector<std::string>{};
      }
      const std::uint64_t k = c.target - *bundle * 256;
      if (k >= entries.size()) continue; // read once already in the windows; cannot fail now but for a race
      std::optional<Problem> bad;
      const ParsedEntry target = parse_entry(c.target, entries[k], bad);
      if (target.statement && target.statement->source.uri != c.s->uri)
        problem("supersedes_other_source", c.s->entry, {}, std::nullopt,
                fmt::format("entry {} supersedes {} of entry {}, a statement of another source: a new version must "
                            "have the same source", c.s->entry, c.s->target.substr(0, 16), c.target));
    }
    m_sink = nullptr;
  }

  // SPEC 7.2: each signature of the window verifies under the key follow_key_state chose for it.
  void check_signatures(std::uint64_t first) {
    if (m_options.quick) return;
    const std::size_t w = m_parsed.size();
    // Each signer's key parsed once, not once per entry.
    for (const auto& k : m_to_check)
      if (k && !m_verify_keys.contains(*k)) m_verify_keys.emplace(*k, crypto::VerifyKey::make(*k));
    m_sink = &m_signature_problems;
    parallel_for(w, job_count(m_options.jobs), [&](unsigned, std::size_t k) {
      if (!m_to_check[k]) return;
      const std::uint64_t i = first + k;
      const auto& env = m_parsed[k].envelope;
      const auto& key = m_verify_keys.at(*m_to_check[k]);
      if (!key || !record::verify(env, env.signatures[0], *key))
        problem("signature_invalid", i, {}, std::nullopt,
                fmt::format("entry {}: the signature by {} does not verify", i, env.signatures[0].keyid.substr(0, 16)));
    }, [&](std::size_t done) { report_progress(first + done, m_size); });
    m_sink = nullptr;
  }

  // SPEC 7.3: every text of the window is present, hashes to its name, is canonical; every original canonicalizes to
  // its text. Each distinct claim is checked once in a window; a claim found wrong is remembered so that a later
  // window does not report it again (one found right is simply checked again: it is right again).
  void check_texts(std::uint64_t first) {
    std::vector<TextClaim> jobs;
    std::vector<std::string> keys;
    std::unordered_set<std::string> seen;
    for (std::size_t k = 0; k < m_parsed.size(); ++k) {
      const auto& p = m_parsed[k];
      if (!p.ok || !p.statement) continue;
      const auto& st = *p.statement;
      mark_text(st.text.sha256);
      // Every distinct claim is checked: the same text named with another byte count, or with another original,
      // is a separate job.
      if (st.original) mark_expected(record::original_path(st.original->sha256));
      TextClaim claim = text_claim(first + k, st);
      std::string key = claim_key(claim);
      if (m_bad_claims.contains(key) || !seen.insert(key).second) continue;
      jobs.push_back(std::move(claim));
      keys.push_back(std::move(key));
    }
    m_sink = &m_text_problems;
    const auto found = [&](std::size_t j, std::optional<Problem>&& bad) {
      if (!bad) return;
      {
        std::lock_guard lock(m_mutex);
        m_bad_claims.insert(keys[j]);
      }
      problem(bad->kind, bad->entry, bad->commit, bad->path, bad->message);
    };
    // Presence, sizes and object ids come from the one listing of the whole tree (check_files needs it too), instead
    // of a path lookup per file and, for --quick, reading every text just for its length.
    const FindBlob find = [this](const std::string& path) { return find_listed(path); };
    if (m_compact && m_options.quick) {
      for (std::size_t j = 0; j < jobs.size(); ++j) found(j, check_text_claim(m_store, find, jobs[j], true));
      m_sink = nullptr;
      return;
    }
    const unsigned threads = job_count(m_options.jobs);
    m_stores.resize(std::max<std::size_t>(m_stores.size(), threads));
    parallel_for(jobs.size(), threads, [&](unsigned worker, std::size_t j) {
      auto& st = m_stores[worker];
      if (!st) {
        auto opened = store::GitStore::open(m_store.workdir());
        if (!opened) {
          problem("io", {}, {}, std::nullopt, opened.error().message);
          return;
        }
        st.emplace(std::move(*opened));
      }
      found(j, m_compact ? check_text_claim(*st, find, jobs[j], m_options.quick)
                         : check_text_claim(*st, m_head, jobs[j], m_options.quick));
    });
    m_sink = nullptr;
  }

  // The capture times of the window's statements, for the RFC 3161 token check (only when the archive holds tokens).
  void keep_capture_times(std::uint64_t first) {
    if (!m_has_tokens) return;
    m_captured.resize(first + m_parsed.size(), TimestampInput::k_no_capture);
    for (std::size_t k = 0; k < m_parsed.size(); ++k) {
      const auto& p = m_parsed[k];
      if (!p.ok || !p.statement) continue;
      if (auto t = parse_rfc3339_utc(p.statement->captured)) m_captured[first + k] = t->time_since_epoch().count();
    }
  }

  // SPEC 7.4, as the leaves arrive: the hash tiles they make are compared with the stored ones, and the roots at the
  // sizes of the checkpoints are kept for check_log.
  void hash_window(log::TileBuilder& tiles, log::CompactRange& range) {
    for (const auto& leaf : m_leaves) {
      if (!m_log_invalid)
        if (auto ok = tiles.append_leaf_hash(leaf); !ok) m_log_invalid = ok.error().message;
      range.append(leaf);
      take_roots(range);
    }
  }
  void take_roots(const log::CompactRange& range) {
    while (m_next_root < m_roots.size() && m_roots[m_next_root].first == range.size()) m_roots[m_next_root++].second = range.root();
  }
  // The sizes whose roots check_log needs: every checkpoint of the history that parses, and the one this copy saw.
  void prepare_roots() {
    for (const auto& c : m_commits)
      if (c.parsed && c.parsed->size <= m_size) m_roots.push_back({c.parsed->size, {}});
    if (m_options.seen_checkpoint)
      if (auto note = log::parse_note(*m_options.seen_checkpoint))
        if (auto cp = log::parse_checkpoint_text(note->text); cp && cp->size <= m_size) m_roots.push_back({cp->size, {}});
    std::sort(m_roots.begin(), m_roots.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    m_roots.erase(std::unique(m_roots.begin(), m_roots.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
                  m_roots.end());
  }
  // The root of the first `size` leaves (a size prepare_roots listed).
  const log::Hash& root_at(std::uint64_t size) const {
    return std::lower_bound(m_roots.begin(), m_roots.end(), size, [](const auto& r, std::uint64_t s) { return r.first < s; })
        ->second;
  }
  void compare_tile(log::TileWrite&& t) {
    const std::string full = std::string(record::k_log_prefix) + t.path;
    m_expected_files.insert(full);
    auto stored = m_store.read(m_head, full);
    if (!stored)
      m_tile_problems.push_back({"tile_missing", {}, {}, full, fmt::format("hash tile '{}' is missing", full), {}});
    else if (!crypto::equal_constant_time(as_bytes(*stored), t.data))
      m_tile_problems.push_back({"tile_mismatch", {}, {}, full,
                                 fmt::format("hash tile '{}' does not match the hashes of the entries", full), {}});
  }

  // SPEC 7.4: the tiles match the entries (compared as they were built), and every checkpoint that ever stood is a
  // prefix of this log.
  void check_log() {
    const std::uint64_t n = m_size;
    if (m_log_invalid) {
      problem("log_invalid", {}, {}, std::nullopt, *m_log_invalid);
      return;
    }
    std::stable_sort(m_tile_problems.begin(), m_tile_problems.end(),
                     [](const Problem& a, const Problem& b) { return *a.path < *b.path; });
    flush(m_tile_problems);
    if (auto paths = log::tile_paths(n))
      for (const auto& p : *paths) m_expected_files.insert(std::string(record::k_log_prefix) + p);

    // Every checkpoint in history must be the root of a prefix of this log: a fork, a reordering or a removal
    // makes an old checkpoint disagree with the recomputed prefix root.
    std::vector<std::size_t> order(m_checkpoints.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return m_checkpoints[a].size < m_checkpoints[b].size; });
    for (std::size_t k : order) {
      const auto& cp = m_checkpoints[k];
      if (!cp.valid) continue;
      if (cp.size > n) {
        problem("checkpoint_beyond_log", {}, cp.commit, std::string(record::k_checkpoint_path),
                fmt::format("checkpoint of commit {} has size {} but the log holds {} entries", cp.commit.substr(0, 12),
                            cp.size, n));
        continue;
      }
      if (!crypto::equal_constant_time(root_at(cp.size), cp.root)) {
        const bool latest = k + 1 == m_checkpoints.size();
        if (latest)
          problem("root_mismatch", {}, cp.commit, std::string(record::k_checkpoint_path),
                  fmt::format("checkpoint of commit {} (size {}) does not match the root recomputed from the entries",
                              cp.commit.substr(0, 12), cp.size));
        else
          problem("fork", {}, cp.commit, std::string(record::k_checkpoint_path),
                  fmt::format("the checkpoint of commit {} (size {}) is not a prefix of the final log: history was "
                              "rewritten (entries reordered, removed or replaced); both signed checkpoints are the evidence",
                              cp.commit.substr(0, 12), cp.size),
                  {checkpoint_note(cp.commit), m_report.checkpoint});
      }
    }
    check_seen();
  }

  // A checkpoint this copy saw before must still be a prefix of the log.
  void check_seen() {
    if (!m_options.seen_checkpoint) return;
    const std::string& seen = *m_options.seen_checkpoint;
    const std::string where = ".git/avow/seen-checkpoint";
    auto note = log::parse_note(seen);
    auto cp = note ? log::parse_checkpoint_text(note->text) : Expected<log::Checkpoint>(std::unexpected(Error{}));
    // Signed by the log key in force at its size: one seen before a rotation stays valid under the old key.
    const record::KeyEntry* signer = cp ? log_key_at(cp->size) : nullptr;
    const log::Verifier known[] = {signer ? verifier_of(*signer) : m_log_key};
    if (!note || !log::verify_note(*note, known)) {
      problem("seen_checkpoint_invalid", {}, {}, where,
              "the checkpoint this copy saw earlier is not signed by the archive's log key");
      return;
    }
    if (!cp || cp->origin != m_config.origin) {
      problem("seen_checkpoint_invalid", {}, {}, where, "the checkpoint this copy saw earlier is not of this log");
      return;
    }
    const bool consistent = cp->size <= m_size && crypto::equal_constant_time(root_at(cp->size), cp->root);
    if (!consistent)
      problem("fork", {}, {}, where,
              fmt::format("this copy saw a signed checkpoint of size {} that the archive's log (size {}) does not "
                          "contain: the history was rewritten since; both signed checkpoints are the evidence",
                          cp->size, m_size),
              {seen, m_report.checkpoint});
  }

  // ---- The tree listing ----

  // A file under texts/ or originals/ at the path its SHA-256 gives it (record::text_path, record::original_path).
  struct Named {
    bool original = false;
    crypto::Digest digest{};
  };
  static std::optional<Named> named_by_digest(std::string_view path) {
    for (const bool original : {false, true}) {
      const std::string_view prefix = original ? record::k_originals_prefix : record::k_texts_prefix;
      if (!path.starts_with(prefix)) continue;
      const std::string_view rest = path.substr(prefix.size());
      if (rest.size() != 6 + 64) return std::nullopt;
      const std::string_view hex = rest.substr(6);
      if (!record::is_sha256_hex(hex) || rest.substr(0, 2) != hex.substr(0, 2) || rest[2] != '/' ||
          rest.substr(3, 2) != hex.substr(2, 2) || rest[5] != '/')
        return std::nullopt;
      auto digest = digest_of_hex(hex);
      if (!digest) return std::nullopt;
      return Named{original, *digest};
    }
    return std::nullopt;
  }

  // List head's whole tree once, compactly: a text or original as its digest and object id, any other file with its
  // path. No sizes: --quick reads a text's object header when it checks the entry that names it, in entry order, which
  // stays in a few packs at a time (a write's packs hold its entries' texts together, and `avow repack` keeps them
  // so); read here, in path order, each header was a jump to anywhere in any pack (1,000,000 entries: 60% of a --quick
  // of 178 s; 163 s with the headers read in entry order, 159 s after a repack). A listing that is not strictly
  // sorted by path (a hostile tree) is dropped: the texts are then found by path lookups and check_files walks the
  // tree again.
  void prepare_listing() {
    m_compact = true;
    std::string previous;
    bool first = true;
    // Each tree is read once here: libgit2's cache would only keep ~65,000 fan-out trees it never reads again (about
    // 16 MiB as it counts them, three times that in fact) for the rest of the check.
    const store::ObjectCacheLimit small(k_listing_cache_bytes);
    auto walked = m_store.for_each_entry(m_head, "", [&](store::TreeEntry&& e) -> Expected<void> {
      if (!first && !(previous < e.path)) m_compact = false;
      first = false;
      previous = e.path;
      if (!m_compact) return {};
      if (auto named = named_by_digest(e.path)) {
        (named->original ? m_originals : m_texts)
            .push_back({named->digest, e.id, static_cast<std::uint8_t>(e.kind), false});
      } else {
        m_others.push_back(std::move(e));
      }
      return {};
    }, store::GitStore::Sizes::skip);
    if (!walked) m_listing_error = walked.error();
    if (!walked || !m_compact) {
      m_compact = false;
      m_texts = {};
      m_originals = {};
      m_others = {};
      return;
    }
    m_text_from = first_of_each_prefix(m_texts);
    m_original_from = first_of_each_prefix(m_originals);
  }
  // The first two bytes of a digest, which the listing is sorted by first.
  static std::uint32_t prefix16(const crypto::Digest& d) { return (std::uint32_t{d[0]} << 8) | d[1]; }
  // For each 16-bit prefix p, the first of `files` (sorted by digest) whose prefix is p or more; and files.size() at
  // the end. find_named searches one such bucket (about 15 texts at 1,000,000) instead of the whole listing: the
  // binary search over 54-byte records missed the cache at every step, 12% of a --quick at 1,000,000 entries.
  static std::vector<std::uint32_t> first_of_each_prefix(const std::vector<Listed>& files) {
    std::vector<std::uint32_t> from(k_prefixes + 1);
    std::size_t i = 0;
    for (std::uint32_t p = 0; p < k_prefixes; ++p) {
      while (i < files.size() && prefix16(files[i].digest) < p) ++i;
      from[p] = static_cast<std::uint32_t>(i);
    }
    from[k_prefixes] = static_cast<std::uint32_t>(files.size());
    return from;
  }
  Listed* find_named(const Named& named) {
    auto& files = named.original ? m_originals : m_texts;
    const auto& from = named.original ? m_original_from : m_text_from;
    const std::uint32_t p = prefix16(named.digest);
    const auto begin = files.begin() + (from.empty() ? 0 : from[p]);
    const auto end = from.empty() ? files.end() : files.begin() + from[p + 1];
    auto it = std::lower_bound(begin, end, named.digest,
                               [](const Listed& l, const crypto::Digest& d) { return l.digest < d; });
    return it != end && it->digest == named.digest ? &*it : nullptr;
  }
  const store::TreeEntry* find_other(const std::string& path) const {
    auto it = std::lower_bound(m_others.begin(), m_others.end(), path,
                               [](const store::TreeEntry& e, const std::string& p) { return e.path < p; });
    return it != m_others.end() && it->path == path ? &*it : nullptr;
  }
  // FindBlob over the compact listing (read-only, so the text workers share it).
  std::optional<ListedBlob> find_listed(const std::string& path) {
    if (auto named = named_by_digest(path)) {
      const Listed* l = find_named(*named);
      if (!l || static_cast<store::EntryKind>(l->kind) == store::EntryKind::gitlink) return std::nullopt;
      return ListedBlob{l->id};
    }
    const store::TreeEntry* e = find_other(path);
    if (!e || e->kind == store::EntryKind::gitlink) return std::nullopt;
    return ListedBlob{e->id};
  }
  // A file the entries name is part of the archive (check_files).
  void mark_expected(const std::string& path) {
    if (m_compact)
      if (auto named = named_by_digest(path)) {
        if (Listed* l = find_named(*named)) l->expected = true;
        return;
      }
    m_expected_files.insert(path);
  }
  // The same for a text, counted once for the report.
  void mark_text(const std::string& sha) {
    const std::string path = record::text_path(sha);
    if (m_compact)
      if (auto named = named_by_digest(path))
        if (Listed* l = find_named(*named)) {
          if (!l->expected) ++m_texts_claimed;
          l->expected = true;
          return;
        }
    m_expected_files.insert(path);
    m_unlisted_texts.insert(sha);
  }

  // The statements' capture times, for the RFC 3161 token check (archive/verify/timestamps.cpp).
  TimestampInput timestamp_input() {
    TimestampInput in;
    in.captured = std::move(m_captured);
    in.captured_text = [this](std::uint64_t i) -> std::string {
      auto data = read_entry(m_store, m_head, m_size, i);
      if (!data) return "?";
      std::optional<Problem> bad;
      const ParsedEntry p = parse_entry(i, *data, bad);
      return p.statement ? p.statement->captured : std::string("?");
    };
    return in;
  }

  // SPEC 7.5: no stray or missing files.
  void check_files() {
    m_expected_files.insert(std::string(record::k_config_path));
    m_expected_files.insert(std::string(record::k_checkpoint_path));
    m_expected_files.insert(std::string(record::k_allowed_signers_path));
    m_expected_files.insert(record::key_path(m_config.log_key_id));
    if (m_commits.back().keys_jcs) m_expected_files.insert(std::string(record::k_key_state_path));
    for (const auto& k : m_key_files) m_expected_files.insert(k);
    for (const auto& k : m_states.back().second.keys) m_expected_files.insert(record::key_path(k.id));
    if (m_listing_error) {
      problem("io", {}, {}, std::nullopt, m_listing_error->message);
      return;
    }
    const std::string must[] = {std::string(record::k_config_path), std::string(record::k_allowed_signers_path),
                                record::key_path(m_config.log_key_id)};
    bool present[std::size(must)] = {};
    std::vector<Problem> strays;
    const auto check = [&](const std::string& path, store::EntryKind kind, bool expected) {
      for (std::size_t k = 0; k < std::size(must); ++k) present[k] = present[k] || path == must[k];
      if (kind != store::EntryKind::blob)
        strays.push_back({"stray_file", {}, {}, path, fmt::format("'{}' is not a regular file", path), {}});
      else if (!expected)
        strays.push_back({"stray_file", {}, {}, path, fmt::format("'{}' is not part of the archive", path), {}});
    };
    if (m_compact) {
      for (const auto& e : m_others) check(e.path, e.kind, m_expected_files.contains(e.path));
      for (const auto& l : m_texts)
        check(record::text_path(to_hex(l.digest)), static_cast<store::EntryKind>(l.kind), l.expected);
      for (const auto& l : m_originals)
        check(record::original_path(to_hex(l.digest)), static_cast<store::EntryKind>(l.kind), l.expected);
      // In the order of the listing, as git lists the tree.
      std::stable_sort(strays.begin(), strays.end(), [](const Problem& a, const Problem& b) { return *a.path < *b.path; });
    } else {
      auto walked = m_store.for_each_entry(m_head, "", [&](store::TreeEntry&& e) -> Expected<void> {
        check(e.path, e.kind, m_expected_files.contains(e.path));
        return {};
      });
      if (!walked) {
        problem("io", {}, {}, std::nullopt, walked.error().message);
        return;
      }
    }
    for (auto& p : strays) problem(std::move(p.kind), p.entry, std::move(p.commit), std::move(p.path), std::move(p.message));
    for (std::size_t k = 0; k < std::size(must); ++k)
      if (!present[k]) problem("file_missing", {}, {}, must[k], fmt::format("'{}' is missing", must[k]));
    // Key files hold the keys the log names.
    std::map<std::string, crypto::PublicKey> keys = {m_key_pubs.begin(), m_key_pubs.end()};
    keys[m_config.log_key_id] = m_log_key.key;
    for (const auto& k : m_states.back().second.keys) keys[k.id] = k.public_key;
    for (const auto& [id, pub] : keys) {
      const std::string path = record::key_path(id);
      auto pem = m_store.read(m_head, path);
      if (!pem) {
        problem("file_missing", {}, {}, path, fmt::format("key file '{}' is missing", path));
        continue;
      }
      if (*pem != crypto::public_key_pem(pub))
        problem("key_file_mismatch", {}, {}, path, fmt::format("key file '{}' does not hold key {}", path, id.substr(0, 16)));
    }
    auto allowed = m_store.read(m_head, record::k_allowed_signers_path);
    // One line per log key, with valid-after/valid-before at the committer time of each rotation's commit.
    const std::string want = record::allowed_signers(m_config.origin, m_states.back().second, m_rotation_times);
    if (allowed && *allowed != want)
      problem("allowed_signers_mismatch", {}, {}, std::string(record::k_allowed_signers_path),
              "keys/allowed_signers does not name exactly the log keys, with the validity their rotations imply");
  }

  const store::GitStore& m_store;
  Options m_options;
  Report m_report;
  std::mutex m_mutex;
  store::Oid m_head;
  record::ArchiveConfig m_config;
  log::Verifier m_log_key;
  std::vector<CheckpointAt> m_checkpoints;
  std::vector<CommitAt> m_commits;
  std::vector<std::pair<std::uint64_t, record::KeyState>> m_states; // (first tree size it holds for, key state)
  std::map<std::uint64_t, std::int64_t> m_rotation_times;           // rotation entry -> its commit's committer time
  std::set<std::string> m_key_files;
  std::unordered_map<std::string, crypto::PublicKey> m_key_pubs;
  std::uint64_t m_key_events = 0;
  std::uint64_t m_progress_last = 0;
  std::uint64_t m_size = 0; // entries of the head's checkpoint, once read
  // Where problem() puts a problem while the windows are read, and the buffers of each kind of check (run() adds
  // them to the report in a fixed order).
  std::vector<Problem>* m_sink = nullptr;
  std::vector<Problem> m_parse_problems, m_key_problems, m_duplicate_problems, m_supersedes_problems, m_tile_problems,
      m_signature_problems, m_text_problems;
  // The window being checked.
  std::vector<ParsedEntry> m_parsed;
  std::vector<log::Hash> m_leaves;
  std::vector<std::optional<crypto::PublicKey>> m_to_check; // the key each entry's signature must verify under
  // What is kept across windows.
  record::KeyState m_state;                                             // the key state after the entries so far
  std::map<crypto::PublicKey, std::optional<crypto::VerifyKey>> m_verify_keys; // each signer's key, parsed once
  std::vector<RecordAt> m_records;
  std::vector<Supersedes> m_supersedes;
  std::vector<std::pair<std::uint64_t, log::Hash>> m_roots; // (size, root) for each checkpoint size, ascending
  std::size_t m_next_root = 0;
  std::optional<std::string> m_log_invalid;
  std::unordered_set<std::string> m_bad_claims; // claim_key of each text claim found wrong
  std::uint64_t m_texts_claimed = 0;             // listed texts some entry names
  std::unordered_set<std::string> m_unlisted_texts; // texts named but not in the compact listing (missing ones)
  bool m_has_tokens = false;
  std::vector<std::int64_t> m_captured;
  std::vector<std::optional<store::GitStore>> m_stores; // one per text worker
  // The compact listing of head's tree (prepare_listing) and the files the archive must hold besides texts and
  // originals (all of them, when the listing is not compact).
  bool m_compact = false;
  std::optional<Error> m_listing_error;
  std::vector<Listed> m_texts, m_originals;
  static constexpr std::uint32_t k_prefixes = 1u << 16;
  std::vector<std::uint32_t> m_text_from, m_original_from; // first_of_each_prefix of each (empty until listed)
  std::vector<store::TreeEntry> m_others;
  std::set<std::string> m_expected_files;
};

} // namespace

namespace {

// The pack windows verify maps at most (store::MappedPackLimit).
constexpr std::size_t k_verify_mapped_pack_bytes = std::size_t{32} << 20;

// Name the leftovers of an interrupted write (never of a write in progress: not while a writer holds the lock).
void add_leftover_notices(const store::GitStore& store, Report& report) {
  const auto git_dir = store.git_dir();
  if (store::WriterLock::held(git_dir)) return;
  for (const auto& l : store::find_leftovers(git_dir)) {
    const bool lock = l.name.ends_with(".lock");
    report.notices.push_back({lock ? "stale_lock" : "stale_temp", std::nullopt, std::nullopt, ".git/" + l.name,
                              fmt::format("{} {} was left by an interrupted write; the next avow archive removes it",
                                          lock ? "lock file" : "temporary file", ".git/" + l.name),
                              {}});
  }
}

} // namespace

Expected<Report> run(const store::GitStore& store, const Options& options) {
  const store::MappedPackLimit mapped(k_verify_mapped_pack_bytes);
  auto report = Checker(store, options).run();
  if (report) add_leftover_notices(store, *report);
  return report;
}

} // namespace avow::verify
