#include <archive/record/layout.hpp>

namespace avow::record {
namespace {

std::string fanout(std::string_view prefix, std::string_view hex) {
  std::string out;
  out.reserve(prefix.size() + 6 + hex.size());
  out.append(prefix).append(hex.substr(0, 2)).append("/").append(hex.substr(2, 2)).append("/").append(hex);
  return out;
}

} // namespace

std::string text_path(std::string_view sha256_hex) { return fanout(k_texts_prefix, sha256_hex); }
std::string original_path(std::string_view sha256_hex) { return fanout(k_originals_prefix, sha256_hex); }
std::string key_path(std::string_view key_id) { return std::string(k_keys_prefix) + std::string(key_id) + ".pem"; }

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_valid_origin(std::string_view origin) {
  if (origin.empty() || origin.size() > 255) return false;
  for (unsigned char c : origin)
    if (c <= 0x20 || c >= 0x7f || c == '+') return false;
  return true;
}

Expected<std::string> serialize_config(const ArchiveConfig& config) {
  json::Value v = json::Value::object();
  v["format"] = std::string(k_archive_format);
  v["origin"] = config.origin;
  v["log_key"] = {{"id", config.log_key_id}, {"vkey", config.log_vkey}};
  auto text = json::canonicalize(v);
  if (!text) return std::unexpected(text.error());
  return *text + "\n";
}

Expected<ArchiveConfig> parse_config(std::string_view text) {
  if (text.empty() || text.back() != '\n') return fail(ErrorCode::invalid_input, "avow.json does not end with a line feed");
  auto v = json::parse_canonical(text.substr(0, text.size() - 1));
  if (!v) return fail(ErrorCode::invalid_input, "avow.json: {}", v.error().message);
  const auto bad = [](std::string_view why) { return fail(ErrorCode::invalid_input, "avow.json: {}", why); };
  if (!v->is_object() || v->size() != 3 || !v->contains("format") || !v->contains("origin") || !v->contains("log_key"))
    return bad("want exactly the members format, log_key, origin");
  if (!(*v)["format"].is_string() || (*v)["format"].get<std::string>() != k_archive_format)
    return bad("unknown format (want avow.archive/1)");
  if (!(*v)["origin"].is_string() || !is_valid_origin((*v)["origin"].get<std::string>())) return bad("invalid origin");
  const auto& lk = (*v)["log_key"];
  if (!lk.is_object() || lk.size() != 2 || !lk.contains("id") || !lk.contains("vkey") || !lk["id"].is_string() ||
      !lk["vkey"].is_string())
    return bad("log_key wants exactly the string members id and vkey");
  ArchiveConfig c{(*v)["origin"].get<std::string>(), lk["vkey"].get<std::string>(), lk["id"].get<std::string>()};
  if (!is_sha256_hex(c.log_key_id)) return bad("log_key.id is not 64 lowercase hex digits");
  return c;
}

} // namespace avow::record
