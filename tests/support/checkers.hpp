#pragma once

// Independent helpers for interoperability tests: small, deliberately not avow's code, so a bug shared by avow's
// writer and its own reader cannot hide in a test that uses them.

#include <cstdint>
#include <string>
#include <vector>

namespace avow::test {

// Decode strict RFC 4648 base64 with padding; throws std::runtime_error on anything else.
std::string b64_decode(const std::string& in);
// Encode RFC 4648 base64 with padding.
std::string b64_encode(const std::string& in);
// Split a C2SP entry bundle (uint16 big-endian length || data, repeated); throws on a malformed bundle.
std::vector<std::string> split_bundle(const std::string& data);
// Write a C2SP tlog-tiles index: 1234067 -> x001/x234/067.
std::string tile_index(std::uint64_t n);

} // namespace avow::test
