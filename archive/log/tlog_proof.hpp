#pragma once

// C2SP tlog-proof v1 (https://c2sp.org/tlog-proof, C2SP/C2SP tlog-proof.md; reference implementation
// transparency-dev/formats proof/tlog_proof.go): an offline proof that an entry is in a log.
//
//   c2sp.org/tlog-proof@v1\n
//   extra <base64>\n                 optional, opaque and NOT authenticated
//   index <decimal>\n                no leading zeros
//   <base64 hash>\n                  zero or more: the RFC 6962 audit path, leaf sibling first
//   \n
//   <checkpoint>                     the signed checkpoint note, verbatim, to the end
//
// Base64 is RFC 4648 section 4 with padding. Files should be named *.tlog-proof.

#include <archive/log/checkpoint.hpp>
#include <archive/log/merkle.hpp>
#include <archive/log/policy.hpp>
#include <archive/util/bytes.hpp>
#include <archive/util/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace avow::log {

constexpr std::string_view k_tlog_proof_header = "c2sp.org/tlog-proof@v1";
// More hashes than any log of up to 2^63 entries needs (and the cap tlog-witness puts on proofs).
constexpr std::size_t k_max_tlog_proof_hashes = 63;

struct TlogProof {
  std::optional<Bytes> extra; // the "extra" line, when present (it may hold zero bytes)
  std::uint64_t index = 0;
  std::vector<Hash> path;
  std::string checkpoint; // the signed note, verbatim
  bool operator==(const TlogProof&) const = default;
};

// Return the wire form of `proof` (the checkpoint is copied as is; parse_tlog_proof accepts the
// result when the checkpoint is a signed checkpoint note and the path has at most 63 hashes).
std::string format_tlog_proof(const TlogProof& proof);

// Parse a tlog-proof strictly. invalid_input "malformed tlog-proof: why" unless: the first line is
// exactly the header; an optional "extra " line holds strict base64; the "index " line is decimal
// without sign or leading zeros and fits in 64 bits; each following non-empty line is strict base64
// of 32 bytes, at most 63 of them; an empty line follows; the rest parses as a signed note
// (parse_note) whose text is a checkpoint (parse_checkpoint_text). No '\r' or other slack anywhere.
Expected<TlogProof> parse_tlog_proof(std::string_view text);

// Verify `proof` for the entry whose RFC 6962 leaf hash is `leaf`: the checkpoint against `policy`
// (verify_checkpoint_with_policy: log signature and witness quorum), then the inclusion of `leaf` at
// proof.index in the checkpointed tree. Returns the checkpoint. invalid_input on any failure (the
// extra data is not looked at). `cosigned` as in verify_checkpoint_with_policy.
Expected<Checkpoint> verify_tlog_proof(const TlogProof& proof, const Hash& leaf, const Policy& policy,
                                       std::vector<std::string>* cosigned = nullptr);

} // namespace avow::log
