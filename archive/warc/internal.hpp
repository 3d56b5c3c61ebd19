#pragma once

// Helpers shared by the warc layer's files (private header).

#include <archive/warc/warc.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace avow::warc::detail {

// Return `s` in ASCII lower case.
std::string ascii_lower(std::string_view s);
// Compare ASCII case-insensitively.
bool iequals(std::string_view a, std::string_view b);
// Return `s` without leading and trailing spaces and tabs.
std::string_view trim(std::string_view s);

// An HTTP message split at the end of its head: the head (start line, headers and the empty line) and the rest.
struct SplitMessage {
  long status = 0;
  std::string start_line;
  Fields headers;
  std::size_t head_length = 0; // bytes of the head, the empty line included
};
// Take an HTTP message's head apart; `response` says which start line to expect. invalid_input when malformed.
Expected<SplitMessage> split_http(std::string_view message, bool response);

} // namespace avow::warc::detail
