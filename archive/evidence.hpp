#pragma once

// Split-view evidence (docs/FORMAT.md §18.3): two checkpoints of one log, signed by its log key, that cannot both
// be true, with the consistency proof that shows it. Written by `avow pull`/`push` when a remote's log does not
// extend ours; checked by `avow verify-evidence` with nothing but the file (and, best, a pinned log key).

#include <archive/log/merkle.hpp>
#include <archive/util/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace avow {

inline constexpr std::string_view k_split_view_format = "avow.split-view/1";

struct SplitViewSide {
  std::string checkpoint; // the signed note, verbatim
  std::string source;     // "local", a remote URL or a witness URL
};

struct SplitViewEvidence {
  std::string origin;
  std::string log_key;          // C2SP vkey of the log key that signed both
  SplitViewSide a;              // the smaller (or equal) tree
  SplitViewSide b;
  std::vector<log::Hash> proof; // from a's size to b's, from b's tiles; seeded with b's root at a's size when a's size
                                // is a power of two (log::consistency_roots); empty for equal sizes
  std::string detected;         // RFC 3339 UTC
  std::string detail;           // one sentence
};

// Return the evidence as JCS JSON followed by LF; invalid_input for text that is not valid UTF-8.
Expected<std::string> format_evidence(const SplitViewEvidence& evidence);
// Parse an evidence file: strict JSON with exactly the members of avow.split-view/1. invalid_input naming what is
// wrong (an unusable file, exit 3).
Expected<SplitViewEvidence> parse_evidence(std::string_view text);

struct EvidenceVerdict {
  bool proven = false;
  std::string reason;           // why not, or what it proves
  std::string log_key;          // the vkey the signatures were checked with
  bool key_pinned = false;      // it came from the caller, not from the file
  std::uint64_t size_a = 0;
  std::uint64_t size_b = 0;
};
// Decide whether `evidence` proves a split view: both notes are checkpoints of its origin signed by the log key
// (`pinned_vkey` when given, else the file's log_key), and either the sizes are equal with different roots (and an
// empty proof), or a is smaller and the proof, run through the RFC 9162 consistency verification, yields b's root as
// its second root but a first root that is not a's root. A bad or unconvincing file is a verdict (proven = false),
// never an error; invalid_input only for a malformed `pinned_vkey`.
Expected<EvidenceVerdict> verify_evidence(const SplitViewEvidence& evidence, const std::optional<std::string>& pinned_vkey);

} // namespace avow
