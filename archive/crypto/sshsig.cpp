#include <archive/crypto/sshsig.hpp>

#include <archive/crypto/sha256.hpp>
#include <archive/crypto/ssh_wire.hpp>

#include <algorithm>
#include <cstring>
#include <optional>

namespace avow::crypto {

namespace {

constexpr std::string_view k_magic = "SSHSIG";
constexpr std::uint32_t k_version = 1;
constexpr std::string_view k_key_type = ssh_wire::k_ed25519_type;
constexpr std::string_view k_begin = "-----BEGIN SSH SIGNATURE-----";
constexpr std::string_view k_end = "-----END SSH SIGNATURE-----";
constexpr std::size_t k_wrap = 70;
// An Ed25519 SSHSIG is 232 base64 characters; anything far larger is not one.
constexpr std::size_t k_max_armor = 16 * 1024;

std::string_view hash_name(SshsigHash h) { return h == SshsigHash::sha256 ? "sha256" : "sha512"; }

Bytes hash_message(SshsigHash h, ByteView message) {
  if (h == SshsigHash::sha256) {
    const auto d = sha256(message);
    return {d.begin(), d.end()};
  }
  const auto d = sha512(message);
  return {d.begin(), d.end()};
}

using ssh_wire::put_string;
using ssh_wire::put_u32;
Bytes key_blob(const PublicKey& key) { return ssh_wire::ed25519_key_blob(key); }

// Bounds-checked reader of RFC 4251 data; every get fails (nullopt) rather than read past the end.
class Reader {
public:
  explicit Reader(ByteView data) : m_data(data) {}
  bool done() const { return m_pos == m_data.size(); }
  std::optional<ByteView> raw(std::size_t n) {
    if (m_data.size() - m_pos < n)
      return std::nullopt;
    ByteView v = m_data.subspan(m_pos, n);
    m_pos += n;
    return v;
  }
  std::optional<std::uint32_t> u32() {
    auto b = raw(4);
    if (!b)
      return std::nullopt;
    return (std::uint32_t{(*b)[0]} << 24) | (std::uint32_t{(*b)[1]} << 16) | (std::uint32_t{(*b)[2]} << 8) |
           std::uint32_t{(*b)[3]};
  }
  std::optional<ByteView> string() {
    auto n = u32();
    if (!n)
      return std::nullopt;
    return raw(*n);
  }

private:
  ByteView m_data;
  std::size_t m_pos = 0;
};

bool equals(ByteView b, std::string_view s) {
  return b.size() == s.size() && (s.empty() || std::memcmp(b.data(), s.data(), s.size()) == 0);
}

bool has_nul(ByteView b) { return std::find(b.begin(), b.end(), std::uint8_t{0}) != b.end(); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Return at most 64 bytes of hostile text fit for a one-line error message (controls become '?').
std::string printable(ByteView b) {
  std::string out = to_string(b.subspan(0, std::min<std::size_t>(b.size(), 64)));
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  return out;
}
std::string printable(std::string_view s) { return printable(as_bytes(s)); }

} // namespace

Bytes sshsig_signed_data(std::string_view ns, SshsigHash hash, ByteView message) {
  Bytes out(k_magic.begin(), k_magic.end());
  put_string(out, ns);
  put_string(out, std::string_view{}); // reserved
  put_string(out, hash_name(hash));
  put_string(out, hash_message(hash, message));
  return out;
}

std::string sshsig_armor(ByteView blob) {
  const std::string b64 = base64_encode(blob);
  std::string out;
  out.reserve(b64.size() + b64.size() / k_wrap + k_begin.size() + k_end.size() + 4);
  out += k_begin;
  out += '\n';
  for (std::size_t i = 0; i < b64.size(); i += k_wrap) {
    out.append(b64, i, k_wrap);
    out += '\n';
  }
  out += k_end;
  out += '\n';
  return out;
}

Expected<Bytes> sshsig_dearmor(std::string_view armored) {
  if (armored.size() > k_max_armor)
    return fail(ErrorCode::invalid_input, "cannot read ssh signature: too large ({} bytes)", armored.size());
  if (!armored.starts_with(k_begin))
    return fail(ErrorCode::invalid_input, "cannot read ssh signature: missing '{}'", k_begin);
  std::string_view rest = armored.substr(k_begin.size());
  const auto end = rest.find(k_end);
  if (end == std::string_view::npos)
    return fail(ErrorCode::invalid_input, "cannot read ssh signature: missing '{}'", k_end);
  const std::string_view body = rest.substr(0, end);
  const std::string_view tail = rest.substr(end + k_end.size());
  if (!std::all_of(tail.begin(), tail.end(), is_space))
    return fail(ErrorCode::invalid_input, "cannot read ssh signature: text after '{}'", k_end);
  if (body.empty() || !is_space(body.front()))
    return fail(ErrorCode::invalid_input, "cannot read ssh signature: no line break after '{}'", k_begin);
  std::string b64;
  b64.reserve(body.size());
  for (char c : body)
    if (!is_space(c))
      b64 += c;
  auto blob = base64_decode(b64);
  if (!blob)
    return fail(ErrorCode::invalid_input, "cannot read ssh signature: {}", blob.error().message);
  return blob;
}

Expected<SshsigBlob> sshsig_parse(ByteView blob) {
  Reader r{blob};
  const auto bad = [](std::string_view why) {
    return fail(ErrorCode::invalid_input, "cannot parse ssh signature: {}", why);
  };
  auto magic = r.raw(k_magic.size());
  if (!magic || !equals(*magic, k_magic))
    return bad("missing SSHSIG magic");
  auto version = r.u32();
  if (!version)
    return bad("truncated");
  if (*version != k_version)
    return fail(ErrorCode::invalid_input, "cannot parse ssh signature: unsupported version {}", *version);

  SshsigBlob out;
  auto key = r.string();
  if (!key)
    return bad("truncated public key");
  {
    Reader kr{*key};
    auto type = kr.string();
    if (!type)
      return bad("malformed public key");
    if (!equals(*type, k_key_type))
      return fail(ErrorCode::invalid_input, "cannot parse ssh signature: key type '{}' is not ssh-ed25519",
                  printable(*type));
    auto pk = kr.string();
    if (!pk || pk->size() != 32 || !kr.done())
      return bad("malformed ed25519 public key");
    std::copy(pk->begin(), pk->end(), out.public_key.begin());
  }
  auto ns = r.string();
  auto reserved = r.string();
  auto hash = r.string();
  auto sig = r.string();
  if (!ns || !reserved || !hash || !sig)
    return bad("truncated");
  if (!r.done())
    return bad("trailing bytes after the signature");
  if (has_nul(*ns) || has_nul(*hash))
    return bad("nul byte in namespace or hash name");
  out.ns = to_string(*ns);
  out.reserved = to_string(*reserved);
  if (equals(*hash, "sha512"))
    out.hash = SshsigHash::sha512;
  else if (equals(*hash, "sha256"))
    out.hash = SshsigHash::sha256;
  else
    return fail(ErrorCode::invalid_input, "cannot parse ssh signature: unsupported hash algorithm '{}'",
                printable(*hash));
  {
    Reader sr{*sig};
    auto type = sr.string();
    if (!type || !equals(*type, k_key_type))
      return bad("signature is not ssh-ed25519");
    auto raw = sr.string();
    if (!raw || raw->size() != 64 || !sr.done())
      return bad("malformed ed25519 signature");
    std::copy(raw->begin(), raw->end(), out.signature.begin());
  }
  return out;
}

Expected<std::string> sshsig_sign(const Signer& key, std::string_view ns, ByteView message, SshsigHash hash) {
  if (ns.empty())
    return fail(ErrorCode::invalid_input, "cannot make ssh signature: empty namespace");
  if (ns.find('\0') != std::string_view::npos)
    return fail(ErrorCode::invalid_input, "cannot make ssh signature: nul byte in namespace");
  const Bytes to_sign = sshsig_signed_data(ns, hash, message);
  auto sig = key.sign(to_sign);
  if (!sig)
    return std::unexpected(sig.error());

  Bytes sig_blob;
  put_string(sig_blob, k_key_type);
  put_string(sig_blob, ByteView{sig->data(), sig->size()});

  Bytes blob(k_magic.begin(), k_magic.end());
  put_u32(blob, k_version);
  put_string(blob, key_blob(key.public_key()));
  put_string(blob, ns);
  put_string(blob, std::string_view{}); // reserved
  put_string(blob, hash_name(hash));
  put_string(blob, sig_blob);
  return sshsig_armor(blob);
}

Expected<std::string> sshsig_sign(const Signer& key, std::string_view ns, ByteView message) {
  return sshsig_sign(key, ns, message, SshsigHash::sha512);
}

Expected<PublicKey> sshsig_verify(std::string_view armored, std::string_view ns, ByteView message) {
  auto blob = sshsig_dearmor(armored);
  if (!blob)
    return std::unexpected(blob.error());
  auto parsed = sshsig_parse(*blob);
  if (!parsed)
    return std::unexpected(parsed.error());
  if (parsed->ns != ns)
    return fail(ErrorCode::invalid_input, "ssh signature has namespace '{}', expected '{}'",
                printable(parsed->ns), printable(ns));
  // Sign over the namespace we expect, never the one in the blob (sshsig.c does the same).
  const Bytes signed_data = sshsig_signed_data(ns, parsed->hash, message);
  if (!verify(parsed->public_key, signed_data, ByteView{parsed->signature.data(), parsed->signature.size()}))
    return fail(ErrorCode::invalid_input, "ssh signature does not verify for this message and key");
  return parsed->public_key;
}

std::string openssh_public_key(const PublicKey& key) {
  return std::string(k_key_type) + " " + base64_encode(key_blob(key));
}

Expected<PublicKey> parse_openssh_public_key(std::string_view line) {
  const auto bad = [&](std::string_view why) {
    return fail(ErrorCode::invalid_input, "cannot parse openssh public key: {}", why);
  };
  if (line.size() > 16 * 1024)
    return bad("line too long");
  const auto sp = line.find(' ');
  if (sp == std::string_view::npos)
    return bad("expected 'ssh-ed25519 <base64>'");
  if (line.substr(0, sp) != k_key_type)
    return bad("key type is not ssh-ed25519");
  std::string_view b64 = line.substr(sp + 1);
  if (const auto end = b64.find_first_of(" \t\r\n"); end != std::string_view::npos)
    b64 = b64.substr(0, end); // the rest is a comment
  auto blob = base64_decode(b64);
  if (!blob)
    return bad(blob.error().message);
  Reader r{*blob};
  auto type = r.string();
  auto pk = r.string();
  if (!type || !equals(*type, k_key_type) || !pk || pk->size() != 32 || !r.done())
    return bad("malformed ssh-ed25519 key blob");
  PublicKey out{};
  std::copy(pk->begin(), pk->end(), out.begin());
  return out;
}

} // namespace avow::crypto
