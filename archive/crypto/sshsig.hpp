#pragma once

#include <archive/crypto/ed25519.hpp>

#include <string>
#include <string_view>

namespace avow::crypto {

// OpenSSH SSHSIG signatures (openssh-portable PROTOCOL.sshsig), Ed25519 only: what git writes in the
// gpgsig header of an SSH-signed commit and what `ssh-keygen -Y verify` checks.

enum class SshsigHash { sha256, sha512 };

// The fields of a decoded SSHSIG blob.
struct SshsigBlob {
  PublicKey public_key{};
  std::string ns;
  std::string reserved;
  SshsigHash hash = SshsigHash::sha512;
  Signature signature{};
};

// Return the armored SSHSIG ("-----BEGIN SSH SIGNATURE-----\n", base64 wrapped at 70 columns,
// "\n-----END SSH SIGNATURE-----\n") of `message` under `key` and namespace `ns`, hash sha512 (the
// ssh-keygen default). invalid_input if `ns` is empty; crypto if signing fails.
Expected<std::string> sshsig_sign(const Signer& key, std::string_view ns, ByteView message);
// Same with an explicit message hash (ssh-keygen -O hashalg=...).
Expected<std::string> sshsig_sign(const Signer& key, std::string_view ns, ByteView message, SshsigHash hash);

// Verify an armored SSHSIG over `message`: it must be well formed, Ed25519, with namespace exactly `ns`,
// hash sha256 or sha512, and a valid signature. Return the signer's public key on success; the caller
// must still decide whether that key is trusted. invalid_input with the reason otherwise.
Expected<PublicKey> sshsig_verify(std::string_view armored, std::string_view ns, ByteView message);

// Return "ssh-ed25519 <base64 of string "ssh-ed25519" || string pk32>" (an OpenSSH public key line
// without comment, as used in allowed_signers).
std::string openssh_public_key(const PublicKey& key);
// Parse "ssh-ed25519 <base64> [comment]"; invalid_input for any other key type or a malformed line.
Expected<PublicKey> parse_openssh_public_key(std::string_view line);

// Lower-level pieces, exposed for tests and for callers that handle the blob themselves.

// Return the armor of `blob` (see sshsig_sign for the exact layout).
std::string sshsig_armor(ByteView blob);
// Return the blob inside an SSHSIG armor; whitespace inside the body is ignored, anything else that
// is not strict base64 or text outside the markers (other than trailing whitespace) is invalid_input.
Expected<Bytes> sshsig_dearmor(std::string_view armored);
// Parse an SSHSIG blob (magic, version 1, Ed25519 key and signature, known hash, no trailing bytes);
// invalid_input otherwise.
Expected<SshsigBlob> sshsig_parse(ByteView blob);
// Return the exact bytes Ed25519 signs: "SSHSIG" || string(ns) || string("") || string(hash name) ||
// string(H(message)).
Bytes sshsig_signed_data(std::string_view ns, SshsigHash hash, ByteView message);

} // namespace avow::crypto
