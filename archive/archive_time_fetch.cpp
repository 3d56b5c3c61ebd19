// `avow timestamp fetch`: the request of archive_time.cpp POSTed to a time-stamp authority, its reply attached.
// Apart from archive_time.cpp (the writers' clock check) so that only the avow-net helper links libcurl.

#include <archive/archive.hpp>

#include <archive/crypto/timestamp.hpp>
#include <archive/net/http.hpp>

namespace avow {

Expected<Archive::Timestamp> Archive::timestamp_fetch(std::string_view url, const TimestampOptions& options) {
  auto request = timestamp_request();
  if (!request) return std::unexpected(request.error());
  net::PostOptions post;
  post.max_reply_bytes = crypto::k_max_timestamp_bytes;
  post.accept = "application/timestamp-reply";
  auto reply = net::post(url, "application/timestamp-query", request->der, post);
  if (!reply) return std::unexpected(reply.error());
  if (reply->status >= 300 && reply->status < 400)
    return fail(ErrorCode::io, "POST {}: HTTP {} (a redirect; avow does not follow redirects: give the final URL)", url,
                reply->status);
  if (reply->status != 200) return fail(ErrorCode::io, "POST {}: HTTP {}", url, reply->status);
  return timestamp_attach(reply->body, options);
}

} // namespace avow
