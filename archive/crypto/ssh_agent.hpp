#pragma once

#include <archive/crypto/signer.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

// Signing with an Ed25519 key held by an SSH agent (ssh-agent, or a hardware token's agent), so the private key never
// reaches avow: the SSH agent protocol (draft-miller-ssh-agent) over the UNIX socket named by $SSH_AUTH_SOCK. This is
// a message protocol, not cryptography: every signature the agent returns is checked with OpenSSL (crypto::verify)
// before it is used, and every length in a reply is checked against the bytes actually received, so a hostile or
// broken agent can refuse to sign but cannot make avow accept a bad signature or read out of bounds.
namespace avow::crypto {

// A key spec naming an agent key: "ssh-agent:SHA256:<fingerprint>", the fingerprint as `ssh-add -l` and
// `ssh-keygen -lf` print it (unpadded base64 of the SHA-256 of the public key blob, 43 characters).
inline constexpr std::string_view k_agent_spec_prefix = "ssh-agent:";

// True if `spec` starts with "ssh-agent:" (a key spec for the agent, well formed or not).
bool is_agent_spec(std::string_view spec);
// Return the "SHA256:<43 characters>" part of a well-formed agent key spec; key error naming the spec otherwise.
Expected<std::string> parse_agent_spec(std::string_view spec);

// Return the OpenSSH fingerprint "SHA256:<unpadded base64>" of a public key blob.
std::string ssh_fingerprint(ByteView key_blob);
// Return the OpenSSH public key blob of an Ed25519 key: string "ssh-ed25519" || string pk.
Bytes ssh_ed25519_blob(const PublicKey& key);

// Limits. OpenSSH's agent refuses messages over 256 KiB; a reply larger than that is not from a working agent.
inline constexpr std::size_t k_agent_max_message = 256 * 1024;
inline constexpr std::size_t k_agent_max_identities = 4096;
// How long to wait for the agent: a listing is immediate; a signature may wait for a touch on a hardware token.
inline constexpr std::chrono::milliseconds k_agent_request_timeout{10'000};
inline constexpr std::chrono::milliseconds k_agent_sign_timeout{60'000};

// One key an agent holds.
struct AgentIdentity {
  Bytes blob;              // the OpenSSH public key blob
  std::string type;        // its first string: "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", ...
  std::string comment;
  std::string fingerprint; // "SHA256:..."
};

// The message framing (uint32 length || byte type || contents), exposed for tests. Parsers take the message body
// (type byte and contents, without the length) and refuse anything malformed with key errors.
namespace agent_wire {
inline constexpr std::uint8_t k_failure = 5;
inline constexpr std::uint8_t k_request_identities = 11;
inline constexpr std::uint8_t k_identities_answer = 12;
inline constexpr std::uint8_t k_sign_request = 13;
inline constexpr std::uint8_t k_sign_response = 14;

// Return the framed SSH_AGENTC_REQUEST_IDENTITIES message.
Bytes request_identities();
// Return the framed SSH_AGENTC_SIGN_REQUEST message (string key_blob, string data, uint32 flags).
Bytes sign_request(ByteView key_blob, ByteView data, std::uint32_t flags);
// Parse an SSH_AGENT_IDENTITIES_ANSWER body: uint32 nkeys, then nkeys times (string blob, string comment), nothing
// after. key error if it is a failure message, another message, or malformed.
Expected<std::vector<AgentIdentity>> parse_identities_answer(ByteView body);
// Parse an SSH_AGENT_SIGN_RESPONSE body holding an ssh-ed25519 signature (string "ssh-ed25519" || string sig64),
// nothing after. key error if it is a failure message ("the agent refused"), another message, or malformed.
Expected<Signature> parse_sign_response(ByteView body);
} // namespace agent_wire

// One connection to an agent. Not thread-safe (AgentSigner serialises its use).
class AgentConnection {
public:
  // Connect to the agent socket at `socket_path`; key error if nothing listens there.
  static Expected<AgentConnection> connect(const std::string& socket_path, std::chrono::milliseconds timeout);
  AgentConnection(AgentConnection&& other) noexcept;
  AgentConnection& operator=(AgentConnection&& other) noexcept;
  AgentConnection(const AgentConnection&) = delete;
  AgentConnection& operator=(const AgentConnection&) = delete;
  ~AgentConnection();

  // Send one framed `request` and return the body of the reply (at most k_agent_max_message bytes), waiting at most
  // `timeout` in all; key error on a timeout, a closed connection or an oversized reply.
  Expected<Bytes> round_trip(ByteView request, std::chrono::milliseconds timeout);
  Expected<std::vector<AgentIdentity>> identities();
  Expected<Signature> sign(ByteView key_blob, ByteView data);
  const std::string& path() const { return m_path; }

private:
  AgentConnection(int fd, std::string path) : m_fd(fd), m_path(std::move(path)) {}
  int m_fd = -1;
  std::string m_path;
};

// An Ed25519 key held by an SSH agent.
class AgentSigner final : public Signer {
public:
  // Open the agent at $SSH_AUTH_SOCK and select the key named by `spec` ("ssh-agent:SHA256:..."). key errors:
  // a malformed spec; "no ssh-agent: SSH_AUTH_SOCK is not set"; nothing listening at the socket; no key with that
  // fingerprint in the agent; a key of another type (named); a malformed reply.
  static Expected<std::unique_ptr<AgentSigner>> open(std::string_view spec);
  // The same with an explicit socket path.
  static Expected<std::unique_ptr<AgentSigner>> open(std::string_view spec, const std::string& socket_path);

  const PublicKey& public_key() const override { return m_public; }
  // Ask the agent to sign `message` and check the signature with OpenSSL before returning it. key error if the agent
  // refuses, times out, answers garbage or returns a signature that does not verify.
  Expected<Signature> sign(ByteView message) const override;
  const std::string& fingerprint() const { return m_fingerprint; }

private:
  AgentSigner(AgentConnection connection, PublicKey key, std::string fingerprint)
      : m_connection(std::move(connection)), m_public(key), m_fingerprint(std::move(fingerprint)) {}
  mutable std::mutex m_mutex;
  mutable AgentConnection m_connection;
  PublicKey m_public{};
  std::string m_fingerprint;
};

} // namespace avow::crypto
