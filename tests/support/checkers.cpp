#include <tests/support/checkers.hpp>

#include <cstdio>
#include <stdexcept>

namespace avow::test {

std::string b64_decode(const std::string& in) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (in.size() % 4 != 0) throw std::runtime_error("base64 length not a multiple of 4: " + in);
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) throw std::runtime_error("base64 data after padding");
    const auto p = alphabet.find(c);
    if (p == std::string::npos) throw std::runtime_error("bad base64 character");
    acc = (acc << 6) | static_cast<std::uint32_t>(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (pad > 2) throw std::runtime_error("bad base64 padding");
  return out;
}


std::string b64_encode(const std::string& in) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8) | std::uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  if (in.size() - i == 1) {
    const std::uint32_t v = std::uint8_t(in[i]) << 16;
    out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63], '=', '='};
  } else if (in.size() - i == 2) {
    const std::uint32_t v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8);
    out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], '='};
  }
  return out;
}


// Split an entry bundle (uint16 big-endian length || data, repeated).
std::vector<std::string> split_bundle(const std::string& data) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < data.size()) {
    if (i + 2 > data.size()) throw std::runtime_error("truncated length prefix");
    const std::size_t len = (std::uint8_t(data[i]) << 8) | std::uint8_t(data[i + 1]);
    i += 2;
    if (len == 0 || i + len > data.size()) throw std::runtime_error("bad entry length");
    out.push_back(data.substr(i, len));
    i += len;
  }
  return out;
}


// C2SP tlog-tiles index: 1234067 -> x001/x234/067.
std::string tile_index(std::uint64_t n) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03llu", static_cast<unsigned long long>(n % 1000));
  std::string s = buf;
  for (n /= 1000; n > 0; n /= 1000) {
    std::snprintf(buf, sizeof buf, "x%03llu/", static_cast<unsigned long long>(n % 1000));
    s = buf + s;
  }
  return s;
}


} // namespace avow::test
