#pragma once

#include <archive/crypto/ed25519.hpp>
#include <archive/record/key_event.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The key state of a log at a tree size: every key the key events among the first `size` entries added, with the
// entry that added it and, if any, the one that revoked it (docs/FORMAT.md, "Key state"). Its JCS bytes are kept at
// log/keys and every checkpoint commits to their SHA-256 in an extension line, so a proof bundle can show, without
// the archive, that a key was in force at an entry.
namespace avow::record {

inline constexpr std::string_view k_key_state_format = "avow.keys/1";
// Where the archive tree keeps the key state at its checkpoint's size (JCS bytes, no trailing newline).
inline constexpr std::string_view k_key_state_path = "log/keys";
// Checkpoint extension line: "avow-keys <base64 SHA-256 of the key state JCS>".
inline constexpr std::string_view k_key_state_extension = "avow-keys ";
inline constexpr std::string_view k_role_log = "log";
inline constexpr std::string_view k_role_witness = "witness";
inline constexpr std::string_view k_reason_rotated = "rotated";

struct KeyEntry {
  std::string id;                          // crypto::key_id(public_key)
  crypto::PublicKey public_key{};
  std::string role;                        // "log", "archivist" or "witness"
  std::optional<std::string> name;
  std::optional<std::uint64_t> added_at;   // log index of its key.add; absent for the genesis log key (avow.json)
  std::optional<std::uint64_t> revoked_at; // log index of its key.revoke, or of the rotation that replaced a log key
  std::optional<std::string> reason;       // with revoked_at; "rotated" for a replaced log key
  bool operator==(const KeyEntry&) const = default;

  // In force for the entry at log index `i`, checked against the state before it: added before i and not revoked
  // before i (i == revoked_at only for the rotation entry, which the old log key signs).
  bool in_force_at(std::uint64_t i) const {
    return (!added_at || *added_at < i) && (!revoked_at || i <= *revoked_at);
  }
  bool revoked() const { return revoked_at.has_value(); }
};

struct KeyState {
  std::vector<KeyEntry> keys; // in the order they were added; the genesis log key first
  bool operator==(const KeyState&) const = default;

  const KeyEntry* find(std::string_view id) const;
  // The log key in force (the last log key not rotated out); nullptr only for an empty state.
  const KeyEntry* log_key() const;
  // The genesis log key (first entry); nullptr for an empty state.
  const KeyEntry* genesis_log_key() const;
  // How many archivist keys are not revoked.
  std::size_t active_archivists() const;
};

// The state of a log before its first entry: only the genesis log key.
KeyState initial_key_state(const crypto::PublicKey& log_key);

// Apply the key event at log index `index`, signed by `signer` (key id of the DSSE signature), to `state`, after
// checking it: the signer is the log key in force; key.add names a key never added before with role archivist,
// witness or log (a log key.add is a rotation: the old log key is revoked with reason "rotated"); key.revoke names an
// archivist or witness key that is in force, and not the last archivist in force. invalid_input with a sentence
// otherwise, and `state` is left unchanged.
Expected<void> apply(KeyState& state, const KeyEvent& event, std::string_view signer, std::uint64_t index);

// The JCS bytes of `state` (what log/keys holds, no trailing newline).
std::string key_state_json(const KeyState& state);
// Parse key state JCS strictly: canonical bytes, exact members and types, key ids that match their keys, no id twice,
// exactly one log key in force, the first key a log key without added_at. invalid_input otherwise.
Expected<KeyState> parse_key_state(std::string_view jcs);

// "avow-keys <base64 SHA-256 of key_state_json(state)>".
std::string key_state_extension(const KeyState& state);
// The same line for already serialized key state bytes.
std::string key_state_extension_for(std::string_view key_state_jcs);
// keys/allowed_signers for `state` (principal `origin`): one line per log key, in the order they were added, each
// `namespaces="git"`, plus `valid-after="T"` for a key a rotation added and `valid-before="T"` for one a rotation
// replaced, T the committer time of that rotation's commit (`rotation_times`: rotation entry index -> seconds since the
// epoch) as YYYYMMDDHHMMSSZ. Both bounds are inclusive in ssh-keygen, so the rotation commit (signed by the old key,
// at time T) and every later commit (new key, time >= T) verify with stock git. A rotation missing from
// `rotation_times` leaves its bounds out.
std::string allowed_signers(std::string_view origin, const KeyState& state,
                            const std::map<std::uint64_t, std::int64_t>& rotation_times);
// "YYYYMMDDHHMMSSZ" for `seconds` since the epoch, UTC (the ssh-keygen allowed_signers time form).
std::string ssh_time(std::int64_t seconds);

// The avow-keys line among a checkpoint's extension lines: nullopt when there is none; invalid_input when there are
// several or one is malformed.
Expected<std::optional<std::string>> find_key_state_extension(const std::vector<std::string>& extensions);

} // namespace avow::record
