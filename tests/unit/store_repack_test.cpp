// GitStore::repack (`avow repack`): merging settled packs outside writes, and every pack with `all`. Nothing a commit
// reaches may change or go missing; every result is checked with stock git too.

#include <archive/store/git_store.hpp>
#include <archive/store/writer_lock.hpp>

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

namespace avow::store {
namespace {

namespace fs = std::filesystem;

using avow::test::TempDir;
using avow::test::blobs_in_pack_order;

struct Run {
  int exit_code;
  std::string out;
};

Run run(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, {}};
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string git(const fs::path& dir, const std::string& args) { return "git -C '" + dir.string() + "' " + args; }

// The packs of objects/pack: base name -> number of objects (from the index header, as git reads it).
std::map<std::string, std::uint32_t> packs_of(const fs::path& git_dir) {
  std::map<std::string, std::uint32_t> out;
  for (const auto& e : fs::directory_iterator(git_dir / "objects" / "pack")) {
    if (e.path().extension() != ".idx") continue;
    std::ifstream in(e.path(), std::ios::binary);
    unsigned char head[8 + 256 * 4];
    in.read(reinterpret_cast<char*>(head), sizeof head);
    const unsigned char* n = head + 8 + 255 * 4;
    out[e.path().stem().string()] = (std::uint32_t{n[0]} << 24) | (std::uint32_t{n[1]} << 16) | (std::uint32_t{n[2]} << 8) | n[3];
  }
  return out;
}

// Every object in the repository, by id, as stock git lists them (each once however many packs hold it).
std::string all_objects(const fs::path& dir) {
  return run(git(dir, "cat-file --batch-all-objects --batch-check='%(objectname) %(objecttype) %(objectsize)'")).out;
}

std::string noise(std::size_t bytes, std::uint64_t seed) { // incompressible
  std::string s(bytes, '\0');
  for (auto& c : s) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    c = static_cast<char>(seed >> 56);
  }
  return s;
}

Oid commit(GitStore& store, const std::vector<std::pair<std::string, std::string>>& files, const std::string& message) {
  auto tx = store.begin();
  if (!tx) throw std::runtime_error("begin failed: " + tx.error().message);
  for (const auto& [path, data] : files)
    if (auto ok = tx->put(path, data); !ok) throw std::runtime_error("put failed: " + ok.error().message);
  auto id = tx->commit(message);
  if (!id) throw std::runtime_error("commit failed: " + id.error().message);
  return *id;
}

// An archive-like repository with three settled packs (one incompressible file of 8 MiB and more each) and small
// packs after them.
struct Settled {
  TempDir t;
  fs::path dir = t.path() / "r";
  GitStore store = std::move(GitStore::init(dir).value());
  std::vector<std::pair<Oid, std::string>> big; // commit, the file's content
  std::vector<Oid> small;
  Settled(int small_commits) {
    for (int i = 0; i < 3; ++i) {
      big.emplace_back(Oid{}, noise((8u << 20) + (64u << 10), 7 + i));
      big.back().first = commit(store, {{"big/" + std::to_string(i), big.back().second}}, "big\n");
    }
    for (int i = 0; i < small_commits; ++i)
      small.push_back(commit(store, {{"t/" + std::to_string(i), "small " + std::to_string(i)}}, "small\n"));
  }
};

TEST(GitStoreRepack, MergesTheSettledPacksIntoOneAndLeavesTheSmallOnes) {
  Settled s(4); // 3 settled packs and 4 small ones: too few small ones for a write to have merged them
  const fs::path git_dir = s.store.git_dir();
  const auto before = packs_of(git_dir);
  ASSERT_EQ(before.size(), 7u); // one pack a commit
  std::set<std::string> large, small;
  for (const auto& [name, count] : before)
    (fs::file_size(git_dir / "objects" / "pack" / (name + ".pack")) >= (8u << 20) ? large : small).insert(name);
  ASSERT_EQ(large.size(), 3u);
  const std::string objects = all_objects(s.dir);
  const std::string tip = run(git(s.dir, "rev-parse main")).out;
  std::uint64_t settled_objects = 0;
  for (const auto& name : large) settled_objects += before.at(name);

  std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
  RepackOptions options;
  std::mutex mutex;
  options.progress = [&](std::uint64_t done, std::uint64_t total) {
    std::lock_guard lock(mutex);
    progress.emplace_back(done, total);
  };
  auto report = s.store.repack(options);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->packs_before, 7u);
  EXPECT_EQ(report->packs_after, 5u);
  EXPECT_EQ(report->merged, 3u);
  EXPECT_EQ(report->written, 1u);
  EXPECT_EQ(report->objects, settled_objects);
  ASSERT_GE(progress.size(), 2u);
  EXPECT_EQ(progress.front(), std::make_pair(std::uint64_t{0}, 2 * settled_objects));
  EXPECT_EQ(progress.back(), std::make_pair(2 * settled_objects, 2 * settled_objects));
  for (std::size_t k = 1; k < progress.size(); ++k) { // it never goes back
    EXPECT_GE(progress[k].first, progress[k - 1].first) << k;
    EXPECT_EQ(progress[k].second, 2 * settled_objects) << k;
  }

  const auto after = packs_of(git_dir);
  for (const auto& name : small) EXPECT_TRUE(after.contains(name)) << "a small pack was merged: " << name;
  for (const auto& name : large) EXPECT_FALSE(after.contains(name)) << "a settled pack is still there: " << name;
  EXPECT_FALSE(fs::exists(git_dir / "avow" / "repack")); // the work folder is gone
  // The same objects, the same history, all readable, through this handle and a fresh one, and by stock git.
  EXPECT_EQ(all_objects(s.dir), objects);
  EXPECT_EQ(run(git(s.dir, "rev-parse main")).out, tip);
  EXPECT_EQ(run(git(s.dir, "fsck --strict --no-dangling")).exit_code, 0);
  EXPECT_EQ(run(git(s.dir, "count-objects -v | grep -E '^(count|garbage):'")).out, "count: 0\ngarbage: 0\n");
  auto fresh = GitStore::open(s.dir);
  ASSERT_TRUE(fresh);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(s.store.read(s.big[i].first, "big/" + std::to_string(i)), s.big[i].second);
    EXPECT_EQ(fresh->read(s.big[i].first, "big/" + std::to_string(i)), s.big[i].second);
  }
  // Writes go on as before.
  const Oid next = commit(s.store, {{"t/next", "next"}}, "next\n");
  EXPECT_EQ(s.store.read(next, "big/0"), s.big[0].second);

  // The merged pack is one settled pack alone now: nothing more to merge.
  auto again = s.store.repack({});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->written, 0u);
  EXPECT_EQ(again->merged, 0u);
  EXPECT_EQ(again->packs_after, again->packs_before);
}

// Small packs, as single writes leave them (fewer than 8: no write has merged them yet).
struct Small {
  TempDir t;
  fs::path dir = t.path() / "r";
  GitStore store = std::move(GitStore::init(dir).value());
  std::vector<Oid> small;
  explicit Small(int commits) {
    for (int i = 0; i < commits; ++i)
      small.push_back(commit(store, {{"t/" + std::to_string(i), "small " + std::to_string(i)}}, "small\n"));
  }
};

TEST(GitStoreRepack, AllMergesEveryPackUnderTheWriterLock) {
  Small s(7);
  const fs::path git_dir = s.store.git_dir();
  const std::string objects = all_objects(s.dir);
  ASSERT_EQ(packs_of(git_dir).size(), 7u);
  // Without --all, small packs are left to the writes.
  auto none = s.store.repack({});
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->written, 0u);
  EXPECT_EQ(packs_of(git_dir).size(), 7u);
  const std::string before_files = run("ls '" + (git_dir / "objects" / "pack").string() + "'").out;
  {
    // Another writer holds the lock: --all waits, then gives up without touching a pack.
    auto lock = WriterLock::acquire(git_dir, std::chrono::milliseconds(1000));
    ASSERT_TRUE(lock) << lock.error().message;
    RepackOptions options;
    options.all = true;
    options.lock_timeout = std::chrono::milliseconds(200);
    auto refused = s.store.repack(options);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::failed_precondition);
    EXPECT_NE(refused.error().message.find("locked by another writer"), std::string::npos) << refused.error().message;
    EXPECT_EQ(run("ls '" + (git_dir / "objects" / "pack").string() + "'").out, before_files);
  }
  RepackOptions options;
  options.all = true;
  auto report = s.store.repack(options);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->packs_before, 7u);
  EXPECT_EQ(report->packs_after, 1u);
  EXPECT_EQ(report->merged, 7u);
  EXPECT_EQ(report->written, 1u);
  EXPECT_EQ(all_objects(s.dir), objects);
  EXPECT_EQ(run(git(s.dir, "fsck --strict --no-dangling")).exit_code, 0);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(s.store.read(s.small[i], "t/" + std::to_string(i)), "small " + std::to_string(i));
}

TEST(GitStoreRepack, NoMergedPackPassesTheObjectLimit) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = std::move(GitStore::init(dir).value());
  std::vector<Oid> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(commit(store, {{"t/" + std::to_string(i), std::to_string(i)}}, "c\n"));
  const auto before = packs_of(store.git_dir());
  ASSERT_EQ(before.size(), 7u);
  for (const auto& [name, count] : before) ASSERT_EQ(count, 4u) << name; // blob, two trees, commit
  const std::string objects = all_objects(dir);
  RepackOptions options;
  options.all = true;
  options.max_objects = 10; // two packs of 4 fit, three do not
  auto report = store.repack(options);
  ASSERT_TRUE(report) << report.error().message;
  const auto after = packs_of(store.git_dir());
  EXPECT_EQ(report->written, 3u); // 7 packs: 2 + 2 + 2 merged, 1 left alone
  EXPECT_EQ(report->merged, 6u);
  EXPECT_EQ(after.size(), 4u);
  for (const auto& [name, count] : after) EXPECT_LE(count, 10u) << name;
  EXPECT_EQ(all_objects(dir), objects);
  EXPECT_EQ(run(git(dir, "fsck --strict --no-dangling")).exit_code, 0);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(store.read(ids[i], "t/" + std::to_string(i)), std::to_string(i));
}

TEST(GitStoreRepack, OneRepackAtATimeAndAKilledOnesLeftoversAreCleared) {
  Small s(3);
  const fs::path git_dir = s.store.git_dir();
  const std::string objects = all_objects(s.dir);
  const std::string before_files = run("ls '" + (git_dir / "objects" / "pack").string() + "'").out;
  {
    // A repack running in another process holds the repack lock.
    const int fd = ::open((git_dir / "avow" / "repack.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    RepackOptions all;
    all.all = true;
    auto refused = s.store.repack(all);
    ::close(fd);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::failed_precondition);
    EXPECT_EQ(refused.error().message, "another repack of this archive is running");
    EXPECT_EQ(run("ls '" + (git_dir / "objects" / "pack").string() + "'").out, before_files);
  }
  // What a killed repack left in its work folder (a half-written pack) is removed by the next one.
  fs::create_directories(git_dir / "avow" / "repack");
  std::ofstream(git_dir / "avow" / "repack" / "pack_git2_0123456789abcdef") << "half a pack";
  RepackOptions all;
  all.all = true;
  auto report = s.store.repack(all);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->written, 1u);
  EXPECT_EQ(report->merged, 3u);
  EXPECT_FALSE(fs::exists(git_dir / "avow" / "repack"));
  EXPECT_EQ(all_objects(s.dir), objects);
  EXPECT_EQ(run(git(s.dir, "fsck --strict --no-dangling")).exit_code, 0);
}

TEST(GitStoreRepack, KeepsTheBlobsOfEachPackTogetherInTheOrderThePacksWereWritten) {
  // Three writes of ten files whose paths interleave (t/00-0, t/00-1, t/00-2, t/01-0, ...): merged in path order, as
  // the writes' own merges do, the blobs of the three writes would be shuffled together.
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = std::move(GitStore::init(dir).value());
  const fs::path packs = store.git_dir() / "objects" / "pack";
  std::vector<std::string> pack_of_write;
  for (int w = 0; w < 3; ++w) {
    const auto before = packs_of(store.git_dir());
    std::vector<std::pair<std::string, std::string>> files;
    for (int i = 0; i < 10; ++i) files.emplace_back("t/" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "-" + std::to_string(w), noise(300, 100 * w + i));
    commit(store, files, "write\n");
    for (const auto& [name, count] : packs_of(store.git_dir()))
      if (!before.contains(name)) pack_of_write.push_back(name);
    ASSERT_EQ(pack_of_write.size(), std::size_t(w + 1));
  }
  // The packs' files say they were written last first: that order, not the history's, is the one kept.
  const auto now = fs::file_time_type::clock::now();
  std::vector<std::string> expected;
  for (int w = 2; w >= 0; --w) {
    fs::last_write_time(packs / (pack_of_write[w] + ".pack"), now - std::chrono::seconds(100 * (w + 1)));
    const auto blobs = blobs_in_pack_order(packs / (pack_of_write[w] + ".idx"));
    ASSERT_EQ(blobs.size(), 10u) << pack_of_write[w];
    expected.insert(expected.end(), blobs.begin(), blobs.end());
  }
  const std::string objects = all_objects(dir);
  RepackOptions options;
  options.all = true;
  auto report = store.repack(options);
  ASSERT_TRUE(report) << report.error().message;
  const auto after = packs_of(store.git_dir());
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(blobs_in_pack_order(packs / (after.begin()->first + ".idx")), expected);
  EXPECT_EQ(all_objects(dir), objects);
  EXPECT_EQ(run(git(dir, "fsck --strict --no-dangling")).exit_code, 0);
}

// The same for packs that hold no commit, as a batch's flushes write them: the walk from the commits reaches nothing
// in a group of those, and each pack's objects must still stay together, in the order of the pack files' times.
TEST(GitStoreRepack, KeepsThePacksOfFlushedBlobsTogetherWithoutTheirCommit) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = std::move(GitStore::init(dir).value());
  const fs::path packs = store.git_dir() / "objects" / "pack";
  std::vector<std::string> flushed_pack; // of each write
  for (int w = 0; w < 3; ++w) {
    auto tx = store.begin();
    ASSERT_TRUE(tx) << tx.error().message;
    const auto before = packs_of(store.git_dir());
    for (int i = 0; i < 20; ++i) {
      const std::string path = "t/" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "-" + std::to_string(w);
      ASSERT_TRUE(tx->put(path, noise(300, 1000 * w + i)));
      if (i == 9) {
        ASSERT_TRUE(tx->flush());
        for (const auto& [name, count] : packs_of(store.git_dir()))
          if (!before.contains(name)) flushed_pack.push_back(name);
        ASSERT_EQ(flushed_pack.size(), std::size_t(w + 1));
        ASSERT_EQ(packs_of(store.git_dir()).at(flushed_pack.back()), 10u); // ten blobs, no commit
      }
    }
    ASSERT_TRUE(tx->commit("write\n"));
  }
  const auto now = fs::file_time_type::clock::now();
  std::vector<std::string> expected;
  for (int w = 2; w >= 0; --w) { // the last write's flush is the oldest file
    fs::last_write_time(packs / (flushed_pack[w] + ".pack"), now - std::chrono::seconds(100 * (w + 1)));
    const auto blobs = blobs_in_pack_order(packs / (flushed_pack[w] + ".idx"));
    ASSERT_EQ(blobs.size(), 10u);
    expected.insert(expected.end(), blobs.begin(), blobs.end());
  }
  const std::string objects = all_objects(dir);
  RepackOptions options;
  options.all = true;
  options.max_objects = 30; // the three packs of 10 blobs make one group; the commits' packs (13 objects) others
  auto report = store.repack(options);
  ASSERT_TRUE(report) << report.error().message;
  std::optional<std::string> merged; // the pack that holds the flushed blobs now
  for (const auto& [name, count] : packs_of(store.git_dir()))
    if (count == 30) merged = name;
  ASSERT_TRUE(merged);
  EXPECT_EQ(blobs_in_pack_order(packs / (*merged + ".idx")), expected);
  EXPECT_EQ(all_objects(dir), objects);
  EXPECT_EQ(run(git(dir, "fsck --strict --no-dangling")).exit_code, 0);
}

} // namespace
} // namespace avow::store
