#pragma once

// Offline proof bundles: one file that lets anyone check one statement without the archive (issue: proofs).

#include <archive/crypto/ed25519.hpp>
#include <archive/log/merkle.hpp>
#include <archive/log/policy.hpp>
#include <archive/record/key_state.hpp>
#include <archive/util/error.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace avow {

inline constexpr std::string_view k_bundle_format = "avow.proof/1";
// Largest bundle accepted: a statement (16 MiB) plus envelopes, proofs and keys.
inline constexpr std::uint64_t k_max_bundle_bytes = 40ull * 1024 * 1024;

// One log-key hand-over followed from the policy's log key to the key that signed a checkpoint.
struct FollowedHandover {
  std::uint64_t tree_size = 0;  // of the hand-over checkpoint
  std::uint64_t rotated_at = 0; // log index of the rotation entry (key.add, role log)
  std::string from_key;         // key id of the old log key (the one trusted before)
  std::string to_key;           // key id of the new log key
};

// What verify_bundle established.
struct BundleResult {
  bool proven = false;
  std::string reason;             // why not, when not proven: one line
  std::string record_id;
  std::uint64_t index = 0;
  std::string origin;
  std::uint64_t tree_size = 0;
  std::string root_hex;
  std::vector<std::string> witnesses;  // policy names of the witnesses whose cosignatures verified
  std::string archivist;          // key id
  std::uint64_t key_added_at = 0; // log index of the archivist key's key.add
  std::string payload;            // the record (JCS), when proven
  bool text_checked = false;      // a copy of the text was given and is the proven text
  // Who said what, when and from where: the proven statement's fields, from its record (when proven; "" when the
  // record does not have the field).
  std::string source;             // source.uri
  std::string publisher, title, lang;
  std::string published_as_written, published_utc, published_local, published_tz;
  std::string captured;           // RFC 3339 UTC
  std::string text_sha256;        // of the canonical text
  std::uint64_t text_bytes = 0;
  // Key state (docs/FORMAT.md section 15.7): shown only by bundles that carry one (`key_state`); an older bundle
  // verifies as before and says that the key state is not shown.
  bool key_state_shown = false;
  std::string key_name;                        // the archivist key's name in the key state, "" when it has none
  std::optional<std::uint64_t> key_revoked_at; // the key was revoked by this entry, after the proven entry
  std::string key_revoked_reason;
  std::string log_key;                         // key id of the log key that signed the checkpoint
  std::vector<FollowedHandover> handovers;     // hand-overs followed from the policy's log key, oldest first
};

// A log-key hand-over as a bundle (member `handovers`) carries it.
struct HandoverLink {
  std::string checkpoint;              // the hand-over checkpoint note, signed by the old and the new log key
  std::string key_state;               // the key state JCS that checkpoint's avow-keys line commits to
  std::vector<log::Hash> consistency;  // RFC 9162 consistency proof to the next hand-over or the final checkpoint
};

// The policy with which a checkpoint of `origin` (size and root given in `final_checkpoint`) is checked, after
// following `links` (oldest first) from the policy's log key for `origin`: starting at the first link whose key
// state shows the key trusted so far rotated out, each link's checkpoint must carry verifying signatures by the
// trusted key and by the new log key its key state names (the rotation entry revoked the trusted key with reason
// "rotated" and added the new one), commit to its key state (avow-keys line), and be consistent with the next link's
// checkpoint (or `final_checkpoint`); the new key is then trusted. With `final_state`, its log key in force must be
// the key trusted at the end, and it must extend every link's key state. Links that come before the policy's key
// was rotated out are skipped. invalid_input with the reason when a link fails.
struct FollowedPolicy {
  log::Policy policy;                  // `policy` with its log key for `origin` replaced by the key trusted at the end
  crypto::PublicKey log_key{};         // that key
  std::vector<FollowedHandover> followed;
};
Expected<FollowedPolicy> follow_handovers(const log::Policy& policy, const log::Checkpoint& final_checkpoint,
                                          std::span<const HandoverLink> links, const record::KeyState* final_state);

// Check `bundle` offline against the trust policy `policy` (C2SP tlog-policy text): the checkpoint is signed by the
// policy's log (or by a log key it hands over to through the bundle's `handovers`) and cosigned to its quorum; when the
// checkpoint commits to a key state (avow-keys line), the bundle must carry it and the signing key must be an
// archivist key in force at the entry in that state (a key revoked later is reported in the result); the envelope is included in that checkpoint's tree; the archivist key
// that signed it was added by a key.add entry, signed by the log key, that is included earlier in the same log;
// the signature verifies; the canonical text hashes to what the record names. With `text_copy`, that copy's
// canonical form (any line endings, NFC or NFD) must be the proven text. A bundle that fails any check is a result
// with proven = false and the reason; an unusable policy is invalid_input.
Expected<BundleResult> verify_bundle(std::string_view bundle, std::string_view policy,
                                     const std::optional<std::string>& text_copy);

} // namespace avow
