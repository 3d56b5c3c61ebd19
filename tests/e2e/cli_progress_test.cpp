// End-to-end: the progress bar (tool/progress.hpp) of the long commands. Nothing of it reaches stderr when stderr is
// not a terminal, or with -q; under a pseudo-terminal `verify`, `reindex` and `archive --batch` draw it and erase it.

#include <tests/support/support.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace avow::test {
namespace {

constexpr int k_statements = 2000; // + the key.add init writes: 2,001 entries

class CliProgress : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    archive = new TempArchive();
    std::string manifest;
    for (int i = 0; i < k_statements; ++i)
      manifest += fmt::format(R"({{"text":"Progress statement number {}.\n","source":"https://e.org/p/{}"}})", i, i) +
                  "\n";
    const auto m = archive->file("m.jsonl", manifest);
    auto r = archive->avow({"archive", "--batch", m});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Not a terminal: the summary line only, no bar.
    EXPECT_EQ(r.err, fmt::format("avow: archived {} statements; log size {}\n", k_statements, k_statements + 1));
  }
  static void TearDownTestSuite() {
    delete archive;
    archive = nullptr;
  }
  static TempArchive* archive;

  // Run avow (with -C) under a pseudo-terminal (util-linux script) and return what the terminal received.
  static RunResult under_pty(const std::vector<std::string>& args) {
    std::string command = "'" + avow_bin() + "' -C '" + archive->dir().string() + "'";
    for (const auto& a : args) command += " '" + a + "'";
    return run_process({"script", "-qfec", command, "/dev/null"}, {}, archive->env());
  }
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

} // namespace
} // namespace avow::test
