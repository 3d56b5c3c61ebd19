#pragma once

// RFC 4251 wire encoding shared by the SSHSIG code (sshsig.cpp) and the SSH agent client (ssh_agent.cpp): a
// big-endian uint32 and a length-prefixed string, and the ssh-ed25519 public key blob.

#include <archive/crypto/ed25519.hpp>
#include <archive/util/bytes.hpp>

#include <cstdint>
#include <string_view>

namespace avow::crypto::ssh_wire {

inline constexpr std::string_view k_ed25519_type = "ssh-ed25519";

inline void put_u32(Bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

inline void put_string(Bytes& out, ByteView s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}
inline void put_string(Bytes& out, std::string_view s) { put_string(out, as_bytes(s)); }

// string "ssh-ed25519" || string pk32: the key blob of PROTOCOL.sshsig, the agent protocol and authorized_keys.
inline Bytes ed25519_key_blob(const PublicKey& key) {
  Bytes b;
  put_string(b, k_ed25519_type);
  put_string(b, ByteView{key.data(), key.size()});
  return b;
}

} // namespace avow::crypto::ssh_wire
