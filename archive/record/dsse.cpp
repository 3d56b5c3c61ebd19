#include <archive/record/dsse.hpp>

#include <archive/json/jcs.hpp>
#include <archive/record/layout.hpp>
#include <archive/record/record.hpp>

#include <charconv>

namespace avow::record {
namespace {

constexpr std::size_t k_ed25519_signature_bytes = 64;

void append_decimal(std::string& out, std::size_t n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

// The rules serialize and parse share.
Expected<void> check(const Envelope& e) {
  if (e.payload_type != k_payload_type)
    return fail(ErrorCode::invalid_input, "envelope: payloadType is not {}", k_payload_type);
  if (e.signatures.empty()) return fail(ErrorCode::invalid_input, "envelope: no signature");
  for (std::size_t i = 0; i < e.signatures.size(); ++i) {
    const auto& s = e.signatures[i];
    if (!is_sha256_hex(s.keyid))
      return fail(ErrorCode::invalid_input, "envelope: signature {} keyid is not 64 lowercase hex digits", i);
    if (s.sig.size() != k_ed25519_signature_bytes)
      return fail(ErrorCode::invalid_input, "envelope: signature {} is {} bytes, not {}", i, s.sig.size(),
                  k_ed25519_signature_bytes);
    for (std::size_t j = 0; j < i; ++j)
      if (e.signatures[j].keyid == s.keyid)
        return fail(ErrorCode::invalid_input, "envelope: two signatures by key {}", s.keyid);
  }
  return {};
}

// The envelope exactly as serialize() writes it, read without a JSON tree: the canonical bytes with no escape in any
// string. An envelope of that shape is canonical JCS with exactly the members parse() wants, so reading it here gives
// what the general reader gives; nullopt for anything else, which the general reader then judges (and names what is
// wrong). The caller still applies check().
std::optional<Envelope> parse_exact(std::string_view jcs) {
  const auto take = [&](std::string_view literal) {
    if (!jcs.starts_with(literal)) return false;
    jcs.remove_prefix(literal.size());
    return true;
  };
  // The rest of a string up to its closing quote (consumed); nullopt if it holds an escape or never ends.
  const auto string_body = [&]() -> std::optional<std::string_view> {
    const auto quote = jcs.find('"');
    if (quote == std::string_view::npos) return std::nullopt;
    const std::string_view body = jcs.substr(0, quote);
    for (const char c : body)
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
    jcs.remove_prefix(quote + 1);
    return body;
  };
  if (!take("{\"payload\":\"")) return std::nullopt;
  const auto payload = string_body();
  if (!payload || !take(",\"payloadType\":\"")) return std::nullopt;
  const auto type = string_body();
  if (!type || !take(",\"signatures\":[")) return std::nullopt;
  Envelope e;
  e.payload_type = std::string(*type);
  auto raw = base64_decode(*payload);
  if (!raw) return std::nullopt;
  e.payload = to_string(*raw);
  do {
    if (!take("{\"keyid\":\"")) return std::nullopt;
    const auto keyid = string_body();
    if (!keyid || !take(",\"sig\":\"")) return std::nullopt;
    const auto sig = string_body();
    if (!sig || !take("}")) return std::nullopt;
    auto bytes = base64_decode(*sig);
    if (!bytes) return std::nullopt;
    e.signatures.push_back(Signature{std::string(*keyid), std::move(*bytes)});
  } while (take(","));
  if (!take("]}") || !jcs.empty()) return std::nullopt;
  return e;
}

} // namespace

std::string pae(std::string_view type, std::string_view body) {
  std::string out;
  out.reserve(32 + type.size() + body.size());
  out.append("DSSEv1 ");
  append_decimal(out, type.size());
  out.push_back(' ');
  out.append(type);
  out.push_back(' ');
  append_decimal(out, body.size());
  out.push_back(' ');
  out.append(body);
  return out;
}

Expected<Envelope> sign(std::string_view payload, const crypto::Signer& key) {
  Envelope e;
  e.payload_type = k_payload_type;
  e.payload = payload;
  auto sig = key.sign(as_bytes(pae(e.payload_type, e.payload)));
  if (!sig) return std::unexpected(sig.error());
  e.signatures.push_back(Signature{crypto::key_id(key.public_key()), Bytes(sig->begin(), sig->end())});
  return e;
}

Expected<std::string> serialize(const Envelope& e) {
  if (auto ok = check(e); !ok) return std::unexpected(ok.error());
  // Members in JCS order: payload < payloadType < signatures; keyid < sig. Base64 and hex need no escaping.
  std::string out;
  out.reserve(64 + e.payload.size() * 4 / 3 + e.payload_type.size() + e.signatures.size() * 160);
  out.append("{\"payload\":\"");
  out.append(base64_encode(as_bytes(e.payload)));
  out.append("\",\"payloadType\":");
  if (auto ok = json::append_string(out, e.payload_type); !ok) return std::unexpected(ok.error());
  out.append(",\"signatures\":[");
  for (std::size_t i = 0; i < e.signatures.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("{\"keyid\":\"");
    out.append(e.signatures[i].keyid);
    out.append("\",\"sig\":\"");
    out.append(base64_encode(e.signatures[i].sig));
    out.append("\"}");
  }
  out.append("]}");
  if (out.size() > k_max_envelope_bytes)
    return fail(ErrorCode::invalid_input, "envelope is {} bytes, more than the limit of {}", out.size(),
                k_max_envelope_bytes);
  return out;
}

Expected<Envelope> parse(std::string_view jcs) {
  if (jcs.size() > k_max_envelope_bytes)
    return fail(ErrorCode::invalid_input, "envelope is {} bytes, more than the limit of {}", jcs.size(),
                k_max_envelope_bytes);
  if (auto exact = parse_exact(jcs)) {
    if (auto ok = check(*exact); !ok) return std::unexpected(ok.error());
    return std::move(*exact);
  }
  auto v = json::parse_canonical(jcs);
  if (!v) return fail(ErrorCode::invalid_input, "envelope: {}", v.error().message);
  const auto bad = [](std::string_view why) { return fail(ErrorCode::invalid_input, "envelope: {}", why); };
  if (!v->is_object() || v->size() != 3) return bad("want exactly the members payload, payloadType, signatures");
  const auto payload = v->find("payload");
  const auto type = v->find("payloadType");
  const auto sigs = v->find("signatures");
  if (payload == v->end() || type == v->end() || sigs == v->end())
    return bad("want exactly the members payload, payloadType, signatures");
  if (!payload->is_string()) return bad("payload is not a string");
  if (!type->is_string()) return bad("payloadType is not a string");
  if (!sigs->is_array()) return bad("signatures is not an array");

  Envelope e;
  e.payload_type = type->get_ref<const std::string&>();
  auto raw = base64_decode(payload->get_ref<const std::string&>());
  if (!raw) return bad("payload is not standard base64");
  e.payload = to_string(*raw);
  e.signatures.reserve(sigs->size());
  for (std::size_t i = 0; i < sigs->size(); ++i) {
    const auto& s = (*sigs)[i];
    if (!s.is_object() || s.size() != 2 || !s.contains("keyid") || !s.contains("sig"))
      return fail(ErrorCode::invalid_input, "envelope: signature {} wants exactly the members keyid, sig", i);
    if (!s["keyid"].is_string() || !s["sig"].is_string())
      return fail(ErrorCode::invalid_input, "envelope: signature {} keyid and sig must be strings", i);
    auto sig = base64_decode(s["sig"].get_ref<const std::string&>());
    if (!sig) return fail(ErrorCode::invalid_input, "envelope: signature {} is not standard base64", i);
    e.signatures.push_back(Signature{s["keyid"].get<std::string>(), std::move(*sig)});
  }
  if (auto ok = check(e); !ok) return std::unexpected(ok.error());
  return e;
}

bool verify(const Envelope& e, const Signature& sig, const crypto::PublicKey& key) {
  return crypto::verify(key, as_bytes(pae(e.payload_type, e.payload)), sig.sig);
}

bool verify(const Envelope& e, const Signature& sig, const crypto::VerifyKey& key) {
  return key.verify(as_bytes(pae(e.payload_type, e.payload)), sig.sig);
}

} // namespace avow::record
