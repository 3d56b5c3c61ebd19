// HTTP/1.x messages as kept in WARC request and response records (RFC 9112): the head taken apart and the transfer
// coding removed. Any input may be hostile: every loop is linear and bounded by the input.

#include <archive/warc/internal.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

namespace avow::warc {
namespace detail {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

namespace {

constexpr std::size_t k_max_head = 256 * 1024; // an HTTP head longer than this is refused
constexpr std::size_t k_max_headers = 1000;

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u) != 0) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_http_version(std::string_view v) {
  return v.size() == 8 && v.starts_with("HTTP/") && std::isdigit(static_cast<unsigned char>(v[5])) != 0 &&
         v[6] == '.' && std::isdigit(static_cast<unsigned char>(v[7])) != 0;
}

} // namespace

Expected<SplitMessage> split_http(std::string_view message, bool response) {
  SplitMessage out;
  std::size_t pos = 0;
  bool first = true;
  for (;;) {
    if (pos > k_max_head) return fail(ErrorCode::invalid_input, "HTTP head longer than {} bytes", k_max_head);
    const std::size_t lf = message.find('\n', pos);
    if (lf == std::string_view::npos || lf - pos > k_max_head)
      return fail(ErrorCode::invalid_input, "HTTP head not terminated by an empty line");
    std::string_view line = message.substr(pos, lf - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = lf + 1;
    if (first) {
      first = false;
      out.start_line = std::string(line);
      if (response) {
        // HTTP-version SP status-code SP [reason-phrase]
        if (line.size() < 12 || !is_http_version(line.substr(0, 8)) || line[8] != ' ' ||
            (line.size() > 12 && line[12] != ' '))
          return fail(ErrorCode::invalid_input, "malformed HTTP status line");
        int code = 0;
        const auto digits = line.substr(9, 3);
        const auto [p, ec] = std::from_chars(digits.data(), digits.data() + 3, code);
        if (ec != std::errc{} || p != digits.data() + 3 || code < 100)
          return fail(ErrorCode::invalid_input, "malformed HTTP status code");
        out.status = code;
      } else {
        // method SP request-target SP HTTP-version
        const std::size_t s1 = line.find(' ');
        const std::size_t s2 = line.rfind(' ');
        if (s1 == std::string_view::npos || s1 == 0 || s2 == s1 || !is_http_version(line.substr(s2 + 1)) ||
            !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(s1), is_token_char))
          return fail(ErrorCode::invalid_input, "malformed HTTP request line");
      }
      continue;
    }
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      // obs-fold (RFC 9112 section 5.2): a continuation of the previous header's value.
      if (out.headers.empty()) return fail(ErrorCode::invalid_input, "HTTP header continuation without a header");
      out.headers.back().second += ' ';
      out.headers.back().second += trim(line);
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 ||
        !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon), is_token_char))
      return fail(ErrorCode::invalid_input, "malformed HTTP header line");
    if (out.headers.size() >= k_max_headers)
      return fail(ErrorCode::invalid_input, "more than {} HTTP headers", k_max_headers);
    out.headers.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }
  out.head_length = pos;
  return out;
}

} // namespace detail

namespace {

using detail::iequals;
using detail::trim;

std::optional<std::string> find_header(const Fields& fields, std::string_view name) {
  for (const auto& [n, v] : fields)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

// Remove the chunked transfer coding (RFC 9112 section 7.1): chunk sizes, extensions, trailers.
Expected<std::string> dechunk(std::string_view body) {
  std::string out;
  std::size_t pos = 0;
  const auto line_at = [&](std::size_t at) -> std::optional<std::pair<std::string_view, std::size_t>> {
    const std::size_t lf = body.find('\n', at);
    if (lf == std::string_view::npos) return std::nullopt;
    std::string_view l = body.substr(at, lf - at);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return std::pair{l, lf + 1};
  };
  for (;;) {
    const auto line = line_at(pos);
    if (!line) return fail(ErrorCode::invalid_input, "chunked body truncated in a chunk size line");
    std::string_view size_text = line->first.substr(0, line->first.find(';'));
    size_text = trim(size_text);
    if (size_text.empty() || size_text.size() > 15)
      return fail(ErrorCode::invalid_input, "malformed chunk size '{}'", size_text.substr(0, 20));
    std::size_t size = 0;
    const auto [p, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (ec != std::errc{} || p != size_text.data() + size_text.size())
      return fail(ErrorCode::invalid_input, "malformed chunk size '{}'", size_text);
    pos = line->second;
    if (size == 0) break;
    if (size > body.size() - pos) return fail(ErrorCode::invalid_input, "chunked body truncated in a chunk");
    out.append(body.substr(pos, size));
    pos += size;
    if (body.substr(pos, 2) == "\r\n")
      pos += 2;
    else if (body.substr(pos, 1) == "\n")
      pos += 1;
    else
      return fail(ErrorCode::invalid_input, "chunk not followed by CRLF");
  }
  // Trailer fields, then the empty line.
  for (;;) {
    const auto line = line_at(pos);
    if (!line) return fail(ErrorCode::invalid_input, "chunked body truncated in its trailer");
    pos = line->second;
    if (line->first.empty()) break;
  }
  if (pos != body.size()) return fail(ErrorCode::invalid_input, "bytes follow the last chunk");
  return out;
}

Expected<HttpMessage> parse_message(std::string_view message, bool response) {
  auto split = detail::split_http(message, response);
  if (!split) return std::unexpected(split.error());
  HttpMessage out;
  out.status = split->status;
  out.start_line = std::move(split->start_line);
  out.headers = std::move(split->headers);
  const std::string_view body = message.substr(split->head_length);
  const auto te = find_header(out.headers, "Transfer-Encoding");
  if (te) {
    const std::string coding = detail::ascii_lower(trim(*te));
    if (coding != "chunked")
      return fail(ErrorCode::invalid_input, "transfer coding '{}' is not supported (only chunked)", *te);
    auto payload = dechunk(body);
    if (!payload) return std::unexpected(payload.error());
    out.payload = std::move(*payload);
    return out;
  }
  if (const auto cl = find_header(out.headers, "Content-Length")) {
    const std::string_view text = trim(*cl);
    std::size_t length = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), length);
    if (text.empty() || ec != std::errc{} || p != text.data() + text.size())
      return fail(ErrorCode::invalid_input, "malformed HTTP Content-Length '{}'", text);
    // A response to HEAD, or a 204/304, has a Content-Length but no body.
    const bool bodiless = response && (out.status == 204 || out.status == 304 || out.status < 200);
    if (!bodiless && length != body.size())
      return fail(ErrorCode::invalid_input, "HTTP body is {} bytes, its Content-Length says {}", body.size(), length);
  }
  out.payload = std::string(body);
  return out;
}

} // namespace

std::optional<std::string> HttpMessage::header(std::string_view name) const { return find_header(headers, name); }

Expected<HttpMessage> parse_http_response(std::string_view message) { return parse_message(message, true); }

Expected<HttpMessage> parse_http_request(std::string_view message) { return parse_message(message, false); }

} // namespace avow::warc
