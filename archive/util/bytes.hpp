#pragma once

#include <archive/util/error.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace avow {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// View the characters of `s` as bytes (no copy).
inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
// Copy `b` into a std::string.
inline std::string to_string(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// Append the UTF-8 encoding of code point `cp` to `out`; U+FFFD for NUL, a surrogate or a value above U+10FFFF.
void append_utf8(std::string& out, char32_t cp);

// Return lowercase hex of `b`.
std::string to_hex(ByteView b);
// Decode hex (either case, even length); invalid_input otherwise.
Expected<Bytes> from_hex(std::string_view hex);
// Return RFC 4648 section 4 base64 with padding.
std::string base64_encode(ByteView b);
// Decode strict RFC 4648 section 4 base64 with padding (no whitespace, canonical padding bits);
// invalid_input otherwise.
Expected<Bytes> base64_decode(std::string_view text);

} // namespace avow
