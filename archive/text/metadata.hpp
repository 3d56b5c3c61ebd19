#pragma once

#include <archive/util/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace avow::text {

// Check a single-line metadata value (title, publisher, lang...): valid UTF-8, no line break (LF, CR, U+0085, U+2028,
// U+2029) and no control character other than TAB (C0, DEL, C1); invalid_input "FIELD contains a line break at byte N",
// "FIELD contains a control character (U+0007) at byte N", "FIELD is not valid UTF-8 at byte N". An empty value passes.
Expected<void> check_single_line(std::string_view field, std::string_view value);

// Check that `uri` is an IRI with a scheme (RFC 3987/3986: scheme = ALPHA *(ALPHA/DIGIT/"+"/"-"/".") ":" then a non-empty
// rest), valid UTF-8, no spaces, no control characters; raw non-ASCII (e.g. Arabic path segments) IS allowed.
// invalid_input "source 'X' has no URI scheme (e.g. https://...)" etc. Also refused, as RFC 3987 section 4.1 requires:
// bidirectional formatting characters (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and Unicode line/paragraph separators.
Expected<void> check_iri(std::string_view uri);
// Return a warning when `uri` holds bidirectional formatting characters (U+200E, U+200F, U+202A..U+202E,
// U+2066..U+2069). RFC 3987 forbids them in IRIs, but real sources carry them (crawled Arabic URLs), and a source
// is evidence as written: they are kept, and the archivist is warned because they can make two sources look alike.
std::optional<std::string> iri_bidi_warning(std::string_view uri);

// Check a BCP 47-ish language tag: 1-8 alpha, then (-alnum{1,8})*; invalid_input otherwise.
Expected<void> check_lang(std::string_view lang);

} // namespace avow::text
