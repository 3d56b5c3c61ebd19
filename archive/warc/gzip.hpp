#pragma once

// zlib behind the warc layer (private header): gzip members for writing WARC files, bounded inflation for reading them
// and for HTTP content codings.

#include <archive/util/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace avow::warc::detail {

// Return `bytes` as one gzip member (RFC 1952; no name, mtime 0, so the same input gives the same output).
std::string gzip_member(std::string_view bytes);

// The result of inflating one gzip member: its bytes, and how much of the input it took.
struct Member {
  std::string bytes;
  std::size_t consumed = 0;
};

// Inflate the gzip member at the start of `input`; invalid_input when it is not gzip, is truncated or corrupt, or would
// inflate to more than `max_bytes`. Linear in the input and the output.
Expected<Member> gunzip_member(std::string_view input, std::size_t max_bytes);

enum class Wrapper { gzip, zlib, raw };
// Inflate all of `input` (for gzip: one or more members back to back) to at most `max_bytes`; invalid_input otherwise.
Expected<std::string> inflate_all(std::string_view input, Wrapper wrapper, std::size_t max_bytes);

} // namespace avow::warc::detail
