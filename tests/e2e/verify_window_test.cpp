// End-to-end: verify reads and checks the log a window of entries at a time (verify::Options::window), keeping only a
// few bytes an entry across windows, so that its memory does not grow with the archive. These tests check that the
// report does not depend on the window: an archive of 701 entries in three batches (checkpoints of 301, 501 and 701
// entries, none on a window's edge), checked with windows of 256 entries and of the default, must give the same
// counts and, once tampered with, the same problems, among them the ones that span windows: a record repeated 691
// entries later, and a text two statements in different windows share, altered (reported once).

#include <tests/support/support.hpp>

#include <archive/record/layout.hpp>
#include <archive/store/git_store.hpp>
#include <archive/verify/verify.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace avow::test {
namespace {

std::string statement_line(int n, const std::string& text) {
  return nlohmann::json({{"text", text}, {"source", "https://example.org/window/" + std::to_string(n)}}).dump() + "\n";
}

// Archive statements [from, to) in one batch. Statement 650 repeats the text of statement 10.
void batch(TempArchive& a, int from, int to) {
  std::string manifest;
  for (int n = from; n < to; ++n)
    manifest += statement_line(n, n == 650 ? "Statement 10 of the window test.\n"
                                           : "Statement " + std::to_string(n) + " of the window test.\n");
  const auto m = a.file("m" + std::to_string(from) + ".jsonl", manifest);
  const auto r = a.avow({"-q", "archive", "--batch", m});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

verify::Report run_verify(const TempArchive& a, std::uint64_t window) {
  auto store = store::GitStore::open(a.dir());
  EXPECT_TRUE(store.has_value());
  verify::Options options;
  options.window = window;
  auto report = verify::run(*store, options);
  EXPECT_TRUE(report.has_value()) << report.error().message;
  return *report;
}

std::vector<std::string> described(const verify::Report& r) {
  std::vector<std::string> out;
  for (const auto& p : r.problems)
    out.push_back(p.kind + " entry=" + (p.entry ? std::to_string(*p.entry) : "-") + " path=" + p.path.value_or("-") +
                  " commit=" + p.commit.value_or("-") + ": " + p.message);
  return out;
}

class VerifyWindow : public ::testing::Test {
protected:
  void SetUp() override {
    batch(a, 0, 300);
    batch(a, 300, 500);
    batch(a, 500, 700);
  }
  TempArchive a;
};

TEST_F(VerifyWindow, ACleanArchiveGivesTheSameReportWhateverTheWindow) {
  const auto small = run_verify(a, 256);
  const auto large = run_verify(a, 8192);
  EXPECT_TRUE(small.ok()) << testing::PrintToString(described(small));
  EXPECT_TRUE(large.ok()) << testing::PrintToString(described(large));
  EXPECT_EQ(small.entries, 701u);
  EXPECT_EQ(small.statements, 700u);
  EXPECT_EQ(small.texts, 699u); // statements 10 and 650 share their text
  EXPECT_EQ(small.checkpoints, 4u);
  EXPECT_EQ(small.entries, large.entries);
  EXPECT_EQ(small.statements, large.statements);
  EXPECT_EQ(small.texts, large.texts);
  EXPECT_EQ(small.root_hex, large.root_hex);
  // A window that is not a multiple of 256 is rounded up, and one entry's window is a bundle's.
  EXPECT_TRUE(run_verify(a, 1).ok());
  EXPECT_TRUE(run_verify(a, 300).ok());
}

TEST_F(VerifyWindow, ProblemsAcrossWindowsAreTheSameWhateverTheWindow) {
  // Entry 11 (statement 10) appended again as entry 701, in a commit signed as the writer signs.
  const auto entries = log_entries(a.dir());
  ASSERT_EQ(entries.size(), 701u);
  append_raw_entries(a.dir(), {entries[11]});
  // The text statements 10 (entry 11, window 0) and 650 (entry 651, window 2) share, altered; and a stray file among
  // the texts, named like one.
  const auto shown = a.avow({"log", "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  std::string text_path;
  for (const auto& line : shown.json())
    if (line.contains("index") && line["index"] == 11) text_path = record::text_path(line["text_sha256"].get<std::string>());
  ASSERT_FALSE(text_path.empty()) << shown.out.substr(0, 500);
  a.git_replace(text_path, "Statement 10, altered.\n");
  a.git_replace(record::text_path(std::string(64, '0')), "A stray file named like a text.\n");

  const auto small = run_verify(a, 256);
  const auto large = run_verify(a, 8192);
  EXPECT_EQ(described(small), described(large));
  const auto count = [&](const std::string& kind, std::uint64_t entry) {
    return std::count_if(small.problems.begin(), small.problems.end(),
                         [&](const verify::Problem& p) { return p.kind == kind && p.entry == entry; });
  };
  EXPECT_EQ(count("duplicate_record", 701), 1) << testing::PrintToString(described(small));
  EXPECT_EQ(count("text_mismatch", 11), 1) << testing::PrintToString(described(small));
  EXPECT_EQ(count("text_mismatch", 651), 0) << "a claim is reported once, for its first entry";
  const auto stray = std::count_if(small.problems.begin(), small.problems.end(), [&](const verify::Problem& p) {
    return p.kind == "stray_file" && p.path == record::text_path(std::string(64, '0'));
  });
  EXPECT_EQ(stray, 1) << testing::PrintToString(described(small));
}

} // namespace
} // namespace avow::test
