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
    // of the latest checkpoint, then the key state they make is followed along the commits.
    if (auto ok = check_commits(); !ok) return std::unexpected(ok.error());
    const bool head_readable = !m_commits.empty() && m_commits.back().parsed.has_value();
    std::optional<Error> unreadable;
    if (head_readable) {
      auto entries = read_entries(m_store, m_head, m_commits.back().parsed->size);
      if (entries) m_entries = std::move(*entries);
      else unreadable = entries.error();
    }
    parse_entries();
    follow_key_state();
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
    m_report.entries = m_entries.size();
    check_log();
    check_entries();
    check_texts();
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

  void problem(std::string kind, std::optional<std::uint64_t> entry, std::optional<std::string> commit,
               std::optional<std::string> path, std::string message, std::vector<std::string> evidence = {}) {
    std::lock_guard lock(m_mutex);
    m_report.problems.push_back(
        {std::move(kind), entry, std::move(commit), std::move(path), std::move(message), std::move(evidence)});
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
    std::optional<store::Oid> previous;
    std::uint64_t index = 0;
    auto walked = m_store.for_each_commit_from(m_head, [&](const store::CommitInfo& c) -> Expected<void> {
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
        auto changes = m_store.diff_except_added(previous, c.id);
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
      if (auto text = m_store.read(c.id, record::k_checkpoint_path); !text) {
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
      auto keys = m_store.read_if_exists(c.id, record::k_key_state_path);
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
    if (size > m_entries.size()) {
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

  // SPEC 7.4: the tiles match the entries, and every checkpoint that ever stood is a prefix of this log.
  void check_log() {
    const std::size_t n = m_entries.size();
    m_leaves.resize(n);
    parallel_for(n, job_count(m_options.jobs), [&](unsigned, std::size_t i) { m_leaves[i] = log::leaf_hash(m_entries[i]); });

    // Expected hash tiles, compared with what is stored; bundles were checked while reading the entries.
    std::map<std::string, Bytes> expected;
    log::TileBuilder builder([&](log::TileWrite&& t) { expected.emplace(std::move(t.path), std::move(t.data)); },
                             log::TileBuilder::Bundles::no);
    for (const auto& leaf : m_leaves) {
      if (auto ok = builder.append_leaf_hash(leaf); !ok) {
        problem("log_invalid", {}, {}, std::nullopt, ok.error().message);
        return;
      }
    }
    for (auto& t : builder.partial_tiles()) expected.emplace(std::move(t.path), std::move(t.data));
    for (const auto& [path, data] : expected) {
      const std::string full = std::string(record::k_log_prefix) + path;
      m_expected_files.insert(full);
      auto stored = m_store.read(m_head, full);
      if (!stored) {
        problem("tile_missing", {}, {}, full, fmt::format("hash tile '{}' is missing", full));
        continue;
      }
      if (!crypto::equal_constant_time(as_bytes(*stored), data))
        problem("tile_mismatch", {}, {}, full,
                fmt::format("hash tile '{}' does not match the hashes of the entries", full));
    }
    if (auto paths = log::tile_paths(n))
      for (const auto& p : *paths) m_expected_files.insert(std::string(record::k_log_prefix) + p);

    // Every checkpoint in history must be the root of a prefix of this log: a fork, a reordering or a removal
    // makes an old checkpoint disagree with the recomputed prefix root.
    std::vector<std::size_t> order(m_checkpoints.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return m_checkpoints[a].size < m_checkpoints[b].size; });
    log::CompactRange range;
    for (std::size_t k : order) {
      const auto& cp = m_checkpoints[k];
      if (!cp.valid) continue;
      if (cp.size > n) {
        problem("checkpoint_beyond_log", {}, cp.commit, std::string(record::k_checkpoint_path),
                fmt::format("checkpoint of commit {} has size {} but the log holds {} entries", cp.commit.substr(0, 12),
                            cp.size, n));
        continue;
      }
      while (range.size() < cp.size) range.append(m_leaves[range.size()]);
      if (!crypto::equal_constant_time(range.root(), cp.root)) {
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
    check_seen(range);
  }

  // A checkpoint this copy saw before must still be a prefix of the log. `range` holds a prefix of the leaves.
  void check_seen(log::CompactRange range) {
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
    bool consistent = cp->size <= m_leaves.size();
    if (consistent) {
      if (range.size() > cp->size) {
        range = log::CompactRange{};
      }
      while (range.size() < cp->size) range.append(m_leaves[range.size()]);
      consistent = crypto::equal_constant_time(range.root(), cp->root);
    }
    if (!consistent)
      problem("fork", {}, {}, where,
              fmt::format("this copy saw a signed checkpoint of size {} that the archive's log (size {}) does not "
                          "contain: the history was rewritten since; both signed checkpoints are the evidence",
                          cp->size, m_leaves.size()),
              {seen, m_report.checkpoint});
  }

  // SPEC 7.2: every entry is canonical and matches its schema.
  void parse_entries() {
    const std::size_t n = m_entries.size();
    m_parsed.resize(n);
    parallel_for(n, job_count(m_options.jobs), [&](unsigned, std::size_t i) {
      std::optional<Problem> bad;
      m_parsed[i] = parse_entry(i, m_entries[i], bad);
      if (bad) problem(bad->kind, bad->entry, bad->commit, bad->path, bad->message);
    }, [&](std::size_t done) {
      if (m_options.quick) report_progress(done, n); // a full verify reports its signature checks instead
    });
  }

  // SPEC 7.2: every entry is signed by a key trusted at that point: key events by the log key in force, statements by
  // an archivist key added before them and not revoked before them (record::apply, the writer's rule). Builds the key
  // state along the log (m_states) and the key each signature is checked with.
  void follow_key_state() {
    const std::size_t n = m_entries.size();
    record::KeyState state = record::initial_key_state(m_log_key.key);
    m_states.assign(1, {0, state});
    std::unordered_set<std::string> ids;
    std::unordered_map<std::string, std::size_t> first_at; // record id -> first entry holding it
    m_to_check.assign(n, {});
    for (std::size_t i = 0; i < n; ++i) {
      auto& p = m_parsed[i];
      if (!p.ok) continue;
      const std::string id = record::record_id(p.envelope.payload);
      if (auto [at, fresh] = first_at.try_emplace(id, i); !fresh)
        problem("duplicate_record", i, {}, std::nullopt,
                fmt::format("entry {} repeats record {} of entry {}: one record must appear once in the log", i,
                            id.substr(0, 16), at->second));
      const EntryKey judged = entry_key(state, p, i, [&](Problem&& pr) {
        problem(std::move(pr.kind), pr.entry, std::move(pr.commit), std::move(pr.path), std::move(pr.message));
      });
      if (p.envelope.signatures.size() != 1) continue;
      m_to_check[i] = judged.key;
      if (p.key_event) {
        ++m_key_events;
        if (!judged.key) continue; // an untrusted key event changes no key's state
        if (p.key_event->kind == "key.add") {
          m_key_files.insert(record::key_path(p.key_event->key_id));
          m_key_pubs[p.key_event->key_id] = p.key_event->public_key;
        }
        if (judged.applied) m_states.push_back({i + 1, state});
      } else {
        ++m_report.statements;
        const auto& st = *p.statement;
        if (st.supersedes && !ids.contains(*st.supersedes))
          problem("supersedes_unknown", i, {}, std::nullopt,
                  fmt::format("entry {} supersedes {}, which is not an earlier statement", i, st.supersedes->substr(0, 16)));
        else if (st.supersedes)
          if (const auto& target = m_parsed[first_at.at(*st.supersedes)]; target.statement &&
                                                                            target.statement->source.uri != st.source.uri)
            problem("supersedes_other_source", i, {}, std::nullopt,
                    fmt::format("entry {} supersedes {} of entry {}, a statement of another source: a new version must "
                                "have the same source", i, st.supersedes->substr(0, 16), first_at.at(*st.supersedes)));
        ids.insert(id);
      }
    }
  }

  // SPEC 7.2: each signature verifies under the key follow_key_state chose for it.
  void check_entries() {
    const std::size_t n = m_entries.size();
    if (m_options.quick) return;
    // Each signer's key parsed once, not once per entry.
    std::map<crypto::PublicKey, std::optional<crypto::VerifyKey>> keys;
    for (const auto& k : m_to_check)
      if (k && !keys.contains(*k)) keys.emplace(*k, crypto::VerifyKey::make(*k));
    parallel_for(n, job_count(m_options.jobs), [&](unsigned, std::size_t i) {
      if (!m_to_check[i]) return;
      const auto& env = m_parsed[i].envelope;
      const auto& key = keys.at(*m_to_check[i]);
      if (!key || !record::verify(env, env.signatures[0], *key))
        problem("signature_invalid", i, {}, std::nullopt,
                fmt::format("entry {}: the signature by {} does not verify", i, env.signatures[0].keyid.substr(0, 16)));
    }, [&](std::size_t done) { report_progress(done, n); });
  }

  // SPEC 7.3: every text is present, hashes to its name, is canonical; every original canonicalizes to its text.
  void check_texts() {
    using Job = TextClaim;
    std::vector<Job> jobs;
    std::unordered_set<std::string> seen;
    std::unordered_set<std::string> distinct_texts;
    for (std::size_t i = 0; i < m_parsed.size(); ++i) {
      const auto& p = m_parsed[i];
      if (!p.ok || !p.statement) continue;
      const auto& st = *p.statement;
      const std::string tpath = record::text_path(st.text.sha256);
      m_expected_files.insert(tpath);
      // Every distinct claim is checked: the same text named with another byte count, or with another original,
      // is a separate job.
      if (st.original) m_expected_files.insert(record::original_path(st.original->sha256));
      distinct_texts.insert(st.text.sha256);
      TextClaim claim = text_claim(i, st);
      if (seen.insert(claim_key(claim)).second) jobs.push_back(std::move(claim));
    }
    m_report.texts = distinct_texts.size();
    // Presence, sizes and object ids come from one listing of the whole tree (check_files needs it too), instead of
    // a path lookup per file and, for --quick, reading every text just for its length.
    const std::vector<store::TreeEntry>* tree = listing();
    if (tree && m_options.quick) {
      for (const auto& job : jobs)
        if (auto bad = check_text_claim(m_store, *tree, job, true))
          problem(bad->kind, bad->entry, bad->commit, bad->path, bad->message);
      return;
    }
    const unsigned threads = job_count(m_options.jobs);
    std::vector<std::optional<store::GitStore>> stores(threads);
    parallel_for(jobs.size(), threads, [&](unsigned worker, std::size_t j) {
      auto& st = stores[worker];
      if (!st) {
        auto opened = store::GitStore::open(m_store.workdir());
        if (!opened) {
          problem("io", {}, {}, std::nullopt, opened.error().message);
          return;
        }
        st.emplace(std::move(*opened));
      }
      if (auto bad = tree ? check_text_claim(*st, *tree, jobs[j], m_options.quick)
                          : check_text_claim(*st, m_head, jobs[j], m_options.quick))
        problem(bad->kind, bad->entry, bad->commit, bad->path, bad->message);
    });
  }

  // Every file of the head's tree with its size and object id, listed once (check_texts, check_files).
  Expected<std::vector<store::TreeEntry>>& tree_listing() {
    if (!m_listing) m_listing = m_store.list_entries(m_head, "");
    return *m_listing;
  }
  // The listing when it can be searched by path (read and sorted), else nullptr: the texts are then looked up by path.
  const std::vector<store::TreeEntry>* listing() {
    auto& entries = tree_listing();
    if (!entries || !sorted_by_path(*entries)) return nullptr;
    return &*entries;
  }

  // The statements' capture times, for the RFC 3161 token check (archive/verify/timestamps.cpp).
  TimestampInput timestamp_input() const {
    TimestampInput in;
    in.captured.resize(m_parsed.size());
    for (std::size_t i = 0; i < m_parsed.size(); ++i)
      if (m_parsed[i].ok && m_parsed[i].statement) in.captured[i] = m_parsed[i].statement->captured;
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
    auto& entries = tree_listing();
    if (!entries) {
      problem("io", {}, {}, std::nullopt, entries.error().message);
      return;
    }
    std::set<std::string> present;
    for (const auto& e : *entries) {
      present.insert(e.path);
      if (e.kind != store::EntryKind::blob)
        problem("stray_file", {}, {}, e.path, fmt::format("'{}' is not a regular file", e.path));
      else if (!m_expected_files.contains(e.path))
        problem("stray_file", {}, {}, e.path, fmt::format("'{}' is not part of the archive", e.path));
    }
    for (const auto& k : {std::string(record::k_config_path), std::string(record::k_allowed_signers_path),
                          record::key_path(m_config.log_key_id)})
      if (!present.contains(k)) problem("file_missing", {}, {}, k, fmt::format("'{}' is missing", k));
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
  std::vector<std::optional<crypto::PublicKey>> m_to_check;          // the key each entry's signature must verify under
  std::vector<std::string> m_entries;
  std::vector<log::Hash> m_leaves;
  std::vector<ParsedEntry> m_parsed;
  std::set<std::string> m_expected_files;
  std::set<std::string> m_key_files;
  std::unordered_map<std::string, crypto::PublicKey> m_key_pubs;
  std::uint64_t m_key_events = 0;
  std::uint64_t m_progress_last = 0;
  std::optional<Expected<std::vector<store::TreeEntry>>> m_listing;
};

} // namespace

namespace {

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
  auto report = Checker(store, options).run();
  if (report) add_leftover_notices(store, *report);
  return report;
}

} // namespace avow::verify
