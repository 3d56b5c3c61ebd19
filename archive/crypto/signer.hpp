#pragma once

#include <archive/util/bytes.hpp>
#include <archive/util/error.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <utility>

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

// A Signer that owns another one (a key file's PrivateKey or an agent's AgentSigner), so that "whatever signs" can be
// held and moved by value. Never empty.
class OwnedSigner final : public Signer {
public:
  explicit OwnedSigner(std::unique_ptr<Signer> signer) : m_signer(std::move(signer)) {}
  const PublicKey& public_key() const override { return m_signer->public_key(); }
  Expected<Signature> sign(ByteView message) const override { return m_signer->sign(message); }

private:
  std::unique_ptr<Signer> m_signer;
};

} // namespace avow::crypto
