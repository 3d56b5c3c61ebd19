#include <archive/index/index.hpp>

#include <tests/support/support.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace avow::index {
namespace {

namespace fs = std::filesystem;

const std::string k_log_key(64, 'c');
const std::string k_arch1(64, '1');
const std::string k_arch2(64, '2');
const std::string k_sha_a(64, 'a'); // text of entries 1 and 7
const std::string k_sha_orig(64, 'e');

std::string id_of(std::uint64_t i) {
  // Entries 1 and 3 share the 8-digit prefix "aaaaaaaa"; the others are unique.
  if (i == 1) return "aaaaaaaa1" + std::string(55, '0');
  if (i == 3) return "aaaaaaaa2" + std::string(55, '0');
  return fmt::format("{:064x}", 0xb000 + i);
}

IndexEntry key_event(std::uint64_t i, std::string kind, std::string key_id, std::string captured,
                     std::optional<std::string> reason = std::nullopt) {
  record::KeyEvent k;
  k.kind = std::move(kind);
  k.key_id = std::move(key_id);
  k.role = "archivist";
  k.captured = std::move(captured);
  k.archivist = k_log_key;
  k.reason = std::move(reason);
  return IndexEntry{i, id_of(i), k, ""};
}

struct S {
  std::string source, publisher, lang, archivist = k_arch1, captured, text, sha;
  std::optional<record::Published> published;
};

IndexEntry statement(std::uint64_t i, const S& s) {
  record::Statement r;
  r.text.sha256 = s.sha.empty() ? fmt::format("{:064x}", 0xf000 + i) : s.sha;
  r.text.bytes = s.text.size();
  if (!s.lang.empty()) r.text.lang = s.lang;
  r.source.uri = s.source;
  if (!s.publisher.empty()) r.source.publisher = s.publisher;
  r.published = s.published;
  r.captured = s.captured;
  r.archivist = s.archivist;
  return IndexEntry{i, id_of(i), r, s.text};
}

record::Published utc(std::string as_written, std::string u) {
  return record::Published{std::move(as_written), std::move(u), std::nullopt, std::nullopt};
}
record::Published local(std::string as_written, std::string l) {
  return record::Published{std::move(as_written), std::nullopt, std::move(l), std::nullopt};
}

// The fixture log:
//  0 key.add K1                      captured 2019-01-01
//  1 s1 Ministry en K1  pub utc 2019-03-29T15:36:00Z      captured 2019-03-30T10:00:00Z  "The ministry ... café policy"
//  2 s2 وزارة ar    K1  pub local 2019-04-01 (date)        captured 2019-04-02T08:00:00Z  Arabic, with harakat
//  3 s1 Ministry en K1  pub utc 2019-04-14T23:30:00.5Z    captured 2019-04-15T12:00:00Z  supersedes 1, original, meta
//  4 s3 Ministry fr K2  pub local 2019-04-30T22:00:00      captured 2019-05-01T00:00:00Z  French
//  5 key.revoke K1 "rotated"                               captured 2019-06-01T00:00:00Z
//  6 s1 Ministry en K2  no published                      captured 2019-06-02T00:00:00Z
//  7 s4 Agency   (no lang) K2  pub utc 2019-07-01T00:00:00Z captured 2019-07-02T00:00:00Z  same text as 1
std::vector<IndexEntry> fixture() {
  std::vector<IndexEntry> v;
  v.push_back(key_event(0, "key.add", k_arch1, "2019-01-01T00:00:00Z"));
  v.push_back(statement(1, S{"https://gov.example/s1", "Ministry", "en", k_arch1, "2019-03-30T10:00:00Z",
                             "The ministry announced a new café policy today.\n", k_sha_a,
                             utc("Friday, 29 March 2019 18:36", "2019-03-29T15:36:00Z")}));
  v.push_back(statement(2, S{"https://gov.example/ar/s2", "وزارة الخارجية", "ar", k_arch1, "2019-04-02T08:00:00Z",
                             "أعلنت الحُكُومَة عن سياسة جديدة\n", "", local("1 April 2019", "2019-04-01")}));
  {
    auto e = statement(3, S{"https://gov.example/s1", "Ministry", "en", k_arch1, "2019-04-15T12:00:00Z",
                            "The ministry withdrew the policy.\n", "",
                            utc("2019-04-15T01:30:00.5+02:00", "2019-04-14T23:30:00.5Z")});
    auto& r = std::get<record::Statement>(e.record);
    r.supersedes = id_of(1);
    r.original = record::OriginalRef{k_sha_orig, 40, "windows-1252"};
    r.title = "Policy withdrawn";
    r.meta = {{"id", "7"}, {"dataset", "x"}};
    r.published->tz = "+02:00";
    v.push_back(std::move(e));
  }
  v.push_back(statement(4, S{"https://gov.example/fr/s3", "Ministry", "fr", k_arch2, "2019-05-01T00:00:00Z",
                             "Le ministère a annoncé une politique.\n", "",
                             local("30/04/2019 22:00", "2019-04-30T22:00:00")}));
  v.push_back(key_event(5, "key.revoke", k_arch1, "2019-06-01T00:00:00Z", "rotated"));
  v.push_back(statement(6, S{"https://gov.example/s1", "Ministry", "en", k_arch2, "2019-06-02T00:00:00Z",
                             "Policy restored.\n", "", std::nullopt}));
  v.push_back(statement(7, S{"https://agency.example/s4", "Agency", "", k_arch2, "2019-07-02T00:00:00Z",
                             "The ministry announced a new café policy today.\n", k_sha_a,
                             utc("2019-07-01", "2019-07-01T00:00:00Z")}));
  return v;
}

std::vector<std::uint64_t> indexes(const std::vector<Row>& rows) {
  std::vector<std::uint64_t> out;
  for (const auto& r : rows) out.push_back(r.index);
  return out;
}

using V = std::vector<std::uint64_t>;

class IndexTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto idx = Index::open(file());
    ASSERT_TRUE(idx) << idx.error().message;
    m_index.emplace(std::move(*idx));
    const auto entries = fixture();
    auto r = m_index->add(entries, "checkpoint note 8\n");
    ASSERT_TRUE(r) << r.error().message;
  }
  fs::path file() const { return m_dir.path() / "index.sqlite"; }
  V log(const Filter& f) {
    auto r = m_index->log(f);
    EXPECT_TRUE(r) << r.error().message;
    return r ? indexes(*r) : V{999};
  }
  V grep(const std::string& words) {
    Filter f;
    f.grep = words;
    f.oldest_first = true;
    return log(f);
  }

  test::TempDir m_dir;
  std::optional<Index> m_index;
};

TEST_F(IndexTest, SizeAndCheckpoint) {
  EXPECT_EQ(m_index->size().value(), 8u);
  EXPECT_EQ(m_index->indexed_checkpoint().value(), std::optional<std::string>("checkpoint note 8\n"));
}

TEST_F(IndexTest, LogOrderAndLimit) {
  EXPECT_EQ(log({}), (V{7, 6, 5, 4, 3, 2, 1, 0}));
  Filter f;
  f.oldest_first = true;
  EXPECT_EQ(log(f), (V{0, 1, 2, 3, 4, 5, 6, 7}));
  f.limit = 3;
  EXPECT_EQ(log(f), (V{0, 1, 2}));
  f.oldest_first = false;
  EXPECT_EQ(log(f), (V{7, 6, 5}));
}

TEST_F(IndexTest, FieldFilters) {
  Filter f;
  f.source = "https://gov.example/s1";
  EXPECT_EQ(log(f), (V{6, 3, 1}));
  f = {};
  f.publisher = "Ministry";
  EXPECT_EQ(log(f), (V{6, 4, 3, 1}));
  f.publisher = "وزارة الخارجية";
  EXPECT_EQ(log(f), (V{2}));
  f.publisher = "ministry"; // exact, case-sensitive
  EXPECT_EQ(log(f), V{});
  f = {};
  f.archivist = k_arch2;
  EXPECT_EQ(log(f), (V{7, 6, 4}));
  f.archivist = k_log_key;
  EXPECT_EQ(log(f), (V{5, 0}));
  f = {};
  f.lang = "en";
  EXPECT_EQ(log(f), (V{6, 3, 1}));
  f.lang = "ar";
  EXPECT_EQ(log(f), (V{2}));
  f = {};
  f.kind = "key.add";
  EXPECT_EQ(log(f), (V{0}));
  f.kind = "statement";
  EXPECT_EQ(log(f), (V{7, 6, 4, 3, 2, 1}));
  f = {};
  f.publisher = "Ministry";
  f.lang = "en";
  f.archivist = k_arch1;
  EXPECT_EQ(log(f), (V{3, 1}));
}

TEST_F(IndexTest, PublishedTimeFilters) {
  Filter f; // time_field defaults to published
  f.since = "2019-04-01";
  EXPECT_EQ(log(f), (V{7, 4, 3, 2})); // 2: local date 2019-04-01 counts; 6 (no published) and key events never
  f.since = "2019-04-02";
  EXPECT_EQ(log(f), (V{7, 4, 3}));
  f = {};
  f.until = "2019-04-01"; // inclusive of the whole day
  EXPECT_EQ(log(f), (V{2, 1}));
  f.until = "2019-03-29";
  EXPECT_EQ(log(f), (V{1}));
  f.until = "2019-03-28";
  EXPECT_EQ(log(f), V{});
  // An instant: exact for utc, by date for local-only times.
  f = {};
  f.since = "2019-04-01T12:00:00+02:00";
  EXPECT_EQ(log(f), (V{7, 4, 3, 2}));
  f.since = "2019-04-14T23:30:00Z"; // 3 is half a second later
  EXPECT_EQ(log(f), (V{7, 4, 3}));
  f.since = "2019-04-14T23:30:00.5Z"; // inclusive
  EXPECT_EQ(log(f), (V{7, 4, 3}));
  f.since = "2019-04-14T23:30:00.6Z";
  EXPECT_EQ(log(f), (V{7, 4}));
  f.since = "2019-04-15T01:30:00.500+02:00"; // the same instant as 3, with an offset
  EXPECT_EQ(log(f), (V{7, 4, 3}));
  f = {};
  f.until = "2019-04-15T01:29:59+02:00"; // 2019-04-14T23:29:59Z
  EXPECT_EQ(log(f), (V{2, 1}));
  f.until = "2019-04-14t23:30:00.5z";
  EXPECT_EQ(log(f), (V{3, 2, 1}));
  f = {};
  f.since = "2019-03-29";
  f.until = "2019-04-30";
  EXPECT_EQ(log(f), (V{4, 3, 2, 1}));
  f.publisher = "Ministry";
  f.limit = 2;
  EXPECT_EQ(log(f), (V{4, 3}));
}

TEST_F(IndexTest, CapturedTimeFilters) {
  Filter f;
  f.time_field = TimeField::captured;
  f.since = "2019-04-02";
  EXPECT_EQ(log(f), (V{7, 6, 5, 4, 3, 2}));
  f.since = "2019-04-02T08:00:00Z";
  EXPECT_EQ(log(f), (V{7, 6, 5, 4, 3, 2}));
  f.since = "2019-04-02T08:00:00.001Z";
  EXPECT_EQ(log(f), (V{7, 6, 5, 4, 3}));
  f = {};
  f.time_field = TimeField::captured;
  f.until = "2019-04-02";
  EXPECT_EQ(log(f), (V{2, 1, 0}));
  f.until = "2019-04-02T09:59:59+02:00";
  EXPECT_EQ(log(f), (V{1, 0}));
  f.until = "2019-04-02T10:00:00+02:00";
  EXPECT_EQ(log(f), (V{2, 1, 0}));
}

TEST_F(IndexTest, BadTimeBoundsAreInvalidInput) {
  for (const char* bad : {"yesterday", "2019-02-30", "2019-04-01T10:00:00", "2019-04-01T24:00:00Z", "2019-4-1",
                          "2019-04-01T10:00:00+2:00", "", "2019-04-01T10:00:00.Z", "2019-04-01T10:00:60Z"}) {
    Filter f;
    f.since = bad;
    auto r = m_index->log(f);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(r.error().message,
              fmt::format("cannot parse --since '{}': expected YYYY-MM-DD or RFC 3339 with Z or an offset", bad));
  }
  Filter f;
  f.until = "tomorrow";
  EXPECT_FALSE(m_index->log(f));
  f = {};
  f.since = "tomorrow";
  EXPECT_FALSE(m_index->audit(f));
}

TEST_F(IndexTest, GrepEnglishFrenchArabic) {
  EXPECT_EQ(grep("ministry"), (V{1, 3, 7}));
  EXPECT_EQ(grep("MINISTRY withdrew"), (V{3}));
  EXPECT_EQ(grep("policy"), (V{1, 3, 6, 7}));
  EXPECT_EQ(grep("cafe"), (V{1, 7}));  // Latin diacritics folded
  EXPECT_EQ(grep("café"), (V{1, 7}));
  EXPECT_EQ(grep("ministere"), (V{4}));
  EXPECT_EQ(grep("ministère politique"), (V{4}));
  EXPECT_EQ(grep("سياسة"), (V{2}));
  EXPECT_EQ(grep("الحكومة"), (V{2}));      // indexed with harakat, searched without
  EXPECT_EQ(grep("الحُكُومَة"), (V{2}));   // and with
  EXPECT_EQ(grep("الحكومة policy"), V{}); // all words required
  EXPECT_EQ(grep("minis"), V{});           // whole words only
  Filter f;
  f.grep = "policy";
  f.source = "https://gov.example/s1";
  EXPECT_EQ(log(f), (V{6, 3, 1}));
  f.limit = 1;
  EXPECT_EQ(log(f), (V{6}));
}

TEST_F(IndexTest, GrepWordsAreLiteralsNotSyntax) {
  // FTS5 operators and SQL in the user's words are plain words: no error, no injection.
  EXPECT_EQ(grep("ministry OR restored"), V{});
  EXPECT_EQ(grep("NOT ministry"), V{});
  EXPECT_EQ(grep("body:ministry"), V{});
  EXPECT_EQ(grep("\"ministry\""), (V{1, 3, 7}));
  EXPECT_EQ(grep("ministry*"), (V{1, 3, 7})); // '*' is punctuation inside a string literal
  EXPECT_EQ(grep("'); DROP TABLE entries; --"), V{});
  EXPECT_EQ(grep("(ministry"), (V{1, 3, 7}));
  EXPECT_EQ(grep(std::string("withdrew\0\"ministry", 18)), (V{3})); // NUL separates words
  EXPECT_EQ(grep("withdrew\x01policy"), (V{3}));
  EXPECT_EQ(m_index->size().value(), 8u);
  for (const char* empty : {"", "   ", "\t\n", "\u064e"}) { // a lone fatha folds to nothing
    Filter f;
    f.grep = empty;
    auto r = m_index->log(f);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(r.error().message, "--grep needs at least one word");
  }
}

TEST_F(IndexTest, RowFieldsOfStatement) {
  auto rows = m_index->by_id_prefix(id_of(3));
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  Row want;
  want.index = 3;
  want.id = id_of(3);
  want.kind = "statement";
  want.source = "https://gov.example/s1";
  want.publisher = "Ministry";
  want.title = "Policy withdrawn";
  want.lang = "en";
  want.archivist = k_arch1;
  want.captured = "2019-04-15T12:00:00Z";
  want.published_as_written = "2019-04-15T01:30:00.5+02:00";
  want.published_utc = "2019-04-14T23:30:00.5Z";
  want.published_tz = "+02:00";
  want.text_sha256 = fmt::format("{:064x}", 0xf003);
  want.text_bytes = 34;
  want.original_sha256 = k_sha_orig;
  want.original_bytes = 40;
  want.original_encoding = "windows-1252";
  want.supersedes = id_of(1);
  want.meta_json = R"({"dataset":"x","id":"7"})";
  EXPECT_EQ(rows->front(), want);

  auto six = m_index->by_id_prefix(id_of(6));
  ASSERT_TRUE(six);
  ASSERT_EQ(six->size(), 1u);
  EXPECT_EQ(six->front().meta_json, "{}");
  EXPECT_EQ(six->front().published_as_written, "");
  EXPECT_EQ(six->front().original_bytes, 0u);
}

TEST_F(IndexTest, RowFieldsOfKeyEvent) {
  Filter f;
  f.kind = "key.revoke";
  auto rows = m_index->log(f);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  Row want;
  want.index = 5;
  want.id = id_of(5);
  want.kind = "key.revoke";
  want.archivist = k_log_key;
  want.captured = "2019-06-01T00:00:00Z";
  want.key_id = k_arch1;
  want.role = "archivist";
  want.reason = "rotated";
  EXPECT_EQ(rows->front(), want);
}

TEST_F(IndexTest, IdPrefix) {
  auto both = m_index->by_id_prefix("aaaaaaaa");
  ASSERT_TRUE(both);
  EXPECT_EQ(indexes(*both), (V{1, 3})); // ambiguous: the caller reports it
  auto one = m_index->by_id_prefix("AAAAAAAA2");
  ASSERT_TRUE(one);
  EXPECT_EQ(indexes(*one), (V{3}));
  auto none = m_index->by_id_prefix("aaaaaaab");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto full = m_index->by_id_prefix(id_of(7));
  ASSERT_TRUE(full);
  EXPECT_EQ(indexes(*full), (V{7}));
  for (const std::string& bad : {std::string(), std::string("xyz12345"), std::string("aaaa%"), std::string(65, 'a')}) {
    auto r = m_index->by_id_prefix(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
  }
}

TEST_F(IndexTest, TextOriginalAndVersions) {
  auto t = m_index->by_text(k_sha_a);
  ASSERT_TRUE(t);
  EXPECT_EQ(indexes(*t), (V{1, 7}));
  auto o = m_index->by_original(k_sha_orig);
  ASSERT_TRUE(o);
  EXPECT_EQ(indexes(*o), (V{3}));
  auto none = m_index->by_text(std::string(64, '9'));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  auto v = m_index->versions("https://gov.example/s1");
  ASSERT_TRUE(v);
  EXPECT_EQ(indexes(*v), (V{1, 3, 6}));
  auto latest = m_index->latest_version("https://gov.example/s1");
  ASSERT_TRUE(latest);
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->index, 6u);
  EXPECT_EQ((*latest)->id, id_of(6));
  auto missing = m_index->latest_version("https://gov.example/none");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto prefix_only = m_index->versions("https://gov.example/s"); // exact match only
  ASSERT_TRUE(prefix_only);
  EXPECT_TRUE(prefix_only->empty());
}

TEST_F(IndexTest, AuditCounts) {
  auto a = m_index->audit({}, 2);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->entries, 8u);
  EXPECT_EQ(a->statements, 6u);
  EXPECT_EQ(a->key_events, 2u);
  EXPECT_EQ(a->publishers, (std::vector<Count>{{"Ministry", 4}, {"Agency", 1}, {"وزارة الخارجية", 1}}));
  EXPECT_EQ(a->archivists, (std::vector<Count>{{k_arch1, 3}, {k_arch2, 3}}));
  EXPECT_EQ(a->langs, (std::vector<Count>{{"en", 3}, {"", 1}, {"ar", 1}, {"fr", 1}}));
  EXPECT_EQ(a->months, (std::vector<Count>{{"", 1}, {"2019-03", 1}, {"2019-04", 3}, {"2019-07", 1}}));
  EXPECT_EQ(a->top_sources, (std::vector<Count>{{"https://gov.example/s1", 3}, {"https://agency.example/s4", 1}}));
  EXPECT_EQ(indexes(a->key_event_rows), (V{0, 5}));

  Filter f;
  f.time_field = TimeField::captured;
  f.publisher = "Ministry";
  a = m_index->audit(f);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->entries, 4u);
  EXPECT_EQ(a->statements, 4u);
  EXPECT_EQ(a->key_events, 0u);
  EXPECT_EQ(a->months, (std::vector<Count>{{"2019-03", 1}, {"2019-04", 1}, {"2019-05", 1}, {"2019-06", 1}}));
  EXPECT_EQ(a->top_sources, (std::vector<Count>{{"https://gov.example/s1", 3}, {"https://gov.example/fr/s3", 1}}));
  EXPECT_TRUE(a->key_event_rows.empty());

  f = {};
  f.time_field = TimeField::captured;
  f.since = "2019-05-01";
  a = m_index->audit(f);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->entries, 4u);
  EXPECT_EQ(a->key_events, 1u);
  EXPECT_EQ(indexes(a->key_event_rows), (V{5}));
}

TEST_F(IndexTest, AddMustFollowOn) {
  const auto entries = fixture();
  // Wrong first index: a gap, and a repeat.
  for (std::uint64_t first : {9u, 7u, 0u}) {
    std::vector<IndexEntry> batch{statement(first, S{"https://x.example/", "", "", k_arch1, "2020-01-01T00:00:00Z",
                                                     "gap\n", "", std::nullopt})};
    auto r = m_index->add(batch, "other note");
    ASSERT_FALSE(r) << first;
    EXPECT_EQ(r.error().code, ErrorCode::failed_precondition);
    EXPECT_NE(r.error().message.find(fmt::format("cannot add entry {} (expected 8)", first)), std::string::npos)
        << r.error().message;
  }
  // A batch whose second entry skips is refused whole: nothing of it stays, the checkpoint is unchanged.
  std::vector<IndexEntry> batch{
      statement(8, S{"https://x.example/a", "", "", k_arch1, "2020-01-01T00:00:00Z", "eight\n", "", std::nullopt}),
      statement(10, S{"https://x.example/b", "", "", k_arch1, "2020-01-01T00:00:00Z", "ten\n", "", std::nullopt})};
  auto r = m_index->add(batch, "other note");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(m_index->size().value(), 8u);
  EXPECT_EQ(m_index->indexed_checkpoint().value(), std::optional<std::string>("checkpoint note 8\n"));
  EXPECT_EQ(grep("eight"), V{});
  // Given a batch at a time: a later batch's error (here the source's own) rolls back the earlier ones too.
  const auto batches = [&](bool fail_second) -> index::Index::EntryBatches {
    return [&, fail_second](const index::Index::EntrySink& sink) -> Expected<void> {
      if (auto ok = sink(std::span(batch).first(1)); !ok) return ok;
      if (fail_second) return std::unexpected(Error{ErrorCode::io, "spool cut short"});
      return {};
    };
  };
  r = m_index->add(batches(true), "other note");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "spool cut short");
  EXPECT_EQ(m_index->size().value(), 8u);
  EXPECT_EQ(grep("eight"), V{});
  EXPECT_EQ(m_index->indexed_checkpoint().value(), std::optional<std::string>("checkpoint note 8\n"));
  // The right one goes in.
  batch.pop_back();
  r = m_index->add(batch, "note 9");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(m_index->size().value(), 9u);
  EXPECT_EQ(m_index->indexed_checkpoint().value(), std::optional<std::string>("note 9"));
  EXPECT_EQ(grep("eight"), (V{8}));
  // An empty batch only moves the checkpoint.
  ASSERT_TRUE(m_index->add(std::span<const IndexEntry>{}, "note 9b"));
  EXPECT_EQ(m_index->indexed_checkpoint().value(), std::optional<std::string>("note 9b"));
  EXPECT_EQ(m_index->size().value(), 9u);
}

TEST_F(IndexTest, ClearAndRebuild) {
  ASSERT_TRUE(m_index->clear());
  EXPECT_EQ(m_index->size().value(), 0u);
  EXPECT_EQ(m_index->indexed_checkpoint().value(), std::nullopt);
  EXPECT_EQ(log({}), V{});
  EXPECT_EQ(grep("ministry"), V{});
  const auto entries = fixture();
  ASSERT_TRUE(m_index->add(entries, "again"));
  EXPECT_EQ(log({}), (V{7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(grep("ministry"), (V{1, 3, 7}));
}

TEST_F(IndexTest, ReopenPersistsAndMoves) {
  m_index.reset();
  auto again = Index::open(file());
  ASSERT_TRUE(again) << again.error().message;
  Index moved = std::move(*again);
  EXPECT_EQ(moved.size().value(), 8u);
  EXPECT_EQ(moved.indexed_checkpoint().value(), std::optional<std::string>("checkpoint note 8\n"));
  auto rows = moved.log({});
  ASSERT_TRUE(rows);
  EXPECT_EQ(indexes(*rows), (V{7, 6, 5, 4, 3, 2, 1, 0}));
  Filter f;
  f.grep = "الحكومة";
  rows = moved.log(f);
  ASSERT_TRUE(rows);
  EXPECT_EQ(indexes(*rows), (V{2}));
  // Two connections to one file see each other's writes.
  auto second = Index::open(file());
  ASSERT_TRUE(second) << second.error().message;
  std::vector<IndexEntry> batch{
      statement(8, S{"https://x.example/a", "", "", k_arch1, "2020-01-01T00:00:00Z", "eight\n", "", std::nullopt})};
  ASSERT_TRUE(second->add(batch, "n9"));
  EXPECT_EQ(moved.size().value(), 9u);
}

TEST_F(IndexTest, LogEachStreamsWhatLogReturns) {
  Filter f;
  f.publisher = "Ministry";
  f.limit = 2;
  auto whole = m_index->log(f);
  ASSERT_TRUE(whole);
  std::vector<Row> streamed;
  auto n = m_index->log_each(f, [&](const Row& r) { streamed.push_back(r); });
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(streamed, *whole);
  EXPECT_EQ(indexes(streamed), (V{6, 4}));
  f.since = "not a time";
  EXPECT_EQ(m_index->log_each(f, [](const Row&) { ADD_FAILURE() << "no row for a bad filter"; }).error().code,
            ErrorCode::invalid_input);
}

// A rebuild with IndexBuilder answers exactly as an index filled by add(), and replaces the old file only when done.
TEST_F(IndexTest, BuilderGivesTheSameIndexAndReplacesTheFile) {
  test::TempDir dir;
  const fs::path built = dir.path() / "index.sqlite";
  {
    auto old = Index::open(built); // an old index of another history, with its WAL: replaced whole
    ASSERT_TRUE(old);
    std::vector<IndexEntry> other{
        statement(0, S{"https://old.example/", "", "", k_arch1, "2020-01-01T00:00:00Z", "old words\n", "", {}})};
    ASSERT_TRUE(old->add(other, "old note"));
  }
  std::ofstream(built.string() + ".new") << "left by a killed build";
  auto b = IndexBuilder::create(built);
  ASSERT_TRUE(b) << b.error().message;
  auto all = fixture();
  ASSERT_TRUE(b->add(std::vector<IndexEntry>(all.begin(), all.begin() + 3)));
  ASSERT_TRUE(b->add(std::vector<IndexEntry>(all.begin() + 3, all.end())));
  {
    auto during = Index::open(built); // untouched until finish()
    ASSERT_TRUE(during);
    EXPECT_EQ(during->indexed_checkpoint().value(), std::optional<std::string>("old note"));
  }
  auto n = b->finish("checkpoint note 8\n");
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 8u);
  EXPECT_FALSE(fs::exists(built.string() + ".new"));
  auto idx = Index::open(built);
  ASSERT_TRUE(idx) << idx.error().message;
  EXPECT_EQ(idx->size().value(), 8u);
  EXPECT_EQ(idx->indexed_checkpoint().value(), std::optional<std::string>("checkpoint note 8\n"));
  EXPECT_EQ(idx->log({}).value(), m_index->log({}).value());
  for (const char* words : {"ministry", "cafe", "الحكومة", "old"}) {
    Filter f;
    f.grep = words;
    EXPECT_EQ(idx->log(f).value(), m_index->log(f).value()) << words;
  }
  EXPECT_EQ(idx->by_text(k_sha_a).value(), m_index->by_text(k_sha_a).value());
  EXPECT_EQ(idx->versions("https://gov.example/s1").value(), m_index->versions("https://gov.example/s1").value());
  EXPECT_EQ(idx->audit({}).value().publishers, m_index->audit({}).value().publishers);
  // It is an ordinary index afterwards: it follows on.
  std::vector<IndexEntry> next{
      statement(8, S{"https://x.example/a", "", "", k_arch1, "2020-01-01T00:00:00Z", "eight\n", "", std::nullopt})};
  ASSERT_TRUE(idx->add(next, "n9"));
  EXPECT_EQ(idx->size().value(), 9u);
}

// The root page of each secondary index and its SQL, as SQLite's schema has them (read through a connection of its
// own): an index that is sorted anew gets new pages.
std::map<std::string, std::pair<std::int64_t, std::string>> secondary_indexes(const fs::path& file) {
  std::map<std::string, std::pair<std::int64_t, std::string>> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "SELECT name, rootpage, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                               "'entries' AND sql IS NOT NULL",
                               -1, &s, nullptr),
            SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW)
    out[reinterpret_cast<const char*>(sqlite3_column_text(s, 0))] = {
        sqlite3_column_int64(s, 1), reinterpret_cast<const char*>(sqlite3_column_text(s, 2))};
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// `n` statements from index `first` on, over 40 sources, 3 publishers and 2 languages, every 500th with an original
// and every 1,000th after a key event.
std::vector<IndexEntry> many(std::uint64_t first, std::uint64_t n) {
  std::vector<IndexEntry> out;
  for (std::uint64_t i = first; i < first + n; ++i) {
    if (i % 1000 == 999) {
      out.push_back(key_event(i, "key.add", fmt::format("{:064x}", i), "2020-01-01T00:00:00Z"));
      continue;
    }
    IndexEntry e = statement(i, S{fmt::format("https://many.example/{}", i % 40), fmt::format("Publisher {}", i % 3),
                                  i % 2 ? "en" : "ar", i % 2 ? k_arch1 : k_arch2,
                                  fmt::format("2020-01-{:02}T00:00:00Z", 1 + i % 28),
                                  fmt::format("Statement number w{} of many.\n", i), "",
                                  utc("2020-01-01", fmt::format("2020-01-{:02}T12:00:00Z", 1 + i % 28))});
    if (i % 500 == 0) {
      auto& st = std::get<record::Statement>(e.record);
      st.original = record::OriginalRef{fmt::format("{:064x}", 0xe000 + i), 10, "utf-8"};
    }
    out.push_back(std::move(e));
  }
  return out;
}

TEST(IndexSortedAdd, TheRule) {
  EXPECT_FALSE(Index::sorts_indexes(0, 4095));        // too few to be worth ten sorts
  EXPECT_TRUE(Index::sorts_indexes(0, 4096));
  EXPECT_TRUE(Index::sorts_indexes(28672, 4096));     // an eighth of the 32,768 they make
  EXPECT_FALSE(Index::sorts_indexes(28673, 4096));
  EXPECT_TRUE(Index::sorts_indexes(800000, 200000));  // a pull of a fifth
  EXPECT_FALSE(Index::sorts_indexes(1000000, 100000));
  EXPECT_FALSE(Index::sorts_indexes(1000000, 0));
}

// Adding many entries with their secondary indexes sorted anew gives the index that adding them entry by entry gives,
// query for query; the indexes are new B-trees (so the sorted path ran) with the schema's own definitions.
TEST_F(IndexTest, ASortedAddGivesTheIndexOfAnAddEntryByEntry) {
  test::TempDir dir;
  const fs::path one_by_one = dir.path() / "one-by-one.sqlite";
  auto plain = Index::open(one_by_one);
  ASSERT_TRUE(plain);
  ASSERT_TRUE(plain->add(fixture(), "checkpoint note 8\n"));
  const auto before = secondary_indexes(file());
  ASSERT_EQ(before.size(), 10u);

  const auto more = many(8, 6000);
  const auto in_batches = [&](const Index::EntrySink& sink) -> Expected<void> {
    for (std::size_t k = 0; k < more.size(); k += 1000)
      if (auto ok = sink(std::span(more).subspan(k, std::min<std::size_t>(1000, more.size() - k))); !ok) return ok;
    return {};
  };
  ASSERT_TRUE(Index::sorts_indexes(8, more.size()));
  auto r = m_index->add(in_batches, "note 6008", more.size());
  ASSERT_TRUE(r) << r.error().message;
  r = plain->add(in_batches, "note 6008"); // incoming unknown: entry by entry
  ASSERT_TRUE(r) << r.error().message;

  const auto sorted = secondary_indexes(file());
  const auto kept = secondary_indexes(one_by_one);
  ASSERT_EQ(sorted.size(), 10u);
  for (const auto& [name, at] : sorted) {
    EXPECT_NE(at.first, before.at(name).first) << name << " was not sorted anew";
    EXPECT_EQ(at.second, before.at(name).second) << name;
    EXPECT_EQ(at.second, kept.at(name).second) << name;
  }
  EXPECT_EQ(m_index->size().value(), 6008u);
  EXPECT_EQ(m_index->indexed_checkpoint().value(), std::optional<std::string>("note 6008"));
  EXPECT_EQ(m_index->log({}).value(), plain->log({}).value());
  for (const std::optional<std::string> kind : {"statement", "key.add", "key.revoke"}) {
    Filter f;
    f.kind = kind;
    EXPECT_EQ(m_index->log(f).value(), plain->log(f).value()) << *kind;
  }
  EXPECT_EQ(indexes(m_index->log(Filter{.kind = "key.add"}).value()), (V{5999, 4999, 3999, 2999, 1999, 999, 0}));
  for (const char* words : {"w4321", "many", "ministry", "الحكومة"}) {
    Filter f;
    f.grep = words;
    EXPECT_EQ(m_index->log(f).value(), plain->log(f).value()) << words;
  }
  EXPECT_EQ(indexes(m_index->log(Filter{.grep = "w4321"}).value()), (V{4321}));
  EXPECT_EQ(indexes(m_index->by_original(fmt::format("{:064x}", 0xe000 + 3000)).value()), (V{3000}));
  EXPECT_EQ(m_index->by_original(k_sha_orig).value(), plain->by_original(k_sha_orig).value());
  EXPECT_EQ(m_index->by_text(fmt::format("{:064x}", 0xf000 + 5000)).value(),
            plain->by_text(fmt::format("{:064x}", 0xf000 + 5000)).value());
  EXPECT_EQ(m_index->versions("https://many.example/7").value(), plain->versions("https://many.example/7").value());
  EXPECT_EQ(m_index->key_ids().value(), plain->key_ids().value());
  EXPECT_EQ(m_index->key_ids().value().size(), 2u + 6u);
  Filter since;
  since.since = "2020-01-20";
  since.publisher = "Publisher 1";
  EXPECT_EQ(m_index->count(since).value(), plain->count(since).value());
  const auto a = m_index->audit({}).value();
  const auto b = plain->audit({}).value();
  EXPECT_EQ(a.publishers, b.publishers);
  EXPECT_EQ(a.top_sources, b.top_sources);
  EXPECT_EQ(a.key_events, b.key_events);
  EXPECT_EQ(a.key_events, 2u + 6u);
  // An ordinary index afterwards: a small add updates the indexes in place.
  std::vector<IndexEntry> next = many(6008, 1);
  ASSERT_TRUE(m_index->add(next, "note 6009"));
  EXPECT_EQ(secondary_indexes(file()), sorted);
  EXPECT_EQ(indexes(m_index->log(Filter{.grep = "w6008"}).value()), (V{6008}));
}

// A sorted add that fails half way (here the source of its entries) leaves the index as it was, indexes included.
TEST_F(IndexTest, AFailedSortedAddLeavesTheIndexAsItWas) {
  const auto before = secondary_indexes(file());
  const auto more = many(8, 5000);
  auto r = m_index->add(
      [&](const Index::EntrySink& sink) -> Expected<void> {
        if (auto ok = sink(std::span(more).first(4096)); !ok) return ok;
        return std::unexpected(Error{ErrorCode::io, "spool cut short"});
      },
      "other note", more.size());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "spool cut short");
  EXPECT_EQ(secondary_indexes(file()), before);
  EXPECT_EQ(m_index->size().value(), 8u);
  EXPECT_EQ(m_index->indexed_checkpoint().value(), std::optional<std::string>("checkpoint note 8\n"));
  EXPECT_EQ(indexes(m_index->log(Filter{.grep = "w100"}).value()), V{});
  EXPECT_EQ(indexes(m_index->versions("https://gov.example/s1").value()), (V{1, 3, 6}));
  // And the next add, sorted or not, works.
  r = m_index->add(more, "note 5008");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(indexes(m_index->log(Filter{.grep = "w100"}).value()), (V{100}));
}

TEST(IndexBuilder, FailedOrAbandonedBuildLeavesTheOldIndex) {
  test::TempDir dir;
  const fs::path file = dir.path() / "index.sqlite";
  {
    auto old = Index::open(file);
    ASSERT_TRUE(old);
    ASSERT_TRUE(old->add(std::vector<IndexEntry>{key_event(0, "key.add", k_arch1, "2019-01-01T00:00:00Z")}, "old"));
  }
  {
    auto b = IndexBuilder::create(file);
    ASSERT_TRUE(b);
    ASSERT_TRUE(b->add(std::vector<IndexEntry>{key_event(0, "key.add", k_arch1, "2019-01-01T00:00:00Z")}));
    EXPECT_TRUE(fs::exists(file.string() + ".new"));
  } // destroyed without finish()
  EXPECT_FALSE(fs::exists(file.string() + ".new"));
  {
    auto b = IndexBuilder::create(file);
    ASSERT_TRUE(b);
    (void)b->add(std::vector<IndexEntry>{key_event(1, "key.add", k_arch1, "2019-01-01T00:00:00Z")}); // not 0
    auto n = b->finish("new");
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, ErrorCode::failed_precondition);
    EXPECT_EQ(n.error().message, fmt::format("index '{}.new' holds 0 entries; cannot add entry 1 (expected 0)",
                                             file.string()));
  }
  EXPECT_FALSE(fs::exists(file.string() + ".new"));
  auto idx = Index::open(file);
  ASSERT_TRUE(idx);
  EXPECT_EQ(idx->indexed_checkpoint().value(), std::optional<std::string>("old"));
  EXPECT_EQ(idx->size().value(), 1u);
}

void write_bytes(const fs::path& p, const std::string& data, std::streamoff at = -1) {
  std::fstream out(p, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(out) << p;
  if (at >= 0) out.seekp(at);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

TEST(IndexFile, GarbageFileIsRefusedThenRebuilt) {
  test::TempDir dir;
  const fs::path file = dir.path() / "index.sqlite";
  {
    auto idx = Index::open(file);
    ASSERT_TRUE(idx) << idx.error().message;
    const auto entries = fixture();
    ASSERT_TRUE(idx->add(entries, "n"));
  }
  Index::remove(file).value(); // drop the WAL companions too, then put garbage in the main file
  test::write_file(file, std::string(8192, '\x5a') + "this is not a database");
  auto bad = Index::open(file);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(bad.error().message,
            fmt::format("index '{}' is damaged: file is not a database", file.string()));
  ASSERT_TRUE(Index::remove(file));
  EXPECT_FALSE(fs::exists(file));
  auto fresh = Index::open(file);
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(fresh->size().value(), 0u);
  EXPECT_EQ(fresh->indexed_checkpoint().value(), std::nullopt);
}

TEST(IndexFile, DamagedHeaderIsRefused) {
  test::TempDir dir;
  const fs::path file = dir.path() / "index.sqlite";
  {
    auto idx = Index::open(file);
    ASSERT_TRUE(idx) << idx.error().message;
    const auto entries = fixture();
    ASSERT_TRUE(idx->add(entries, "n"));
    ASSERT_TRUE(idx->clear()); // checkpoint the WAL into the main file on close
  }
  ASSERT_FALSE(fs::exists(file.string() + "-wal"));
  write_bytes(file, "garbage garbage!", 0); // the 16-byte magic string
  auto bad = Index::open(file);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::failed_precondition);
  EXPECT_NE(bad.error().message.find("file is not a database"), std::string::npos) << bad.error().message;
}

TEST(IndexFile, DamagedPagesAreReportedNotTrusted) {
  test::TempDir dir;
  const fs::path file = dir.path() / "index.sqlite";
  {
    auto idx = Index::open(file);
    ASSERT_TRUE(idx) << idx.error().message;
    const auto entries = fixture();
    ASSERT_TRUE(idx->add(entries, "n"));
  }
  ASSERT_FALSE(fs::exists(file.string() + "-wal"));
  const auto size = fs::file_size(file);
  ASSERT_GT(size, 8192u);
  // Keep page 1 (header and schema); overwrite every other page with garbage.
  std::string garbage(size - 4096, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 131 + 7) & 0xFF);
  write_bytes(file, garbage, 4096);
  auto idx = Index::open(file);
  std::optional<Error> error;
  if (!idx) {
    error = idx.error();
  } else if (auto rows = idx->log({}); !rows) {
    error = rows.error();
  }
  ASSERT_TRUE(error) << "damage went unnoticed";
  EXPECT_EQ(error->code, ErrorCode::failed_precondition) << error->message;
  EXPECT_TRUE(error->message.starts_with(fmt::format("index '{}' is damaged: ", file.string()))) << error->message;
}

TEST(IndexFile, OtherDatabasesAndVersionsAreRefused) {
  test::TempDir dir;
  const fs::path file = dir.path() / "index.sqlite";
  {
    auto idx = Index::open(file);
    ASSERT_TRUE(idx) << idx.error().message;
  }
  // Same file, but an unknown schema version: bump user_version through a second connection-free route: header
  // bytes 60..63 hold user_version (big-endian).
  write_bytes(file, std::string("\x00\x00\x00\x63", 4), 60);
  auto bad = Index::open(file);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(bad.error().message, fmt::format("index '{}' has schema version 99, expected 6", file.string()));

  // A SQLite database that is not an index.
  const fs::path other = dir.path() / "other.sqlite";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  bad = Index::open(other);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(bad.error().message, fmt::format("'{}' is a SQLite database but not an avow index", other.string()));

  // An empty file is a fresh database; a missing folder is an io error.
  const fs::path empty = dir.path() / "empty.sqlite";
  test::write_file(empty, "");
  auto e = Index::open(empty);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->size().value(), 0u);
  auto missing = Index::open(dir.path() / "no" / "such" / "index.sqlite");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::io);
}

TEST_F(IndexTest, LangComparesInAnyCaseAndBySubtag) {
  IndexEntry gb = statement(8, S{"https://gov.example/gb", "Council", "en-GB", k_arch1, "2019-08-01T00:00:00Z",
                                 "Colour.\n", "", std::nullopt});
  IndexEntry engl = statement(9, S{"https://gov.example/engl", "Council", "engl", k_arch1, "2019-08-01T00:00:00Z",
                                   "Old.\n", "", std::nullopt});
  ASSERT_TRUE(m_index->add(std::vector<IndexEntry>{gb, engl}, "checkpoint note 10\n"));
  Filter f;
  f.lang = "EN";
  EXPECT_EQ(log(f), (V{8, 6, 3, 1})); // en and en-GB, not "engl"
  f.lang = "en-gb";
  EXPECT_EQ(log(f), (V{8}));
  f.lang = "En-Gb-x";
  EXPECT_EQ(log(f), V{});
  f.lang = "AR";
  EXPECT_EQ(log(f), (V{2}));
  f.lang = "e";
  EXPECT_EQ(log(f), V{});
  f.lang = "%"; // not a LIKE pattern
  EXPECT_EQ(log(f), V{});
  EXPECT_EQ(m_index->count(f).value(), 0u);
  f.lang = "en";
  EXPECT_EQ(m_index->count(f).value(), 4u);
}

TEST_F(IndexTest, CountNearSourcesAndKeyIds) {
  Filter f;
  EXPECT_EQ(m_index->count(f).value(), 8u);
  f.publisher = "Ministry";
  f.limit = 1; // ignored
  EXPECT_EQ(m_index->count(f).value(), 4u);
  f.since = "nonsense";
  EXPECT_FALSE(m_index->count(f));

  EXPECT_EQ(m_index->near_sources("https://gov.example/s1/", 3).value(),
            (std::vector<Count>{{"https://gov.example/s1", 3}}));
  EXPECT_EQ(m_index->near_sources("HTTPS://GOV.EXAMPLE:443/s1#x", 3).value(),
            (std::vector<Count>{{"https://gov.example/s1", 3}}));
  EXPECT_EQ(m_index->near_sources("https://gov.example/s1", 3).value(), std::vector<Count>{}); // itself is not near
  EXPECT_EQ(m_index->near_sources("https://gov.example/S1", 3).value(), std::vector<Count>{}); // paths keep case
  EXPECT_EQ(m_index->near_sources("http://gov.example/s1", 3).value(), std::vector<Count>{});  // schemes differ

  EXPECT_EQ(m_index->key_ids().value(), (std::vector<std::string>{k_arch1, k_log_key}));
}

// A source is looked up by (source_key, source): one written differently from s1 but with s1's key is its own source
// to every look-up, and the other's "did you mean". (A look-up that bound anything but source_key(source) first would
// find no source whose key differs from it, as this one's does.)
TEST_F(IndexTest, ASourceWithTheKeyOfAnotherIsStillItsOwn) {
  const std::string odd = "HTTPS://Gov.Example:443/s1/#v2";
  ASSERT_EQ(source_key(odd), "https://gov.example/s1");
  const std::vector<IndexEntry> batch{
      statement(8, S{odd, "Ministry", "en", k_arch1, "2019-08-01T00:00:00Z", "Odd.\n", "", std::nullopt})};
  ASSERT_TRUE(m_index->add(batch, "checkpoint note 9\n"));
  Filter f;
  f.oldest_first = true;
  f.source = odd;
  EXPECT_EQ(log(f), (V{8}));
  EXPECT_EQ(m_index->count(f).value(), 1u);
  f.source = "https://gov.example/s1";
  EXPECT_EQ(log(f), (V{1, 3, 6}));
  EXPECT_EQ(indexes(m_index->versions(odd).value()), (V{8}));
  EXPECT_EQ(indexes(m_index->versions("https://gov.example/s1").value()), (V{1, 3, 6}));
  EXPECT_EQ(m_index->latest_version(odd).value().value().index, 8u);
  EXPECT_EQ(m_index->latest_version("https://gov.example/s1").value().value().index, 6u);
  EXPECT_EQ(m_index->near_sources(odd, 3).value(), (std::vector<Count>{{"https://gov.example/s1", 3}}));
  EXPECT_EQ(m_index->near_sources("https://gov.example/s1", 3).value(), (std::vector<Count>{{odd, 1}}));
  auto a = m_index->audit({}, 3);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->top_sources,
            (std::vector<Count>{{"https://gov.example/s1", 3}, {odd, 1}, {"https://agency.example/s4", 1}}));
}

TEST_F(IndexTest, SimilarTextsShortlistsByTellingWords) {
  auto r = m_index->similar_texts("The ministry withdrew its new policy.\n", 20);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_FALSE(r->empty());
  EXPECT_EQ(r->front().index, 3u); // "withdrew" is rare
  for (const auto& row : *r) EXPECT_EQ(row.kind, "statement");
  auto one = m_index->similar_texts("The ministry withdrew its new policy.\n", 1);
  ASSERT_TRUE(one);
  EXPECT_EQ(indexes(*one), (V{3}));
  EXPECT_EQ(indexes(m_index->similar_texts("zzyzx qwertyuiop -- \"\" ...", 20).value()), V{});
  EXPECT_EQ(indexes(m_index->similar_texts("", 20).value()), V{});
  // Words are found as --grep finds them: harakat and Latin diacritics folded.
  EXPECT_EQ(indexes(m_index->similar_texts("الحكومة", 20).value()), (V{2}));
  EXPECT_EQ(indexes(m_index->similar_texts("\"cafe\"", 20).value()), (V{1, 7}));
}

TEST(IndexSourceKey, DropsWhatDoesNotNameAnotherPlace) {
  EXPECT_EQ(source_key("https://e.org/x/"), "https://e.org/x");
  EXPECT_EQ(source_key("HTTPS://E.Org:443/x#frag"), "https://e.org/x");
  EXPECT_EQ(source_key("http://e.org:80/x//?q=1#f"), "http://e.org/x?q=1");
  EXPECT_EQ(source_key("http://e.org:8080/x"), "http://e.org:8080/x");
  EXPECT_EQ(source_key("https://e.org:/X/"), "https://e.org/X");
  EXPECT_EQ(source_key("https://User@E.org/"), "https://User@e.org");
  EXPECT_EQ(source_key("http://[::1]:80/a"), "http://[::1]/a");
  EXPECT_EQ(source_key("urn:Dataset:x/"), "urn:Dataset:x");
  EXPECT_EQ(source_key("URN:x#y"), "urn:x");
  EXPECT_EQ(source_key("no scheme/"), "no scheme");
  EXPECT_EQ(source_key(""), "");
}

TEST(IndexResolveKeyPrefix, UniquePrefixOfEightOrMoreHexDigits) {
  const std::vector<std::string> ids{"33eaca31519d3bbd" + std::string(48, '0'), "33eaca31ffff0000" + std::string(48, '1'),
                                     "abcdef01" + std::string(56, '2')};
  EXPECT_EQ(resolve_key_prefix("33eaca31519d3bbd", ids).value(), ids[0]);
  EXPECT_EQ(resolve_key_prefix("33EACA31519D", ids).value(), ids[0]);
  EXPECT_EQ(resolve_key_prefix("ABCDEF01", ids).value(), ids[2]);
  EXPECT_EQ(resolve_key_prefix(ids[1], ids).value(), ids[1]);
  const std::string unknown(64, 'F');
  EXPECT_EQ(resolve_key_prefix(unknown, ids).value(), std::string(64, 'f')); // a full id is taken as is
  EXPECT_EQ(resolve_key_prefix("0123456789", ids).value(), "0123456789");    // names no key: matches nothing
  auto ambiguous = resolve_key_prefix("33eaca31", ids);
  ASSERT_FALSE(ambiguous);
  EXPECT_EQ(ambiguous.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(ambiguous.error().message,
            "--archivist '33eaca31' is ambiguous: 2 key ids start with it: " + ids[0] + ", " + ids[1]);
  for (const std::string& bad :
       std::vector<std::string>{"33eaca3", "", "33eaca3g519d3bbd", "33eaca31 ", std::string(65, 'a')}) {
    auto r = resolve_key_prefix(bad, ids);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(r.error().message, "--archivist '" + bad + "' is not a key id: expected 8 to 64 hex digits");
  }
}

// A key.add event, for tests that need an entry and not what it says.
record::KeyEvent a_key_add() {
  record::KeyEvent ev;
  ev.kind = "key.add";
  ev.key_id = std::string(64, 'a');
  ev.archivist = std::string(64, 'b');
  ev.captured = "2024-01-01T00:00:00Z";
  return ev;
}

// A write feeds the index in one transaction while it writes its packs, which can take minutes: opening the index
// meanwhile (any reader) must not wait for that transaction, and sees the index as it was until it commits. The
// checkpoint's note is asked for after the last batch; an error from it rolls the whole addition back.
TEST(IndexFile, OpeningItWaitsForNoWriterAndTheNoteComesLast) {
  test::TempDir dir;
  const fs::path file = dir.path() / "index.sqlite";
  auto a = Index::open(file);
  ASSERT_TRUE(a) << a.error().message;
  const record::KeyEvent ev = a_key_add();
  const std::vector<IndexEntry> entries{{0, std::string(64, 'c'), ev, {}}};

  std::mutex m;
  std::condition_variable cv;
  bool sunk = false, go_on = false;
  bool note_asked_after_batches = false;
  Expected<void> added;
  std::thread writer([&] {
    added = a->add(
        [&](const Index::EntrySink& sink) -> Expected<void> {
          if (auto ok = sink(entries); !ok) return ok;
          std::unique_lock lk(m);
          sunk = true;
          cv.notify_all();
          cv.wait(lk, [&] { return go_on; });
          return {};
        },
        [&]() -> Expected<std::string> {
          std::lock_guard lk(m);
          note_asked_after_batches = go_on;
          return std::string("late note");
        });
  });
  {
    std::unique_lock lk(m);
    cv.wait(lk, [&] { return sunk; });
  }
  const auto start = std::chrono::steady_clock::now();
  auto b = Index::open(file);
  const auto took = std::chrono::steady_clock::now() - start;
  {
    std::lock_guard lk(m);
    go_on = true;
  }
  cv.notify_all();
  writer.join();
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_LT(took, std::chrono::seconds(2)); // SQLite's busy wait is 10 s
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_TRUE(note_asked_after_batches);
  EXPECT_EQ(b->size().value(), 1u);
  EXPECT_EQ(b->indexed_checkpoint().value(), std::optional<std::string>("late note"));

  // A note that cannot be had: nothing added.
  const std::vector<IndexEntry> more{{1, std::string(64, 'd'), ev, {}}};
  auto failed = a->add([&](const Index::EntrySink& sink) { return sink(more); },
                       []() -> Expected<std::string> { return std::unexpected(Error{ErrorCode::internal, "no note"}); });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "no note");
  EXPECT_EQ(b->size().value(), 1u);
  EXPECT_EQ(b->indexed_checkpoint().value(), std::optional<std::string>("late note"));
}

TEST(IndexLock, SerialisesUpdatersAndDiesWithItsHolder) {
  test::TempDir dir;
  const fs::path file = dir.path() / "index.sqlite";
  EXPECT_EQ(IndexLock::lock_path(file), dir.path() / "index.lock");
  auto first = IndexLock::acquire(file, std::chrono::milliseconds(0));
  ASSERT_TRUE(first) << first.error().message;
  // A second holder (another open file description, as another process would have) waits, then gives up.
  const auto start = std::chrono::steady_clock::now();
  auto second = IndexLock::acquire(file, std::chrono::milliseconds(100));
  ASSERT_FALSE(second);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  EXPECT_EQ(second.error().code, ErrorCode::failed_precondition);
  EXPECT_TRUE(second.error().message.starts_with("the index is being updated by another process (waited "))
      << second.error().message;
  // Released when the holder goes (a process's flock goes with it), and the file stays.
  first = IndexLock::acquire(dir.path() / "other.sqlite", std::chrono::milliseconds(0));
  auto third = IndexLock::acquire(file, std::chrono::milliseconds(0));
  EXPECT_TRUE(third) << third.error().message;
  EXPECT_TRUE(fs::exists(dir.path() / "index.lock"));
}

// The failure the lock prevents: two connections that both saw the index at size N both add entry N.
TEST(IndexLock, UnlockedFollowOnFromTwoConnectionsConflicts) {
  test::TempDir dir;
  const fs::path file = dir.path() / "index.sqlite";
  auto a = Index::open(file);
  auto b = Index::open(file);
  ASSERT_TRUE(a && b);
  const record::KeyEvent ev = a_key_add();
  const std::vector<IndexEntry> entries{{0, std::string(64, 'c'), ev, {}}};
  ASSERT_TRUE(a->add(entries, "note"));
  auto again = b->add(entries, "note");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message,
            fmt::format("index '{}' holds 1 entries; cannot add entry 0 (expected 1)", file.string()));
}

} // namespace
} // namespace avow::index
