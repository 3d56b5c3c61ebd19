#include <archive/proof_bundle.hpp>

#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/json/jcs.hpp>
#include <archive/log/merkle.hpp>
#include <archive/log/policy.hpp>
#include <archive/log/tlog_proof.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/record.hpp>
#include <archive/text/canonical.hpp>

namespace avow {
namespace {

BundleResult not_proven(std::string reason) {
  BundleResult r;
  r.reason = std::move(reason);
  for (auto& c : r.reason)
    if (c == '\n' || c == '\r') c = ' ';
  return r;
}

struct Parts {
  std::string envelope, text, proof, key_envelope, key_proof;
  std::map<std::string, std::string> keys;
  std::optional<std::string> key_state;
  std::vector<HandoverLink> handovers;
};

// Strict base64 of exactly 32 bytes.
std::optional<log::Hash> decode_hash(std::string_view b64) {
  auto raw = base64_decode(b64);
  if (!raw || raw->size() != 32 || base64_encode(*raw) != b64) return std::nullopt;
  log::Hash h{};
  std::copy(raw->begin(), raw->end(), h.begin());
  return h;
}

Expected<Parts> split(std::string_view bundle) {
  if (bundle.size() > k_max_bundle_bytes) return fail(ErrorCode::invalid_input, "bundle is larger than {} bytes", k_max_bundle_bytes);
  auto v = json::parse_strict(bundle);
  if (!v) return std::unexpected(v.error());
  const auto bad = [](std::string_view why) { return fail(ErrorCode::invalid_input, "malformed bundle: {}", why); };
  if (!v->is_object()) return bad("not a JSON object");
  for (const auto& [k, _] : v->items())
    if (k != "format" && k != "envelope" && k != "text" && k != "proof" && k != "key" && k != "keys" &&
        k != "key_state" && k != "handovers")
      return bad("unknown member '" + k + "'");
  const auto str = [&](const json::Value& o, const char* name) -> const std::string* {
    auto it = o.find(name);
    return it != o.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  const auto* format = str(*v, "format");
  if (!format || *format != k_bundle_format) return bad("format is not avow.proof/1");
  Parts p;
  const auto* envelope = str(*v, "envelope");
  const auto* text = str(*v, "text");
  const auto* proof = str(*v, "proof");
  if (!envelope || !text || !proof) return bad("envelope, text and proof must be strings");
  p.envelope = *envelope;
  p.text = *text;
  p.proof = *proof;
  auto key = v->find("key");
  if (key == v->end() || !key->is_object() || key->size() != 2) return bad("key must be {envelope, proof}");
  const auto* ke = str(*key, "envelope");
  const auto* kp = str(*key, "proof");
  if (!ke || !kp) return bad("key must be {envelope, proof}");
  p.key_envelope = *ke;
  p.key_proof = *kp;
  auto keys = v->find("keys");
  if (keys == v->end() || !keys->is_object()) return bad("keys must be an object of key id to PEM");
  for (const auto& [id, pem] : keys->items()) {
    if (!pem.is_string()) return bad("keys must be an object of key id to PEM");
    p.keys[id] = pem.get<std::string>();
  }
  // Optional (bundles written since key states exist): the key state at the checkpoint, and the log-key hand-overs.
  if (v->contains("key_state")) {
    const auto* ks = str(*v, "key_state");
    if (!ks) return bad("key_state must be a string");
    p.key_state = *ks;
  }
  if (auto h = v->find("handovers"); h != v->end()) {
    if (!p.key_state) return bad("handovers come only with key_state");
    if (!h->is_array() || h->empty()) return bad("handovers must be a non-empty array");
    for (const auto& link : *h) {
      if (!link.is_object() || link.size() != 3) return bad("a hand-over must be {checkpoint, consistency, key_state}");
      const auto* cp = str(link, "checkpoint");
      const auto* state = str(link, "key_state");
      auto cons = link.find("consistency");
      if (!cp || !state || cons == link.end() || !cons->is_array() || cons->size() > log::k_max_tlog_proof_hashes)
        return bad("a hand-over must be {checkpoint, consistency, key_state}");
      HandoverLink out{*cp, *state, {}};
      for (const auto& hash : *cons) {
        auto decoded = hash.is_string() ? decode_hash(hash.get<std::string>()) : std::nullopt;
        if (!decoded) return bad("a hand-over's consistency proof must be base64 hashes of 32 bytes");
        out.consistency.push_back(*decoded);
      }
      p.handovers.push_back(std::move(out));
    }
  }
  return p;
}

// Check that `note` carries a verifying Ed25519 signature by the log key `key` for `origin`.
Expected<void> log_signature(const log::Note& note, std::string_view origin, const crypto::PublicKey& key) {
  const log::Verifier known[] = {
      log::Verifier{std::string(origin), log::key_id(origin, log::k_sig_ed25519, key), log::k_sig_ed25519, key}};
  auto ok = log::verify_note(note, known);
  if (!ok) return std::unexpected(ok.error());
  return {};
}

// Whether `later` is `earlier` with keys added after it and revocations added to keys not yet revoked.
bool extends(const record::KeyState& later, const record::KeyState& earlier) {
  if (later.keys.size() < earlier.keys.size()) return false;
  for (std::size_t i = 0; i < earlier.keys.size(); ++i) {
    const auto& a = earlier.keys[i];
    const auto& b = later.keys[i];
    if (a.id != b.id || a.public_key != b.public_key || a.role != b.role || a.name != b.name || a.added_at != b.added_at)
      return false;
    if (a.revoked_at && (a.revoked_at != b.revoked_at || a.reason != b.reason)) return false;
  }
  return true;
}

// The log key in force for entry `i` in `state` (the genesis key before any rotation).
const record::KeyEntry* log_key_at(const record::KeyState& state, std::uint64_t i) {
  for (const auto& k : state.keys)
    if (k.role == record::k_role_log && k.in_force_at(i)) return &k;
  return nullptr;
}

std::string short_id(std::string_view id) { return std::string(id.substr(0, 16)); }

} // namespace

Expected<FollowedPolicy> follow_handovers(const log::Policy& policy, const log::Checkpoint& final_checkpoint,
                                          std::span<const HandoverLink> links, const record::KeyState* final_state) {
  const std::string& origin = final_checkpoint.origin;
  const log::PolicyLog* start = nullptr;
  for (const auto& l : policy.logs)
    if (l.verifier.name == origin) start = &l;
  if (!start) return fail(ErrorCode::invalid_input, "checkpoint origin '{}' is not a log of the policy", origin);
  const std::string policy_key = crypto::key_id(start->verifier.key);

  // Check every link, trusted or not (so a damaged link is never silently skipped): each is signed by the key it
  // rotates out and the key it rotates in, commits to its key state, and is consistent with the next checkpoint; the
  // key each rotates out is the key the link before rotated in. `chain` collects the log keys in order.
  std::vector<crypto::PublicKey> chain;
  std::vector<FollowedHandover> steps;
  std::optional<record::KeyState> last_state;
  for (std::size_t j = 0; j < links.size(); ++j) {
    const auto& link = links[j];
    const auto bad = [&](std::string_view why) {
      return fail(ErrorCode::invalid_input, "log-key hand-over {} of {}: {}", j + 1, links.size(), why);
    };
    auto note = log::parse_note(link.checkpoint);
    if (!note) return bad(note.error().message);
    auto cp = log::parse_checkpoint_text(note->text);
    if (!cp) return bad(cp.error().message);
    if (cp->origin != origin) return bad(fmt::format("its checkpoint is of the log '{}', not '{}'", cp->origin, origin));
    auto ext = record::find_key_state_extension(cp->extensions);
    if (!ext) return bad(ext.error().message);
    if (!*ext) return bad("its checkpoint does not commit to a key state (no avow-keys line)");
    if (**ext != record::key_state_extension_for(link.key_state))
      return bad("its key state does not hash to its checkpoint's avow-keys line");
    auto state = record::parse_key_state(link.key_state);
    if (!state) return bad(state.error().message);
    const record::KeyEntry* new_key = state->log_key();
    const record::KeyEntry* old_key = nullptr;
    if (new_key && new_key->added_at)
      for (const auto& k : state->keys)
        if (k.role == record::k_role_log && k.revoked_at == new_key->added_at && k.reason == record::k_reason_rotated)
          old_key = &k;
    if (!new_key || !old_key) return bad("its key state shows no log-key rotation");
    const std::uint64_t rotated_at = *new_key->added_at;
    if (cp->size <= rotated_at) return bad("its checkpoint does not include the rotation entry");
    if (!chain.empty() && old_key->public_key != chain.back())
      return bad("it does not rotate out the log key the hand-over before it rotated in");
    if (last_state && !extends(*state, *last_state)) return bad("its key state does not extend the one before it");
    if (auto ok = log_signature(*note, origin, old_key->public_key); !ok)
      return bad(fmt::format("no valid signature by the old log key {} ({})", short_id(old_key->id), ok.error().message));
    if (auto ok = log_signature(*note, origin, new_key->public_key); !ok)
      return bad(fmt::format("no valid signature by the new log key {} ({})", short_id(new_key->id), ok.error().message));
    // Consistent with the next checkpoint of the chain (itself checked in the next step, or by the caller).
    log::Checkpoint next = final_checkpoint;
    if (j + 1 < links.size()) {
      auto next_note = log::parse_note(links[j + 1].checkpoint);
      if (!next_note) return bad(fmt::format("the next hand-over: {}", next_note.error().message));
      auto next_cp = log::parse_checkpoint_text(next_note->text);
      if (!next_cp) return bad(fmt::format("the next hand-over: {}", next_cp.error().message));
      next = std::move(*next_cp);
    }
    if (next.size < cp->size) return bad("the checkpoint after it is smaller");
    std::vector<Bytes> proof;
    for (const auto& h : link.consistency) proof.emplace_back(h.begin(), h.end());
    if (auto ok = log::verify_consistency(cp->size, next.size, proof, cp->root, next.root); !ok)
      return bad(fmt::format("its checkpoint (size {}) is not consistent with the next one (size {}): {}", cp->size,
                             next.size, ok.error().message));
    if (chain.empty()) chain.push_back(old_key->public_key);
    chain.push_back(new_key->public_key);
    steps.push_back({cp->size, rotated_at, old_key->id, new_key->id});
    last_state = std::move(*state);
  }
  if (final_state) {
    const record::KeyEntry* final_key = final_state->log_key();
    if (!chain.empty() && (!final_key || final_key->public_key != chain.back()))
      return fail(ErrorCode::invalid_input, "the key state at the checkpoint does not name the log key the last hand-over "
                                            "rotated in");
    if (last_state && !extends(*final_state, *last_state))
      return fail(ErrorCode::invalid_input, "the key state at the checkpoint does not extend the last hand-over's");
  }

  // Trust starts at the policy's key: the hand-overs after it transfer it; the ones before it are not needed.
  FollowedPolicy out{policy, start->verifier.key, {}};
  if (chain.empty()) return out;
  std::size_t from = chain.size();
  for (std::size_t m = 0; m < chain.size(); ++m)
    if (chain[m] == start->verifier.key) from = m;
  if (from == chain.size())
    return fail(ErrorCode::invalid_input,
                "the policy's log key {} is not among the log keys the bundle's hand-overs lead through (from {} to {})",
                short_id(policy_key), short_id(steps.front().from_key), short_id(steps.back().to_key));
  out.followed.assign(steps.begin() + std::ptrdiff_t(from), steps.end());
  out.log_key = chain.back();
  for (auto& l : out.policy.logs)
    if (l.verifier.name == origin && l.verifier.key == start->verifier.key)
      l.verifier = log::Verifier{origin, log::key_id(origin, log::k_sig_ed25519, out.log_key), log::k_sig_ed25519,
                                 out.log_key};
  return out;
}

Expected<BundleResult> verify_bundle(std::string_view bundle, std::string_view policy_text,
                                     const std::optional<std::string>& text_copy) {
  auto policy = log::parse_policy(policy_text);
  if (!policy) return std::unexpected(policy.error());
  auto parts = split(bundle);
  if (!parts) return not_proven(parts.error().message);

  // 0. The key state the checkpoint commits to, and the log key that signed it (through the hand-overs).
  auto proof = log::parse_tlog_proof(parts->proof);
  if (!proof) return not_proven(proof.error().message);
  auto unverified = log::parse_note(proof->checkpoint);
  auto checkpoint = unverified ? log::parse_checkpoint_text(unverified->text) : Expected<log::Checkpoint>(std::unexpected(unverified.error()));
  if (!checkpoint) return not_proven(checkpoint.error().message);
  auto extension = record::find_key_state_extension(checkpoint->extensions);
  if (!extension) return not_proven(extension.error().message);
  std::optional<record::KeyState> state;
  if (*extension && !parts->key_state)
    return not_proven("the checkpoint commits to a key state (avow-keys line) but the bundle does not carry it");
  if (parts->key_state) {
    if (!*extension) return not_proven("the bundle carries a key state but its checkpoint does not commit to one");
    if (**extension != record::key_state_extension_for(*parts->key_state))
      return not_proven("the bundle's key state does not hash to its checkpoint's avow-keys line");
    auto parsed = record::parse_key_state(*parts->key_state);
    if (!parsed) return not_proven(parsed.error().message);
    state = std::move(*parsed);
  }
  auto followed = follow_handovers(*policy, *checkpoint, parts->handovers, state ? &*state : nullptr);
  if (!followed) return not_proven(fmt::format("the checkpoint is not proven: {}", followed.error().message));

  // 1. The statement entry is in a checkpoint the policy trusts.
  std::vector<std::string> cosigned;
  auto cp = log::verify_tlog_proof(*proof, log::leaf_hash(parts->envelope), followed->policy, &cosigned);
  if (!cp) return not_proven(fmt::format("the entry is not proven in the log: {}", cp.error().message));

  // 2. The archivist key was added by the log key earlier in the same log.
  auto key_proof = log::parse_tlog_proof(parts->key_proof);
  if (!key_proof) return not_proven(fmt::format("key proof: {}", key_proof.error().message));
  auto key_cp = log::verify_tlog_proof(*key_proof, log::leaf_hash(parts->key_envelope), followed->policy);
  if (!key_cp) return not_proven(fmt::format("the key.add entry is not proven in the log: {}", key_cp.error().message));
  if (key_cp->origin != cp->origin) return not_proven("the key.add entry is proven in another log");
  if (state && (key_cp->size != cp->size || key_cp->root != cp->root))
    return not_proven("the key.add entry is proven in another checkpoint than the one the key state belongs to");
  if (key_proof->index >= proof->index) return not_proven("the archivist key was not added before the entry");
  // The key.add is signed by the log key in force at its entry: the policy's (older bundles), or the one the key
  // state names for that entry (the genesis key, or a key rotated in before it).
  crypto::PublicKey key_add_signer = followed->log_key;
  if (state) {
    const record::KeyEntry* at = log_key_at(*state, key_proof->index);
    if (!at) return not_proven(fmt::format("the key state names no log key in force at entry {}", key_proof->index));
    key_add_signer = at->public_key;
  }
  const std::string log_key_id = crypto::key_id(key_add_signer);

  auto key_env = record::parse(parts->key_envelope);
  if (!key_env) return not_proven(fmt::format("key.add envelope: {}", key_env.error().message));
  auto key_value = json::parse_canonical(key_env->payload);
  if (!key_value) return not_proven(fmt::format("key.add record: {}", key_value.error().message));
  auto event = record::key_event_from_json(*key_value);
  if (!event || event->kind != "key.add") return not_proven("the key entry is not a key.add record");
  if (key_env->signatures.size() != 1 || key_env->signatures[0].keyid != log_key_id || event->archivist != log_key_id ||
      !record::verify(*key_env, key_env->signatures[0], key_add_signer))
    return not_proven("the key.add entry is not signed by the log key");

  // 3. The statement is signed by that key.
  auto env = record::parse(parts->envelope);
  if (!env) return not_proven(fmt::format("envelope: {}", env.error().message));
  auto statement = record::parse_payload(env->payload);
  if (!statement) return not_proven(fmt::format("record: {}", statement.error().message));
  if (env->signatures.size() != 1 || env->signatures[0].keyid != event->key_id || statement->archivist != event->key_id)
    return not_proven("the statement is not signed by the key the key.add entry adds");
  if (!record::verify(*env, env->signatures[0], event->public_key))
    return not_proven("the statement's signature does not verify");
  // With the key state: the key was an archivist key in force at the entry, as of the bundle's checkpoint.
  const record::KeyEntry* signer = state ? state->find(event->key_id) : nullptr;
  if (state) {
    const std::string who = short_id(event->key_id);
    if (!signer || signer->role != record::k_role_archivist || signer->public_key != event->public_key)
      return not_proven(fmt::format("the key state at the checkpoint names no archivist key {}", who));
    if (signer->added_at != key_proof->index)
      return not_proven(fmt::format("the key state says archivist key {} was added at another entry than {}", who,
                                    key_proof->index));
    if (!signer->in_force_at(proof->index))
      return not_proven(fmt::format("archivist key {} was revoked by entry {} ({}) before this entry {}", who,
                                    signer->revoked_at.value_or(0), signer->reason.value_or(""), proof->index));
  }
  // The key files travel with the bundle for the reader's convenience: exactly the archivist key and the log key that
  // signed its key.add, each byte for byte the PEM avow writes.
  if (parts->keys.size() != 2 || !parts->keys.contains(event->key_id) || !parts->keys.contains(log_key_id))
    return not_proven("the bundle must carry exactly the archivist key file and the log key file");
  for (const auto& [id, pem] : parts->keys) {
    if (id == event->key_id ? pem != crypto::public_key_pem(event->public_key)
                            : id != log_key_id || pem != crypto::public_key_pem(key_add_signer))
      return not_proven(fmt::format("the bundle's key file '{}' is not the archivist key or the log key", id));
  }

  // 4. The text is the one the record names.
  const auto digest = crypto::sha256(parts->text);
  auto want = from_hex(statement->text.sha256);
  if (!want || !crypto::equal_constant_time(digest, *want) || parts->text.size() != statement->text.bytes)
    return not_proven("the bundle's text does not hash to the text the record names");
  if (!text::is_canonical(parts->text)) return not_proven("the bundle's text is not in canonical form");

  BundleResult r;
  if (text_copy) {
    auto canon = text::canonicalize(*text_copy);
    if (!canon) return not_proven(fmt::format("the given text: {}", canon.error().message));
    if (canon->text != parts->text) return not_proven("the given text is not the proven text");
    r.text_checked = true;
  }
  r.proven = true;
  r.record_id = record::record_id(env->payload);
  r.index = proof->index;
  r.origin = cp->origin;
  r.tree_size = cp->size;
  r.root_hex = to_hex(cp->root);
  r.witnesses = std::move(cosigned);
  r.archivist = event->key_id;
  r.key_added_at = key_proof->index;
  r.payload = env->payload;
  const record::Statement& st = *statement;
  r.source = st.source.uri;
  r.publisher = st.source.publisher.value_or("");
  r.title = st.title.value_or("");
  r.lang = st.text.lang.value_or("");
  if (st.published) {
    r.published_as_written = st.published->as_written;
    r.published_utc = st.published->utc.value_or("");
    r.published_local = st.published->local.value_or("");
    r.published_tz = st.published->tz.value_or("");
  }
  r.captured = st.captured;
  r.text_sha256 = st.text.sha256;
  r.text_bytes = st.text.bytes;
  r.log_key = crypto::key_id(followed->log_key);
  r.handovers = std::move(followed->followed);
  if (state) {
    r.key_state_shown = true;
    r.key_name = signer->name.value_or("");
    r.key_revoked_at = signer->revoked_at;
    r.key_revoked_reason = signer->reason.value_or("");
  }
  return r;
}

} // namespace avow
