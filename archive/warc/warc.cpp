// WARC/1.1 files (ISO 28500:2017) as avow writes and reads them. The writer is deterministic; the reader is strict and
// bounded, since a stored original may be anything a tamperer put there.

#include <archive/warc/warc.hpp>

#include <archive/crypto/sha256.hpp>
#include <archive/util/bytes.hpp>
#include <archive/warc/gzip.hpp>
#include <archive/warc/internal.hpp>

#include <algorithm>
#include <charconv>

namespace avow::warc {

using detail::ascii_lower;
using detail::iequals;
using detail::trim;

namespace {

constexpr std::string_view k_crlf = "\r\n";
constexpr std::string_view k_base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::size_t k_max_record_head = 64 * 1024;
constexpr std::size_t k_max_fields = 1000;

// ---- digests ----------------------------------------------------------------------------------------------------

std::string base32(ByteView bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const std::uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += k_base32[(buffer >> (bits - 5)) & 31U];
      bits -= 5;
    }
  }
  if (bits > 0) out += k_base32[(buffer << (5 - bits)) & 31U];
  while (out.size() % 8 != 0) out += '=';
  return out;
}

// Decode RFC 4648 base32 (either case, padding optional); nullopt when it is not base32.
std::optional<Bytes> base32_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  Bytes out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const char u = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    const std::size_t v = k_base32.find(u);
    if (v == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>((buffer >> (bits - 8)) & 0xffU));
      bits -= 8;
    }
  }
  return out;
}

// Decode a labelled digest's value: base32 (as most WARC writers) or hex (as warcio.js writes by default).
std::optional<Bytes> digest_value(std::string_view value, std::size_t size) {
  if (value.size() == size * 2) {
    if (auto hex = from_hex(value)) return *hex;
  }
  auto b32 = base32_decode(value);
  if (b32 && b32->size() == size) return b32;
  return std::nullopt;
}

// Whether the labelled digest `labelled` ("sha256:…") is the digest of `bytes`; an error when it cannot be checked.
Expected<bool> digest_matches(std::string_view labelled, std::string_view bytes, std::string_view field) {
  const std::size_t colon = labelled.find(':');
  if (colon == std::string_view::npos)
    return fail(ErrorCode::invalid_input, "{} '{}' is not algorithm:value", field, labelled.substr(0, 80));
  const std::string algorithm = ascii_lower(labelled.substr(0, colon));
  const std::string_view value = labelled.substr(colon + 1);
  if (algorithm == "sha256" || algorithm == "sha-256") {
    const auto expected = digest_value(value, 32);
    if (!expected) return fail(ErrorCode::invalid_input, "{} '{}' is malformed", field, labelled.substr(0, 80));
    const auto actual = crypto::sha256(bytes);
    return std::equal(actual.begin(), actual.end(), expected->begin(), expected->end());
  }
  if (algorithm == "sha1" || algorithm == "sha-1") {
    const auto expected = digest_value(value, 20);
    if (!expected) return fail(ErrorCode::invalid_input, "{} '{}' is malformed", field, labelled.substr(0, 80));
    const auto actual = crypto::sha1(as_bytes(bytes));
    return std::equal(actual.begin(), actual.end(), expected->begin(), expected->end());
  }
  return fail(ErrorCode::invalid_input, "{} algorithm '{}' is not supported (sha256, sha1)", field,
              labelled.substr(0, std::min<std::size_t>(colon, 20)));
}

std::optional<std::string> find_field(const Fields& fields, std::string_view name) {
  for (const auto& [n, v] : fields)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

bool is_http_block(const Record& record) {
  const auto type = record.field("Content-Type");
  return type && ascii_lower(*type).starts_with("application/http");
}

// ---- writer -----------------------------------------------------------------------------------------------------

// A UUID (RFC 9562 version 8, "custom") from the SHA-256 of `seed`: the same record content and date give the same
// WARC-Record-ID, so the writer's output is a function of its input.
std::string record_id(std::string_view seed) {
  auto h = crypto::sha256(seed);
  h[6] = static_cast<std::uint8_t>((h[6] & 0x0fU) | 0x80U);
  h[8] = static_cast<std::uint8_t>((h[8] & 0x3fU) | 0x80U);
  const std::string hex = to_hex(ByteView(h.data(), 16));
  return "<urn:uuid:" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) +
         "-" + hex.substr(20, 12) + ">";
}

std::string id_seed(std::string_view type, std::size_t index, std::string_view date, std::string_view uri,
                    std::string_view block) {
  return fmt::format("avow-warc-record-id/1\n{}\n{}\n{}\n{}\n", type, index, date, uri) + std::string(block);
}

std::string render(const Fields& fields, std::string_view block) {
  std::string out = "WARC/1.1\r\n";
  for (const auto& [name, value] : fields) out += name + ": " + value + "\r\n";
  out += k_crlf;
  out += block;
  out += "\r\n\r\n";
  return out;
}

// A field value must not break the record head.
Expected<void> check_field(std::string_view name, std::string_view value) {
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    return fail(ErrorCode::invalid_input, "WARC field {} holds a line break", name);
  return {};
}

} // namespace

std::string digest(std::string_view bytes) {
  const auto d = crypto::sha256(bytes);
  return "sha256:" + base32(d);
}

std::optional<std::string> Record::field(std::string_view name) const { return find_field(fields, name); }

Expected<std::string> write_capture(const Capture& capture) {
  // warcinfo: what wrote the file (WARC 1.1 section 6.2: application/warc-fields).
  std::string info = "software: " + capture.software + "\r\nformat: WARC File Format 1.1\r\n" +
                     "conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n";
  for (const auto& [name, value] : capture.info) {
    if (auto ok = check_field(name, value); !ok) return std::unexpected(ok.error());
    if (name.empty() || name.find_first_of(":\r\n") != std::string::npos)
      return fail(ErrorCode::invalid_input, "warcinfo field name '{}' is malformed", name);
    info += name + ": " + value + "\r\n";
  }
  if (auto ok = check_field("WARC-Date", capture.date); !ok) return std::unexpected(ok.error());
  const std::string info_id = record_id(id_seed("warcinfo", 0, capture.date, "", info));
  std::string out = detail::gzip_member(render({{"WARC-Type", "warcinfo"},
                                                {"WARC-Record-ID", info_id},
                                                {"WARC-Date", capture.date},
                                                {"Content-Type", "application/warc-fields"},
                                                {"Content-Length", std::to_string(info.size())},
                                                {"WARC-Block-Digest", digest(info)}},
                                               info));
  for (std::size_t i = 0; i < capture.exchanges.size(); ++i) {
    const Exchange& e = capture.exchanges[i];
    for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"WARC-Target-URI", &e.url},
                                      {"WARC-IP-Address", &e.ip}, {"WARC-Date", &e.date}})
      if (auto ok = check_field(name, *value); !ok) return std::unexpected(ok.error());
    if (e.url.empty()) return fail(ErrorCode::invalid_input, "exchange {}: no target URI", i + 1);
    auto request = detail::split_http(e.request, false);
    if (!request) return fail(ErrorCode::invalid_input, "exchange {}: request: {}", i + 1, request.error().message);
    auto response = detail::split_http(e.response, true);
    if (!response) return fail(ErrorCode::invalid_input, "exchange {}: response: {}", i + 1, response.error().message);
    const std::string response_id = record_id(id_seed("response", i + 1, e.date, e.url, e.response));
    const std::string request_id = record_id(id_seed("request", i + 1, e.date, e.url, e.request));
    const auto fields = [&](std::string_view type, const std::string& id, std::string_view block,
                            std::size_t head_length, bool payload_digest) {
      Fields f{{"WARC-Type", std::string(type)}, {"WARC-Record-ID", id}, {"WARC-Date", e.date},
               {"WARC-Target-URI", e.url}};
      if (!e.ip.empty()) f.emplace_back("WARC-IP-Address", e.ip);
      if (type == "request") f.emplace_back("WARC-Concurrent-To", response_id);
      f.emplace_back("WARC-Warcinfo-ID", info_id);
      f.emplace_back("Content-Type", fmt::format("application/http; msgtype={}", type));
      f.emplace_back("Content-Length", std::to_string(block.size()));
      f.emplace_back("WARC-Block-Digest", digest(block));
      // The payload as warcio and Heritrix digest it: the bytes after the HTTP head, as received.
      if (payload_digest) f.emplace_back("WARC-Payload-Digest", digest(block.substr(head_length)));
      return f;
    };
    out += detail::gzip_member(render(fields("request", request_id, e.request, request->head_length,
                                             e.request.size() > request->head_length),
                                      e.request));
    out += detail::gzip_member(
        render(fields("response", response_id, e.response, response->head_length, true), e.response));
  }
  return out;
}

// ---- reader -----------------------------------------------------------------------------------------------------

namespace {

// Parse the records of `bytes` (plain WARC, all of it) onto `out`, numbering them from out.size() + 1 in messages.
Expected<void> parse_records(std::string_view bytes, std::vector<Record>& out, std::size_t max_records) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t n = out.size() + 1;
    if (out.size() >= max_records) return fail(ErrorCode::invalid_input, "more than {} records", max_records);
    Record record;
    const std::string_view rest = bytes.substr(pos);
    if (!rest.starts_with("WARC/1.1\r\n") && !rest.starts_with("WARC/1.0\r\n"))
      return fail(ErrorCode::invalid_input, "record {}: version line is not WARC/1.1 or WARC/1.0", n);
    const std::size_t head_end = rest.substr(0, k_max_record_head).find("\r\n\r\n");
    if (head_end == std::string_view::npos) {
      if (rest.size() >= k_max_record_head)
        return fail(ErrorCode::invalid_input, "record {}: header longer than {} bytes", n, k_max_record_head);
      return fail(ErrorCode::invalid_input, "record {}: header not terminated by an empty line (truncated?)", n);
    }
    const std::string_view head = rest.substr(0, head_end + 2); // every line with its CRLF
    std::size_t line_start = 0;
    bool first = true;
    while (line_start < head.size()) {
      const std::size_t crlf = head.find(k_crlf, line_start);
      const std::string_view line = head.substr(line_start, crlf - line_start);
      line_start = crlf + 2;
      if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos)
        return fail(ErrorCode::invalid_input, "record {}: header line not ended by CRLF", n);
      if (first) {
        first = false;
        if (line != "WARC/1.1" && line != "WARC/1.0")
          return fail(ErrorCode::invalid_input, "record {}: version line is not WARC/1.1 or WARC/1.0", n);
        record.version = std::string(line);
        continue;
      }
      if (line.empty() || line.front() == ' ' || line.front() == '\t')
        return fail(ErrorCode::invalid_input, "record {}: folded or empty header line", n);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0 || trim(line.substr(0, colon)).size() != colon)
        return fail(ErrorCode::invalid_input, "record {}: malformed header line", n);
      if (record.fields.size() >= k_max_fields)
        return fail(ErrorCode::invalid_input, "record {}: more than {} header fields", n, k_max_fields);
      record.fields.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    }
    for (const char* mandatory : {"WARC-Type", "WARC-Record-ID", "WARC-Date", "Content-Length"})
      if (!record.field(mandatory)) return fail(ErrorCode::invalid_input, "record {}: no {} field", n, mandatory);
    const std::string length_text = *record.field("Content-Length");
    std::size_t length = 0;
    const auto [p, ec] = std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (length_text.empty() || ec != std::errc{} || p != length_text.data() + length_text.size())
      return fail(ErrorCode::invalid_input, "record {}: malformed Content-Length '{}'", n, length_text.substr(0, 30));
    const std::size_t block_start = head_end + 4;
    if (length > rest.size() - block_start)
      return fail(ErrorCode::invalid_input, "record {}: Content-Length {} runs past the end of the file (truncated?)",
                  n, length);
    record.block = std::string(rest.substr(block_start, length));
    if (rest.substr(block_start + length, 4) != "\r\n\r\n")
      return fail(ErrorCode::invalid_input, "record {}: block not followed by CRLF CRLF (Content-Length wrong?)", n);
    pos += block_start + length + 4;
    out.push_back(std::move(record));
  }
  return {};
}

} // namespace

Expected<std::vector<Record>> read(std::string_view bytes) { return read(bytes, ReadLimits{}); }

Expected<std::vector<Record>> read(std::string_view bytes, const ReadLimits& limits) {
  std::vector<Record> records;
  if (bytes.empty()) return fail(ErrorCode::invalid_input, "empty WARC file");
  const bool gzipped = bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
                       static_cast<unsigned char>(bytes[1]) == 0x8b;
  if (!gzipped) {
    if (bytes.size() > limits.max_total) return fail(ErrorCode::invalid_input, "over {} bytes", limits.max_total);
    if (auto ok = parse_records(bytes, records, limits.max_records); !ok) return std::unexpected(ok.error());
    return records;
  }
  std::size_t offset = 0;
  std::size_t total = 0;
  while (offset < bytes.size()) {
    const std::size_t n = records.size() + 1;
    auto member = detail::gunzip_member(bytes.substr(offset), std::min(limits.max_member, limits.max_total - total));
    if (!member) {
      if (member.error().message == "not a gzip member")
        return fail(ErrorCode::invalid_input, "record {}: bytes after the last gzip member are not gzip", n);
      return fail(ErrorCode::invalid_input, "record {}: {}", n, member.error().message);
    }
    if (member->bytes.empty()) return fail(ErrorCode::invalid_input, "record {}: empty gzip member", n);
    total += member->bytes.size();
    offset += member->consumed;
    if (auto ok = parse_records(member->bytes, records, limits.max_records); !ok) return std::unexpected(ok.error());
  }
  return records;
}

Expected<void> check_digests(const Record& record) {
  if (const auto block = record.field("WARC-Block-Digest")) {
    auto ok = digest_matches(*block, record.block, "WARC-Block-Digest");
    if (!ok) return std::unexpected(ok.error());
    if (!*ok) return fail(ErrorCode::invalid_input, "WARC-Block-Digest does not match");
  }
  const auto payload_digest = record.field("WARC-Payload-Digest");
  const auto type = record.field("WARC-Type");
  if (!payload_digest || !type || !is_http_block(record) || (*type != "request" && *type != "response")) return {};
  const bool response = *type == "response";
  auto head = detail::split_http(record.block, response);
  if (!head) return fail(ErrorCode::invalid_input, "HTTP message: {}", head.error().message);
  // As received (warcio, Heritrix); WARC writers that remove the transfer coding first (wget) are accepted too.
  auto ok = digest_matches(*payload_digest, std::string_view(record.block).substr(head->head_length),
                           "WARC-Payload-Digest");
  if (!ok) return std::unexpected(ok.error());
  if (*ok) return {};
  auto message = response ? parse_http_response(record.block) : parse_http_request(record.block);
  if (message && message->header("Transfer-Encoding")) {
    auto decoded = digest_matches(*payload_digest, message->payload, "WARC-Payload-Digest");
    if (decoded && *decoded) return {};
  }
  return fail(ErrorCode::invalid_input, "WARC-Payload-Digest does not match");
}

Expected<CaptureView> read_capture(std::string_view bytes) {
  auto records = read(bytes);
  if (!records) return std::unexpected(records.error());
  CaptureView view;
  view.records = records->size();
  const Record* final_response = nullptr;
  for (std::size_t i = 0; i < records->size(); ++i) {
    const Record& r = (*records)[i];
    const std::string type = r.field("WARC-Type").value_or("");
    if (!r.field("WARC-Block-Digest"))
      return fail(ErrorCode::invalid_input, "record {}: no WARC-Block-Digest", i + 1);
    if (type == "response" && !r.field("WARC-Payload-Digest"))
      return fail(ErrorCode::invalid_input, "record {}: response without a WARC-Payload-Digest", i + 1);
    if (auto ok = check_digests(r); !ok) return fail(ErrorCode::invalid_input, "record {}: {}", i + 1, ok.error().message);
    if (type == "response") {
      if (!is_http_block(r))
        return fail(ErrorCode::invalid_input, "record {}: response record that does not hold an HTTP response", i + 1);
      if (!r.field("WARC-Target-URI"))
        return fail(ErrorCode::invalid_input, "record {}: response without a WARC-Target-URI", i + 1);
      ++view.exchanges;
      final_response = &r;
    }
  }
  if (final_response == nullptr) return fail(ErrorCode::invalid_input, "no response record");
  auto response = parse_http_response(final_response->block);
  if (!response) return fail(ErrorCode::invalid_input, "final response: {}", response.error().message);
  std::string uri = *final_response->field("WARC-Target-URI");
  if (uri.size() >= 2 && uri.front() == '<' && uri.back() == '>') uri = uri.substr(1, uri.size() - 2); // WARC/1.0
  view.target_uri = std::move(uri);
  view.date = *final_response->field("WARC-Date");
  view.payload_sha256 = to_hex(crypto::sha256(response->payload));
  view.response = std::move(*response);
  return view;
}

Expected<std::string> decode_content(std::string_view payload, std::string_view content_encoding,
                                     std::size_t max_bytes) {
  // Codings apply in the order listed (RFC 9110 section 8.4): undo them last first.
  std::vector<std::string> codings;
  std::size_t start = 0;
  while (start <= content_encoding.size()) {
    const std::size_t comma = std::min(content_encoding.find(',', start), content_encoding.size());
    const std::string coding = ascii_lower(trim(content_encoding.substr(start, comma - start)));
    if (!coding.empty() && coding != "identity") codings.push_back(coding);
    start = comma + 1;
  }
  if (codings.size() > 4) return fail(ErrorCode::invalid_input, "more than 4 content codings");
  std::string data(payload);
  if (codings.empty() && data.size() > max_bytes)
    return fail(ErrorCode::invalid_input, "the payload is over {} bytes", max_bytes);
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
    Expected<std::string> out = std::string();
    if (*it == "gzip" || *it == "x-gzip") {
      out = detail::inflate_all(data, detail::Wrapper::gzip, max_bytes);
    } else if (*it == "deflate") {
      // "deflate" is the zlib format (RFC 9110 section 8.4.1.2); some servers send raw deflate, which browsers take.
      out = detail::inflate_all(data, detail::Wrapper::zlib, max_bytes);
      if (!out && out.error().message.find("more than") == std::string::npos)
        out = detail::inflate_all(data, detail::Wrapper::raw, max_bytes);
    } else {
      return fail(ErrorCode::invalid_input, "content coding '{}' is not supported (gzip, deflate, identity)", *it);
    }
    if (!out) return fail(ErrorCode::invalid_input, "the {}-coded payload cannot be decoded: {}", *it, out.error().message);
    data = std::move(*out);
  }
  return data;
}

} // namespace avow::warc
