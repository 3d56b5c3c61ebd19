#pragma once

#include <archive/util/bytes.hpp>

#include <array>
#include <memory>

namespace avow::crypto {

using Digest = std::array<std::uint8_t, 32>;

// Streaming SHA-256 (OpenSSL EVP). The only streaming primitive in the library.
class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(ByteView data);
  void update(std::string_view data) { update(as_bytes(data)); }
  // Return the digest; the object must not be updated afterwards.
  Digest finish();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Return SHA-256 of `data` in one call.
Digest sha256(ByteView data);
inline Digest sha256(std::string_view data) { return sha256(as_bytes(data)); }
// Return SHA-512 of `data` (used only for SSHSIG message hashing).
std::array<std::uint8_t, 64> sha512(ByteView data);
// Return SHA-1 of `data`: only to check the `sha1:` WARC digests other tools write; never for anything avow signs.
std::array<std::uint8_t, 20> sha1(ByteView data);

// Compare two byte strings in constant time for equal lengths (CRYPTO_memcmp); false if lengths differ.
bool equal_constant_time(ByteView a, ByteView b);

} // namespace avow::crypto
