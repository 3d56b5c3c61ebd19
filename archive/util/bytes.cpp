#include <archive/util/bytes.hpp>

#include <array>

namespace avow {

void append_utf8(std::string& out, char32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}
namespace {

constexpr char k_hex_digits[] = "0123456789abcdef";
constexpr char k_b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::array<int, 256> make_b64_table() {
  std::array<int, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(k_b64_alphabet[i])] = i;
  return t;
}
constexpr auto k_b64_table = make_b64_table();

} // namespace

std::string to_hex(ByteView b) {
  std::string out(b.size() * 2, '\0');
  for (std::size_t i = 0; i < b.size(); ++i) {
    out[2 * i] = k_hex_digits[b[i] >> 4];
    out[2 * i + 1] = k_hex_digits[b[i] & 0x0f];
  }
  return out;
}

Expected<Bytes> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return fail(ErrorCode::invalid_input, "invalid hex: odd length {}", hex.size());
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return fail(ErrorCode::invalid_input, "invalid hex digit at offset {}", hi < 0 ? 2 * i : 2 * i + 1);
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string base64_encode(ByteView b) {
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    const std::uint32_t v = std::uint32_t{b[i]} << 16 | std::uint32_t{b[i + 1]} << 8 | b[i + 2];
    out += k_b64_alphabet[v >> 18 & 63];
    out += k_b64_alphabet[v >> 12 & 63];
    out += k_b64_alphabet[v >> 6 & 63];
    out += k_b64_alphabet[v & 63];
  }
  if (const std::size_t rest = b.size() - i; rest == 1) {
    const std::uint32_t v = std::uint32_t{b[i]} << 16;
    out += k_b64_alphabet[v >> 18 & 63];
    out += k_b64_alphabet[v >> 12 & 63];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = std::uint32_t{b[i]} << 16 | std::uint32_t{b[i + 1]} << 8;
    out += k_b64_alphabet[v >> 18 & 63];
    out += k_b64_alphabet[v >> 12 & 63];
    out += k_b64_alphabet[v >> 6 & 63];
    out += '=';
  }
  return out;
}

Expected<Bytes> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return fail(ErrorCode::invalid_input, "invalid base64: length {} is not a multiple of 4", text.size());
  Bytes out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return fail(ErrorCode::invalid_input, "invalid base64: data after padding at offset {}", i + j);
      v[j] = k_b64_table[static_cast<unsigned char>(c)];
      if (v[j] < 0) return fail(ErrorCode::invalid_input, "invalid base64 character at offset {}", i + j);
    }
    const std::uint32_t n = std::uint32_t(v[0]) << 18 | std::uint32_t(v[1]) << 12 | std::uint32_t(v[2]) << 6 | std::uint32_t(v[3]);
    // Canonical encoding only: the bits dropped by padding must be zero.
    if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0))
      return fail(ErrorCode::invalid_input, "invalid base64: non-zero padding bits");
    out.push_back(static_cast<std::uint8_t>(n >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(n >> 8 & 0xff));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(n & 0xff));
  }
  return out;
}

} // namespace avow
