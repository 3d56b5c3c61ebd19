#pragma once

// C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 signatures (type 0x01) and
// C2SP tlog-cosignature Ed25519 cosignatures (type 0x04).
//
// A note is its text (non-empty, every line ending in '\n'), one blank line, then one or more lines
// "— <key name> <base64(4-byte key id || signature)>\n" (U+2014 EM DASH, U+0020 SPACE).

#include <archive/crypto/ed25519.hpp>
#include <archive/util/bytes.hpp>
#include <archive/util/error.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace avow::log {

constexpr std::uint8_t k_sig_ed25519 = 0x01;
constexpr std::uint8_t k_sig_cosignature_v1 = 0x04;
// A note with more signature lines than this is rejected (the spec asks to accept at least 16).
constexpr std::size_t k_max_note_signatures = 100;

struct Verifier {
  std::string name;
  std::uint32_t id = 0;
  std::uint8_t type = k_sig_ed25519;
  crypto::PublicKey key{};
};

// Return the key id SHA-256(`name` || 0x0A || `type` || `key`)[:4], read big-endian.
std::uint32_t key_id(std::string_view name, std::uint8_t type, const crypto::PublicKey& key);
// Return the vkey "<name>+<hex8 id>+<base64(type || key)>" (type 0x01 unless given).
std::string vkey(std::string_view name, const crypto::PublicKey& key, std::uint8_t type = k_sig_ed25519);
// Parse a vkey, splitting on the first two '+' only; invalid_input if the name is invalid, the id is
// not 8 lowercase hex digits, the base64 is invalid, the type is not 0x01 or 0x04, the key is not 32
// bytes or the id does not match the name and key.
Expected<Verifier> parse_vkey(std::string_view vkey);

// Return whether `name` is a valid key name: non-empty UTF-8 with no '+', no Unicode white space and
// no control characters.
bool is_valid_key_name(std::string_view name);

// Return whether `text` is valid note text: non-empty, ending in '\n', valid UTF-8 (no overlongs or
// surrogates) with no ASCII control character (C0 or DEL) other than '\n'.
bool is_valid_note_text(std::string_view text);

struct NoteSignature {
  std::string name;
  std::uint32_t id = 0;
  Bytes signature; // the decoded bytes after the 4-byte key id
  bool operator==(const NoteSignature&) const = default;
};

struct Note {
  std::string text; // includes its final '\n', excludes the blank line
  std::vector<NoteSignature> signatures;
};

// Parse a signed note, splitting at the LAST blank line. invalid_input if it is not valid UTF-8, has
// control characters other than '\n', has no blank line or no signature line, if a signature line
// is malformed (prefix, key name, base64, fewer than 5 bytes, missing final '\n') or if there are more
// than k_max_note_signatures signature lines.
Expected<Note> parse_note(std::string_view note);
// Return the wire form of `note`: text, blank line, signature lines. invalid_input if the text or a
// name is not valid for a note or there is no signature.
Expected<std::string> format_note(const Note& note);

// Sign `text` with Ed25519 (type 0x01) under key name `name` and return the signed note.
// invalid_input if `text` is empty, does not end in '\n', is not valid UTF-8 or has control
// characters other than '\n', or if `name` is invalid; crypto if signing fails.
Expected<std::string> sign_note(std::string_view text, std::string_view name, const crypto::Signer& key);
// Return the type 0x01 signature line (as NoteSignature) over `text`; errors as sign_note.
Expected<NoteSignature> note_signature(std::string_view text, std::string_view name, const crypto::Signer& key);

// Verify `note` against `known` verifiers. Each signature whose (name, id) matches a known verifier is
// checked (type 0x01: Ed25519 over the text; type 0x04: a cosignature/v1); signatures by unknown keys
// are ignored. invalid_input "signature by 'NAME' does not verify" if a known key's signature fails;
// invalid_input "note has no verifiable signature" if none verified. Returns the names that verified,
// in signature order.
Expected<std::vector<std::string>> verify_note(const Note& note, std::span<const Verifier> known);

// Return the message a type 0x04 cosignature signs: "cosignature/v1\ntime <timestamp>\n" || `text`.
std::string cosignature_message(std::string_view text, std::uint64_t timestamp);
// Cosign checkpoint `text` at `timestamp` (tlog-cosignature, type 0x04): the signature is the
// 8-byte big-endian timestamp || Ed25519 signature; the id uses type 0x04. Errors as sign_note.
Expected<NoteSignature> cosign(std::string_view text, std::string_view name, const crypto::PrivateKey& key,
                               std::uint64_t timestamp);
// Verify cosignature `signature` over `text` by `verifier` (type 0x04) and return its timestamp.
// invalid_input if the verifier is not type 0x04, name or id differ, the signature is not 72 bytes or
// it does not verify.
Expected<std::uint64_t> verify_cosignature(std::string_view text, const NoteSignature& signature,
                                           const Verifier& verifier);

} // namespace avow::log
