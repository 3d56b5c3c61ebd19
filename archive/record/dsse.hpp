#pragma once

#include <archive/crypto/ed25519.hpp>
#include <archive/util/bytes.hpp>
#include <archive/util/error.hpp>

#include <string>
#include <string_view>
#include <vector>

// DSSE v1 envelopes (secure-systems-lab/dsse, envelope.md and protocol.md). The signature covers PAE(type, payload),
// never the JSON text, so a signature for one payload type cannot verify as another, and the envelope's JSON form
// can be checked for canonical bytes on its own.
namespace avow::record {

struct Signature {
  std::string keyid; // crypto::key_id of the signing key, 64 lowercase hex
  Bytes sig;         // raw Ed25519 signature, 64 bytes
  friend bool operator==(const Signature&, const Signature&) = default;
};

struct Envelope {
  std::string payload_type;
  std::string payload; // raw payload bytes (base64 only in the JSON form)
  std::vector<Signature> signatures;
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

// Return PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN in decimal ASCII.
std::string pae(std::string_view type, std::string_view body);

// Sign PAE(k_payload_type, `payload`) with `key` (a key file's PrivateKey or an agent's AgentSigner); the signature's
// keyid is crypto::key_id(key.public_key()). The signer's error (crypto, or key for an agent) on failure.
Expected<Envelope> sign(std::string_view payload, const crypto::Signer& key);

// Return the JCS serialization {"payload":b64,"payloadType":...,"signatures":[{"keyid":...,"sig":b64}]}: the log's
// leaf data, identical for identical envelopes. invalid_input if `e` breaks a rule of parse (payload type, no
// signature, keyid not 64 lowercase hex, signature not 64 bytes, two signatures with one keyid) or if the result is
// larger than k_max_envelope_bytes.
Expected<std::string> serialize(const Envelope& e);

// Parse an envelope: at most k_max_envelope_bytes, canonical JCS (json::parse_canonical), exactly the members payload,
// payloadType and signatures (each exactly keyid and sig), strict standard base64, at least one signature, keyids
// 64 lowercase hex and distinct, signatures 64 bytes, payloadType == k_payload_type; invalid_input otherwise.
Expected<Envelope> parse(std::string_view jcs);

// True if `sig` verifies over PAE(e.payload_type, e.payload) under `key` (crypto::verify). The keyid is not
// consulted: it only says which key to try.
bool verify(const Envelope& e, const Signature& sig, const crypto::PublicKey& key);
// The same, with a key parsed once (a verifier checking many entries by one signer).
bool verify(const Envelope& e, const Signature& sig, const crypto::VerifyKey& key);

} // namespace avow::record
