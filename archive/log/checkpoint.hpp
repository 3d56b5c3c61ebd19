#pragma once

// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text of a signed tree head.

#include <archive/log/merkle.hpp>
#include <archive/log/note.hpp>
#include <archive/util/error.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace avow::log {

struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions; // optional extra lines, each non-empty, without '\n'
  bool operator==(const Checkpoint&) const = default;
};

// Return "<origin>\n<size>\n<base64 root>\n" followed by each extension line and '\n'.
// Throws std::invalid_argument if the origin or an extension line is empty or contains '\n' (a bug).
std::string checkpoint_text(const Checkpoint& checkpoint);
// Parse checkpoint note text strictly: valid note text (is_valid_note_text); a non-empty origin; the size in decimal
// with no sign or leading zeros that fits in 64 bits; the root as canonical base64 of 32 bytes;
// then non-empty extension lines. invalid_input otherwise.
Expected<Checkpoint> parse_checkpoint_text(std::string_view text);

// Parse `note`, verify it against `known` (verify_note) and parse its text as a checkpoint whose
// origin must equal `origin`. invalid_input on any failure; the note's signatures are returned in
// `verified` (names that verified) when it is not null.
Expected<Checkpoint> open_checkpoint(std::string_view note, std::string_view origin, std::span<const Verifier> known,
                                     std::vector<std::string>* verified = nullptr);

} // namespace avow::log
