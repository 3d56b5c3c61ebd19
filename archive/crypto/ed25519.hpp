#pragma once

#include <archive/crypto/signer.hpp>
#include <archive/util/bytes.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>

namespace avow::crypto {

// Bytes that hold secret material: wiped with OPENSSL_cleanse when destroyed. Not copyable.
class SecretBytes {
public:
  SecretBytes() = default;
  explicit SecretBytes(std::string_view data);
  ~SecretBytes();
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  const std::uint8_t* data() const { return m_data.data(); }
  std::size_t size() const { return m_data.size(); }
  bool empty() const { return m_data.empty(); }
  ByteView view() const { return {m_data.data(), m_data.size()}; }

private:
  std::vector<std::uint8_t> m_data;
};

// Overwrite `size` bytes at `data` with zeros in a way the compiler cannot drop (OPENSSL_cleanse): for buffers that
// held a secret and cannot be a SecretBytes (a fixed read buffer, say).
void wipe_secret(void* data, std::size_t size);

// An Ed25519 private key held in an OpenSSL EVP_PKEY. sign() is safe to call from several threads
// at once (each call uses its own EVP_MD_CTX). Not copyable; the key is freed (and OpenSSL wipes it)
// on destruction.
class PrivateKey final : public Signer {
public:
  PrivateKey(PrivateKey&&) noexcept;
  PrivateKey& operator=(PrivateKey&&) noexcept;
  ~PrivateKey() override;

  // Generate a fresh key from the OpenSSL CSPRNG; crypto on failure.
  static Expected<PrivateKey> generate();
  // Build the key from its 32-byte RFC 8032 seed; invalid_input if the size is wrong.
  static Expected<PrivateKey> from_seed(ByteView seed);

  // Sign `message` one-shot (EVP_DigestSign with a NULL digest); crypto on failure.
  Expected<Signature> sign(ByteView message) const override;
  const PublicKey& public_key() const override { return m_public; }

  // Opaque OpenSSL handle for the key-file code in this layer (EVP_PKEY*).
  void* native_handle() const { return m_pkey; }
  // Adopt an OpenSSL EVP_PKEY* that is an Ed25519 private key; key error otherwise.
  static Expected<PrivateKey> adopt_native(void* evp_pkey);

private:
  PrivateKey() = default;
  void* m_pkey = nullptr; // EVP_PKEY*
  PublicKey m_public{};
};

// Verify `signature` over `message` under `key`. False on any mismatch or malformed input.
bool verify(const PublicKey& key, ByteView message, ByteView signature);

// A public key parsed once (its OpenSSL EVP_PKEY built once) for many verifications, as verify() would check them:
// for a verifier that checks thousands of signatures by one signer. verify() is safe to call from several threads at
// once. Copies share the parsed key.
class VerifyKey {
public:
  // Parse `key`; nullopt if OpenSSL refuses it (verify() with it would be false for every signature).
  static std::optional<VerifyKey> make(const PublicKey& key);
  // True if `signature` over `message` verifies: the same answer as crypto::verify(key, message, signature).
  bool verify(ByteView message, ByteView signature) const;
  const PublicKey& key() const { return m_key; }

private:
  std::shared_ptr<void> m_pkey; // EVP_PKEY*
  PublicKey m_key{};
};

// Key id: lowercase hex SHA-256 of the raw 32-byte public key (64 hex digits).
std::string key_id(const PublicKey& key);

} // namespace avow::crypto
