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
};

Expected<Parts> split(std::string_view bundle) {
  if (bundle.size() > k_max_bundle_bytes) return fail(ErrorCode::invalid_input, "bundle is larger than {} bytes", k_max_bundle_bytes);
  auto v = json::parse_strict(bundle);
  if (!v) return std::unexpected(v.error());
  const auto bad = [](std::string_view why) { return fail(ErrorCode::invalid_input, "malformed bundle: {}", why); };
  if (!v->is_object()) return bad("not a JSON object");
  for (const auto& [k, _] : v->items())
    if (k != "format" && k != "envelope" && k != "text" && k != "proof" && k != "key" && k != "keys")
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
  return p;
}

} // namespace

Expected<BundleResult> verify_bundle(std::string_view bundle, std::string_view policy_text,
                                     const std::optional<std::string>& text_copy) {
  auto policy = log::parse_policy(policy_text);
  if (!policy) return std::unexpected(policy.error());
  auto parts = split(bundle);
  if (!parts) return not_proven(parts.error().message);

  // 1. The statement entry is in a checkpoint the policy trusts.
  auto proof = log::parse_tlog_proof(parts->proof);
  if (!proof) return not_proven(proof.error().message);
  std::vector<std::string> cosigned;
  auto cp = log::verify_tlog_proof(*proof, log::leaf_hash(parts->envelope), *policy, &cosigned);
  if (!cp) return not_proven(fmt::format("the entry is not proven in the log: {}", cp.error().message));

  // 2. The archivist key was added by the log key earlier in the same log.
  auto key_proof = log::parse_tlog_proof(parts->key_proof);
  if (!key_proof) return not_proven(fmt::format("key proof: {}", key_proof.error().message));
  auto key_cp = log::verify_tlog_proof(*key_proof, log::leaf_hash(parts->key_envelope), *policy);
  if (!key_cp) return not_proven(fmt::format("the key.add entry is not proven in the log: {}", key_cp.error().message));
  if (key_cp->origin != cp->origin) return not_proven("the key.add entry is proven in another log");
  if (key_proof->index >= proof->index) return not_proven("the archivist key was not added before the entry");
  const log::Verifier* log_key = nullptr;
  for (const auto& l : policy->logs)
    if (l.verifier.name == cp->origin) log_key = &l.verifier;
  if (!log_key) return not_proven("the policy has no log key for this origin");
  const std::string log_key_id = crypto::key_id(log_key->key);

  auto key_env = record::parse(parts->key_envelope);
  if (!key_env) return not_proven(fmt::format("key.add envelope: {}", key_env.error().message));
  auto key_value = json::parse_canonical(key_env->payload);
  if (!key_value) return not_proven(fmt::format("key.add record: {}", key_value.error().message));
  auto event = record::key_event_from_json(*key_value);
  if (!event || event->kind != "key.add") return not_proven("the key entry is not a key.add record");
  if (key_env->signatures.size() != 1 || key_env->signatures[0].keyid != log_key_id || event->archivist != log_key_id ||
      !record::verify(*key_env, key_env->signatures[0], log_key->key))
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
  // The key files travel with the bundle for the reader's convenience: exactly the archivist key and the log key,
  // each byte for byte the PEM avow writes.
  if (parts->keys.size() != 2 || !parts->keys.contains(event->key_id) || !parts->keys.contains(log_key_id))
    return not_proven("the bundle must carry exactly the archivist key file and the log key file");
  for (const auto& [id, pem] : parts->keys) {
    if (id == event->key_id ? pem != crypto::public_key_pem(event->public_key)
                            : id != log_key_id || pem != crypto::public_key_pem(log_key->key))
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
  return r;
}

} // namespace avow
