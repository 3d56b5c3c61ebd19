#pragma once

#include <archive/util/error.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

// RFC 8785 JSON Canonicalization Scheme (JCS): the one writer of every signed or hashed JSON byte in avow,
// and the strict reader that goes with it.
namespace avow::json {

using Value = nlohmann::json;

// Deepest nesting of arrays and objects that parse_strict and canonicalize accept (the top level is depth 1).
inline constexpr std::size_t k_max_depth = 64;

// Return the RFC 8785 canonical bytes of `value`: members sorted by UTF-16 code units (decode UTF-8, supplementary
// -> surrogate pairs), no whitespace, ES6 number formatting (integers of magnitude <= 2^53 exactly; other numbers as
// IEEE doubles: shortest round-trip digits, exponent form when the exponent is >= 21 or <= -7, "e+"/"e-", -0 -> 0),
// minimal escaping (\b \t \n \f \r \" \\, other controls \u00xx lowercase, everything else literal UTF-8).
// invalid_input for NaN/Inf, strings or member names that are not valid UTF-8, binary or discarded values, and
// nesting deeper than k_max_depth.
Expected<std::string> canonicalize(const Value& value);

// Parse JSON strictly: RFC 8259 grammar, valid UTF-8 (no BOM), no duplicate member names (also nested), no trailing
// content, numbers that fit an IEEE double, nesting depth <= k_max_depth; invalid_input "invalid JSON at byte N: why"
// otherwise (N is a 0-based byte offset).
Expected<Value> parse_strict(std::string_view text);

// Parse `text` with parse_strict, then require that it is byte-identical to canonicalize(result); invalid_input
// "JSON is not canonical (RFC 8785)" otherwise.
Expected<Value> parse_canonical(std::string_view text);

// Append the JCS form of the string `s` (quotes included) to `out`: the building block of hand-written canonical
// writers. invalid_input if `s` is not valid UTF-8 (`out` may then hold a partial string).
Expected<void> append_string(std::string& out, std::string_view s);

// True if `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). NUL is allowed.
bool is_valid_utf8(std::string_view s);

} // namespace avow::json
