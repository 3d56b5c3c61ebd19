#include <archive/log/note.hpp>

#include <archive/crypto/sha256.hpp>

#include <algorithm>

namespace avow::log {

namespace {

constexpr std::string_view k_sig_prefix = "\xE2\x80\x94 "; // U+2014 EM DASH, U+0020 SPACE

// Decode one UTF-8 code point of `s` at `i` (strict: no overlongs, surrogates or values above
// U+10FFFF); advance `i`. False on invalid input.
bool next_code_point(std::string_view s, std::size_t& i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  }
  std::size_t len = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return false;
  }
  if (s.size() - i < len) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  i += len;
  return true;
}

bool is_unicode_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// ASCII control characters (C0 and DEL).
bool is_control(char32_t c) { return c < 0x20 || c == 0x7F; }

// Valid UTF-8 whose only control character is '\n'.
bool is_valid_note_chars(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    char32_t c = 0;
    if (!next_code_point(s, i, c)) return false;
    if (is_control(c) && c != '\n') return false;
  }
  return true;
}

std::uint32_t read_be32(ByteView b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

void append_be32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::uint8_t(v >> shift));
}

void append_be64(Bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(std::uint8_t(v >> shift));
}

std::string signature_line(const NoteSignature& s) {
  Bytes raw;
  append_be32(raw, s.id);
  raw.insert(raw.end(), s.signature.begin(), s.signature.end());
  return fmt::format("{}{} {}\n", k_sig_prefix, s.name, base64_encode(raw));
}

} // namespace

std::uint32_t key_id(std::string_view name, std::uint8_t type, const crypto::PublicKey& key) {
  crypto::Sha256 h;
  h.update(name);
  const std::uint8_t sep_type[2] = {0x0A, type};
  h.update(ByteView{sep_type, 2});
  h.update(ByteView{key});
  const crypto::Digest d = h.finish();
  return read_be32(d);
}

bool is_valid_note_text(std::string_view text) {
  return !text.empty() && text.back() == '\n' && is_valid_note_chars(text);
}

bool is_valid_key_name(std::string_view name) {
  if (name.empty() || name.find('+') != std::string_view::npos) return false;
  std::size_t i = 0;
  while (i < name.size()) {
    char32_t c = 0;
    if (!next_code_point(name, i, c) || is_unicode_space(c) || is_control(c)) return false;
  }
  return true;
}

std::string vkey(std::string_view name, const crypto::PublicKey& key, std::uint8_t type) {
  Bytes raw{type};
  raw.insert(raw.end(), key.begin(), key.end());
  return fmt::format("{}+{:08x}+{}", name, key_id(name, type, key), base64_encode(raw));
}

Expected<Verifier> parse_vkey(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::invalid_input, "cannot parse verifier key '{}': {}", text, why);
  };
  const std::size_t p1 = text.find('+');
  if (p1 == std::string_view::npos) return bad("missing '+'");
  const std::size_t p2 = text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return bad("missing second '+'");
  const std::string_view name = text.substr(0, p1);
  const std::string_view id_hex = text.substr(p1 + 1, p2 - p1 - 1);
  const std::string_view key_b64 = text.substr(p2 + 1);
  if (!is_valid_key_name(name)) return bad("invalid key name");
  if (id_hex.size() != 8 || !std::all_of(id_hex.begin(), id_hex.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      }))
    return bad("key id is not 8 lowercase hex digits");
  auto id_bytes = from_hex(id_hex);
  if (!id_bytes) return bad("key id is not hex");
  auto raw = base64_decode(key_b64);
  if (!raw) return bad("key is not base64");
  if (raw->empty()) return bad("empty key");
  const std::uint8_t type = (*raw)[0];
  if (type != k_sig_ed25519 && type != k_sig_cosignature_v1) return bad(fmt::format("unknown key type {}", type));
  if (raw->size() != 33) return bad("an Ed25519 key has 32 bytes");
  Verifier v;
  v.name = std::string(name);
  v.type = type;
  std::copy(raw->begin() + 1, raw->end(), v.key.begin());
  v.id = read_be32(*id_bytes);
  if (v.id != key_id(name, type, v.key)) return bad("key id does not match the name and key");
  return v;
}

Expected<Note> parse_note(std::string_view note) {
  auto bad = [](std::string_view why) { return fail(ErrorCode::invalid_input, "malformed note: {}", why); };
  if (!is_valid_note_chars(note)) return bad("not UTF-8 text without control characters");
  const std::size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return bad("no blank line before the signatures");
  Note out;
  out.text = std::string(note.substr(0, split + 1));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) return bad("no signature");
  if (sigs.back() != '\n') return bad("signature block does not end in a newline");
  while (!sigs.empty()) {
    const std::size_t eol = sigs.find('\n');
    std::string_view line = sigs.substr(0, eol);
    sigs.remove_prefix(eol + 1);
    if (out.signatures.size() == k_max_note_signatures)
      return bad(fmt::format("more than {} signatures", k_max_note_signatures));
    if (!line.starts_with(k_sig_prefix)) return bad("signature line does not start with an em dash and a space");
    line.remove_prefix(k_sig_prefix.size());
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return bad("signature line has no signature");
    const std::string_view name = line.substr(0, space);
    const std::string_view b64 = line.substr(space + 1);
    if (!is_valid_key_name(name)) return bad("invalid key name in a signature line");
    auto raw = base64_decode(b64);
    if (b64.empty() || !raw || raw->size() < 5) return bad(fmt::format("invalid signature by '{}'", name));
    NoteSignature s;
    s.name = std::string(name);
    s.id = read_be32(*raw);
    s.signature.assign(raw->begin() + 4, raw->end());
    out.signatures.push_back(std::move(s));
  }
  return out;
}

Expected<std::string> format_note(const Note& note) {
  if (!is_valid_note_text(note.text))
    return fail(ErrorCode::invalid_input, "cannot format note: text is empty, lacks a final newline or has invalid "
                                          "characters");
  if (note.signatures.empty()) return fail(ErrorCode::invalid_input, "cannot format note: no signature");
  std::string out = note.text;
  out += '\n';
  for (const NoteSignature& s : note.signatures) {
    if (!is_valid_key_name(s.name))
      return fail(ErrorCode::invalid_input, "cannot format note: invalid key name '{}'", s.name);
    out += signature_line(s);
  }
  return out;
}

Expected<NoteSignature> note_signature(std::string_view text, std::string_view name, const crypto::Signer& key) {
  if (!is_valid_note_text(text))
    return fail(ErrorCode::invalid_input, "cannot sign note: text is empty, lacks a final newline or has invalid "
                                          "characters");
  if (!is_valid_key_name(name)) return fail(ErrorCode::invalid_input, "cannot sign note: invalid key name '{}'", name);
  auto sig = key.sign(as_bytes(text));
  if (!sig) return std::unexpected(sig.error());
  NoteSignature s;
  s.name = std::string(name);
  s.id = key_id(name, k_sig_ed25519, key.public_key());
  s.signature.assign(sig->begin(), sig->end());
  return s;
}

Expected<std::string> sign_note(std::string_view text, std::string_view name, const crypto::Signer& key) {
  auto s = note_signature(text, name, key);
  if (!s) return std::unexpected(s.error());
  return format_note(Note{std::string(text), {std::move(*s)}});
}

std::string cosignature_message(std::string_view text, std::uint64_t timestamp) {
  return fmt::format("cosignature/v1\ntime {}\n{}", timestamp, text);
}

Expected<NoteSignature> cosign(std::string_view text, std::string_view name, const crypto::PrivateKey& key,
                               std::uint64_t timestamp) {
  if (!is_valid_note_text(text))
    return fail(ErrorCode::invalid_input, "cannot cosign note: text is empty, lacks a final newline or has invalid "
                                          "characters");
  if (!is_valid_key_name(name)) return fail(ErrorCode::invalid_input, "cannot cosign note: invalid key name '{}'", name);
  auto sig = key.sign(as_bytes(cosignature_message(text, timestamp)));
  if (!sig) return std::unexpected(sig.error());
  NoteSignature s;
  s.name = std::string(name);
  s.id = key_id(name, k_sig_cosignature_v1, key.public_key());
  append_be64(s.signature, timestamp);
  s.signature.insert(s.signature.end(), sig->begin(), sig->end());
  return s;
}

Expected<std::uint64_t> verify_cosignature(std::string_view text, const NoteSignature& signature,
                                           const Verifier& verifier) {
  if (verifier.type != k_sig_cosignature_v1)
    return fail(ErrorCode::invalid_input, "key '{}' is not a cosignature key", verifier.name);
  if (signature.name != verifier.name || signature.id != verifier.id)
    return fail(ErrorCode::invalid_input, "cosignature by '{}' is not by key '{}'", signature.name, verifier.name);
  if (signature.signature.size() != 8 + 64)
    return fail(ErrorCode::invalid_input, "cosignature by '{}' does not verify: it has {} bytes", signature.name,
                signature.signature.size());
  std::uint64_t timestamp = 0;
  for (std::size_t i = 0; i < 8; ++i) timestamp = (timestamp << 8) | signature.signature[i];
  const std::string message = cosignature_message(text, timestamp);
  if (!crypto::verify(verifier.key, as_bytes(message), ByteView{signature.signature}.subspan(8)))
    return fail(ErrorCode::invalid_input, "cosignature by '{}' does not verify", signature.name);
  return timestamp;
}

Expected<std::vector<std::string>> verify_note(const Note& note, std::span<const Verifier> known) {
  std::vector<std::string> verified;
  for (const NoteSignature& s : note.signatures) {
    const auto v = std::find_if(known.begin(), known.end(),
                                [&](const Verifier& k) { return k.name == s.name && k.id == s.id; });
    if (v == known.end()) continue; // unknown keys are ignored (key rotation, witnesses)
    bool ok = false;
    if (v->type == k_sig_ed25519) {
      ok = crypto::verify(v->key, as_bytes(note.text), s.signature);
    } else if (v->type == k_sig_cosignature_v1) {
      ok = verify_cosignature(note.text, s, *v).has_value();
    }
    if (!ok) return fail(ErrorCode::invalid_input, "signature by '{}' does not verify", s.name);
    if (std::find(verified.begin(), verified.end(), s.name) == verified.end()) verified.push_back(s.name);
  }
  if (verified.empty()) return fail(ErrorCode::invalid_input, "note has no verifiable signature");
  return verified;
}

} // namespace avow::log
