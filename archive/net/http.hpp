#pragma once

// HTTP for talking to outside services (an RFC 3161 time-stamp authority). libcurl stays behind this layer.

#include <archive/util/error.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace avow::net {

struct PostOptions {
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds timeout{30};    // the whole exchange
  std::size_t max_reply_bytes = 1024 * 1024;
  std::string accept;                  // Accept header; none when empty
};

struct HttpReply {
  long status = 0;                     // HTTP status code
  std::string content_type;            // as sent, "" when absent
  std::string body;
};

// POST `body` with `content_type` to `url` (http:// or https:// only; https checks the server certificate). Redirects
// are never followed: a 3xx is returned like any other status, for the caller to refuse. io error with curl's reason
// when the server cannot be reached, the exchange times out, or the reply is over max_reply_bytes; invalid_input for
// a URL of another scheme. Thread-safe.
Expected<HttpReply> post(std::string_view url, std::string_view content_type, std::string_view body,
                         const PostOptions& options = {});

} // namespace avow::net
