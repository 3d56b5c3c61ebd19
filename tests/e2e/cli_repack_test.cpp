// End-to-end: `avow repack` merges the settled packs of an archive while writers go on, and `--all` every pack; the
// records, their ids and the history stay as they were, and verify and stock git accept the result.

#include <archive/store/writer_lock.hpp>

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

// Pseudo-random printable ASCII in lines of 79: a text that deflate shrinks only to about 83%.
std::string long_text(std::size_t bytes, std::uint64_t seed) {
  std::string s;
  s.reserve(bytes + 80);
  while (s.size() < bytes) {
    for (int k = 0; k < 79; ++k) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      s.push_back(static_cast<char>('!' + (seed >> 33) % 94));
    }
    s.push_back('\n');
  }
  return s;
}

std::vector<std::uintmax_t> pack_sizes(const TempArchive& a) {
  std::vector<std::uintmax_t> out;
  for (const auto& e : fs::directory_iterator(a.dir() / ".git" / "objects" / "pack"))
    if (e.path().extension() == ".pack") out.push_back(fs::file_size(e.path()));
  return out;
}

std::uintmax_t total_bytes(const TempArchive& a) {
  std::uintmax_t n = 0;
  for (const auto size : pack_sizes(a)) n += size;
  return n;
}

std::size_t settled_packs(const TempArchive& a) {
  std::size_t n = 0;
  for (const auto size : pack_sizes(a)) n += size >= (8u << 20);
  return n;
}

TEST(CliRepack, MergesTheSettledPacksWhileWritersGoOn) {
  TempArchive a;
  // Two batches of long texts, each one pack of over 8 MiB: settled, so no write merges them again.
  for (int b = 0; b < 2; ++b) {
    std::string manifest;
    for (int i = 0; i < 24; ++i)
      manifest += nlohmann::json{{"text", long_text(520'000, 1000 * b + i)},
                                 {"source", "urn:example:long:" + std::to_string(b) + ":" + std::to_string(i)}}
                      .dump() + "\n";
    const auto r = a.avow({"archive", "--batch", a.file("batch" + std::to_string(b) + ".jsonl", manifest), "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ASSERT_EQ(settled_packs(a), 2u);
  const std::string objects = a.git({"cat-file", "--batch-all-objects", "--batch-check"}).out;

  // Single appends in a loop for as long as the repack runs (and at least three).
  std::atomic<bool> done{false};
  std::vector<std::string> failures;
  int appended = 0;
  std::thread writer([&] {
    for (int i = 0; !done || i < 3; ++i) {
      const auto r = a.archive_file("Statement " + std::to_string(i) + " made during the repack.\n",
                                    {"--source", "urn:example:during:" + std::to_string(i)});
      if (r.exit_code != 0 || !r.err.empty()) failures.push_back(std::to_string(r.exit_code) + ": " + r.err);
      ++appended;
    }
  });
  const auto r = a.avow({"repack"});
  done = true;
  writer.join();
  for (const auto& f : failures) ADD_FAILURE() << "an append during the repack failed: " << f;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::regex line(R"(repacked: (\d+) packs -> (\d+) \(2 merged into 1, (\d+) objects rewritten\); )"
                        R"((\d+\.\d) MB -> (\d+\.\d) MB\n)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(r.out, m, line)) << r.out;
  EXPECT_EQ(settled_packs(a), 1u);
  EXPECT_GE(std::stoul(m[3]), 48u); // at least the 48 texts

  // Every object is still there (and those the appends added), the history verifies, every statement reads back.
  const std::string now = a.git({"cat-file", "--batch-all-objects", "--batch-check"}).out;
  std::istringstream was(objects);
  for (std::string obj; std::getline(was, obj);) EXPECT_NE(now.find(obj + "\n"), std::string::npos) << obj;
  EXPECT_EQ(a.git({"fsck", "--strict", "--no-dangling"}).exit_code, 0);
  const auto v = a.avow({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  const auto log = a.avow({"log", "--json", "--oldest-first"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_EQ(log.json().size(), 1u + 48u + static_cast<unsigned>(appended)); // + the key.add of init
  const auto shown = a.avow({"show", log.json()[1]["id"].get<std::string>(), "--text"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find(long_text(520'000, 0).substr(0, 79)), std::string::npos) << shown.out.substr(0, 300);

  // Nothing is left to merge: one settled pack alone.
  const auto again = a.avow({"repack", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto j = again.json();
  EXPECT_EQ(j["packs_written"], 0);
  EXPECT_EQ(j["packs_merged"], 0);
  EXPECT_EQ(j["objects_rewritten"], 0);
  EXPECT_EQ(j["packs_after"], j["packs_before"]);
  EXPECT_EQ(j["bytes_after"], j["bytes_before"]);
  EXPECT_EQ(j["packs_before"], pack_sizes(a).size());
}

TEST(CliRepack, AllMergesEveryPackAndWaitsForTheWriterLock) {
  TempArchive a;
  for (int i = 0; i < 5; ++i) a.archive_text("Short statement " + std::to_string(i) + ".\n");
  const std::size_t packs = pack_sizes(a).size();
  ASSERT_GE(packs, 2u);
  const std::string tip = a.git({"rev-parse", "main"}).out;
  ASSERT_EQ(a.avow({"repack"}).out, "nothing to repack: " + std::to_string(packs) + " packs, " +
                                       std::to_string(total_bytes(a) / 1000) + " kB\n"); // small packs: left to writes
  {
    // Another writer holds the lock: `--all` waits its time, then fails with exit 4 and changes nothing.
    auto lock = store::WriterLock::acquire(a.dir() / ".git", std::chrono::milliseconds(2000));
    ASSERT_TRUE(lock) << lock.error().message;
    const std::string before = a.git_snapshot();
    const auto r = a.avow({"repack", "--all", "--lock-timeout", "0.2"});
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(std::regex_match(r.err, std::regex("avow: error: archive '.*' is locked by another writer \\(waited 0\\.[0-9] s\\)\n")))
        << r.err;
    EXPECT_TRUE(a.git_snapshot() == before) << "the refused repack changed the archive";
  }
  const auto r = a.avow({"repack", "--all"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(r.out, std::regex("repacked: " + std::to_string(packs) + " packs -> 1 \\(" +
                                                 std::to_string(packs) + " merged into 1, \\d+ objects rewritten\\); "
                                                 "\\d+ kB -> \\d+ kB\n")))
      << r.out;
  EXPECT_EQ(pack_sizes(a).size(), 1u);
  EXPECT_EQ(a.git({"rev-parse", "main"}).out, tip);
  EXPECT_EQ(a.git({"fsck", "--strict", "--no-dangling"}).exit_code, 0);
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
  a.archive_text("A statement after the repack.\n"); // and writes go on
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
  const auto quiet = a.avow({"repack", "-q"});
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.out + quiet.err, "");
}

TEST(CliRepack, OutsideAnArchiveFailsWithExit4) {
  TempArchive a;
  const auto r = a.avow_raw({"-C", a.tmp().path().string(), "repack"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("is not an avow archive"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

} // namespace
} // namespace avow::test
