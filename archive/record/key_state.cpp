#include <archive/record/key_state.hpp>

#include <archive/crypto/sha256.hpp>
#include <archive/crypto/sshsig.hpp>
#include <archive/json/jcs.hpp>
#include <archive/text/metadata.hpp>
#include <archive/util/bytes.hpp>

#include <set>
#include <ctime>

namespace avow::record {

const KeyEntry* KeyState::find(std::string_view id) const {
  for (const auto& k : keys)
    if (k.id == id) return &k;
  return nullptr;
}

const KeyEntry* KeyState::log_key() const {
  const KeyEntry* found = nullptr;
  for (const auto& k : keys)
    if (k.role == k_role_log && !k.revoked_at) found = &k;
  return found;
}

const KeyEntry* KeyState::genesis_log_key() const { return keys.empty() ? nullptr : &keys.front(); }

std::size_t KeyState::active_archivists() const {
  std::size_t n = 0;
  for (const auto& k : keys)
    if (k.role == k_role_archivist && !k.revoked_at) ++n;
  return n;
}

KeyState initial_key_state(const crypto::PublicKey& log_key) {
  KeyState s;
  s.keys.push_back({crypto::key_id(log_key), log_key, std::string(k_role_log), std::nullopt, std::nullopt, std::nullopt,
                    std::nullopt});
  return s;
}

Expected<void> apply(KeyState& state, const KeyEvent& event, std::string_view signer, std::uint64_t index) {
  const auto bad = [&](std::string_view why) {
    return fail(ErrorCode::invalid_input, "entry {} ({} of key {}): {}", index, event.kind, event.key_id.substr(0, 16), why);
  };
  const KeyEntry* log = state.log_key();
  if (!log) return bad("the key state has no log key");
  if (signer != log->id || event.archivist != log->id) return bad("it is not signed by the log key in force");
  KeyEntry* existing = nullptr;
  for (auto& k : state.keys)
    if (k.id == event.key_id) existing = &k;
  if (event.kind == "key.add") {
    if (existing)
      return bad(existing->revoked_at ? "the key was revoked; a revoked key is never added again" : "the key is already added");
    if (event.role != k_role_archivist && event.role != k_role_witness && event.role != k_role_log)
      return bad(fmt::format("unknown role '{}'", event.role));
    KeyEntry added{event.key_id, event.public_key, event.role, event.name, index, std::nullopt, std::nullopt};
    if (event.role == k_role_log) {
      for (auto& k : state.keys)
        if (k.id == log->id) {
          k.revoked_at = index;
          k.reason = std::string(k_reason_rotated);
        }
    }
    state.keys.push_back(std::move(added));
    return {};
  }
  if (event.kind == "key.revoke") {
    if (!existing) return bad("the key was never added");
    if (existing->revoked_at) return bad(fmt::format("the key was already revoked by entry {}", *existing->revoked_at));
    if (existing->role == k_role_log) return bad("a log key is not revoked but rotated (avow key rotate)");
    if (existing->role != event.role) return bad(fmt::format("the key's role is {}, not {}", existing->role, event.role));
    if (existing->role == k_role_archivist && state.active_archivists() <= 1)
      return bad("it is the last archivist key in force; add another archivist first");
    existing->revoked_at = index;
    existing->reason = event.reason;
    return {};
  }
  return bad("not a key event");
}

std::string key_state_json(const KeyState& state) {
  json::Value keys = json::Value::array();
  for (const auto& k : state.keys) {
    json::Value e = json::Value::object();
    e["id"] = k.id;
    e["public_key"] = base64_encode(k.public_key);
    e["role"] = k.role;
    if (k.name) e["name"] = *k.name;
    if (k.added_at) e["added_at"] = *k.added_at;
    if (k.revoked_at) e["revoked_at"] = *k.revoked_at;
    if (k.reason) e["reason"] = *k.reason;
    keys.push_back(std::move(e));
  }
  json::Value v = json::Value::object();
  v["format"] = std::string(k_key_state_format);
  v["keys"] = std::move(keys);
  auto jcs = json::canonicalize(v);
  // Every member is a valid string or a small integer: canonicalization cannot fail on a state this code built.
  return jcs ? *jcs : std::string{};
}

Expected<KeyState> parse_key_state(std::string_view jcs) {
  const auto bad = [](std::string_view why) { return fail(ErrorCode::invalid_input, "key state: {}", why); };
  auto v = json::parse_canonical(jcs);
  if (!v) return bad(v.error().message);
  if (!v->is_object() || v->size() != 2 || !v->contains("format") || !v->contains("keys"))
    return bad("wants exactly the members format and keys");
  if (!(*v)["format"].is_string() || (*v)["format"].get<std::string>() != k_key_state_format)
    return bad("format is not avow.keys/1");
  const auto& arr = (*v)["keys"];
  if (!arr.is_array() || arr.empty()) return bad("keys is not a non-empty array");
  KeyState s;
  std::set<std::string> ids;
  std::size_t logs_in_force = 0;
  for (const auto& e : arr) {
    if (!e.is_object()) return bad("a key is not an object");
    KeyEntry k;
    for (const auto& [name, val] : e.items()) {
      if (name == "id" || name == "public_key" || name == "role" || name == "name" || name == "reason") {
        if (!val.is_string()) return bad(fmt::format("{} is not a string", name));
      } else if (name == "added_at" || name == "revoked_at") {
        if (!val.is_number_unsigned()) return bad(fmt::format("{} is not a log index", name));
      } else {
        return bad(fmt::format("unknown member '{}'", name));
      }
    }
    if (!e.contains("id") || !e.contains("public_key") || !e.contains("role")) return bad("a key lacks id, public_key or role");
    k.id = e["id"].get<std::string>();
    auto raw = base64_decode(e["public_key"].get<std::string>());
    if (!raw || raw->size() != 32) return bad("public_key is not base64 of 32 bytes");
    std::copy(raw->begin(), raw->end(), k.public_key.begin());
    if (k.id != crypto::key_id(k.public_key)) return bad(fmt::format("id {} does not match its public key", k.id));
    if (!ids.insert(k.id).second) return bad(fmt::format("key {} appears twice", k.id));
    k.role = e["role"].get<std::string>();
    if (k.role != k_role_log && k.role != k_role_archivist && k.role != k_role_witness)
      return bad(fmt::format("unknown role '{}'", k.role));
    if (e.contains("name")) {
      k.name = e["name"].get<std::string>();
      if (auto ok = text::check_single_line("name", *k.name); !ok) return bad(ok.error().message);
    }
    if (e.contains("added_at")) k.added_at = e["added_at"].get<std::uint64_t>();
    if (e.contains("revoked_at")) k.revoked_at = e["revoked_at"].get<std::uint64_t>();
    if (e.contains("reason")) {
      k.reason = e["reason"].get<std::string>();
      if (auto ok = text::check_single_line("reason", *k.reason); !ok) return bad(ok.error().message);
    }
    if (k.reason.has_value() != k.revoked_at.has_value()) return bad("reason and revoked_at go together");
    if (k.added_at && k.revoked_at && *k.revoked_at <= *k.added_at) return bad("a key is revoked before it was added");
    if (s.keys.empty() ? (k.role != k_role_log || k.added_at) : !k.added_at)
      return bad("the first key must be the genesis log key (no added_at), and only it");
    if (!s.keys.empty() && s.keys.back().added_at && *k.added_at <= *s.keys.back().added_at)
      return bad("keys are not in the order they were added");
    if (k.role == k_role_log && !k.revoked_at) ++logs_in_force;
    s.keys.push_back(std::move(k));
  }
  if (logs_in_force != 1) return bad("there must be exactly one log key in force");
  if (key_state_json(s) != jcs) return bad("not in canonical form");
  return s;
}

std::string key_state_extension_for(std::string_view key_state_jcs) {
  return std::string(k_key_state_extension) + base64_encode(crypto::sha256(key_state_jcs));
}

std::string key_state_extension(const KeyState& state) { return key_state_extension_for(key_state_json(state)); }

std::string ssh_time(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}{:02}{:02}{:02}{:02}{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::string allowed_signers(std::string_view origin, const KeyState& state,
                            const std::map<std::uint64_t, std::int64_t>& rotation_times) {
  std::string out;
  for (const auto& k : state.keys) {
    if (k.role != k_role_log) continue;
    std::string options = "namespaces=\"git\"";
    if (k.added_at)
      if (auto t = rotation_times.find(*k.added_at); t != rotation_times.end())
        options += fmt::format(",valid-after=\"{}\"", ssh_time(t->second));
    if (k.revoked_at)
      if (auto t = rotation_times.find(*k.revoked_at); t != rotation_times.end())
        options += fmt::format(",valid-before=\"{}\"", ssh_time(t->second));
    out += fmt::format("{} {} {}\n", origin, options, crypto::openssh_public_key(k.public_key));
  }
  return out;
}

Expected<std::optional<std::string>> find_key_state_extension(const std::vector<std::string>& extensions) {
  std::optional<std::string> found;
  for (const auto& e : extensions) {
    if (!e.starts_with("avow-keys")) continue;
    if (found) return fail(ErrorCode::invalid_input, "checkpoint has more than one avow-keys line");
    const std::string_view hash = std::string_view(e).substr(std::min(e.size(), k_key_state_extension.size()));
    auto raw = base64_decode(hash);
    if (!e.starts_with(k_key_state_extension) || !raw || raw->size() != 32 || base64_encode(*raw) != hash)
      return fail(ErrorCode::invalid_input, "checkpoint avow-keys line is malformed");
    found = e;
  }
  return found;
}

} // namespace avow::record
