#include <archive/net/http.hpp>

#include <archive/net/curl_common.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace avow::net {
namespace {

using detail::CurlFree;
using detail::has_scheme;
using detail::SlistFree;

struct Sink {
  std::string body;
  std::size_t limit = 0;
  bool overflow = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->body.size() + n > sink->limit) {
    sink->overflow = true;
    return 0; // makes curl stop with CURLE_WRITE_ERROR
  }
  sink->body.append(data, n);
  return n;
}

} // namespace

Expected<HttpReply> post(std::string_view url, std::string_view content_type, std::string_view body,
                         const PostOptions& options) {
  if (!has_scheme(url, "http://") && !has_scheme(url, "https://"))
    return fail(ErrorCode::invalid_input, "URL '{}' is not http:// or https://", url);
  if (url.find_first_of(std::string_view("\0\r\n ", 4)) != std::string_view::npos)
    return fail(ErrorCode::invalid_input, "URL '{}' holds a space or control character", url);
  if (auto started = detail::global_init(); !started) return std::unexpected(started.error());

  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) return fail(ErrorCode::io, "cannot start libcurl");
  std::unique_ptr<curl_slist, SlistFree> headers;
  const auto add_header = [&](const std::string& h) {
    curl_slist* l = curl_slist_append(headers.get(), h.c_str());
    if (l) {
      (void)headers.release();
      headers.reset(l);
    }
    return l != nullptr;
  };
  if (!add_header("Content-Type: " + std::string(content_type)) ||
      (!options.accept.empty() && !add_header("Accept: " + options.accept)) || !add_header("Expect:"))
    return fail(ErrorCode::io, "cannot build the HTTP request");
  Sink sink{{}, options.max_reply_bytes, false};
  char error[CURL_ERROR_SIZE] = {};
  const std::string target(url);
  CURL* c = curl.get();
  CURLcode rc = CURLE_OK;
  const auto set = [&](auto option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(c, option, value);
  };
  set(CURLOPT_URL, target.c_str());
  set(CURLOPT_ERRORBUFFER, error);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L); // never: a redirect is the caller's to refuse
  set(CURLOPT_CONNECTTIMEOUT, static_cast<long>(options.connect_timeout.count()));
  set(CURLOPT_TIMEOUT, static_cast<long>(options.timeout.count()));
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_reply_bytes));
  set(CURLOPT_POST, 1L);
  set(CURLOPT_POSTFIELDS, body.data());
  set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  set(CURLOPT_HTTPHEADER, headers.get());
  set(CURLOPT_WRITEFUNCTION, &on_data);
  set(CURLOPT_WRITEDATA, &sink);
  set(CURLOPT_USERAGENT, "avow");
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (rc != CURLE_OK) return fail(ErrorCode::io, "cannot set up the HTTP request: {}", curl_easy_strerror(rc));
  rc = curl_easy_perform(c);
  if (sink.overflow || rc == CURLE_FILESIZE_EXCEEDED)
    return fail(ErrorCode::io, "POST {}: the reply is over {} bytes", url, options.max_reply_bytes);
  if (rc != CURLE_OK)
    return fail(ErrorCode::io, "POST {}: {}", url, error[0] != '\0' ? std::string(error) : curl_easy_strerror(rc));
  HttpReply reply;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  char* type = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr) reply.content_type = type;
  reply.body = std::move(sink.body);
  return reply;
}

} // namespace avow::net
