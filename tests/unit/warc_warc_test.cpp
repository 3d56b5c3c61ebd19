// The WARC layer: the writer's exact bytes (a golden file whose digests were checked with Python's hashlib and
// base64.b32encode), round trips, every digest the reader checks, chunked payloads, content codings, and hostile
// inputs (truncated, garbled, oversized, bombs): each an invalid_input naming what is wrong, never a crash.

#include <archive/warc/warc.hpp>

#include <archive/util/bytes.hpp>
#include <archive/warc/gzip.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <set>

namespace avow::warc {
namespace {

const std::string k_request1 = "GET /old HTTP/1.1\r\nHost: example.test\r\nUser-Agent: avow/0.1.0\r\nAccept: */*\r\n"
                               "Accept-Encoding: identity\r\n\r\n";
const std::string k_response1 = "HTTP/1.1 301 Moved Permanently\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n";
const std::string k_request2 = "GET /new HTTP/1.1\r\nHost: example.test\r\nUser-Agent: avow/0.1.0\r\nAccept: */*\r\n"
                               "Accept-Encoding: identity\r\n\r\n";
const std::string k_response2 = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n5\r\n<p>Hi\r\n5\r\n</p>\n\r\n0\r\n\r\n";

Capture small_capture() {
  Capture c;
  c.software = "avow/0.1.0";
  c.date = "2026-11-30T12:00:00Z";
  c.info = {{"requested-url", "http://example.test/old"}};
  c.exchanges = {{"http://example.test/old", "127.0.0.1", "2026-11-30T12:00:00Z", k_request1, k_response1},
                 {"http://example.test/new", "127.0.0.1", "2026-11-30T12:00:01Z", k_request2, k_response2}};
  return c;
}

// The plain WARC (all gzip members inflated and concatenated).
std::string plain(const std::string& gz) {
  auto p = decode_content(gz, "gzip", 1 << 20);
  EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message);
  return p ? *p : std::string();
}

std::string error_of(const Expected<CaptureView>& v) { return v ? std::string("(no error)") : v.error().message; }

// Replace the first occurrence of `from` by `to` in `s` (it must occur).
std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// The record blocks of the plain golden file, split back into records as text (for targeted tampering).
std::vector<std::string> split_records(const std::string& p) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < p.size()) {
    const auto next = p.find("WARC/1.1\r\n", pos + 1);
    out.push_back(p.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    pos = next == std::string::npos ? p.size() : next;
  }
  return out;
}

TEST(WarcDigest, IsSha256InUpperCaseBase32WithPadding) {
  EXPECT_EQ(digest(""), "sha256:4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ====");
  EXPECT_EQ(digest("hello"), "sha256:FTZE3OS7WCRQ4JXIHMVMLOPCTYNRMHS4D6TUEXTTAQZWFE4LTASA====");
}

TEST(WarcWriter, MatchesTheGoldenFileByteForByte) {
  auto gz = write_capture(small_capture());
  ASSERT_TRUE(gz.has_value()) << gz.error().message;
  const std::string p = plain(*gz);
  if (std::getenv("AVOW_UPDATE_GOLDEN") != nullptr)
    test::write_file(std::string(AVOW_SOURCE_DIR) + "/tests/data/warc/small.warc", p);
  const std::string golden = test::test_data("warc/small.warc");
  ASSERT_FALSE(golden.empty());
  EXPECT_EQ(p, golden);
}

TEST(WarcWriter, WritesOneGzipMemberPerRecord) {
  auto gz = write_capture(small_capture());
  ASSERT_TRUE(gz.has_value());
  std::size_t offset = 0;
  std::vector<std::string> members;
  while (offset < gz->size()) {
    auto m = detail::gunzip_member(std::string_view(*gz).substr(offset), 1 << 20);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    members.push_back(m->bytes);
    offset += m->consumed;
  }
  ASSERT_EQ(members.size(), 5U);
  const auto records = split_records(test::test_data("warc/small.warc"));
  ASSERT_EQ(records.size(), 5U);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(members[i], records[i]) << i;
}

TEST(WarcWriter, IsDeterministicAndIdsDependOnContentAndDate) {
  auto a = write_capture(small_capture());
  auto b = write_capture(small_capture());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  Capture later = small_capture();
  later.exchanges[1].date = "2026-11-30T12:00:02Z";
  auto c = write_capture(later);
  ASSERT_TRUE(c.has_value());
  auto ra = read(*a);
  auto rc = read(*c);
  ASSERT_TRUE(ra && rc);
  EXPECT_EQ(ra->at(1).field("WARC-Record-ID"), rc->at(1).field("WARC-Record-ID")); // first hop unchanged
  EXPECT_NE(ra->at(4).field("WARC-Record-ID"), rc->at(4).field("WARC-Record-ID"));
  EXPECT_NE(ra->at(3).field("WARC-Record-ID"), rc->at(3).field("WARC-Record-ID"));
  std::set<std::string> ids;
  for (const auto& r : *ra) ids.insert(*r.field("WARC-Record-ID"));
  EXPECT_EQ(ids.size(), 5U);
}

TEST(WarcReader, RoundTripsEveryRecordAndField) {
  auto gz = write_capture(small_capture());
  ASSERT_TRUE(gz.has_value());
  auto records = read(*gz);
  ASSERT_TRUE(records.has_value()) << records.error().message;
  ASSERT_EQ(records->size(), 5U);
  const auto& info = (*records)[0];
  EXPECT_EQ(info.version, "WARC/1.1");
  EXPECT_EQ(info.field("warc-type"), "warcinfo");
  EXPECT_EQ(info.block, "software: avow/0.1.0\r\nformat: WARC File Format 1.1\r\nconformsTo: "
                        "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
                        "requested-url: http://example.test/old\r\n");
  EXPECT_EQ((*records)[1].field("WARC-Type"), "request");
  EXPECT_EQ((*records)[1].block, k_request1);
  EXPECT_EQ((*records)[1].field("WARC-Concurrent-To"), (*records)[2].field("WARC-Record-ID"));
  EXPECT_EQ((*records)[1].field("WARC-Warcinfo-ID"), info.field("WARC-Record-ID"));
  EXPECT_EQ((*records)[1].field("WARC-Payload-Digest"), std::nullopt); // a GET has no body
  EXPECT_EQ((*records)[2].field("WARC-Type"), "response");
  EXPECT_EQ((*records)[2].block, k_response1);
  EXPECT_EQ((*records)[2].field("WARC-Payload-Digest"), digest(""));
  EXPECT_EQ((*records)[4].block, k_response2);
  EXPECT_EQ((*records)[4].field("WARC-IP-Address"), "127.0.0.1");
  EXPECT_EQ((*records)[4].field("WARC-Date"), "2026-11-30T12:00:01Z");
  EXPECT_EQ((*records)[4].field("Content-Type"), "application/http; msgtype=response");
  // The payload digest covers the body as received (chunk framing kept), as warcio computes it.
  EXPECT_EQ((*records)[4].field("WARC-Payload-Digest"), digest("5\r\n<p>Hi\r\n5\r\n</p>\n\r\n0\r\n\r\n"));
  EXPECT_EQ((*records)[4].field("WARC-Block-Digest"), digest(k_response2));
  for (const auto& r : *records) EXPECT_TRUE(check_digests(r).has_value());
  // The plain (uncompressed) file reads the same.
  auto again = read(plain(*gz));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->size(), 5U);
}

TEST(WarcReader, ReadCaptureReturnsTheFinalResponseWithItsPayloadDechunked) {
  auto gz = write_capture(small_capture());
  ASSERT_TRUE(gz.has_value());
  auto view = read_capture(*gz);
  ASSERT_TRUE(view.has_value()) << view.error().message;
  EXPECT_EQ(view->records, 5U);
  EXPECT_EQ(view->exchanges, 2U);
  EXPECT_EQ(view->target_uri, "http://example.test/new");
  EXPECT_EQ(view->date, "2026-11-30T12:00:01Z");
  EXPECT_EQ(view->response.status, 200);
  EXPECT_EQ(view->response.start_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(view->response.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(view->response.payload, "<p>Hi</p>\n");
  // sha256("<p>Hi</p>\n"), computed with Python's hashlib.
  EXPECT_EQ(view->payload_sha256, "f50ba8de88576a0392fed692709d6fd19041b317019bd20c8b0eee56d2d9ed09");
}

TEST(WarcReader, EveryDigestMismatchIsNamed) {
  const std::string golden = test::test_data("warc/small.warc");
  auto records = split_records(golden);
  ASSERT_EQ(records.size(), 5U);
  const auto join = [](const std::vector<std::string>& rs) {
    std::string s;
    for (const auto& r : rs) s += r;
    return s;
  };
  {  // the response body changed: its block digest no longer matches
    auto rs = records;
    rs[4] = replace(rs[4], "<p>Hi", "<p>Ho");
    EXPECT_EQ(error_of(read_capture(join(rs))), "record 5: WARC-Block-Digest does not match");
  }
  {  // the body changed and the block digest recomputed: the payload digest catches it
    auto rs = records;
    rs[4] = replace(rs[4], "<p>Hi", "<p>Ho");
    rs[4] = replace(rs[4], digest(k_response2), digest(replace(k_response2, "<p>Hi", "<p>Ho")));
    EXPECT_EQ(error_of(read_capture(join(rs))), "record 5: WARC-Payload-Digest does not match");
  }
  {  // the warcinfo block
    auto rs = records;
    rs[0] = replace(rs[0], "avow/0.1.0", "avow/0.1.1");
    EXPECT_EQ(error_of(read_capture(join(rs))), "record 1: WARC-Block-Digest does not match");
  }
  {  // a request header
    auto rs = records;
    rs[3] = replace(rs[3], "Host: example.test", "Host: example.tesT");
    EXPECT_EQ(error_of(read_capture(join(rs))), "record 4: WARC-Block-Digest does not match");
  }
  {  // the redirect's Location
    auto rs = records;
    rs[2] = replace(rs[2], "Location: /new", "Location: /neW");
    EXPECT_EQ(error_of(read_capture(join(rs))), "record 3: WARC-Block-Digest does not match");
  }
  {  // a digest that is not base32
    auto rs = records;
    rs[2] = replace(rs[2], "WARC-Block-Digest: sha256:", "WARC-Block-Digest: sha256:!");
    EXPECT_EQ(error_of(read_capture(join(rs))).substr(0, 37), "record 3: WARC-Block-Digest 'sha256:!");
  }
  {  // an algorithm the reader does not know
    auto rs = records;
    rs[2] = replace(rs[2], "WARC-Block-Digest: sha256:", "WARC-Block-Digest: md5:");
    EXPECT_EQ(error_of(read_capture(join(rs))),
              "record 3: WARC-Block-Digest algorithm 'md5' is not supported (sha256, sha1)");
  }
  {  // a digest removed: read_capture wants every digest avow writes
    auto rs = records;
    rs[4] = replace(rs[4], "WARC-Payload-Digest", "X-Payload-Digest");
    EXPECT_EQ(error_of(read_capture(join(rs))), "record 5: response without a WARC-Payload-Digest");
    rs[4] = replace(rs[4], "WARC-Block-Digest", "X-Block-Digest");
    EXPECT_EQ(error_of(read_capture(join(rs))), "record 5: no WARC-Block-Digest");
  }
  EXPECT_TRUE(read_capture(join(records)).has_value());
}

TEST(WarcReader, AcceptsSha1HexAndDechunkedPayloadDigestsOthersWrite) {
  Record r;
  r.version = "WARC/1.0";
  r.fields = {{"WARC-Type", "response"}, {"Content-Type", "application/http;msgtype=response"}};
  r.block = k_response2;
  // Values computed with Python's hashlib and base64: sha1 base32 (Heritrix), sha256 hex (warcio.js's default),
  // sha256 of the dechunked body in unpadded lower-case base32 (wget removes the chunking before digesting).
  r.fields.emplace_back("WARC-Block-Digest", "sha1:2ACSAXXIBUZ7PVKELEYZ443MOWAQFQCN");
  r.fields.emplace_back("WARC-Payload-Digest", "sha256:6uf2rxuik5vahex622jhbhlp2giedmyxagn5edelb3xfnuwz5ueq");
  EXPECT_TRUE(check_digests(r).has_value()) << check_digests(r).error().message;
  r.fields[2].second = "sha256:14596f666a5248e368798cd5c8d78350e233be9ee9142138e7f3ab1f3267ffb8";
  EXPECT_TRUE(check_digests(r).has_value());
  r.fields[2].second = "sha256:14596f666a5248e368798cd5c8d78350e233be9ee9142138e7f3ab1f3267ffb9";
  ASSERT_FALSE(check_digests(r).has_value());
  EXPECT_EQ(check_digests(r).error().message, "WARC-Block-Digest does not match");
  r.fields[2].second = "sha1:2ACSAXXIBUZ7PVKELEYZ443MOWAQFQCM";
  EXPECT_FALSE(check_digests(r).has_value());
  r.fields[2].second = "sha1:2ACSAXXIBUZ7PVKELEYZ443MOWAQFQCN";
  r.fields[3].second = "sha256:7uf2rxuik5vahex622jhbhlp2giedmyxagn5edelb3xfnuwz5ueq";
  ASSERT_FALSE(check_digests(r).has_value());
  EXPECT_EQ(check_digests(r).error().message, "WARC-Payload-Digest does not match");
}

TEST(WarcReader, TruncatedFilesAreRefusedAtEveryLength) {
  auto gz = write_capture(small_capture());
  ASSERT_TRUE(gz.has_value());
  const std::string p = plain(*gz);
  // A cut between two gzip members leaves a shorter WARC that reads (the record's sha256 of the original catches
  // it); a cut anywhere else is refused.
  std::set<std::size_t> boundaries;
  for (std::size_t offset = 0; offset < gz->size();) {
    auto m = detail::gunzip_member(std::string_view(*gz).substr(offset), 1 << 20);
    ASSERT_TRUE(m.has_value());
    offset += m->consumed;
    boundaries.insert(offset);
  }
  for (std::size_t n = 0; n < gz->size(); ++n) {
    auto v = read(std::string_view(*gz).substr(0, n));
    EXPECT_EQ(v.has_value(), boundaries.contains(n)) << n;
  }
  for (std::size_t n = 0; n < p.size(); ++n) {
    // A cut exactly between two records leaves a shorter valid file; read_capture still needs a response.
    auto r = read(std::string_view(p).substr(0, n));
    if (r.has_value()) {
      EXPECT_EQ(p.substr(n, 10), "WARC/1.1\r\n") << n;
    }
  }
  EXPECT_EQ(error_of(read_capture(p.substr(0, p.size() - 3))),
            "record 5: block not followed by CRLF CRLF (Content-Length wrong?)");
  EXPECT_EQ(error_of(read_capture(p.substr(0, p.size() - 30))),
            "record 5: Content-Length 112 runs past the end of the file (truncated?)");
  const std::string one_record = split_records(p)[0];
  EXPECT_EQ(error_of(read_capture(one_record)), "no response record");
  EXPECT_EQ(error_of(read_capture("")), "empty WARC file");
}

TEST(WarcReader, GarbledBytesNeverCrashAndTamperedBlocksAreCaught) {
  auto gz = write_capture(small_capture());
  ASSERT_TRUE(gz.has_value());
  const std::string p = plain(*gz);
  for (std::size_t i = 0; i < p.size(); ++i) {
    std::string bad = p;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    (void)read_capture(bad); // must not crash: header fields no digest covers (dates, ids, case) may still read
  }
  for (std::size_t i = 0; i < gz->size(); ++i) {
    std::string bad = *gz;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    (void)read_capture(bad); // must not crash; gzip's CRC-32 catches most
  }
  // Every byte of every block is covered by its record's digest.
  const auto records = split_records(p);
  std::size_t base = 0;
  for (const auto& rec : records) {
    const std::size_t block = rec.find("\r\n\r\n") + 4;
    for (std::size_t i = block; i + 4 < rec.size(); ++i) {
      std::string bad = p;
      bad[base + i] = static_cast<char>(bad[base + i] ^ 0x01);
      EXPECT_FALSE(read_capture(bad).has_value()) << base + i;
    }
    base += rec.size();
  }
}

TEST(WarcReader, RandomMutationsNeverCrash) {
  // Fixed seed: insertions, deletions, overwrites and splices of the gzip and the plain file, each read and parsed.
  auto gz = write_capture(small_capture());
  ASSERT_TRUE(gz.has_value());
  const std::string p = plain(*gz);
  std::mt19937 rng(20261130);
  std::size_t accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string s = (round % 2 == 0) ? p : *gz;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 4) {
      case 0: s[at] = static_cast<char>(rng()); break;
      case 1: s.erase(at, 1 + rng() % 16); break;
      case 2: s.insert(at, std::string(1 + rng() % 8, static_cast<char>(rng()))); break;
      default: s.insert(at, s.substr(rng() % s.size(), rng() % 64)); break;
      }
    }
    if (read_capture(s).has_value()) ++accepted;
    (void)parse_http_response(s);
    (void)parse_http_request(s);
    (void)decode_content(s, "gzip", 1 << 16);
    (void)decode_content(s, "deflate", 1 << 16);
  }
  EXPECT_LT(accepted, 300U); // only edits to fields no digest covers can read
}

TEST(WarcReader, MalformedHeadsAreRefused) {
  const std::string p = test::test_data("warc/small.warc");
  EXPECT_EQ(error_of(read_capture("WARC/2.0\r\n" + p.substr(10))),
            "record 1: version line is not WARC/1.1 or WARC/1.0");
  EXPECT_EQ(error_of(read_capture(replace(p, "WARC-Type: warcinfo\r\n", "WARC-Type: warcinfo\n"))),
            "record 1: header line not ended by CRLF");
  EXPECT_EQ(error_of(read_capture(replace(p, "WARC-Type: warcinfo\r\n", ""))), "record 1: no WARC-Type field");
  EXPECT_EQ(error_of(read_capture(replace(p, "WARC-Type: warcinfo\r\n", " folded\r\n"))),
            "record 1: folded or empty header line");
  EXPECT_EQ(error_of(read_capture(replace(p, "WARC-Type: warcinfo\r\n", "No colon here\r\n"))),
            "record 1: malformed header line");
  EXPECT_EQ(error_of(read_capture(replace(p, "Content-Length: 184", "Content-Length: 99999999999999999999999"))),
            "record 1: malformed Content-Length '99999999999999999999999'");
  EXPECT_EQ(error_of(read_capture(replace(p, "Content-Length: 184", "Content-Length: -1"))),
            "record 1: malformed Content-Length '-1'");
  EXPECT_EQ(error_of(read_capture(replace(p, "Content-Length: 184", "Content-Length: 185"))),
            "record 1: block not followed by CRLF CRLF (Content-Length wrong?)");
  EXPECT_EQ(error_of(read_capture(p + "garbage")), "record 6: version line is not WARC/1.1 or WARC/1.0");
  EXPECT_EQ(error_of(read_capture(p + "WARC/1.1\r\nWARC-Type: x\r\n")),
            "record 6: header not terminated by an empty line (truncated?)");
  std::string long_head = "WARC/1.1\r\n";
  while (long_head.size() < 70000) long_head += "X-Filler: 0123456789012345678901234567890123456789\r\n";
  EXPECT_EQ(error_of(read_capture(long_head)), "record 1: header longer than 65536 bytes");
}

TEST(WarcReader, OversizedMembersAndBombsAreBounded) {
  // 64 MB of zeros gzip to about 64 KB: refused by the member bound without inflating it all.
  const std::string bomb = detail::gzip_member(std::string(std::size_t{64} << 20, '\0'));
  EXPECT_LT(bomb.size(), 100000U);
  auto r = read(bomb, ReadLimits{.max_member = 1 << 20, .max_total = 8 << 20, .max_records = 10});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "record 1: gzip member: it inflates to more than 1048576 bytes");
  // The total bound holds across members.
  auto gz = write_capture(small_capture());
  ASSERT_TRUE(gz.has_value());
  r = read(*gz, ReadLimits{.max_member = 1 << 20, .max_total = 700, .max_records = 10});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.substr(0, 48), "record 2: gzip member: it inflates to more than ");
  r = read(*gz, ReadLimits{.max_member = 1 << 20, .max_total = 1 << 20, .max_records = 4});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "more than 4 records");
  // A gzip member followed by bytes that are not gzip; an empty member.
  EXPECT_EQ(error_of(read_capture(*gz + "x")), "record 6: bytes after the last gzip member are not gzip");
  EXPECT_EQ(error_of(read_capture(detail::gzip_member(""))), "record 1: empty gzip member");
}

TEST(WarcHttp, ParsesResponsesAndRemovesTheChunking) {
  auto m = parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n  folded\r\n\r\n"
                               "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->payload, "Wikipedia in\r\n\r\nchunks.");
  EXPECT_EQ(m->header("x-a"), "1 folded");
  EXPECT_EQ(m->header("missing"), std::nullopt);
  m = parse_http_response("HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\nabc");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->status, 404);
  EXPECT_EQ(m->payload, "abc");
  m = parse_http_response("HTTP/1.1 200\r\n\r\nto the end");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload, "to the end");
  const auto error = [](std::string_view msg) {
    auto r = parse_http_response(msg);
    return r ? std::string("(no error)") : r.error().message;
  };
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabc"), "HTTP body is 3 bytes, its Content-Length says 4");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWik"),
            "chunked body truncated in a chunk");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), "malformed chunk size 'zz'");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n"),
            "malformed chunk size 'ffffffffffffffffffff'");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\nab"),
            "chunked body truncated in a chunk");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n"),
            "chunk not followed by CRLF");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nextra"), "bytes follow the last chunk");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
            "transfer coding 'gzip' is not supported (only chunked)");
  EXPECT_EQ(error("HTTP/1.1 2000 OK\r\n\r\n"), "malformed HTTP status line");
  EXPECT_EQ(error("HTTX/1.1 200 OK\r\n\r\n"), "malformed HTTP status line");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n"), "malformed HTTP header line");
  EXPECT_EQ(error("HTTP/1.1 200 OK\r\nX: y\r\n"), "HTTP head not terminated by an empty line");
  auto q = parse_http_request("GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->status, 0);
  EXPECT_EQ(q->start_line, "GET /a?b HTTP/1.1");
  EXPECT_FALSE(parse_http_request("GET /a?b\r\n\r\n").has_value());
}

TEST(WarcWriter, RefusesMessagesTheReaderWouldNotAccept) {
  Capture c = small_capture();
  c.exchanges[1].response = "not http\r\n\r\n";
  auto w = write_capture(c);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(w.error().message, "exchange 2: response: malformed HTTP status line");
  c = small_capture();
  c.exchanges[0].url = "http://x/\r\nWARC-Type: evil";
  w = write_capture(c);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().message, "WARC field WARC-Target-URI holds a line break");
}

TEST(WarcContent, DecodesGzipDeflateAndIdentityWithinBounds) {
  EXPECT_EQ(decode_content("abc", "", 10), "abc");
  EXPECT_EQ(decode_content("abc", "Identity", 10), "abc");
  const std::string text = "hello world hello world";
  const auto gz = detail::gzip_member(text);
  EXPECT_EQ(decode_content(gz, "gzip", 100), text);
  EXPECT_EQ(decode_content(gz, "X-GZIP", 100), text);
  EXPECT_EQ(decode_content(gz + gz, "gzip", 100), text + text); // two members are one gzip file
  EXPECT_EQ(decode_content(detail::gzip_member(gz), "gzip, gzip", 100), text);
  // zlib.compress(b"hello world hello world") and its raw deflate, from Python.
  const auto zlib_bytes = from_hex("789ccb48cdc9c95728cf2fca4951c840b00169e708d9");
  const auto raw_bytes = from_hex("cb48cdc9c95728cf2fca4951c840b001");
  ASSERT_TRUE(zlib_bytes && raw_bytes);
  EXPECT_EQ(decode_content(to_string(*zlib_bytes), "deflate", 100), text);
  EXPECT_EQ(decode_content(to_string(*raw_bytes), "deflate", 100), text);
  const auto error = [](std::string_view payload, std::string_view coding, std::size_t max) {
    auto r = decode_content(payload, coding, max);
    return r ? std::string("(no error)") : r.error().message;
  };
  EXPECT_EQ(error(gz, "gzip", 20), "the gzip-coded payload cannot be decoded: it inflates to more than 20 bytes");
  EXPECT_EQ(error(gz.substr(0, gz.size() - 5), "gzip", 100), "the gzip-coded payload cannot be decoded: it is truncated");
  EXPECT_EQ(error("plain text", "gzip", 100), "the gzip-coded payload cannot be decoded: it is not gzip");
  EXPECT_EQ(error(gz + "zz", "gzip", 100),
            "the gzip-coded payload cannot be decoded: bytes follow the last gzip member");
  EXPECT_EQ(error("\xff\xff\xff", "deflate", 100), "the deflate-coded payload cannot be decoded: it does not inflate");
  EXPECT_EQ(error("abc", "br", 100), "content coding 'br' is not supported (gzip, deflate, identity)");
  EXPECT_EQ(error("abcdefghijk", "identity", 10), "the payload is over 10 bytes");
  const std::string bomb = detail::gzip_member(std::string(std::size_t{32} << 20, 'a'));
  EXPECT_EQ(error(bomb, "gzip", 1 << 20),
            "the gzip-coded payload cannot be decoded: it inflates to more than 1048576 bytes");
  auto garbled = gz;
  garbled[gz.size() / 2] = static_cast<char>(garbled[gz.size() / 2] ^ 0x55);
  EXPECT_FALSE(decode_content(garbled, "gzip", 100).has_value());
}

} // namespace
} // namespace avow::warc
