#pragma once

#include <archive/util/error.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace avow::text {

// A property of a text worth telling the archivist about; it never changes the text.
struct Warning {
  std::string kind;    // "bidi_control"
  std::string message; // "text contains 1 bidirectional control character (U+202E at line 3)"
};

struct Canonical {
  std::string text;
  std::vector<Warning> warnings;
};

// Return the canonical text form v1 of `input` (SPEC section 3): valid UTF-8 required (no overlongs, surrogates, NUL,
// >U+10FFFF): invalid_input "invalid UTF-8 at byte offset N" / "NUL byte at byte offset N" (offset into the ORIGINAL input);
// one leading BOM removed; CRLF and lone CR -> LF; NFC (ICU Normalizer2::getNFCInstance); trailing spaces/tabs removed per line;
// leading and trailing empty lines removed (a line of only spaces/tabs counts as empty after trimming); exactly one final LF;
// empty (or whitespace-only) result -> invalid_input "text is empty". Bidi override/isolate controls U+202A-U+202E and
// U+2066-U+2069 are kept but produce one Warning{"bidi_control", "text contains N bidirectional control characters (U+202E at
// line L...)"}. Nothing else changes (ZWJ/ZWNJ, LRM/RLM, internal spacing, quotes kept).
// A text whose canonical form would start with U+FEFF (a second BOM, or one after leading empty lines) is invalid_input:
// removing it would break idempotence and keeping it would make canonical(canonical(x)) differ from canonical(x).
Expected<Canonical> canonicalize(std::string_view input);

// True when canonicalize(text) would return exactly `text` (idempotence check used by verify).
bool is_canonical(std::string_view text);

// Return the byte offset of the first ill-formed UTF-8 sequence in `bytes` (overlong, surrogate, above U+10FFFF,
// truncated, stray continuation or invalid lead byte), or nullopt when it is all well-formed. NUL is well-formed here.
std::optional<std::size_t> find_invalid_utf8(std::string_view bytes);

} // namespace avow::text
