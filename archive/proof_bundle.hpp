#pragma once

// Offline proof bundles: one file that lets anyone check one statement without the archive (issue: proofs).

#include <archive/util/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace avow {

inline constexpr std::string_view k_bundle_format = "avow.proof/1";
// Largest bundle accepted: a statement (16 MiB) plus envelopes, proofs and keys.
inline constexpr std::uint64_t k_max_bundle_bytes = 40ull * 1024 * 1024;

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
};

// Check `bundle` offline against the trust policy `policy` (C2SP tlog-policy text): the checkpoint is signed by the
// policy's log and cosigned to its quorum; the envelope is included in that checkpoint's tree; the archivist key
// that signed it was added by a key.add entry, signed by the log key, that is included earlier in the same log;
// the signature verifies; the canonical text hashes to what the record names. With `text_copy`, that copy's
// canonical form (any line endings, NFC or NFD) must be the proven text. A bundle that fails any check is a result
// with proven = false and the reason; an unusable policy is invalid_input.
Expected<BundleResult> verify_bundle(std::string_view bundle, std::string_view policy,
                                     const std::optional<std::string>& text_copy);

} // namespace avow
