#pragma once

// An HTTP(S) GET that keeps every byte of the exchange, redirect hops included, for `avow capture` (which stores
// them as WARC). libcurl stays behind this layer.

#include <archive/util/error.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace avow::net {

struct FetchOptions {
  std::chrono::seconds connect_timeout{15};
  std::chrono::seconds timeout{60};            // the whole fetch, every hop
  std::size_t max_bytes = 20 * 1024 * 1024;    // a response body as received, per hop
  unsigned max_redirects = 10;                 // hops after the first request
  std::optional<std::filesystem::path> cacert; // PEM CA certificates to trust instead of the system's
  std::vector<std::string> headers;            // extra request headers, "Name: value"
  std::string user_agent;                      // the User-Agent header; the caller names avow and its version
};

// One HTTP request and its response, as on the wire.
struct HttpExchange {
  std::string url;                         // the absolute URL requested
  std::string request;                     // the request head as sent: request line, headers, CRLF CRLF (GET: no body)
  std::string response;                    // the response as received: status line, headers, CRLF CRLF, then the
                                           // body with its transfer coding (chunked) and content coding kept
  long status = 0;                         // the HTTP status code
  std::string ip;                          // the peer's IP address
  std::string date;                        // when the request was sent, RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ"
  std::optional<std::string> redirect_url; // for 301/302/303/307/308 with a Location: the absolute URL it names
};

struct FetchResult {
  std::vector<HttpExchange> hops; // at least one; each redirect followed adds one; the last is the final response
  const HttpExchange& final_hop() const { return hops.back(); }
};

// GET `url` (http:// or https://; TLS certificates always verified), following redirects itself so that every hop is
// kept. A 4xx or 5xx status is a result, not an error. invalid_input for a URL of another scheme or that does not
// parse; io ("GET <url>: <why>") when the host cannot be resolved or reached, the fetch times out, TLS fails, a
// redirect loops or there are more than `max_redirects`, or a body is over `max_bytes`. Thread-safe.
Expected<FetchResult> fetch(std::string_view url, const FetchOptions& options = {});

} // namespace avow::net
