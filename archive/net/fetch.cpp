// net::fetch: a GET that keeps the exchange as on the wire. curl follows no redirect and decodes nothing: the request
// head comes from the debug callback (what curl sent), the response head from the header callback, the body raw
// (chunk framing and content coding kept), so the WARC holds the bytes the server sent.

#include <archive/net/fetch.hpp>

#include <archive/net/curl_common.hpp>
#include <archive/util/time.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <chrono>

namespace avow::net {
namespace {

using detail::CurlPtr;
using detail::has_scheme;
using detail::SlistPtr;

struct Hop {
  std::string request;  // the request head as sent
  std::string head;     // the final (not 1xx) response head
  std::string body;     // as received
  bool head_done = false;
  std::size_t max_bytes = 0;
  bool overflow = false;
};

int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
  auto* hop = static_cast<Hop*>(user);
  if (type == CURLINFO_HEADER_OUT) {
    // A request curl had to send again (a reused connection that closed) replaces the first attempt.
    if (hop->request.ends_with("\r\n\r\n")) hop->request.clear();
    hop->request.append(data, size);
  }
  return 0;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* hop = static_cast<Hop*>(user);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  if (hop->head_done) return n; // trailer fields: the raw body already holds them
  if (line.starts_with("HTTP/")) hop->head.clear(); // a new status line: drop an interim (1xx) response
  hop->head.append(line);
  if ((line == "\r\n" || line == "\n") && !hop->head.starts_with("HTTP/1.1 1") && !hop->head.starts_with("HTTP/1.0 1"))
    hop->head_done = true;
  return n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* hop = static_cast<Hop*>(user);
  const std::size_t n = size * count;
  if (hop->body.size() + n > hop->max_bytes) {
    hop->overflow = true;
    return 0; // curl stops with CURLE_WRITE_ERROR
  }
  hop->body.append(data, n);
  return n;
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Expected<void> check_url(std::string_view url) {
  if (!has_scheme(url, "http://") && !has_scheme(url, "https://"))
    return fail(ErrorCode::invalid_input, "URL '{}' is not http:// or https://", url);
  if (std::any_of(url.begin(), url.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
    return fail(ErrorCode::invalid_input, "URL '{}' holds a space or control character", url);
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  if (!u) return fail(ErrorCode::io, "cannot start libcurl");
  const std::string text(url);
  if (const CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0); rc != CURLUE_OK)
    return fail(ErrorCode::invalid_input, "URL '{}' does not parse: {}", url, curl_url_strerror(rc));
  char* host = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK || host == nullptr || *host == '\0') {
    curl_free(host);
    return fail(ErrorCode::invalid_input, "URL '{}' names no host", url);
  }
  curl_free(host);
  return {};
}

Expected<SlistPtr> request_headers(const FetchOptions& options) {
  SlistPtr list;
  bool accept_encoding = false;
  for (const std::string& h : options.headers) {
    const std::size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || h.find_first_of("\r\n") != std::string::npos ||
        h.find_first_of(" \t") < colon)
      return fail(ErrorCode::invalid_input, "header '{}' is not 'Name: value'", h);
    if (detail::has_scheme(h, "accept-encoding:")) accept_encoding = true;
    if (!detail::append_header(list, h)) return fail(ErrorCode::io, "cannot build the HTTP request");
  }
  // The body as the server sent it, not a compressed variant, unless the user asked for one.
  if (!accept_encoding && !detail::append_header(list, "Accept-Encoding: identity"))
    return fail(ErrorCode::io, "cannot build the HTTP request");
  return list;
}

} // namespace

Expected<FetchResult> fetch(std::string_view url, const FetchOptions& options) {
  if (auto ok = check_url(url); !ok) return std::unexpected(ok.error());
  if (auto started = detail::global_init(); !started) return std::unexpected(started.error());
  auto headers = request_headers(options);
  if (!headers) return std::unexpected(headers.error());
  CurlPtr curl(curl_easy_init());
  if (!curl) return fail(ErrorCode::io, "cannot start libcurl");
  const std::string cacert = options.cacert ? options.cacert->string() : std::string();

  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  FetchResult result;
  std::vector<std::string> seen;
  std::string next(url);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return fail(ErrorCode::io, "GET {}: timed out after {} seconds (--timeout)", next, options.timeout.count());
    Hop hop;
    hop.max_bytes = options.max_bytes;
    char error[CURL_ERROR_SIZE] = {};
    CURL* c = curl.get();
    CURLcode rc = CURLE_OK;
    const auto set = [&](auto option, auto value) {
      if (rc == CURLE_OK) rc = curl_easy_setopt(c, option, value);
    };
    set(CURLOPT_URL, next.c_str());
    set(CURLOPT_ERRORBUFFER, error);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_FOLLOWLOCATION, 0L); // every hop is ours to keep
    set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    set(CURLOPT_HTTP_TRANSFER_DECODING, 0L);
    set(CURLOPT_HTTP_CONTENT_DECODING, 0L);
    set(CURLOPT_HTTPGET, 1L);
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::chrono::milliseconds(options.connect_timeout).count()));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_bytes));
    set(CURLOPT_HTTPHEADER, headers->get());
    set(CURLOPT_WRITEFUNCTION, &on_body);
    set(CURLOPT_WRITEDATA, &hop);
    set(CURLOPT_HEADERFUNCTION, &on_header);
    set(CURLOPT_HEADERDATA, &hop);
    set(CURLOPT_DEBUGFUNCTION, &on_debug);
    set(CURLOPT_DEBUGDATA, &hop);
    set(CURLOPT_VERBOSE, 1L); // feeds on_debug, which prints nothing
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.user_agent.empty()) set(CURLOPT_USERAGENT, options.user_agent.c_str());
    if (!cacert.empty()) {
      set(CURLOPT_CAINFO, cacert.c_str());
      set(CURLOPT_CAPATH, static_cast<const char*>(nullptr)); // the file replaces the system's CAs
    }
    if (rc != CURLE_OK) return fail(ErrorCode::io, "cannot set up the HTTP request: {}", curl_easy_strerror(rc));

    const std::string date = format_rfc3339_utc(now_seconds());
    rc = curl_easy_perform(c);
    if (hop.overflow || rc == CURLE_FILESIZE_EXCEEDED)
      return fail(ErrorCode::io, "GET {}: response body over {} bytes (--max-bytes)", next, options.max_bytes);
    if (rc != CURLE_OK)
      return fail(ErrorCode::io, "GET {}: {}", next, error[0] != '\0' ? std::string(error) : curl_easy_strerror(rc));

    HttpExchange exchange;
    exchange.url = next;
    exchange.request = std::move(hop.request);
    exchange.response = std::move(hop.head) + hop.body;
    exchange.date = date;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &exchange.status);
    char* ip = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != nullptr) exchange.ip = ip;
    char* location = nullptr;
    if (is_redirect(exchange.status) && curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) == CURLE_OK &&
        location != nullptr)
      exchange.redirect_url = location;
    seen.push_back(next);
    result.hops.push_back(std::move(exchange));

    const auto& redirect = result.hops.back().redirect_url;
    if (!redirect) return result;
    if (std::find(seen.begin(), seen.end(), *redirect) != seen.end()) {
      std::string chain;
      for (const auto& s : seen) chain += s + " -> ";
      return fail(ErrorCode::io, "GET {}: redirect loop: {}{}", url, chain, *redirect);
    }
    if (result.hops.size() > options.max_redirects)
      return fail(ErrorCode::io, "GET {}: more than {} redirects", url, options.max_redirects);
    if (!has_scheme(*redirect, "http://") && !has_scheme(*redirect, "https://"))
      return fail(ErrorCode::io, "GET {}: redirect to '{}', which is not http:// or https://", next, *redirect);
    next = *redirect;
  }
}

} // namespace avow::net
