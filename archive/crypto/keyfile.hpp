#pragma once

#include <archive/crypto/ed25519.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace avow::crypto {

// Called when a private key file is encrypted; returns the passphrase, nullopt to give up ("no passphrase was
// given"), or an error (such as an unreadable passphrase file) that read_private_key then returns as it is. A
// callable returning std::optional<SecretBytes> converts to it.
using PassphraseSource = std::function<Expected<std::optional<SecretBytes>>()>;

// Write `key` as PKCS#8 PEM to `path` (created 0600 with O_EXCL, never wider, parent folders created
// 0700), encrypted with AES-256-CBC + scrypt when `passphrase` is non-empty. already_exists if the
// file exists; io on failure. Readable by `openssl pkey`.
Expected<void> write_private_key(const std::filesystem::path& path, const PrivateKey& key,
                                 const SecretBytes& passphrase);

// Read a PKCS#8 PEM Ed25519 private key. key errors: missing or unreadable file, mode that lets group or
// others read or write it ("permissions 0644 are too open"), wrong key type, bad passphrase, garbage.
// `passphrase` is only called when the file is encrypted.
Expected<PrivateKey> read_private_key(const std::filesystem::path& path, const PassphraseSource& passphrase);

// Open the signing key named by `spec`: an agent key "ssh-agent:SHA256:<fingerprint>" (crypto::AgentSigner, see
// ssh_agent.hpp; `passphrase` is not used) or else the path of a private key file (read_private_key). Errors as
// those two.
Expected<std::unique_ptr<Signer>> open_signer(std::string_view spec, const PassphraseSource& passphrase);

// Return the SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----...") of `key`, readable by
// `openssl pkey -pubin`.
std::string public_key_pem(const PublicKey& key);
// Parse an SPKI PEM holding an Ed25519 public key; invalid_input otherwise.
Expected<PublicKey> parse_public_key_pem(std::string_view pem);

} // namespace avow::crypto
