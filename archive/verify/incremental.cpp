#include <archive/verify/incremental.hpp>

#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/sshsig.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/proof.hpp>
#include <archive/log/tiles.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_state.hpp>
#include <archive/record/layout.hpp>
#include <archive/verify/checks.hpp>
#include <archive/verify/log_reader.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

namespace avow::verify {
namespace {

log::TileReader reader_at(const store::GitStore& store, const store::Oid& commit) {
  return [&store, commit](const std::string& path) -> Expected<Bytes> {
    auto data = store.read(commit, std::string(record::k_log_prefix) + path);
    if (!data) return std::unexpected(data.error());
    return Bytes(data->begin(), data->end());
  };
}

class Extension {
public:
  Extension(const store::GitStore& store, const store::Oid& base, const store::Oid& tip, const Options& options)
      : m_store(store), m_base(base), m_tip(tip), m_options(options) {}

  Expected<IncrementalReport> run() {
    // The base: this copy's verified state.
    auto config = read_config(m_store, m_base);
    if (!config) return std::unexpected(config.error());
    m_origin = config->origin;
    auto genesis = log_verifier(*config);
    if (!genesis) return std::unexpected(genesis.error());
    auto base_cp = read_checkpoint(m_store, m_base, *genesis, m_origin);
    if (!base_cp) return std::unexpected(base_cp.error());
    auto keys = key_state_at(m_store, m_base, *base_cp, *genesis);
    if (!keys) return std::unexpected(keys.error());
    m_keyed = base_cp->keys.has_value();
    m_old = base_cp->checkpoint;
    m_report.old_size = m_old.size;
    m_report.old_checkpoint = base_cp->note;
    m_states.assign(1, {m_old.size, *keys});

    if (auto chain = new_commits(); !chain) return std::unexpected(chain.error());
    if (!m_report.ok()) return m_report;
    if (!read_tip_checkpoint()) return m_report;
    m_report.new_size = m_new.size;
    if (m_new.size < m_old.size) {
      problem("log_truncated", m_tip.hex(), std::string(record::k_checkpoint_path),
              fmt::format("the new checkpoint has size {}, smaller than this copy's {}", m_new.size, m_old.size));
      m_report.inconsistent = m_tip_signed_by_genesis_key;
      return m_report;
    }
    auto entries = read_entries(m_store, m_tip, m_new.size, m_old.size);
    if (!entries) {
      problem("entry_bundle_invalid", std::nullopt, std::nullopt, entries.error().message);
      return m_report;
    }
    m_entries = std::move(*entries);
    check_entries();
    check_commits();
    check_tiles();
    check_consistency();
    check_files();
    check_texts();
    std::stable_sort(m_report.problems.begin(), m_report.problems.end(),
                     [](const Problem& a, const Problem& b) { return a.entry.value_or(0) < b.entry.value_or(0); });
    return m_report;
  }

private:
  void problem(std::string kind, std::optional<std::string> commit, std::optional<std::string> path, std::string message,
               std::optional<std::uint64_t> entry = std::nullopt) {
    m_report.problems.push_back({std::move(kind), entry, std::move(commit), std::move(path), std::move(message), {}});
  }

  const record::KeyState& state_at(std::uint64_t size) const {
    const auto it = std::upper_bound(m_states.begin(), m_states.end(), size,
                                     [](std::uint64_t s, const auto& st) { return s < st.first; });
    return it == m_states.begin() ? m_states.front().second : std::prev(it)->second;
  }

  // The commits after the base, oldest first: each must have one parent, the line must reach the base.
  Expected<void> new_commits() {
    store::Oid at = m_tip;
    while (!(at == m_base)) {
      auto info = m_store.commit_info(at);
      if (!info) return std::unexpected(info.error());
      if (info->parents.size() != 1) {
        problem("history_not_linear", at.hex(), std::nullopt,
                fmt::format("commit {} has {} parents; main must be a single line of commits", at.hex().substr(0, 12),
                            info->parents.size()));
        return {};
      }
      at = info->parents[0];
      m_commits.push_back(std::move(*info));
    }
    std::reverse(m_commits.begin(), m_commits.end());
    m_report.commits = m_commits.size();
    return {};
  }

  // The tip's checkpoint, parsed; its signature is judged once the key state of the new entries is known.
  bool read_tip_checkpoint() {
    auto text = m_store.read(m_tip, record::k_checkpoint_path);
    auto note = text ? log::parse_note(*text) : Expected<log::Note>(std::unexpected(text.error()));
    auto cp = note ? log::parse_checkpoint_text(note->text) : Expected<log::Checkpoint>(std::unexpected(note.error()));
    if (!cp || cp->origin != m_origin) {
      problem("checkpoint_invalid", m_tip.hex(), std::string(record::k_checkpoint_path),
              cp ? fmt::format("the new checkpoint is of origin '{}', not '{}'", cp->origin, m_origin)
                 : fmt::format("the new checkpoint cannot be read: {}", cp.error().message));
      return false;
    }
    m_new = *cp;
    m_report.new_checkpoint = *text;
    // Whether the log key in force at our size signed it: enough to make a split view evidence when the key did not
    // change (log-key hand-overs in the new entries are judged in check_commits).
    const log::Verifier known[] = {note_verifier(m_origin, state_at(m_old.size).log_key()->public_key)};
    m_tip_signed_by_genesis_key = log::verify_note(*note, known).has_value();
    return true;
  }

  // Parse the new entries, carry the key state forward, verify each signature.
  void check_entries() {
    const std::uint64_t first = m_old.size;
    record::KeyState state = m_states.back().second;
    std::unordered_set<std::string> ids;
    for (std::size_t k = 0; k < m_entries.size(); ++k) {
      const std::uint64_t i = first + k;
      std::optional<Problem> bad;
      ParsedEntry p = parse_entry(i, m_entries[k], bad);
      if (bad) m_report.problems.push_back(std::move(*bad));
      if (!p.ok) continue;
      const std::string id = record::record_id(p.envelope.payload);
      if (!ids.insert(id).second)
        problem("duplicate_record", std::nullopt, std::nullopt,
                fmt::format("entry {} repeats record {}: one record must appear once in the log", i, id.substr(0, 16)), i);
      const EntryKey judged = entry_key(state, p, i, [&](Problem&& pr) { m_report.problems.push_back(std::move(pr)); });
      if (judged.applied) m_states.push_back({i + 1, state});
      if (p.key_event && judged.key && p.key_event->kind == "key.add") {
        m_key_files[record::key_path(p.key_event->key_id)] = p.key_event->public_key;
        if (p.key_event->role == record::k_role_log) m_rotations.push_back(i);
      }
      if (judged.key && !record::verify(p.envelope, p.envelope.signatures[0], *judged.key))
        problem("signature_invalid", std::nullopt, std::nullopt,
                fmt::format("entry {}: the signature by {} does not verify", i,
                            p.envelope.signatures[0].keyid.substr(0, 16)), i);
      m_report.record_ids.emplace_back(i, id);
      if (p.statement) {
        const auto& st = *p.statement;
        if (st.supersedes) {
          if (auto at = m_statements.find(*st.supersedes); at == m_statements.end())
            m_report.supersedes_before.push_back({i, *st.supersedes, st.source.uri});
          else if (at->second.source != st.source.uri)
            problem("supersedes_other_source", std::nullopt, std::nullopt,
                    fmt::format("entry {} supersedes {} of entry {}, a statement of another source: a new version must "
                                "have the same source", i, st.supersedes->substr(0, 16), at->second.entry), i);
        }
        m_statements.try_emplace(id, NewStatement{i, st.source.uri});
        m_claims.push_back(text_claim(i, st));
      }
      ++m_report.entries;
      if (m_options.progress && ((k + 1) % 256 == 0 || k + 1 == m_entries.size()))
        m_options.progress(k + 1, m_entries.size());
    }
  }

  // Each new commit: signed by the log key in force at its parent's checkpoint, append-only, and its checkpoint signed
  // by the key in force at its size, growing, naming its size, committing to the key state, a prefix of the tip's log.
  void check_commits() {
    const log::TileReader tiles = reader_at(m_store, m_tip);
    std::uint64_t parent_size = m_old.size;
    store::Oid parent = m_base;
    for (const auto& c : m_commits) {
      const std::string id = c.id.hex();
      const std::string short_id = id.substr(0, 12);
      const SplitCommit split = split_signature(c.raw);
      const record::KeyEntry* want = state_at(parent_size).log_key();
      if (!split.signature) {
        problem("commit_unsigned", id, std::nullopt,
                fmt::format("commit {} is not signed (every archive commit is signed by the log key)", short_id));
      } else if (auto signer = crypto::sshsig_verify(*split.signature, "git", as_bytes(split.payload)); !signer) {
        problem("commit_signature_invalid", id, std::nullopt,
                fmt::format("commit {} signature does not verify: {}", short_id, signer.error().message));
      } else if (crypto::key_id(*signer) != want->id) {
        problem("commit_signature_invalid", id, std::nullopt,
                fmt::format("commit {} is signed by key {}, not the log key in force ({})", short_id,
                            crypto::key_id(*signer).substr(0, 16), want->id.substr(0, 16)));
      }
      bool signers_changed = false;
      if (auto changes = m_store.diff(parent, c.id); !changes) {
        problem("io", id, std::nullopt, changes.error().message);
      } else {
        for (const auto& ch : *changes) {
          note_change(ch);
          const ChangeRule rule = change_rule(ch);
          if (rule == ChangeRule::allowed_signers_change) signers_changed = true;
          else if (rule == ChangeRule::forbidden) problem("history_not_append_only", id, ch.path, forbidden_change_message(id, ch));
        }
      }
      const std::uint64_t size = check_commit_checkpoint(c, short_id, parent_size, tiles);
      const bool handover = std::any_of(m_rotations.begin(), m_rotations.end(),
                                        [&](std::uint64_t r) { return parent_size <= r && r < size; });
      if (signers_changed && !handover)
        problem("history_not_append_only", id, std::string(record::k_allowed_signers_path),
                fmt::format("commit {} changes '{}' but rotates no log key; archive commits may only add files", short_id,
                            record::k_allowed_signers_path));
      parent_size = size;
      parent = c.id;
    }
  }

  // Check the checkpoint of commit `c`; returns its size (the parent's when it cannot be read).
  std::uint64_t check_commit_checkpoint(const store::CommitInfo& c, const std::string& short_id, std::uint64_t parent_size,
                                        const log::TileReader& tiles) {
    const std::string id = c.id.hex();
    const std::string where(record::k_checkpoint_path);
    auto text = m_store.read(c.id, record::k_checkpoint_path);
    auto note = text ? log::parse_note(*text) : Expected<log::Note>(std::unexpected(text.error()));
    auto cp = note ? log::parse_checkpoint_text(note->text) : Expected<log::Checkpoint>(std::unexpected(note.error()));
    if (!cp) {
      problem("checkpoint_invalid", id, where, fmt::format("checkpoint of commit {}: {}", short_id, cp.error().message));
      return parent_size;
    }
    if (cp->origin != m_origin) {
      problem("checkpoint_invalid", id, where,
              fmt::format("checkpoint of commit {}: origin '{}' is not the archive's '{}'", short_id, cp->origin, m_origin));
      return parent_size;
    }
    if (cp->size < parent_size || cp->size > m_new.size) {
      problem("log_truncated", id, where,
              fmt::format("commit {} has a checkpoint of size {} after one of size {}", short_id, cp->size, parent_size));
      return parent_size;
    }
    const record::KeyState& state = state_at(cp->size);
    const log::Verifier known[] = {note_verifier(m_origin, state.log_key()->public_key)};
    if (auto ok = log::verify_note(*note, known); !ok)
      problem("checkpoint_invalid", id, where,
              fmt::format("checkpoint of commit {} (size {}) is not signed by the log key in force at that size ({}): {}",
                          short_id, cp->size, state.log_key()->id.substr(0, 16), ok.error().message));
    for (const std::uint64_t r : m_rotations) {
      if (!(parent_size <= r && r < cp->size)) continue;
      const log::Verifier old_known[] = {note_verifier(m_origin, state_at(r).log_key()->public_key)};
      if (!log::verify_note(*note, old_known))
        problem("handover_unsigned", id, where,
                fmt::format("the hand-over checkpoint of commit {} (size {}) is not signed by the old log key", short_id,
                            cp->size));
    }
    if (tree_size_trailer(c.message) != cp->size)
      problem("commit_message_mismatch", id, std::nullopt,
              fmt::format("commit {} message does not name the tree size of its checkpoint ({})", short_id, cp->size));
    if (cp->size < m_new.size) {
      auto root = log::root_from_tiles(cp->size, m_new.size, tiles);
      if (!root || !crypto::equal_constant_time(*root, cp->root))
        problem("fork", id, where,
                fmt::format("the checkpoint of commit {} (size {}) is not a prefix of the new log", short_id, cp->size));
    }
    if (m_keyed) check_key_state(c, *cp, state, short_id);
    return cp->size;
  }

  void check_key_state(const store::CommitInfo& c, const log::Checkpoint& cp, const record::KeyState& state,
                       const std::string& short_id) {
    const std::string id = c.id.hex();
    auto extension = record::find_key_state_extension(cp.extensions);
    if (!extension || !*extension || **extension != record::key_state_extension(state))
      problem("key_state_mismatch", id, std::string(record::k_checkpoint_path),
              fmt::format("commit {}: the avow-keys line of the checkpoint (size {}) does not match the key state "
                          "recomputed from the first {} entries", short_id, cp.size, cp.size));
    auto keys = m_store.read_if_exists(c.id, record::k_key_state_path);
    if (!keys || !*keys || **keys != record::key_state_json(state))
      problem("key_state_mismatch", id, std::string(record::k_key_state_path),
              fmt::format("commit {}: log/keys is not the key state recomputed from the first {} entries", short_id,
                          cp.size));
  }

  // The tiles and bundles the new entries make, from the base's partial tiles, against the tip's.
  void check_tiles() {
    auto plan = log::plan_append(m_old.size, m_entries, reader_at(m_store, m_base));
    if (!plan) {
      problem("log_invalid", std::nullopt, std::nullopt, plan.error().message);
      return;
    }
    if (!crypto::equal_constant_time(plan->old_root, m_old.root)) {
      problem("root_mismatch", m_base.hex(), std::nullopt, "this copy's tiles do not match its own checkpoint");
      return;
    }
    if (!crypto::equal_constant_time(plan->root, m_new.root))
      problem("root_mismatch", m_tip.hex(), std::string(record::k_checkpoint_path),
              fmt::format("the new checkpoint (size {}) does not match the root recomputed from the new entries",
                          m_new.size));
    m_new_root_ok = crypto::equal_constant_time(plan->root, m_new.root);
    for (const auto& w : plan->writes) {
      const std::string full = std::string(record::k_log_prefix) + w.path;
      m_expected.insert(full);
      ++m_report.tiles;
      auto stored = m_store.read(m_tip, full);
      if (!stored) problem("tile_missing", std::nullopt, full, fmt::format("hash tile '{}' is missing", full));
      else if (!crypto::equal_constant_time(as_bytes(*stored), w.data))
        problem("tile_mismatch", std::nullopt, full, fmt::format("hash tile '{}' does not match the hashes of the entries", full));
    }
    for (const auto& r : plan->removes) m_removed.insert(std::string(record::k_log_prefix) + r);
  }

  // RFC 9162: the tip's checkpoint extends the base's.
  void check_consistency() {
    if (m_new.size == m_old.size) {
      if (!crypto::equal_constant_time(m_new.root, m_old.root)) {
        problem("fork", m_tip.hex(), std::string(record::k_checkpoint_path),
                fmt::format("the new checkpoint has this copy's size ({}) but another root", m_old.size));
        m_report.inconsistent = m_tip_signed_by_genesis_key;
      }
      return;
    }
    auto proof = log::consistency_proof_from_tiles(m_old.size, m_new.size, m_new.size, reader_at(m_store, m_tip));
    std::vector<Bytes> bytes;
    if (proof)
      for (const auto& h : *proof) bytes.emplace_back(h.begin(), h.end());
    auto ok = proof ? log::verify_consistency(m_old.size, m_new.size, bytes, m_old.root, m_new.root)
                    : Expected<void>(std::unexpected(proof.error()));
    if (!ok) {
      problem("fork", m_tip.hex(), std::string(record::k_checkpoint_path),
              fmt::format("the new checkpoint (size {}) is not a consistent extension of this copy's (size {}): {}",
                          m_new.size, m_old.size, ok.error().message));
      m_report.inconsistent = m_tip_signed_by_genesis_key && m_new_root_ok;
    }
  }

  // Keep the net effect of the new commits' changes, path by path (a partial tile added by one new commit and
  // superseded by a later one leaves no trace), so the tip is compared with the base without another tree diff.
  void note_change(const store::Change& ch) {
    const auto it = m_net.find(ch.path);
    if (ch.kind == store::ChangeKind::deleted) {
      if (it != m_net.end() && it->second == store::ChangeKind::added) m_net.erase(it);
      else m_net[ch.path] = store::ChangeKind::deleted;
    } else if (it == m_net.end()) {
      m_net[ch.path] = ch.kind;
    } else if (it->second == store::ChangeKind::deleted) {
      it->second = store::ChangeKind::modified;
    }
  }

  // The tip adds only what the new entries imply (tiles, bundles, texts, originals, key files), a new checkpoint and
  // key state, time-stamp tokens; it removes only superseded partial tiles.
  void check_files() {
    for (const auto& c : m_claims) {
      m_expected.insert(record::text_path(c.text_sha));
      if (c.original) m_expected.insert(record::original_path(c.original->sha256));
    }
    for (const auto& [path, kind] : m_net) {
      if (kind == store::ChangeKind::deleted) {
        if (!m_removed.contains(path)) problem("history_not_append_only", m_tip.hex(), path, fmt::format("'{}' was deleted", path));
        continue;
      }
      if (path == record::k_checkpoint_path || path == record::k_key_state_path ||
          path == record::k_allowed_signers_path || path.starts_with(record::k_timestamps_prefix) ||
          m_expected.contains(path))
        continue;
      if (auto key = m_key_files.find(path); key != m_key_files.end()) {
        auto pem = m_store.read(m_tip, path);
        if (!pem || *pem != crypto::public_key_pem(key->second))
          problem("key_file_mismatch", std::nullopt, path, fmt::format("key file '{}' does not hold its key", path));
        continue;
      }
      problem("stray_file", std::nullopt, path, fmt::format("'{}' is not part of the archive", path));
    }
  }

  void check_texts() {
    std::set<std::string> seen;
    for (const auto& c : m_claims) {
      if (!seen.insert(claim_key(c)).second) continue;
      ++m_report.texts;
      if (auto bad = check_text_claim(m_store, m_tip, c, m_options.quick)) m_report.problems.push_back(std::move(*bad));
    }
  }

  const store::GitStore& m_store;
  store::Oid m_base;
  store::Oid m_tip;
  Options m_options;
  IncrementalReport m_report;
  std::string m_origin;
  bool m_keyed = false;
  log::Checkpoint m_old;
  log::Checkpoint m_new;
  bool m_tip_signed_by_genesis_key = false;
  bool m_new_root_ok = false;
  std::vector<std::pair<std::uint64_t, record::KeyState>> m_states;
  std::vector<store::CommitInfo> m_commits;
  std::vector<std::string> m_entries;
  std::vector<std::uint64_t> m_rotations;
  std::map<std::string, crypto::PublicKey> m_key_files;
  std::vector<TextClaim> m_claims;
  std::set<std::string> m_expected;
  std::set<std::string> m_removed;
  std::map<std::string, store::ChangeKind> m_net;
  struct NewStatement {
    std::uint64_t entry;
    std::string source;
  };
  std::unordered_map<std::string, NewStatement> m_statements; // record id -> the first new statement holding it // the net change of each path from the base to the tip
};

} // namespace

Expected<IncrementalReport> verify_extension(const store::GitStore& store, const store::Oid& base, const store::Oid& tip,
                                             const Options& options) {
  return Extension(store, base, tip, options).run();
}

} // namespace avow::verify
