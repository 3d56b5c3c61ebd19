#pragma once

// What net::post and net::fetch share of libcurl (private header of the net layer).

#include <archive/util/error.hpp>

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <mutex>
#include <string_view>

namespace avow::net::detail {

struct CurlFree {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlFree>;
using SlistPtr = std::unique_ptr<curl_slist, SlistFree>;

// Whether `url` starts with `scheme` ("http://"), ASCII case-insensitively.
inline bool has_scheme(std::string_view url, std::string_view scheme) {
  if (url.size() < scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return false;
  return true;
}

// Initialise libcurl once for the process (thread-safe); io when it cannot start.
inline Expected<void> global_init() {
  static std::once_flag once;
  static CURLcode global = CURLE_OK;
  std::call_once(once, [] { global = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (global != CURLE_OK) return fail(ErrorCode::io, "cannot start libcurl: {}", curl_easy_strerror(global));
  return {};
}

// Append `header` to `list`; false when curl cannot allocate.
inline bool append_header(SlistPtr& list, const std::string& header) {
  curl_slist* l = curl_slist_append(list.get(), header.c_str());
  if (l == nullptr) return false;
  (void)list.release();
  list.reset(l);
  return true;
}

} // namespace avow::net::detail
