#pragma once

// WARC/1.1 (ISO 28500:2017) files as avow writes and reads them: the capture of one page (warcinfo, then a request and
// a response record per HTTP exchange), one gzip member per record. The reader is strict and bounded: any input may be
// hostile. The only user of zlib.

#include <archive/util/error.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace avow::warc {

using Fields = std::vector<std::pair<std::string, std::string>>; // in order, names as written

// One HTTP exchange to write (raw bytes as on the wire; see net::HttpExchange).
struct Exchange {
  std::string url;      // WARC-Target-URI
  std::string ip;       // WARC-IP-Address; omitted when empty
  std::string date;     // WARC-Date, RFC 3339 UTC
  std::string request;  // the request message
  std::string response; // the response message
};

struct Capture {
  std::string software;            // warcinfo `software:` ("avow/0.1.0")
  std::string date;                // the warcinfo record's WARC-Date
  std::vector<Exchange> exchanges; // in the order made
  Fields info;                     // more `name: value` lines for the warcinfo block (e.g. "requested-url")
};

// The whole .warc.gz file for `capture`: one gzip member per record, the same bytes for the same input.
// invalid_input when an exchange's messages are not HTTP messages the reader would accept.
Expected<std::string> write_capture(const Capture& capture);

struct Record {
  std::string version; // "WARC/1.1" or "WARC/1.0"
  Fields fields;
  std::string block;
  std::optional<std::string> field(std::string_view name) const; // the first field of that name, any case
};

// Parse a WARC file: gzip members (one or more records each) or plain records. invalid_input naming the record
// (1-based) and what is wrong.
Expected<std::vector<Record>> read(std::string_view bytes);

// The reader's bounds: a gzip member that inflates to more than `max_member` bytes, a file over `max_total` bytes
// (inflated), or more than `max_records` records is refused (invalid_input), whatever the headers claim.
struct ReadLimits {
  std::size_t max_member = std::size_t{256} << 20;
  std::size_t max_total = std::size_t{512} << 20;
  std::size_t max_records = 10000;
};
Expected<std::vector<Record>> read(std::string_view bytes, const ReadLimits& limits);

// An HTTP message taken apart.
struct HttpMessage {
  long status = 0;                  // responses; 0 for requests
  std::string start_line;           // "HTTP/1.1 200 OK" or "GET /x HTTP/1.1"
  Fields headers;                   // in order, names as sent
  std::string payload;              // the body with the transfer coding removed (content coding kept)
  std::optional<std::string> header(std::string_view name) const; // the first header of that name, any case
};
Expected<HttpMessage> parse_http_response(std::string_view message);
Expected<HttpMessage> parse_http_request(std::string_view message);

// Check a record's WARC-Block-Digest and, for application/http request and response records, WARC-Payload-Digest
// (sha256: base32, or sha1: base32 for files others wrote). invalid_input naming the digest that does not match.
Expected<void> check_digests(const Record& record);

// What `verify` and `watch` need of a capture: read, check every digest, and return the final response.
struct CaptureView {
  std::size_t records = 0;        // in the file
  std::size_t exchanges = 0;      // response records
  std::string target_uri;         // the final response's WARC-Target-URI
  std::string date;               // its WARC-Date
  HttpMessage response;           // the final response, its payload with the transfer coding removed
  std::string payload_sha256;     // lowercase hex SHA-256 of response.payload
};
Expected<CaptureView> read_capture(std::string_view bytes);

// Remove a content coding: identity (or empty), gzip, x-gzip, deflate. invalid_input for another coding or bytes that
// do not inflate; invalid_input when the result would exceed `max_bytes`.
Expected<std::string> decode_content(std::string_view payload, std::string_view content_encoding,
                                     std::size_t max_bytes);

// "sha256:" + RFC 4648 base32 of the SHA-256 of `bytes`, as written in WARC-*-Digest fields.
std::string digest(std::string_view bytes);

} // namespace avow::warc
