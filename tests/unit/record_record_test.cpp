#include <archive/json/jcs.hpp>
#include <archive/record/record.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace avow::record {
namespace {

const std::string k_archivist = "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd";

// The same statement as schema/examples/statement-en-full.json. Expected bytes were produced independently with Python
// (json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False), correct JCS for these ASCII member names).
Statement english() {
  Statement s;
  s.text = {"d839eab0aabbbc85bfd08f4bcd417a7e1ad388277399768b8d57e8f1c1627554", 97, "en"};
  s.original = OriginalRef{"042409cc84a2b495a0692f05f5796976ed105bb78e49ca26488f9e3bd1935c64", 102, "UTF-8"};
  s.title = "Statement on the events of Friday \xE2\x80\x94 \xE2\x80\x9C" "as planned\xE2\x80\x9D";
  s.source = {"https://www.example.org/press/2019/03/29/statement", "Ministry of Examples"};
  s.published = Published{"Friday, 29 March 2019 18:36", "2019-03-29T15:36:00Z", "2019-03-29T18:36:00", "Europe/Istanbul"};
  s.captured = "2019-03-30T08:00:00Z";
  s.archivist = k_archivist;
  s.supersedes = "d19d8670a76d3946e3f37eeff61c968306524d39a0160d9948d4ed5887fa01ad";
  s.meta = {{"dataset", "press-releases-2019"}, {"id", "PR-2019-0329"}};
  return s;
}

const char* const k_english_payload =
    R"({"archivist":"630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd","captured":"2019-03-30T08:00:00Z",)"
    R"("format":"avow.record/1","kind":"statement","meta":{"dataset":"press-releases-2019","id":"PR-2019-0329"},)"
    R"("original":{"bytes":102,"encoding":"UTF-8","sha256":"042409cc84a2b495a0692f05f5796976ed105bb78e49ca26488f9e3bd1935c64"},)"
    R"("published":{"as_written":"Friday, 29 March 2019 18:36","local":"2019-03-29T18:36:00","tz":"Europe/Istanbul",)"
    R"("utc":"2019-03-29T15:36:00Z"},"source":{"publisher":"Ministry of Examples",)"
    R"("uri":"https://www.example.org/press/2019/03/29/statement"},)"
    R"("supersedes":"d19d8670a76d3946e3f37eeff61c968306524d39a0160d9948d4ed5887fa01ad",)"
    R"("text":{"bytes":97,"lang":"en","sha256":"d839eab0aabbbc85bfd08f4bcd417a7e1ad388277399768b8d57e8f1c1627554"},)"
    "\"title\":\"Statement on the events of Friday \xE2\x80\x94 \xE2\x80\x9C" "as planned\xE2\x80\x9D\"}";

Statement minimal() {
  Statement s;
  s.text = {"d839eab0aabbbc85bfd08f4bcd417a7e1ad388277399768b8d57e8f1c1627554", 97, std::nullopt};
  s.source = {"urn:isbn:9780000000002", std::nullopt};
  s.captured = "2020-01-01T00:00:00Z";
  s.archivist = k_archivist;
  return s;
}

Statement arabic() {
  Statement s;
  s.text = {"2f7063d1910426de0155e4d0fd901efe6f1cb763ea9d03cf9bd8e0a9bd3c0223", 101, "ar"};
  s.original = OriginalRef{"ac3391e0bed1594c8626cc0609aadcc4168a51142a06ef5c2f46a50626bca600", 60, "windows-1256"};
  s.title = "\xD8\xA8\xD9\x8A\xD8\xA7\xD9\x86 \xD8\xB5\xD8\xAD\xD9\x81\xD9\x8A";
  s.source = {"https://www.example.org/ar/\xD8\xA3\xD8\xAE\xD8\xA8\xD8\xA7\xD8\xB1", "\xD9\x88\xD8\xB2\xD8\xA7\xD8\xB1\xD8\xA9"};
  s.published = Published{"2015-08-01 10:00:00", std::nullopt, "2015-08-01T10:00:00", std::nullopt};
  s.captured = "2015-08-02T09:30:00Z";
  s.archivist = k_archivist;
  return s;
}

std::string canonical_of(const Statement& s) {
  auto v = to_json(s);
  EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message);
  if (!v) return {};
  auto c = json::canonicalize(*v);
  EXPECT_TRUE(c.has_value());
  return c ? *c : std::string();
}

// Expect that from_json of `v` fails with a message containing `needle`.
void expect_rejected(const json::Value& v, std::string_view needle) {
  auto s = from_json(v);
  ASSERT_FALSE(s.has_value()) << "accepted: " << v.dump();
  EXPECT_EQ(s.error().code, ErrorCode::invalid_input);
  EXPECT_NE(s.error().message.find(needle), std::string::npos) << "message: " << s.error().message << "\nwant: " << needle;
  EXPECT_TRUE(s.error().message.starts_with("record: ")) << s.error().message;
}

// Expect that validate and payload of `s` fail with a message containing `needle`.
void expect_invalid(const Statement& s, std::string_view needle) {
  SCOPED_TRACE(needle);
  auto ok = validate(s);
  ASSERT_FALSE(ok.has_value());
  EXPECT_EQ(ok.error().code, ErrorCode::invalid_input);
  EXPECT_NE(ok.error().message.find(needle), std::string::npos) << "message: " << ok.error().message << "\nwant: " << needle;
  EXPECT_FALSE(payload(s).has_value());
  EXPECT_FALSE(to_json(s).has_value());
}

TEST(RecordStatement, PayloadBytesAndIdAreExact) {
  auto p = payload(english());
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(*p, k_english_payload);
  EXPECT_EQ(record_id(*p), "2de6e3d38f1f09e93315e5950d4b240d986740c1e27be2d7ec9f27037fe40b7c");

  auto m = payload(minimal());
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(*m, R"({"archivist":"630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd",)"
                R"("captured":"2020-01-01T00:00:00Z","format":"avow.record/1","kind":"statement",)"
                R"("source":{"uri":"urn:isbn:9780000000002"},)"
                R"("text":{"bytes":97,"sha256":"d839eab0aabbbc85bfd08f4bcd417a7e1ad388277399768b8d57e8f1c1627554"}})");
  EXPECT_EQ(record_id(*m), "be2cee6a9d81673cb04064783f0f070be8e252737bfac2d2b6e9db2b062ece49");
}

TEST(RecordStatement, DirectWriterEqualsCanonicalizedJsonValue) {
  Statement weird_meta = english();
  weird_meta.meta = {{"\xEF\xAC\xB3", "U+FB33"}, {"\xF0\x9F\x98\x82", "U+1F602"}, {"z", "line one\nline two\t\"q\""},
                     {"a", ""}, {"\xC3\xA9", "\x01"}};
  Statement no_publisher = arabic();
  no_publisher.source.publisher.reset();
  no_publisher.published->tz = "+03:00";
  for (const Statement& s : {english(), minimal(), arabic(), weird_meta, no_publisher}) {
    auto p = payload(s);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    EXPECT_EQ(*p, canonical_of(s));
    // And the payload parses back to the same statement.
    auto back = parse_payload(*p);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(*back, s);
  }
  auto p = payload(weird_meta);
  ASSERT_TRUE(p.has_value());
  // UTF-16 order: U+1F602 (D83D) sorts before U+FB33.
  EXPECT_LT(p->find("\xF0\x9F\x98\x82"), p->find("\xEF\xAC\xB3"));
}

TEST(RecordStatement, ToJsonOmitsAbsentFields) {
  auto v = to_json(minimal());
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->size(), 6u);
  EXPECT_FALSE(v->contains("meta"));
  EXPECT_FALSE(v->contains("title"));
  EXPECT_FALSE((*v)["text"].contains("lang"));
  EXPECT_FALSE((*v)["source"].contains("publisher"));
}

TEST(RecordStatement, ParsePayloadRejectsNonCanonicalBytes) {
  auto p = payload(minimal());
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(parse_payload(*p + "\n").has_value());
  std::string spaced = *p;
  spaced.insert(1, " ");
  EXPECT_FALSE(parse_payload(spaced).has_value());
  auto r = parse_payload(R"({"format":"avow.record/1","format":"avow.record/1"})");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("duplicate member name"), std::string::npos);
}

TEST(RecordStatement, FromJsonRejectsUnknownMissingAndMistypedFields) {
  const json::Value good = *to_json(english());
  ASSERT_TRUE(from_json(good).has_value());

  auto with = [&](auto change) {
    json::Value v = good;
    change(v);
    return v;
  };
  expect_rejected(json::Value::array(), "not a JSON object");
  expect_rejected(with([](auto& v) { v["extra"] = 1; }), "unknown field 'extra'");
  expect_rejected(with([](auto& v) { v["text"]["md5"] = "x"; }), "unknown field 'text.md5'");
  expect_rejected(with([](auto& v) { v["source"]["title"] = "x"; }), "unknown field 'source.title'");
  expect_rejected(with([](auto& v) { v["published"]["date"] = "x"; }), "unknown field 'published.date'");
  expect_rejected(with([](auto& v) { v["original"]["lang"] = "en"; }), "unknown field 'original.lang'");
  for (const char* field : {"format", "kind", "text", "source", "captured", "archivist"})
    expect_rejected(with([&](auto& v) { v.erase(field); }), fmt::format("missing field '{}'", field));
  expect_rejected(with([](auto& v) { v["text"].erase("sha256"); }), "missing field 'text.sha256'");
  expect_rejected(with([](auto& v) { v["text"].erase("bytes"); }), "missing field 'text.bytes'");
  expect_rejected(with([](auto& v) { v["original"].erase("encoding"); }), "missing field 'original.encoding'");
  expect_rejected(with([](auto& v) { v["source"].erase("uri"); }), "missing field 'source.uri'");
  expect_rejected(with([](auto& v) { v["published"].erase("as_written"); }), "missing field 'published.as_written'");

  expect_rejected(with([](auto& v) { v["format"] = "avow.record/2"; }), "unknown format");
  expect_rejected(with([](auto& v) { v["kind"] = "key.add"; }), "kind 'key.add' is not a statement");
  expect_rejected(with([](auto& v) { v["text"]["bytes"] = "97"; }), "field 'text.bytes' must be an integer");
  expect_rejected(with([](auto& v) { v["text"]["bytes"] = 97.0; }), "field 'text.bytes' must be an integer");
  expect_rejected(with([](auto& v) { v["text"]["bytes"] = -1; }), "field 'text.bytes' must not be negative");
  expect_rejected(with([](auto& v) { v["text"]["bytes"] = 0; }), "text.bytes 0 is out of range");
  expect_rejected(with([](auto& v) { v["text"]["bytes"] = std::uint64_t{1} << 53; }), "out of range");
  expect_rejected(with([](auto& v) { v["title"] = 5; }), "field 'title' must be a string");
  expect_rejected(with([](auto& v) { v["title"] = nullptr; }), "field 'title' must be a string");
  expect_rejected(with([](auto& v) { v["text"] = "abc"; }), "field 'text' must be an object");
  expect_rejected(with([](auto& v) { v["meta"] = json::Value::object(); }), "field 'meta' is empty");
  expect_rejected(with([](auto& v) { v["meta"]["n"] = 1; }), "field 'meta.n' must be a string");
  expect_rejected(with([](auto& v) { v["source"]["publisher"] = json::Value::array({"a"}); }),
                  "field 'source.publisher' must be a string");
  // Hostile names are quoted on one line.
  auto r = from_json(with([](auto& v) { v["a\nb"] = 1; }));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "record: unknown field 'a\\x0ab'");
}

TEST(RecordStatement, ValidateEnforcesFieldRules) {
  auto with = [](auto change) {
    Statement s = english();
    change(s);
    return s;
  };
  expect_invalid(with([](auto& s) { s.text.sha256 = std::string(64, 'A'); }), "text.sha256");
  expect_invalid(with([](auto& s) { s.text.sha256.pop_back(); }), "text.sha256");
  expect_invalid(with([](auto& s) { s.original->sha256 = std::string(64, 'g'); }), "original.sha256");
  expect_invalid(with([](auto& s) { s.archivist += "0"; }), "archivist");
  expect_invalid(with([](auto& s) { s.supersedes = "abc"; }), "supersedes");
  expect_invalid(with([](auto& s) { s.original->sha256 = s.text.sha256; }), "original equals the canonical text");
  expect_invalid(with([](auto& s) { s.original->bytes = 0; }), "original.bytes");
  expect_invalid(with([](auto& s) { s.original->encoding = ""; }), "original.encoding");
  expect_invalid(with([](auto& s) { s.original->encoding = "utf 8"; }), "original.encoding");
  expect_invalid(with([](auto& s) { s.text.lang = "english language"; }), "language tag");
  expect_invalid(with([](auto& s) { s.text.lang = ""; }), "language tag");
  expect_invalid(with([](auto& s) { s.title = "two\nlines"; }), "title");
  expect_invalid(with([](auto& s) { s.title = "bell\x07"; }), "title");
  expect_invalid(with([](auto& s) { s.title = ""; }), "title is empty");
  expect_invalid(with([](auto& s) { s.title = std::string(1025, 'x'); }), "title is 1025 bytes");
  expect_invalid(with([](auto& s) { s.title = "\xff"; }), "title");
  expect_invalid(with([](auto& s) { s.source.uri = "www.example.org/x"; }), "scheme");
  expect_invalid(with([](auto& s) { s.source.uri = "https://example.org/a b"; }), "");
  expect_invalid(with([](auto& s) { s.source.uri = ""; }), "");
  expect_invalid(with([](auto& s) { s.source.publisher = "a\rb"; }), "publisher");
  expect_invalid(with([](auto& s) { s.source.publisher = ""; }), "source.publisher is empty");
  expect_invalid(with([](auto& s) { s.published->as_written = ""; }), "published.as_written is empty");
  expect_invalid(with([](auto& s) { s.published->as_written = "29 March\n2019"; }), "published.as_written");
  for (const char* bad_utc : {"2019-03-29T15:36:00", "2019-03-29T15:36:00+00:00", "2019-02-30T15:36:00Z",
                              "2019-03-29T24:00:00Z", "2019-03-29t15:36:00z", "2019-03-29T15:36:00.Z",
                              "2019-03-29T15:36:00.1234567890Z", "2019-03-29 15:36:00Z", "2019-03-29T15:36:60Z"})
    expect_invalid(with([&](auto& s) { s.published->utc = bad_utc; }), "published.utc");
  for (const char* bad_local : {"2019-03-29T15:36:00Z", "2019-03-29T15:36", "20080916", "2019-13-01", "2019-03-29 15:36:00"})
    expect_invalid(with([&](auto& s) { s.published->local = bad_local; }), "published.local");
  const std::string long_tz(65, 'a');
  for (const std::string& bad_tz : {std::string(), std::string("Europe Istanbul"), std::string("+03:00\n"), long_tz})
    expect_invalid(with([&](auto& s) { s.published->tz = bad_tz; }), "published.tz");
  for (const char* bad_captured : {"", "2019-03-30T08:00:00", "2019-03-30T08:00:00.5Z", "2019-03-30T11:00:00+03:00",
                                   "2019-02-29T08:00:00Z", "2019-03-30T08:00:00z"})
    expect_invalid(with([&](auto& s) { s.captured = bad_captured; }), "captured");
  expect_invalid(with([](auto& s) { s.meta[""] = "x"; }), "meta has an empty key");
  expect_invalid(with([](auto& s) { s.meta["a\nb"] = "x"; }), "meta key");
  expect_invalid(with([](auto& s) { s.meta[std::string(257, 'k')] = "x"; }), "longer than 256 bytes");
  expect_invalid(with([](auto& s) { s.meta["k"] = "\xc0\xaf"; }), "meta value of 'k' is not valid UTF-8");

  // Accepted forms.
  for (const char* utc : {"2019-03-29T15:36:00Z", "1987-02-26T15:01:01.79Z", "2016-02-29T00:00:00.123456789Z"}) {
    Statement s = with([&](auto& st) { st.published->utc = utc; });
    EXPECT_TRUE(validate(s).has_value()) << utc;
  }
  for (const char* local : {"2008-09-16", "2019-03-29T18:36:00", "1987-02-26T15:01:01.79"}) {
    Statement s = with([&](auto& st) { st.published->local = local; });
    EXPECT_TRUE(validate(s).has_value()) << local;
  }
  for (const char* tz : {"Europe/Istanbul", "America/Argentina/Buenos_Aires", "Etc/GMT+3", "+03:00", "+0300", "Z", "GMT"}) {
    Statement s = with([&](auto& st) { st.published->tz = tz; });
    EXPECT_TRUE(validate(s).has_value()) << tz;
  }
  EXPECT_TRUE(validate(with([](auto& s) { s.title = std::string(1024, 'x'); })).has_value());
  EXPECT_TRUE(validate(with([](auto& s) { s.title = "tab\tinside"; })).has_value());
  EXPECT_TRUE(validate(with([](auto& s) { s.text.bytes = (std::uint64_t{1} << 53) - 1; })).has_value());
  EXPECT_TRUE(validate(with([](auto& s) { s.source.uri = "https://example.org/\xD8\xA3\xD8\xAE\xD8\xA8\xD8\xA7\xD8\xB1?q=1#f"; }))
                  .has_value());
}

TEST(RecordStatement, MetaLimitIs16KiBOfKeysAndValues) {
  Statement s = minimal();
  s.meta["k"] = std::string(k_max_meta_bytes - 1, 'v');
  EXPECT_TRUE(validate(s).has_value());
  s.meta["k"].push_back('v');
  auto r = validate(s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "record: meta is 16385 bytes, more than the limit of 16384");
}

TEST(RecordStatement, RecordIdIsSha256OfPayload) {
  EXPECT_EQ(record_id(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(record_id("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(RecordStatement, PayloadIsFastEnough) {
  const Statement s = english();
  constexpr int n = 20000;
  const auto start = std::chrono::steady_clock::now();
  std::size_t total = 0;
  for (int i = 0; i < n; ++i) total += payload(s)->size();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(total, n * std::string_view(k_english_payload).size());
  // The contract is 10,000 per second per core; leave room for sanitizer and debug builds.
  EXPECT_LT(seconds, 2.0) << n / seconds << " payloads per second";
  std::printf("payload(): %.0f per second\n", n / seconds);
}

} // namespace
} // namespace avow::record

namespace avow::record {
namespace {

// A Hijri date is marked by published.calendar; its bytes sort between as_written and local (JCS), and old records
// without it still parse.
TEST(RecordOriginalType, WarcOriginalsRoundTripWithTheirTypeLast) {
  Statement s = minimal();
  s.original = OriginalRef{"042409cc84a2b495a0692f05f5796976ed105bb78e49ca26488f9e3bd1935c64", 2419, "windows-1256",
                           "application/warc"};
  auto p = payload(s);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_NE(p->find(R"("original":{"bytes":2419,"encoding":"windows-1256",)"
                    R"("sha256":"042409cc84a2b495a0692f05f5796976ed105bb78e49ca26488f9e3bd1935c64",)"
                    R"("type":"application/warc"},)"),
            std::string::npos)
      << *p;
  EXPECT_EQ(canonical_of(s), *p);
  auto back = parse_payload(*p);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  ASSERT_TRUE(back->original.has_value());
  EXPECT_EQ(back->original->type, "application/warc");
  EXPECT_EQ(*back, s);
  // Without a type the payload is exactly as before: no "type" member.
  s.original->type = std::nullopt;
  p = payload(s);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->find("\"type\""), std::string::npos);
  // The binary "encoding" of a capture whose text was given with --text-from is a valid name.
  s.original->type = "application/warc";
  s.original->encoding = "binary";
  EXPECT_TRUE(validate(s).has_value());
}

TEST(RecordOriginalType, OnlyApplicationWarcIsAccepted) {
  Statement s = minimal();
  s.original = OriginalRef{"042409cc84a2b495a0692f05f5796976ed105bb78e49ca26488f9e3bd1935c64", 10, "UTF-8",
                           "text/html"};
  expect_invalid(s, "original.type 'text/html' is not application/warc");
  s.original->type = "";
  expect_invalid(s, "original.type '' is not application/warc");
  s.original->type = "application/warc";
  json::Value v = *to_json(s);
  v["original"]["type"] = "application/WARC";
  expect_rejected(v, "original.type 'application/WARC' is not application/warc");
  v["original"]["type"] = 1;
  expect_rejected(v, "field 'original.type' must be a string");
}

TEST(RecordPublishedCalendar, RoundTripsAndSortsBetweenAsWrittenAndLocal) {
  Statement s = minimal();
  s.published = Published{"22 \xD8\xB1\xD8\xAC\xD8\xA8 1440 \xD9\x87\xD9\x80", std::nullopt, "2019-03-29", "Asia/Riyadh",
                          "islamic-umalqura"};
  auto p = payload(s);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_NE(p->find("\"published\":{\"as_written\":\"22 \xD8\xB1\xD8\xAC\xD8\xA8 1440 \xD9\x87\xD9\x80\","
                    "\"calendar\":\"islamic-umalqura\",\"local\":\"2019-03-29\",\"tz\":\"Asia/Riyadh\"}"),
            std::string::npos)
      << *p;
  EXPECT_EQ(*p, canonical_of(s));
  auto back = parse_payload(*p);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, s);
  EXPECT_EQ(back->published->calendar, "islamic-umalqura");

  Statement old = minimal();
  old.published = Published{"2015-08-01 10:00:00", std::nullopt, "2015-08-01T10:00:00", std::nullopt};
  auto old_back = parse_payload(*payload(old));
  ASSERT_TRUE(old_back.has_value());
  EXPECT_FALSE(old_back->published->calendar.has_value());
}

TEST(RecordPublishedCalendar, BadCalendarsAreRefused) {
  for (const char* bad : {"gregory", "Islamic", "islamic umalqura", "is", "islamic-", "", "islamic-umalqura\n"}) {
    Statement s = minimal();
    s.published = Published{"x", std::nullopt, "2019-03-29", std::nullopt, bad};
    auto v = validate(s);
    ASSERT_FALSE(v.has_value()) << bad;
    EXPECT_TRUE(v.error().message.starts_with("record: published.calendar '")) << v.error().message;
  }
  Statement s = minimal();
  s.published = Published{"x", std::nullopt, std::nullopt, std::nullopt, "islamic-umalqura"};
  auto v = validate(s);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().message, "record: published.calendar is given without published.local");
}

} // namespace
} // namespace avow::record
