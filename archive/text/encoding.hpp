#pragma once

#include <archive/util/error.hpp>

#include <string>
#include <string_view>

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

} // namespace avow::text
