// End-to-end: `archive --batch` reads its manifest a line at a time and writes it a window of 2,048 statements at a
// time (Archive::append with a ManifestReader), so that a large batch never holds all its statements in memory. These
// tests check what a user could lose by that: a bad line found after earlier windows were packed to disk still leaves
// the archive exactly as it was, and revisions and duplicates are resolved across windows as within one.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

namespace avow::test {
namespace {
namespace fs = std::filesystem;

std::string line(const std::string& text, const std::string& source) {
  return nlohmann::json({{"text", text}, {"source", source}}).dump() + "\n";
}

// 2,100 statements of 33,000 bytes: the first window alone stages more than the 48 MiB after which the write packs
// its objects to disk. The bad line comes in the second window, after that pack was written.
TEST(CliBatchStream, ABadLineAfterTheFirstWindowWasPackedLeavesTheArchiveAsItWas) {
  TempArchive a;
  a.archive_text("A statement archived before the batch.\n");
  std::string manifest;
  for (int n = 0; n < 2100; ++n) {
    std::string text;
    for (int k = 0; text.size() < 33000; ++k) text += "Statement " + std::to_string(n) + ", line " + std::to_string(k) + ".\n";
    text.resize(32999);
    text += "\n";
    manifest += line(text, "https://example.org/big/" + std::to_string(n));
  }
  const auto good = a.file("good.jsonl", manifest);
  const auto bad = a.file("bad.jsonl", manifest + R"({"text": "No source."})" "\n");
  const std::string before = a.git_snapshot();
  const auto packs = [&] {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(a.dir() / ".git" / "objects" / "pack")) n += e.path().extension() == ".pack";
    return n;
  };
  const std::size_t packs_before = packs();

  const auto r = a.avow({"archive", "--batch", bad});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "avow: error: " + bad + ":2101: missing source\n");
  EXPECT_EQ(packs(), packs_before) << "the packs of the abandoned write are removed";
  EXPECT_EQ(a.git_snapshot(), before) << "the archive changed";
  const auto v = a.avow({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  // The same statements without the bad line: all of them, in one commit.
  const auto ok = a.avow({"archive", "--batch", good, "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto j = ok.json();
  EXPECT_EQ(j["records"].size(), 2100u);
  EXPECT_EQ(j["tree_size"], 2102u);
  EXPECT_EQ(j["records"][2099]["index"], 2101u);
  EXPECT_EQ(j["records"][2099]["input"], good + ":2100");
  EXPECT_EQ(a.git({"rev-list", "--count", "main"}).out, "3\n");
  const auto v2 = a.avow({"verify"});
  EXPECT_EQ(v2.exit_code, 0) << v2.out << v2.err;
  EXPECT_EQ(a.git({"fsck", "--strict"}).exit_code, 0);
}

// A new text from a source the first window archived supersedes it, and a line repeating one of the first window is
// dropped, both in the second window (the unit test AppendStages.VersionsChainAcrossWindows covers an explicit
// supersedes across windows).
TEST(CliBatchStream, RevisionsAndDuplicatesAreResolvedAcrossWindows) {
  TempArchive a;
  std::string manifest;
  for (int n = 0; n < 2050; ++n)
    manifest += line("Statement " + std::to_string(n) + ".\n", "https://example.org/w/" + std::to_string(n));
  manifest += line("Statement 0, revised.\n", "https://example.org/w/0"); // line 2051: a new version of line 1
  manifest += line("Statement 1.\n", "https://example.org/w/1");          // line 2052: the same as line 2
  const auto m = a.file("m.jsonl", manifest);
  const auto r = a.avow({"archive", "--batch", m, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = r.json();
  ASSERT_EQ(j["records"].size(), 2051u);
  const std::string first_id = j["records"][0]["id"];
  const auto& revised = j["records"][2050];
  EXPECT_EQ(revised["input"], m + ":2051");
  EXPECT_EQ(revised["notes"], nlohmann::json::array({"supersedes " + first_id + ", the previous version from this source"}));
  ASSERT_EQ(j["notices"].size(), 1u);
  EXPECT_EQ(j["notices"][0], "'" + m + ":2052': this text from this source is already archived as " +
                                 std::string(j["records"][1]["id"]) +
                                 "; nothing recorded (use --recapture to record a new capture)");
  const auto h = a.avow({"history", "--source", "https://example.org/w/0", "--json"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_EQ(h.json()["versions"].size(), 2u);
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

} // namespace
} // namespace avow::test
