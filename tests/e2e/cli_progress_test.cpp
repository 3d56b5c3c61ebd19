// End-to-end: the progress bar (tool/progress.hpp) of the long commands. Nothing of it reaches stderr when stderr is
// not a terminal, or with -q; under a pseudo-terminal `verify`, `reindex` and `archive --batch` draw it and erase it.

#include <tests/support/support.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

namespace avow::test {
namespace {

constexpr int k_statements = 2000; // + the key.add init writes: 2,001 entries

// Archive `n` short statements "<what> <i>." (sources https://e.org/<path>/<i>) in one batch; returns its result.
RunResult archive_numbered(const TempArchive& a, int n, std::string_view what, std::string_view path) {
  std::string manifest;
  for (int i = 0; i < n; ++i)
    manifest += fmt::format(R"({{"text":"{} {}.\n","source":"https://e.org/{}/{}"}})", what, i, path, i) + "\n";
  return a.avow({"archive", "--batch", a.file("m.jsonl", manifest)});
}

// Run avow -C `a` under a pseudo-terminal (util-linux script) and return what the terminal received.
RunResult under_pty(const TempArchive& a, const std::vector<std::string>& args) {
  std::string command = "'" + avow_bin() + "' -C '" + a.dir().string() + "'";
  for (const auto& x : args) command += " '" + x + "'";
  return run_process({"script", "-qfec", command, "/dev/null"}, {}, a.env());
}

class CliProgress : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    archive = new TempArchive();
    auto r = archive_numbered(*archive, k_statements, "Progress statement number", "p");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Not a terminal: the summary line only, no bar.
    EXPECT_EQ(r.err, fmt::format("avow: archived {} statements; log size {}\n", k_statements, k_statements + 1));
  }
  static void TearDownTestSuite() {
    delete archive;
    archive = nullptr;
  }
  static TempArchive* archive;
  static RunResult under_pty(const std::vector<std::string>& args) { return test::under_pty(*archive, args); }
};
TempArchive* CliProgress::archive = nullptr;

TEST_F(CliProgress, NothingOnStderrWhenItIsNotATerminal) {
  auto v = archive->avow({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(v.err, "");
  auto q = archive->avow({"verify", "--quick"});
  EXPECT_EQ(q.exit_code, 0) << q.out << q.err;
  EXPECT_EQ(q.err, "");
  auto r = archive->avow({"reindex"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("index rebuilt: {} entries\n", k_statements + 1));
  EXPECT_EQ(r.err, "");
}

TEST_F(CliProgress, VerifyDrawsTheBarOnATerminalAndErasesIt) {
  if (run_process({"script", "-V"}).exit_code != 0) GTEST_SKIP() << "script (util-linux) is not installed";
  auto r = under_pty({"verify"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The final state of the bar: every entry checked, then the line erased before the report.
  const std::string last = "\r\033[K[========================] 2,001/2,001";
  const auto at = r.out.find(last);
  ASSERT_NE(at, std::string::npos) << r.out;
  const auto erased = r.out.find("\r\033[K", at + last.size());
  ASSERT_NE(erased, std::string::npos) << r.out;
  EXPECT_LT(erased, r.out.find("verified")) << r.out;
  // The report itself is unchanged.
  EXPECT_NE(r.out.find("verified"), std::string::npos) << r.out;
}

TEST_F(CliProgress, QuickVerifyAndReindexDrawTheBarToo) {
  if (run_process({"script", "-V"}).exit_code != 0) GTEST_SKIP() << "script (util-linux) is not installed";
  auto q = under_pty({"verify", "--quick"});
  ASSERT_EQ(q.exit_code, 0) << q.out;
  EXPECT_NE(q.out.find("] 2,001/2,001"), std::string::npos) << q.out;
  auto r = under_pty({"reindex"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("] 2,001/2,001"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\r\033[Kindex rebuilt: 2001 entries"), std::string::npos) << r.out;
}

TEST_F(CliProgress, QuietDrawsNoBarEvenOnATerminal) {
  if (run_process({"script", "-V"}).exit_code != 0) GTEST_SKIP() << "script (util-linux) is not installed";
  auto r = under_pty({"-q", "verify"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("2,001/2,001"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('['), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\033[K"), std::string::npos) << r.out;
}

// The derived index brought up to date inside any command: over more than one chunk of 4,096 entries a bar is drawn
// (the first query of a fresh clone rebuilds the index: about a minute at 1,000,000 entries), and erased before the
// command prints anything; a follow-on of a few entries draws none.
constexpr int k_many = 4500; // + the key.add: 4,501 entries, two chunks

class CliIndexProgress : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    archive = new TempArchive();
    auto r = archive_numbered(*archive, k_many, "Index progress statement", "i");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete archive;
    archive = nullptr;
  }
  static TempArchive* archive;
  static std::filesystem::path index_file() { return archive->dir() / ".git" / "avow" / "index.sqlite"; }
  static void remove_index() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(index_file().string() + suffix);
  }
};
TempArchive* CliIndexProgress::archive = nullptr;

TEST_F(CliIndexProgress, LogThatRebuildsTheIndexDrawsABarAndErasesItBeforeTheRows) {
  if (run_process({"script", "-V"}).exit_code != 0) GTEST_SKIP() << "script (util-linux) is not installed";
  remove_index();
  auto r = under_pty(*archive, {"log", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string last = "\r\033[K[========================] 4,501/4,501";
  const auto at = r.out.find(last);
  ASSERT_NE(at, std::string::npos) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("] 4,096/4,501"), std::string::npos) << r.out.substr(0, 2000); // the first chunk
  const auto erased = r.out.find("\r\033[K", at + last.size());
  ASSERT_NE(erased, std::string::npos);
  const auto header = r.out.find("id,index,kind");
  ASSERT_NE(header, std::string::npos) << r.out.substr(0, 2000);
  EXPECT_LT(erased, header); // gone before the first line of the answer
  EXPECT_NE(r.out.find("the index was missing; rebuilding it"), std::string::npos);
  EXPECT_NE(r.out.find("https://e.org/i/4499"), std::string::npos);
}

TEST_F(CliIndexProgress, NoBarWhenStderrIsNotATerminalOrWithQuiet) {
  remove_index();
  auto r = archive->avow({"log", "--source", "https://e.org/i/7", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "avow: note: the index was missing; rebuilding it\n");
  if (run_process({"script", "-V"}).exit_code != 0) GTEST_SKIP() << "script (util-linux) is not installed";
  remove_index();
  auto q = under_pty(*archive, {"-q", "log", "--source", "https://e.org/i/7", "--format", "csv"});
  ASSERT_EQ(q.exit_code, 0) << q.out;
  EXPECT_EQ(q.out.find("\033[K"), std::string::npos) << q.out;
  EXPECT_NE(q.out.find("https://e.org/i/7"), std::string::npos) << q.out;
}

TEST_F(CliIndexProgress, AuditOfTheWholeArchiveDrawsABar) {
  if (run_process({"script", "-V"}).exit_code != 0) GTEST_SKIP() << "script (util-linux) is not installed";
  auto r = under_pty(*archive, {"audit", "--full"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string last = "\r\033[K[========================] 4,501/4,501";
  const auto at = r.out.find(last);
  ASSERT_NE(at, std::string::npos) << r.out.substr(0, 2000);
  const auto erased = r.out.find("\r\033[K", at + last.size());
  ASSERT_NE(erased, std::string::npos);
  const auto report = r.out.find("tree size 4501");
  ASSERT_NE(report, std::string::npos) << r.out.substr(0, 2000);
  EXPECT_LT(erased, report); // the report comes after
}

TEST_F(CliIndexProgress, AFewEntriesToIndexDrawNoBar) {
  if (run_process({"script", "-V"}).exit_code != 0) GTEST_SKIP() << "script (util-linux) is not installed";
  TempArchive small;
  small.archive_text("The first statement.\n");
  ASSERT_EQ(small.avow({"log"}).exit_code, 0);
  const auto index = small.dir() / ".git" / "avow" / "index.sqlite";
  ASSERT_EQ(small.avow({"reindex"}).exit_code, 0); // one file, no write-ahead log beside it
  const std::string saved = small.tmp().path().string() + "/saved.sqlite";
  std::filesystem::copy_file(index, saved);
  for (int i = 2; i <= 4; ++i) small.archive_text(fmt::format("Statement {}.\n", i));
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(index.string() + suffix);
  std::filesystem::copy_file(saved, index); // three entries behind: the log follows on over them
  auto r = under_pty(small, {"log", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(",4,statement,"), std::string::npos) << r.out; // the last of the three, indexed
  EXPECT_EQ(r.out.find("\033[K"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("3/3"), std::string::npos) << r.out;
}

} // namespace
} // namespace avow::test
