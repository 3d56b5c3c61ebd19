#pragma once

#include <archive/util/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace avow::text {

// Transcode `bytes` from the named legacy encoding (e.g. "windows-1256", "ISO-8859-6", "UTF-16LE", any ICU converter name)
// to UTF-8 with ICU ucnv, STRICTLY: an unmappable or illegal byte sequence is invalid_input naming the byte offset (use
// UCNV_TO_U_CALLBACK_STOP and report the offset); an unknown encoding name is invalid_input "unknown encoding 'X'".
// A NUL character is invalid_input "NUL character at byte offset N" (offset into `bytes`), as canonicalize() would refuse it.
// Nothing is dropped or added: a BOM is consumed only by the BOM-detecting converters ("UTF-16", "UTF-32").
Expected<std::string> to_utf8(std::string_view bytes, std::string_view encoding);

// Return the canonical (IANA/ICU) name of `encoding` for recording, e.g. "windows-1256"; invalid_input if unknown.
// The preferred MIME name when there is one ("ISO-8859-6"), else the IANA name ("windows-1256"), else ICU's own name.
Expected<std::string> encoding_name(std::string_view encoding);

// One candidate encoding for some bytes, from ICU charset detection (ucsdet).
struct EncodingGuess {
  std::string name;     // ICU's name, e.g. "windows-1256", "ISO-8859-6", "UTF-8"
  std::string language; // ISO 639 code ICU guessed with it, e.g. "ar"; empty when none
  int confidence = 0;   // 0..100
};

// Return the encodings ICU's charset detector finds plausible for `bytes`, most confident first (at most 5; empty
// when it finds none). Detection is a statistical guess: weak on short texts, never a proof.
std::vector<EncodingGuess> detect_encodings(std::string_view bytes);

// Return a hint for an input that is not valid UTF-8, naming what it most likely is, e.g.
// "it looks like windows-1256 (or ISO-8859-6): try --encoding windows-1256"; nullopt when detection names nothing
// with some confidence (or only UTF-8).
std::optional<std::string> encoding_hint(std::string_view bytes);

// Return why `decoded` (the UTF-8 that `bytes` gave when decoded as `encoding`) looks like the wrong decoding, or
// nullopt when nothing suggests it. Two signs count: characters a wrong decoding produces (U+FFFD, the C1 controls
// U+0080..U+009F), and a detection that confidently prefers an encoding that reads `bytes` as another text (an
// encoding that differs only in a few characters, such as ISO-8859-1 for ISO-8859-15, does not count). Short texts
// give weak detection, so only a confident (>= 50) and clearly different best guess, with `encoding` not among
// the guesses close to it, raises a doubt.
std::optional<std::string> decoding_doubt(std::string_view bytes, std::string_view encoding, std::string_view decoded);

} // namespace avow::text
