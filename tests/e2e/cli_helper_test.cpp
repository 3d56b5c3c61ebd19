// End-to-end: the avow command does not load libcurl, gumbo or cpp-httplib; the network commands (capture, watch,
// timestamp, witness, cosign) are handed over to the avow-net helper with the same arguments, so their output and
// exit codes are the helper's, and a missing helper is a one-line error (tool/core/forward.hpp).

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <filesystem>

namespace avow::test {
namespace {
namespace fs = std::filesystem;

RunResult run_with(const std::string& program, std::vector<std::string> args) {
  args.insert(args.begin(), program);
  return run_process(args);
}

std::string helper_bin() { return (fs::path(avow_bin()).parent_path() / "avow-net").string(); }

TEST(CliHelper, AvowLoadsNoNetworkLibraries) {
  const auto r = run_process({"ldd", avow_bin()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("libgit2"), std::string::npos) << r.out; // ldd really listed avow's libraries
  for (const char* lib : {"libcurl", "libgumbo", "libcpp-httplib", "libgnutls", "libldap"})
    EXPECT_EQ(r.out.find(lib), std::string::npos) << lib << " is loaded by avow:\n" << r.out;
  const auto h = run_process({"ldd", helper_bin()});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_NE(h.out.find("libcurl"), std::string::npos) << h.out;
}

TEST(CliHelper, NetworkCommandsAreTheHelpersWhateverTheGlobalOptions) {
  TempDir dir;
  const std::vector<std::vector<std::string>> lines = {
      {"capture", "--help"},
      {"-C", dir.path().string(), "watch", "--help"},
      {"--archive=" + dir.path().string(), "--json", "timestamp", "fetch", "--help"},
      {"-j", "2", "-q", "witness", "serve", "--help"},
      {"help", "cosign"},
      {"-C", dir.path().string(), "help", "witness", "init"},
      {"-q", "-C" + dir.path().string(), "capture", "--help"},
  };
  for (const auto& args : lines) {
    std::string shown;
    for (const auto& a : args) shown += " " + a;
    SCOPED_TRACE("avow" + shown);
    const auto via_avow = run_with(avow_bin(), args);
    const auto direct = run_with(helper_bin(), args);
    EXPECT_EQ(via_avow.exit_code, 0) << via_avow.err;
    EXPECT_EQ(via_avow.out, direct.out);
    EXPECT_EQ(via_avow.err, direct.err);
    EXPECT_NE(via_avow.out.find("Usage: avow "), std::string::npos) << via_avow.out; // a real help, not a placeholder's
    EXPECT_NE(via_avow.out.find("Example"), std::string::npos) << via_avow.out;
  }
  // The helper's exit codes and errors are avow's: a URL that is not http(s) is invalid input (3).
  TempArchive a;
  const auto bad = a.avow({"capture", "ftp://example.org/x"});
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  EXPECT_EQ(bad.err.rfind("avow: error: ", 0), 0u) << bad.err;
  EXPECT_EQ(bad.out, "");
  // Every command is listed by avow's own help, the network ones with their descriptions.
  const auto help = run_with(avow_bin(), {"--help"});
  ASSERT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Fetch a web page, keep the exchange as WARC, archive its main text."), std::string::npos);
  EXPECT_NE(help.out.find("Ask witnesses to cosign the current checkpoint"), std::string::npos);
  EXPECT_EQ(help.out, run_with(helper_bin(), {"--help"}).out);
}

TEST(CliHelper, WithoutTheHelperNetworkCommandsFailWithOneLineAndOthersRun) {
  TempDir dir;
  const fs::path alone = dir.path() / "bin" / "avow";
  fs::create_directories(alone.parent_path());
  fs::copy_file(avow_bin(), alone);
  const auto r = run_with(alone.string(), {"capture", "https://example.org/"});
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_EQ(r.err, "avow: error: 'capture' is run by the helper avow-net, which is not installed next to avow or in "
                   "../libexec/avow/\n");
  EXPECT_EQ(r.out, "");
  const auto ts = run_with(alone.string(), {"-C", dir.path().string(), "help", "timestamp"});
  EXPECT_EQ(ts.exit_code, 6);
  EXPECT_NE(ts.err.find("'timestamp' is run by the helper avow-net"), std::string::npos) << ts.err;
  // The rest of avow does not need it.
  TempArchive a;
  const auto v = run_process({alone.string(), "-C", a.dir().string(), "verify"}, {}, a.env());
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  const auto log = run_process({alone.string(), "-C", a.dir().string(), "log", "--format", "csv"}, {}, a.env());
  EXPECT_EQ(log.exit_code, 0) << log.err;
  EXPECT_EQ(log.out, a.avow({"log", "--format", "csv"}).out);
  // The install layout: PREFIX/bin/avow finds PREFIX/libexec/avow/avow-net.
  const fs::path libexec = dir.path() / "libexec" / "avow";
  fs::create_directories(libexec);
  fs::copy_file(helper_bin(), libexec / "avow-net");
  const auto found = run_with(alone.string(), {"capture", "--help"});
  EXPECT_EQ(found.exit_code, 0) << found.err;
  EXPECT_EQ(found.out, run_with(helper_bin(), {"capture", "--help"}).out);
}

} // namespace
} // namespace avow::test
