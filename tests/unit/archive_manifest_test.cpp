// ManifestReader (archive/manifest.hpp): a manifest read a line at a time must give exactly what parse_manifest gives
// for the same bytes (inputs, labels with their real line numbers, errors), count its statements first, and read a
// pipe, which cannot be read twice, as well as a file.

#include <archive/manifest.hpp>

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace avow {
namespace {
namespace fs = std::filesystem;

const std::string k_manifest = "\n"
                               R"({"text": "One.\n", "source": "https://e.org/1", "title": "T"})" "\r\n"
                               "  \t\r\n"
                               R"({"text": "Two.\n", "source": "https://e.org/2", "dataset": "d"})" "\n"
                               "\n"
                               R"({"path": "three.txt", "source": "https://e.org/3"})"; // no final newline

std::vector<StatementInput> read_all(InputSource& source) {
  std::vector<StatementInput> out;
  for (;;) {
    auto in = source.next();
    EXPECT_TRUE(in) << in.error().message;
    if (!in || !*in) return out;
    out.push_back(std::move(**in));
  }
}

void expect_same(const std::vector<StatementInput>& a, const std::vector<StatementInput>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].label, b[i].label);
    EXPECT_EQ(a[i].bytes, b[i].bytes);
    EXPECT_EQ(a[i].source, b[i].source);
    EXPECT_EQ(a[i].title, b[i].title);
    EXPECT_EQ(a[i].meta, b[i].meta);
  }
}

TEST(ManifestReader, GivesWhatParseManifestGivesWithRealLineNumbers) {
  test::TempDir t;
  const fs::path m = t / "m.jsonl";
  test::write_file(m, k_manifest);
  test::write_file(t / "three.txt", "Three.\n");
  auto reader = ManifestReader::open(m);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->count(), 3u);
  const auto streamed = read_all(**reader);
  ASSERT_EQ(streamed.size(), 3u);
  EXPECT_EQ(streamed[0].label, m.string() + ":2");
  EXPECT_EQ(streamed[1].label, m.string() + ":4");
  EXPECT_EQ(streamed[2].label, m.string() + ":6");
  EXPECT_EQ(streamed[0].bytes, "One.\n");
  EXPECT_EQ(streamed[1].meta, (std::map<std::string, std::string>{{"dataset", "d"}}));
  EXPECT_EQ(streamed[2].bytes, "Three.\n");
  auto whole = parse_manifest(k_manifest, m.string(), t.path());
  ASSERT_TRUE(whole) << whole.error().message;
  expect_same(streamed, *whole);
  // After the last one, it stays at the end.
  auto after = (*reader)->next();
  ASSERT_TRUE(after);
  EXPECT_FALSE(*after);
}

TEST(ManifestReader, FailsAtTheFirstBadLineAfterGivingTheOnesBefore) {
  test::TempDir t;
  const fs::path m = t / "m.jsonl";
  test::write_file(m, R"({"text": "One.\n", "source": "https://e.org/1"})" "\n\n"
                      R"({"text": "No source.\n"})" "\n"
                      R"({"text": "Four.\n", "source": "https://e.org/4"})" "\n");
  auto reader = ManifestReader::open(m);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->count(), 3u); // counted, not parsed
  auto first = (*reader)->next();
  ASSERT_TRUE(first && *first);
  auto second = (*reader)->next();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(second.error().message, m.string() + ":3: missing source");
  const auto whole = parse_manifest(test::read_file(m), m.string(), t.path());
  ASSERT_FALSE(whole);
  EXPECT_EQ(whole.error().message, second.error().message);
}

TEST(ManifestReader, RefusesAManifestWithoutStatementsOrMissing) {
  test::TempDir t;
  const fs::path m = t / "blank.jsonl";
  test::write_file(m, "\n  \r\n\t\n");
  auto reader = ManifestReader::open(m);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(reader.error().message, m.string() + ": the manifest holds no statement");
  auto missing = ManifestReader::open(t / "none.jsonl");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

// `--batch <(generate)`: a pipe is read once, whole, then given a line at a time like a file.
TEST(ManifestReader, ReadsAPipe) {
  test::TempDir t;
  const fs::path fifo = t / "m.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  test::write_file(t / "three.txt", "Three.\n");
  std::jthread writer([&] {
    std::ofstream out(fifo, std::ios::binary);
    out << k_manifest;
  });
  auto reader = ManifestReader::open(fifo);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->count(), 3u);
  const auto streamed = read_all(**reader);
  auto whole = parse_manifest(k_manifest, fifo.string(), t.path());
  ASSERT_TRUE(whole) << whole.error().message;
  expect_same(streamed, *whole);
}

} // namespace
} // namespace avow
