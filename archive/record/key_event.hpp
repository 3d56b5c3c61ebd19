#pragma once

#include <archive/crypto/ed25519.hpp>
#include <archive/json/jcs.hpp>

#include <optional>
#include <string>

// Key events are log entries (kinds "key.add" and "key.revoke"): an archivist key is trusted for the entries after
// the one that adds it and before the one that revokes it. They are signed by the log key, so whoever holds the log
// key decides who may vouch for captures, and that decision is itself in the append-only log.
namespace avow::record {

inline constexpr std::string_view k_role_archivist = "archivist";

struct KeyEvent {
  std::string kind;              // "key.add" or "key.revoke"
  std::string key_id;            // crypto::key_id(public_key)
  crypto::PublicKey public_key{};
  std::string role;              // "archivist", "witness" or "log" (a log key.add is a log-key rotation)
  std::string captured;          // RFC 3339 UTC, when the event was written
  std::string archivist;         // key id of the signer (the log key)
  std::optional<std::string> reason; // key.revoke only, single line
  std::optional<std::string> name; // who holds the key, as given to `key add --name`; single line, at most 128 bytes
};

// Return the JSON value of `e` after checking it; invalid_input naming the field otherwise.
Expected<json::Value> to_json(const KeyEvent& e);
// Parse a key event record strictly (exact members and types, key id matches the public key).
Expected<KeyEvent> key_event_from_json(const json::Value& v);
// Return the JCS payload bytes of `e`.
Expected<std::string> payload(const KeyEvent& e);

// Return the "kind" member of a record value: "statement", "key.add" or "key.revoke"; invalid_input otherwise.
Expected<std::string> record_kind(const json::Value& v);

} // namespace avow::record
