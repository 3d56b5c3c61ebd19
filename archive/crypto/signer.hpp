#pragma once

#include <archive/util/bytes.hpp>
#include <archive/util/error.hpp>

#include <array>
#include <cstdint>

namespace avow::crypto {

using PublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;

// Something that makes Ed25519 signatures under one public key, wherever the private half lives: in this process
// (PrivateKey, read from a key file) or in an SSH agent that never hands it out (AgentSigner, ssh_agent.hpp).
// Callers that only sign take a Signer, so a key that never leaves a safe place works everywhere a key file does.
class Signer {
public:
  virtual ~Signer() = default;
  // Return the raw 32-byte Ed25519 public key.
  virtual const PublicKey& public_key() const = 0;
  // Sign `message` (pure Ed25519, RFC 8032). Safe to call from several threads at once. key or crypto on failure;
  // a signature is never returned unless it verifies under public_key().
  virtual Expected<Signature> sign(ByteView message) const = 0;

protected:
  Signer() = default;
  Signer(const Signer&) = default;
  Signer& operator=(const Signer&) = default;
  Signer(Signer&&) = default;
  Signer& operator=(Signer&&) = default;
};

} // namespace avow::crypto
