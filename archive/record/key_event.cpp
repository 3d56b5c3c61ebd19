#include <archive/record/key_event.hpp>

#include <archive/record/layout.hpp>
#include <archive/record/record.hpp>
#include <archive/text/metadata.hpp>
#include <archive/util/bytes.hpp>
#include <archive/util/time.hpp>

namespace avow::record {
namespace {

Expected<void> check(const KeyEvent& e) {
  if (e.kind != "key.add" && e.kind != "key.revoke") return fail(ErrorCode::invalid_input, "key event: unknown kind '{}'", e.kind);
  if (e.key_id != crypto::key_id(e.public_key))
    return fail(ErrorCode::invalid_input, "key event: key.id does not match key.public_key");
  if (e.role != k_role_archivist && e.role != "witness" && e.role != "log")
    return fail(ErrorCode::invalid_input, "key event: unknown role '{}'", e.role);
  if (e.kind == "key.revoke" && e.role == "log")
    return fail(ErrorCode::invalid_input, "key event: a log key is rotated, not revoked");
  if (e.name) {
    if (e.name->empty() || e.name->size() > 128)
      return fail(ErrorCode::invalid_input, "key event: name must be 1 to 128 bytes");
    if (auto ok = text::check_single_line("name", *e.name); !ok) return std::unexpected(ok.error());
  }
  if (!parse_rfc3339_utc(e.captured)) return fail(ErrorCode::invalid_input, "key event: captured is not RFC 3339 UTC");
  if (!is_sha256_hex(e.archivist)) return fail(ErrorCode::invalid_input, "key event: archivist is not a key id");
  if (e.reason) {
    if (e.kind != "key.revoke") return fail(ErrorCode::invalid_input, "key event: reason is only for key.revoke");
    if (auto ok = text::check_single_line("reason", *e.reason); !ok) return std::unexpected(ok.error());
  }
  return {};
}

} // namespace

Expected<json::Value> to_json(const KeyEvent& e) {
  if (auto ok = check(e); !ok) return std::unexpected(ok.error());
  json::Value v = json::Value::object();
  v["format"] = std::string(k_format);
  v["kind"] = e.kind;
  v["key"] = {{"id", e.key_id}, {"public_key", base64_encode(e.public_key)}, {"role", e.role}};
  if (e.name) v["key"]["name"] = *e.name;
  v["captured"] = e.captured;
  v["archivist"] = e.archivist;
  if (e.reason) v["reason"] = *e.reason;
  return v;
}

Expected<KeyEvent> key_event_from_json(const json::Value& v) {
  const auto bad = [](std::string_view why) { return fail(ErrorCode::invalid_input, "key event: {}", why); };
  if (!v.is_object()) return bad("not an object");
  for (const auto& [k, _] : v.items())
    if (k != "format" && k != "kind" && k != "key" && k != "captured" && k != "archivist" && k != "reason")
      return bad("unknown member '" + k + "'");
  const auto str = [&](const char* name) -> const std::string* {
    auto it = v.find(name);
    return it != v.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  const auto* format = str("format");
  const auto* kind = str("kind");
  const auto* captured = str("captured");
  const auto* archivist = str("archivist");
  if (!format || *format != k_format) return bad("format is not avow.record/1");
  if (!kind || !captured || !archivist) return bad("missing kind, captured or archivist");
  auto kit = v.find("key");
  if (kit == v.end() || !kit->is_object()) return bad("key wants id, public_key, role and optionally name");
  const auto& k = *kit;
  const bool named = k.contains("name");
  if (k.size() != (named ? 4u : 3u) || !k.contains("id") || !k["id"].is_string() || !k.contains("public_key") ||
      !k["public_key"].is_string() || !k.contains("role") || !k["role"].is_string() || (named && !k["name"].is_string()))
    return bad("key wants exactly the string members id, public_key, role and optionally name");
  auto raw = base64_decode(k["public_key"].get<std::string>());
  if (!raw || raw->size() != 32) return bad("key.public_key is not base64 of 32 bytes");
  KeyEvent e;
  e.kind = *kind;
  e.key_id = k["id"].get<std::string>();
  std::copy(raw->begin(), raw->end(), e.public_key.begin());
  e.role = k["role"].get<std::string>();
  if (named) e.name = k["name"].get<std::string>();
  e.captured = *captured;
  e.archivist = *archivist;
  if (v.contains("reason")) {
    const auto* reason = str("reason");
    if (!reason) return bad("reason is not a string");
    e.reason = *reason;
  }
  if (auto ok = check(e); !ok) return std::unexpected(ok.error());
  return e;
}

Expected<std::string> payload(const KeyEvent& e) {
  auto v = to_json(e);
  if (!v) return std::unexpected(v.error());
  return json::canonicalize(*v);
}

Expected<std::string> record_kind(const json::Value& v) {
  if (!v.is_object()) return fail(ErrorCode::invalid_input, "record is not a JSON object");
  auto it = v.find("kind");
  if (it == v.end() || !it->is_string()) return fail(ErrorCode::invalid_input, "record has no kind");
  const auto& kind = it->get_ref<const std::string&>();
  if (kind != "statement" && kind != "key.add" && kind != "key.revoke")
    return fail(ErrorCode::invalid_input, "record has unknown kind '{}'", kind);
  return kind;
}

} // namespace avow::record
