// Façade code for proofs and policies: the checkpoint with the key state it commits to, the log-key hand-overs a
// bundle carries, the policy with the log key in force, and `verify --policy`.

#include <archive/archive.hpp>

#include <archive/archive_impl.hpp>
#include <archive/json/jcs.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <archive/log/policy.hpp>
#include <archive/log/proof.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/record.hpp>

#include <map>

namespace avow {
namespace detail {
namespace {

// The tree size of the checkpoint note `text` (unverified: only to find commits); nullopt when it does not parse.
std::optional<std::uint64_t> checkpoint_size(std::string_view text) {
  auto note = log::parse_note(text);
  if (!note) return std::nullopt;
  auto cp = log::parse_checkpoint_text(note->text);
  if (!cp) return std::nullopt;
  return cp->size;
}

} // namespace

Expected<KeyedCheckpoint> read_keyed_checkpoint(const Archive::Impl& impl, const store::Oid& commit) {
  // verify::read_checkpoint checks log/keys against the avow-keys line and the genesis key of avow.json, and the
  // checkpoint under the log key in force.
  auto cp = verify::read_checkpoint(impl.store, commit, impl.log_verifier, impl.config.origin);
  if (!cp) return std::unexpected(cp.error());
  KeyedCheckpoint out{*cp, cp->keys_jcs, cp->keys, impl.log_verifier};
  if (cp->keys) {
    const record::KeyEntry* in_force = cp->keys->log_key();
    if (!in_force) return fail(ErrorCode::invalid_input, "log/keys names no log key in force");
    out.log_key = verify::note_verifier(impl.config.origin, in_force->public_key);
  }
  return out;
}

Expected<std::vector<HandoverLink>> collect_handovers(const Archive::Impl& impl, const record::KeyState& state,
                                                      std::uint64_t size, const log::TileReader& read) {
  std::vector<std::uint64_t> rotations;
  for (const auto& k : state.keys)
    if (k.role == record::k_role_log && k.added_at) rotations.push_back(*k.added_at);
  std::vector<HandoverLink> links;
  if (rotations.empty()) return links;

  // The first commit whose checkpoint includes each rotation entry (sizes only grow along main).
  const auto& store = impl.store;
  std::vector<std::optional<store::Oid>> commits(rotations.size());
  std::vector<std::uint64_t> sizes(rotations.size(), 0);
  auto walked = store.for_each_commit([&](const store::CommitInfo& c) -> Expected<void> {
    auto text = store.read_if_exists(c.id, record::k_checkpoint_path);
    if (!text) return std::unexpected(text.error());
    const auto n = *text ? checkpoint_size(**text) : std::nullopt;
    if (!n || *n > size) return {};
    for (std::size_t j = 0; j < rotations.size(); ++j)
      if (!commits[j] && *n > rotations[j]) {
        commits[j] = c.id;
        sizes[j] = *n;
      }
    return {};
  });
  if (!walked) return std::unexpected(walked.error());
  for (std::size_t j = 0; j < rotations.size(); ++j) {
    if (!commits[j])
      return fail(ErrorCode::failed_precondition, "no checkpoint of main includes the log-key rotation at entry {}",
                  rotations[j]);
    auto note = store.read(*commits[j], record::k_checkpoint_path);
    if (!note) return std::unexpected(note.error());
    auto keys = store.read(*commits[j], record::k_key_state_path);
    if (!keys)
      return fail(ErrorCode::failed_precondition, "the hand-over commit {} of the rotation at entry {} has no log/keys",
                  commits[j]->hex().substr(0, 12), rotations[j]);
    const std::uint64_t next = j + 1 < rotations.size() ? sizes[j + 1] : size;
    auto proof = log::consistency_proof_from_tiles(sizes[j], next, size, read);
    if (!proof) return std::unexpected(proof.error());
    links.push_back({std::move(*note), std::move(*keys), std::move(*proof)});
  }
  return links;
}

std::optional<ProofTarget> locate_for_proof(const Archive::Impl& impl, const store::Oid& head,
                                            const KeyedCheckpoint& keyed, std::string_view prefix) {
  if (!keyed.key_state) return std::nullopt;
  const std::uint64_t size = keyed.signed_checkpoint.checkpoint.size;
  std::vector<std::string> notices;
  auto idx = fresh_index(impl, head, notices);
  if (!idx) return std::nullopt;
  auto rows = idx->by_id_prefix(prefix);
  if (!rows) return std::nullopt;
  // The log's word on each candidate (not entries a writer added since `head`): its kind and id, from the entry.
  std::optional<ProofTarget> target;
  std::optional<record::Envelope> found;
  for (const auto& row : *rows) {
    if (row.index >= size) continue;
    auto entry = verify::read_entry(impl.store, head, size, row.index);
    if (!entry) return std::nullopt;
    auto env = record::parse(*entry);
    if (!env || !record::record_id(env->payload).starts_with(prefix)) return std::nullopt;
    auto value = json::parse_canonical(env->payload);
    if (!value) return std::nullopt;
    auto kind = record::record_kind(*value);
    if (!kind) return std::nullopt;
    if (*kind != "statement") continue;
    if (target) return std::nullopt; // ambiguous: the scan names the candidates
    target = ProofTarget{row.index, std::move(*entry), 0, {}};
    found = std::move(*env);
  }
  if (!target || found->signatures.size() != 1) return std::nullopt;
  const record::KeyEntry* key = keyed.key_state->find(found->signatures[0].keyid);
  if (!key || !key->added_at || *key->added_at >= target->index) return std::nullopt;
  auto entry = verify::read_entry(impl.store, head, size, *key->added_at);
  if (!entry) return std::nullopt;
  auto env = record::parse(*entry);
  if (!env) return std::nullopt;
  auto value = json::parse_canonical(env->payload);
  if (!value) return std::nullopt;
  auto kind = record::record_kind(*value);
  if (!kind || *kind != "key.add") return std::nullopt;
  auto event = record::key_event_from_json(*value);
  if (!event || event->key_id != key->id) return std::nullopt;
  target->key_add_index = *key->added_at;
  target->key_add_envelope = std::move(*entry);
  return target;
}

Expected<ProofTarget> scan_for_proof(const Archive::Impl& impl, const store::Oid& head, std::uint64_t size,
                                     std::string_view prefix) {
  auto entries = verify::read_entries(impl.store, head, size);
  if (!entries) return std::unexpected(entries.error());

  // Find the statement, and the key.add entry of the key that signed it.
  std::vector<std::uint64_t> matches;
  std::map<std::string, std::uint64_t> key_added;
  std::optional<record::Envelope> found;
  for (std::uint64_t i = 0; i < entries->size(); ++i) {
    auto env = record::parse((*entries)[i]);
    if (!env) continue;
    auto value = json::parse_canonical(env->payload);
    if (!value) continue;
    auto kind = record::record_kind(*value);
    if (!kind) continue;
    if (*kind == "key.add") {
      if (auto ev = record::key_event_from_json(*value)) key_added.try_emplace(ev->key_id, i);
      continue;
    }
    if (*kind != "statement" || !record::record_id(env->payload).starts_with(prefix)) continue;
    matches.push_back(i);
    found = std::move(*env);
  }
  if (matches.empty()) return fail(ErrorCode::not_found, "no statement with id '{}'", prefix);
  if (matches.size() > 1) {
    std::string ids;
    for (auto i : matches) {
      auto env = record::parse((*entries)[i]);
      ids += " " + record::record_id(env->payload).substr(0, 16);
    }
    return fail(ErrorCode::invalid_input, "record id '{}' is ambiguous; candidates:{}", prefix, ids);
  }
  const std::uint64_t index = matches.front();
  if (found->signatures.size() != 1) return fail(ErrorCode::invalid_input, "entry {} does not carry one signature", index);
  auto added = key_added.find(found->signatures[0].keyid);
  if (added == key_added.end() || added->second >= index)
    return fail(ErrorCode::failed_precondition, "the key that signed entry {} has no earlier key.add entry", index);
  return ProofTarget{index, (*entries)[index], added->second, (*entries)[added->second]};
}

} // namespace detail

Expected<std::string> Archive::policy() const {
  auto head = m_impl->store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "archive has no commit");
  auto keyed = detail::read_keyed_checkpoint(*m_impl, **head);
  if (!keyed) return std::unexpected(keyed.error());
  return fmt::format("# Trust policy (C2SP tlog-policy) for the avow archive {}\nlog {}\nquorum none\n",
                     m_impl->config.origin, log::vkey(m_impl->config.origin, keyed->log_key.key));
}

} // namespace avow

namespace avow {

Expected<Archive::PolicyCheck> Archive::check_policy(const std::filesystem::path& dir, std::string_view policy_text) {
  auto policy = log::parse_policy(policy_text);
  if (!policy) return std::unexpected(policy.error());
  PolicyCheck out;
  const auto unsatisfied = [&](std::string_view why) {
    out.problem = verify::Problem{"policy_unsatisfied", std::nullopt, std::nullopt, std::string(record::k_checkpoint_path),
                                  fmt::format("the checkpoint does not satisfy the policy: {}", why), {}};
    return out;
  };
  auto archive = Archive::open(dir);
  if (!archive) return unsatisfied(archive.error().message);
  const Impl& impl = *archive->m_impl;
  auto head = impl.store.head();
  if (!head) return unsatisfied(head.error().message);
  auto keyed = detail::read_keyed_checkpoint(impl, **head);
  if (!keyed) return unsatisfied(keyed.error().message);
  const auto& cp = keyed->signed_checkpoint;
  out.tree_size = cp.checkpoint.size;
  std::vector<HandoverLink> links;
  if (keyed->key_state) {
    auto collected = detail::collect_handovers(impl, *keyed->key_state, cp.checkpoint.size,
                                               detail::tile_reader(impl.store, **head));
    if (!collected) return unsatisfied(collected.error().message);
    links = std::move(*collected);
  }
  auto followed = follow_handovers(*policy, cp.checkpoint, links, keyed->key_state ? &*keyed->key_state : nullptr);
  if (!followed) return unsatisfied(followed.error().message);
  auto checked = log::verify_checkpoint_with_policy(cp.note, followed->policy, &out.witnesses);
  if (!checked) return unsatisfied(checked.error().message);
  out.log_key = crypto::key_id(followed->log_key);
  out.handovers = followed->followed.size();
  return out;
}

} // namespace avow
