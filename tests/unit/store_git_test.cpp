#include <archive/store/git_store.hpp>

#include <tests/support/support.hpp>

#include <git2.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

namespace avow::store {
namespace {

namespace fs = std::filesystem;

using avow::test::TempDir; // tests/support: removed afterwards unless the test failed

struct RunResult {
  int exit_code;
  std::string out;
};

// Run a shell command, capturing stdout (stderr is discarded unless `keep_stderr`).
RunResult run(const std::string& command, bool keep_stderr = false) {
  const std::string full = command + (keep_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = ::popen(full.c_str(), "r");
  if (!pipe) return {-1, {}};
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string git(const fs::path& dir, const std::string& args) {
  return "git -C '" + dir.string() + "' " + args;
}

std::size_t count_packs(const fs::path& git_dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(git_dir / "objects" / "pack"))
    if (e.path().extension() == ".pack") ++n;
  return n;
}

std::size_t count_loose(const fs::path& git_dir) {
  static const std::regex two_hex("[0-9a-f]{2}");
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(git_dir / "objects")) {
    if (!e.is_directory() || !std::regex_match(e.path().filename().string(), two_hex)) continue;
    for ([[maybe_unused]] const auto& f : fs::directory_iterator(e.path())) ++n;
  }
  return n;
}

// The store tests below check the working tree too, so they use a repository that has one.
GitStore must_init(const fs::path& dir) {
  auto s = GitStore::init(dir, GitStore::Worktree::yes);
  if (!s) throw std::runtime_error("init failed: " + s.error().message);
  return std::move(*s);
}

Oid must_commit(GitStore& store, const std::vector<std::pair<std::string, std::string>>& files,
                const std::string& message) {
  auto tx = store.begin();
  if (!tx) throw std::runtime_error("begin failed: " + tx.error().message);
  for (const auto& [path, data] : files)
    if (auto ok = tx->put(path, data); !ok) throw std::runtime_error("put failed: " + ok.error().message);
  auto id = tx->commit(message);
  if (!id) throw std::runtime_error("commit failed: " + id.error().message);
  EXPECT_TRUE(tx->warnings().empty());
  return *id;
}

TEST(GitStore, InitCreatesEmptyRepositoryOnMain) {
  TempDir t;
  const fs::path dir = t.path() / "a" / "archive"; // parents are created
  auto store = GitStore::init(dir, GitStore::Worktree::yes);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(store->workdir(), dir);
  EXPECT_EQ(store->git_dir(), dir / ".git");
  auto head = store->head();
  ASSERT_TRUE(head);
  EXPECT_FALSE(head->has_value());
  EXPECT_EQ(run(git(dir, "symbolic-ref HEAD")).out, "refs/heads/main\n");
  EXPECT_EQ(run(git(dir, "config --local core.bare")).out, "false\n");
}

TEST(GitStore, ArchiveLayoutHasNoWorkingTree) {
  TempDir t;
  const fs::path dir = t.path() / "archive";
  auto store = GitStore::init(dir); // Worktree::no, the archive layout
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(store->workdir(), dir);
  EXPECT_EQ(store->git_dir(), dir / ".git");
  EXPECT_EQ(run(git(dir, "config --local core.bare")).out, "true\n");
  const Oid id = must_commit(*store, {{"texts/ab/cd/abcdef", "text\n"}, {"avow.json", "{}\n"}}, "first\n");
  // Nothing outside .git: the record lives in the objects only.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{".git"});
  EXPECT_EQ(run(git(dir, "rev-parse main")).out, id.hex() + "\n");
  EXPECT_EQ(run(git(dir, "cat-file -p main:texts/ab/cd/abcdef")).out, "text\n");
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
  auto reopened = GitStore::open(dir);
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ(reopened->read(id, "avow.json"), std::string("{}\n"));
  EXPECT_EQ(reopened->workdir(), dir);
}

TEST(GitStore, InitRefusesExistingRepositoryOrNonEmptyFolder) {
  TempDir t;
  ASSERT_TRUE(GitStore::init(t.path() / "r"));
  auto again = GitStore::init(t.path() / "r");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::already_exists);

  fs::create_directories(t.path() / "full");
  std::ofstream(t.path() / "full" / "x") << "x";
  auto full = GitStore::init(t.path() / "full");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ErrorCode::already_exists);
  EXPECT_EQ(full.error().message, fmt::format("'{}' is not empty", (t.path() / "full").string()));

  fs::create_directories(t.path() / "empty");
  EXPECT_TRUE(GitStore::init(t.path() / "empty"));
}

TEST(GitStore, OpenRefusesWhatIsNotARepositoryAndDoesNotSearchUpwards) {
  TempDir t;
  auto none = GitStore::open(t.path());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(none.error().message.rfind(fmt::format("'{}' is not an avow archive", t.path().string()), 0), 0u)
      << none.error().message;

  ASSERT_TRUE(GitStore::init(t.path() / "r"));
  fs::create_directories(t.path() / "r" / "sub");
  auto sub = GitStore::open(t.path() / "r" / "sub");
  ASSERT_FALSE(sub);
  EXPECT_EQ(sub.error().code, ErrorCode::failed_precondition);

  auto missing = GitStore::open(t.path() / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::failed_precondition);

  // A bare repository (a mirror made with `git clone --bare`) opens: verifying a mirror needs no working tree.
  ASSERT_EQ(run("git init -q --bare '" + (t.path() / "bare").string() + "'").exit_code, 0);
  auto bare = GitStore::open(t.path() / "bare");
  ASSERT_TRUE(bare) << bare.error().message;
  EXPECT_EQ(bare->git_dir(), t.path() / "bare");

  auto ok = GitStore::open(t.path() / "r");
  ASSERT_TRUE(ok) << ok.error().message;
}

TEST(GitStore, CommitTimesNeverGoBackwards) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  // A first commit dated an hour ahead of the local clock (stock git, as another machine's clock would make it).
  const long ahead = static_cast<long>(std::time(nullptr)) + 3600;
  const std::string tree = run(git(dir, "mktree </dev/null")).out.substr(0, 40);
  const std::string env = "GIT_COMMITTER_NAME=x GIT_COMMITTER_EMAIL=x@y GIT_AUTHOR_NAME=x GIT_AUTHOR_EMAIL=x@y "
                          "GIT_COMMITTER_DATE='@" + std::to_string(ahead) + " +0000' ";
  const std::string first = run(env + git(dir, "commit-tree " + tree + " -m first")).out.substr(0, 40);
  ASSERT_EQ(run(git(dir, "update-ref refs/heads/main " + first)).exit_code, 0);
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  EXPECT_EQ(tx->time(), ahead); // not the earlier local time
  ASSERT_TRUE(tx->put("a", "1"));
  auto id = tx->commit("second\n");
  ASSERT_TRUE(id) << id.error().message;
  auto info = store.commit_info(*id);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->commit_time, ahead);
  // The next write builds on it: not before it either, and not later than now or it.
  auto tx2 = store.begin();
  ASSERT_TRUE(tx2);
  EXPECT_GE(tx2->time(), ahead);
  EXPECT_LE(tx2->time(), std::max<long>(ahead, static_cast<long>(std::time(nullptr))));
}

TEST(GitStore, CommitThenReadAndStockGitAgrees) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  EXPECT_FALSE(tx->base().has_value());
  ASSERT_TRUE(tx->put("avow.json", "{\"format\":1}\n"));
  ASSERT_TRUE(tx->put("texts/ab/cd/abcdef", "replaced by the next put"));
  ASSERT_TRUE(tx->put("texts/ab/cd/abcdef", std::string("line one\nbinary\0tail", 20)));
  ASSERT_TRUE(tx->put("log/tile/0/000", std::string(32, 'x')));
  EXPECT_EQ(tx->size(), 3u);
  auto id = tx->commit("archive: first\n\nentries: 1\n");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_TRUE(tx->warnings().empty());

  auto head = store.head();
  ASSERT_TRUE(head && head->has_value());
  EXPECT_EQ(**head, *id);

  auto json = store.read(*id, "avow.json");
  ASSERT_TRUE(json);
  EXPECT_EQ(*json, "{\"format\":1}\n");
  auto text = store.read(*id, "texts/ab/cd/abcdef");
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, std::string("line one\nbinary\0tail", 20));

  auto missing = store.read(*id, "texts/ab/cd/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  auto folder = store.read(*id, "texts/ab"); // a folder is not a blob
  ASSERT_FALSE(folder);
  EXPECT_EQ(folder.error().code, ErrorCode::not_found);
  auto maybe = store.read_if_exists(*id, "nope");
  ASSERT_TRUE(maybe);
  EXPECT_FALSE(maybe->has_value());
  EXPECT_EQ(store.exists(*id, "log/tile/0/000"), true);
  EXPECT_EQ(store.exists(*id, "log/tile/0"), false);
  EXPECT_EQ(store.exists(*id, "log/tile/0/000/x"), false);

  const std::vector<std::string> paths{"log/tile/0/000", "avow.json"};
  auto many = store.read_many(*id, paths);
  ASSERT_TRUE(many);
  EXPECT_EQ(*many, (std::vector<std::string>{std::string(32, 'x'), "{\"format\":1}\n"}));

  Oid bogus{};
  bogus.bytes[0] = 1;
  auto no_commit = store.read(bogus, "avow.json");
  ASSERT_FALSE(no_commit);
  EXPECT_EQ(no_commit.error().code, ErrorCode::not_found);

  // Stock git sees the same history, objects and working tree.
  EXPECT_EQ(run(git(dir, "rev-parse main")).out, id->hex() + "\n");
  const auto log = run(git(dir, "log --oneline"));
  EXPECT_EQ(log.exit_code, 0);
  EXPECT_EQ(log.out, id->hex().substr(0, 7) + " archive: first\n");
  const auto fsck = run(git(dir, "fsck --strict --no-dangling"), true);
  EXPECT_EQ(fsck.exit_code, 0) << fsck.out;
  const auto status = run(git(dir, "status --porcelain"), true);
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.out, "");
  EXPECT_EQ(run(git(dir, "cat-file -p main:avow.json")).out, "{\"format\":1}\n");
  EXPECT_EQ(run(git(dir, "cat-file -p main:texts/ab/cd/abcdef")).out, std::string("line one\nbinary\0tail", 20));
  EXPECT_EQ(run(git(dir, "log -1 --format=%an%n%ae%n%cn%n%ce%n%B main")).out,
            "avow\navow@localhost\navow\navow@localhost\narchive: first\n\nentries: 1\n\n");
  // The working tree holds the bytes.
  std::ifstream in(dir / "texts" / "ab" / "cd" / "abcdef", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), std::string("line one\nbinary\0tail", 20));

  // A second store on the same folder sees it.
  auto reopened = GitStore::open(dir);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->read(*id, "avow.json"), std::string("{\"format\":1}\n"));
}

// A batch asks whether each of its texts is already in the archive with the text's bytes at hand: a text whose blob
// is nowhere in the object database is new without a look at the tree (most are, and each look read a leaf tree).
TEST(GitStore, ExistsWithContentAnswersFromTheObjectDatabaseFirst) {
  TempDir t;
  GitStore store = must_init(t.path() / "r");
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(tx->put("texts/ab/cd/one", "first text"));
  EXPECT_TRUE(tx->stages("texts/ab/cd/one"));
  EXPECT_FALSE(tx->stages("texts/ab/cd/two"));
  EXPECT_FALSE(tx->stages("texts/ab/cd")); // a folder is not a staged put
  ASSERT_TRUE(tx->put("texts/ab/cd/gone", "removed before the commit"));
  ASSERT_TRUE(tx->remove("texts/ab/cd/gone"));
  EXPECT_FALSE(tx->stages("texts/ab/cd/gone"));
  auto id = tx->commit("archive: first\n");
  ASSERT_TRUE(id) << id.error().message;

  EXPECT_EQ(store.exists(*id, "texts/ab/cd/one", "first text"), true);
  // Not in any pack: false, whatever the path.
  EXPECT_EQ(store.exists(*id, "texts/ab/cd/one", "another text"), false);
  EXPECT_EQ(store.exists(*id, "texts/ab/cd/two", "another text"), false);
  // In the object database but not at this path: the tree decides.
  EXPECT_EQ(store.exists(*id, "texts/ab/cd/two", "first text"), false);
  auto bad = store.exists(*id, "texts//one", "first text");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_input);
}

// The number of objects in all the packs, an object in two packs counted twice, and the number of distinct objects.
std::pair<std::size_t, std::size_t> packed_and_distinct(const fs::path& dir) {
  const std::string counts = run(git(dir, "count-objects -v")).out;
  const std::size_t at = counts.find("in-pack: ");
  EXPECT_NE(at, std::string::npos) << counts;
  const std::size_t packed = at == std::string::npos ? 0 : std::stoul(counts.substr(at + 9));
  const std::string all = run(git(dir, "cat-file --batch-all-objects --batch-check")).out;
  return {packed, static_cast<std::size_t>(std::count(all.begin(), all.end(), '\n'))};
}

// A write begun for many new objects (a large batch) lists the repository's objects into a filter first: it must give
// the answers the object database gives. A blob already in a pack is not written again (nor one this write already
// flushed to a pack), a new one is, and exists() with content says the same as without the filter.
TEST(GitStore, AWriteBegunForManyObjectsStagesOnlyTheNewOnes) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  for (int i = 0; i < 3; ++i) // three packs
    must_commit(store, {{fmt::format("texts/old/{}", i), fmt::format("old text {}\n", i)}}, fmt::format("c{}\n", i));
  const auto before = packed_and_distinct(dir);
  EXPECT_EQ(before.first, before.second);
  auto head = store.head();
  ASSERT_TRUE(head && *head);

  auto tx = store.begin(100);
  ASSERT_TRUE(tx) << tx.error().message;
  EXPECT_EQ(store.exists(**head, "texts/old/1", "old text 1\n"), true);
  EXPECT_EQ(store.exists(**head, "texts/old/1", "new text\n"), false);
  EXPECT_EQ(store.exists(**head, "texts/new/1", "old text 1\n"), false); // in a pack, not at this path
  ASSERT_TRUE(tx->put("texts/again/1", "old text 1\n")); // on disk already: named, not written
  ASSERT_TRUE(tx->put("texts/new/a", "new text a\n"));
  ASSERT_TRUE(tx->flush()); // now in a pack of this write
  ASSERT_TRUE(tx->put("texts/new/a2", "new text a\n")); // the same blob again: not written twice
  ASSERT_TRUE(tx->put("texts/new/b", "new text b\n"));
  auto id = tx->commit("many\n");
  ASSERT_TRUE(id) << id.error().message;

  const auto after = packed_and_distinct(dir);
  EXPECT_EQ(after.first, after.second) << "an object was written twice";
  // Two new blobs, the new trees (root, texts, texts/again, texts/new) and the commit.
  EXPECT_EQ(after.second, before.second + 7);
  EXPECT_EQ(store.read(*id, "texts/again/1"), std::string("old text 1\n"));
  EXPECT_EQ(store.read(*id, "texts/new/a2"), std::string("new text a\n"));
  EXPECT_EQ(store.read(*id, "texts/new/b"), std::string("new text b\n"));
  EXPECT_EQ(store.exists(*id, "texts/new/b", "new text b\n"), true); // the filter went with the write
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
}

// A write begun for many objects whose listing fails (here a pack whose index is not one) fails with the reason, and
// leaves the handle as it was: reads go on (the listing closed it; it is opened again), and once the bad pack is gone
// the next write lists and commits.
TEST(GitStore, AWriteWhoseListingFailsLeavesTheHandleReadable) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  for (int i = 0; i < 2; ++i)
    must_commit(store, {{fmt::format("texts/old/{}", i), fmt::format("old text {}\n", i)}}, fmt::format("c{}\n", i));
  auto head = store.head();
  ASSERT_TRUE(head && *head);
  const fs::path bad = store.git_dir() / "objects" / "pack" / ("pack-" + std::string(40, 'e'));
  avow::test::write_file(fs::path(bad).replace_extension(".idx"), std::string(2048, 'x'));
  avow::test::write_file(fs::path(bad).replace_extension(".pack"), std::string(2048, 'x'));

  auto tx = store.begin(100);
  ASSERT_FALSE(tx);
  EXPECT_EQ(tx.error().code, ErrorCode::git);
  EXPECT_NE(tx.error().message.find("cannot list the objects of"), std::string::npos) << tx.error().message;
  EXPECT_EQ(store.read(**head, "texts/old/1"), std::string("old text 1\n"));
  EXPECT_EQ(store.exists(**head, "texts/old/0", "old text 0\n"), true);

  fs::remove(fs::path(bad).replace_extension(".idx"));
  fs::remove(fs::path(bad).replace_extension(".pack"));
  auto again = store.begin(100);
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_TRUE(again->put("texts/new/a", "new text a\n"));
  auto id = again->commit("after\n");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(store.read(*id, "texts/old/0"), std::string("old text 0\n"));
  EXPECT_EQ(store.read(*id, "texts/new/a"), std::string("new text a\n"));
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
}

// A pack index whose pack is gone (merged away by a `git gc` beside the write after the folder was read, or left
// alone) is not listed, as git itself ignores it: the write lists the rest and commits (an object of it would only be
// written again).
TEST(GitStore, AWriteListsPastAPackIndexWithoutItsPack) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  must_commit(store, {{"texts/old/0", "old text 0\n"}}, "c0\n");
  const fs::path lone = store.git_dir() / "objects" / "pack" / ("pack-" + std::string(40, 'e') + ".idx");
  avow::test::write_file(lone, std::string(2048, 'x'));
  auto tx = store.begin(100);
  ASSERT_TRUE(tx) << tx.error().message;
  ASSERT_TRUE(tx->put("texts/new/a", "new text a\n"));
  auto id = tx->commit("after\n");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(store.read(*id, "texts/old/0"), std::string("old text 0\n"));
  EXPECT_EQ(store.read(*id, "texts/new/a"), std::string("new text a\n"));
  fs::remove(lone);
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
}

TEST(GitStore, EveryCommitIsOnePackAndNoLooseObjects) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  const std::size_t loose_before = count_loose(store.git_dir());
  EXPECT_EQ(count_packs(store.git_dir()), 0u);
  for (int i = 1; i <= 5; ++i) {
    std::vector<std::pair<std::string, std::string>> files;
    for (int j = 0; j < 10; ++j) files.emplace_back(fmt::format("d{}/f{}", j % 3, i * 100 + j), fmt::format("{}", i * j));
    files.emplace_back("log/checkpoint", fmt::format("size {}\n", i));
    must_commit(store, files, fmt::format("commit {}\n", i));
    EXPECT_EQ(count_packs(store.git_dir()), static_cast<std::size_t>(i));
    EXPECT_EQ(count_loose(store.git_dir()), loose_before);
  }
  EXPECT_EQ(loose_before, 0u);
  // Every pack has its index.
  for (const auto& e : fs::directory_iterator(store.git_dir() / "objects" / "pack"))
    if (e.path().extension() == ".pack") {
      EXPECT_TRUE(fs::exists(fs::path(e.path()).replace_extension(".idx")));
    }
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
  EXPECT_EQ(run(git(dir, "status --porcelain")).out, "");
  EXPECT_EQ(run(git(dir, "rev-list --count main")).out, "5\n");
}

TEST(GitStore, LargeWriteIsFlushedToPacksAsItGrowsAndCommittedWhole) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  auto created = GitStore::init(dir); // the archive layout: no working tree to check out
  ASSERT_TRUE(created);
  GitStore store = std::move(*created);
  // About 83 MB of distinct blobs: over the transaction's staging limit (k_staged_flush_bytes), so some are packed
  // before the commit.
  constexpr int k_blobs = 1300;
  const auto blob = [](int i) {
    std::string data(64 * 1024, ' ');
    std::uint32_t x = 2463534242u + static_cast<std::uint32_t>(i);
    for (char& c : data) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5; // xorshift32: letters zlib cannot squeeze much
      c = static_cast<char>('a' + x % 26);
    }
    return data;
  };
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  for (int i = 0; i < k_blobs; ++i) ASSERT_TRUE(tx->put(fmt::format("b/{:02x}/{}", i % 256, i), blob(i)));
  const std::size_t before_commit = count_packs(store.git_dir());
  EXPECT_GE(before_commit, 1u); // flushed while staging, before anything is referenced
  EXPECT_EQ(store.head().value(), std::nullopt);
  auto id = tx->commit("big\n");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_GT(count_packs(store.git_dir()), before_commit);
  EXPECT_EQ(count_loose(store.git_dir()), 0u);
  for (int i = 0; i < k_blobs; i += 97) EXPECT_EQ(store.read(*id, fmt::format("b/{:02x}/{}", i % 256, i)), blob(i));
  auto fresh = GitStore::open(dir);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->read(*id, "b/13/1299"), blob(1299)); // 1299 % 256 == 0x13
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
  EXPECT_EQ(run(git(dir, "ls-tree -r main | wc -l")).out, fmt::format("{}\n", k_blobs));
}

// A write of 2,048 updates or more builds each second-level folder on its own and packs its new trees with the staged
// blobs as they reach the staging limit (k_staged_flush_bytes), so that a large batch into a large archive does not
// hold tens of thousands of new fan-out trees in memory. The tree is the one a write of a few updates at a time gives.
// The large commit of the test below, begun with `new_objects` (GitStore::begin: with an object filter when > 0).
void large_commit_builds_its_folders_one_by_one_into_the_same_tree(std::uint64_t new_objects) {
  TempDir t;
  auto a = GitStore::init(t.path() / "a");
  auto b = GitStore::init(t.path() / "b");
  ASSERT_TRUE(a && b);
  std::map<std::string, std::string> files; // the final state
  const auto small = [](int i, int version) { return fmt::format("v{} {}\n", version, i); };
  const auto path = [](int i, const char* name) { return fmt::format("t/{:02x}/{}/{}{}", i % 64, i % 7, name, i); };
  // Commit 1: 3,000 files under 448 leaf folders, a top-level file and a two-level one.
  {
    auto tx = a->begin();
    ASSERT_TRUE(tx);
    for (int i = 0; i < 3000; ++i) ASSERT_TRUE(tx->put(path(i, "f"), small(i, 1)));
    ASSERT_TRUE(tx->put("top.txt", "top\n"));
    ASSERT_TRUE(tx->put("d/file", "d\n"));
    ASSERT_TRUE(tx->commit("one\n"));
  }
  for (int i = 0; i < 3000; ++i) files[path(i, "f")] = small(i, 1);
  files["d/file"] = "d\n";
  // Commit 2, grouped: 2,100 new files, 300 changed, every file of t/05 removed (the folder goes), top.txt removed,
  // a file beside the folders (t/zz.txt), and large blobs that bring the staged bytes to just under the limit,
  // so that the new trees push them over it halfway through the folders.
  const std::size_t packs_before = count_packs(a->git_dir());
  std::uint64_t staged = 0;
  {
    auto tx = a->begin(new_objects);
    ASSERT_TRUE(tx);
    for (int i = 3000; i < 5100; ++i) {
      ASSERT_TRUE(tx->put(path(i, "n"), small(i, 2)));
      files[path(i, "n")] = small(i, 2);
      staged += small(i, 2).size();
    }
    for (int i = 0; i < 3000; i += 10) {
      ASSERT_TRUE(tx->put(path(i, "f"), small(i, 3)));
      files[path(i, "f")] = small(i, 3);
      staged += small(i, 3).size();
    }
    ASSERT_TRUE(tx->remove("top.txt"));
    ASSERT_TRUE(tx->put("t/zz.txt", "zz\n"));
    files["t/zz.txt"] = "zz\n";
    staged += 3;
    const std::uint64_t limit = k_staged_flush_bytes, room = 60 * 1024; // the new trees are ~170 KB
    for (int k = 0; staged + room < limit; ++k) {
      std::string data(std::min<std::uint64_t>(limit - room - staged, 4u << 20), ' ');
      std::uint32_t x = 2463534242u + static_cast<std::uint32_t>(k);
      for (char& c : data) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        c = static_cast<char>('a' + x % 26);
      }
      const std::string p = fmt::format("big/{:02x}/{}", k, k);
      ASSERT_TRUE(tx->put(p, data));
      files[p] = data;
      staged += data.size();
    }
    EXPECT_EQ(count_packs(a->git_dir()), packs_before) << "nothing may be packed before the commit";
    // Every file of t/05 goes: the old ones, and the new ones staged above.
    for (auto it = files.begin(); it != files.end();)
      if (it->first.starts_with("t/05/")) {
        ASSERT_TRUE(tx->remove(it->first)) << it->first;
        it = files.erase(it);
      } else {
        ++it;
      }
    ASSERT_GE(tx->size(), 2048u);
    auto id = tx->commit("two\n");
    ASSERT_TRUE(id) << id.error().message;
    // The blobs and the first folders' trees were packed before the commit's own write, which holds only the
    // remaining trees and the commit (in one write of all of them, it would hold the 2,416 new blobs too).
    std::size_t with_commit = 0;
    for (const auto& e : fs::directory_iterator(a->git_dir() / "objects" / "pack")) {
      if (e.path().extension() != ".idx") continue;
      const auto listing = run("git show-index < '" + e.path().string() + "'").out;
      if (listing.find(" " + id->hex() + " ") == std::string::npos) continue;
      with_commit = static_cast<std::size_t>(std::count(listing.begin(), listing.end(), '\n'));
    }
    EXPECT_GT(with_commit, 0u);
    EXPECT_LT(with_commit, 600u) << "the commit's write held the whole write";
  }
  // Packed halfway (blobs and the first folders' trees, one pack whatever the number of cores), then the rest.
  EXPECT_EQ(count_packs(a->git_dir()), packs_before + 2);
  const std::string dir_a = (t.path() / "a").string();
  EXPECT_EQ(run(git(dir_a, "fsck --strict")).exit_code, 0);
  EXPECT_EQ(run(git(dir_a, "ls-tree main t/05")).out, "");
  EXPECT_EQ(run(git(dir_a, "ls-tree -r --name-only main | wc -l")).out, fmt::format("{}\n", files.size()));
  // The same final state written a few hundred updates at a time (one tree call from the root each).
  std::vector<std::pair<std::string, std::string>> all(files.begin(), files.end());
  for (std::size_t from = 0; from < all.size(); from += 1000) {
    auto tx = b->begin();
    ASSERT_TRUE(tx);
    for (std::size_t k = from; k < std::min(all.size(), from + 1000); ++k) ASSERT_TRUE(tx->put(all[k].first, all[k].second));
    ASSERT_LT(tx->size(), 2048u);
    ASSERT_TRUE(tx->commit("part\n"));
  }
  const auto tree_of = [](GitStore& s) {
    auto head = s.head();
    return s.commit_info(**head).value().tree;
  };
  EXPECT_EQ(tree_of(*a), tree_of(*b));
  const auto counted = packed_and_distinct(t.path() / "a");
  EXPECT_EQ(counted.first, counted.second) << "an object was written twice";
  auto head = a->head();
  for (int i = 0; i < 5100; i += 37) {
    const std::string p = path(i, i < 3000 ? "f" : "n");
    auto got = a->read_if_exists(**head, p);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->has_value(), files.count(p) == 1) << p;
    if (files.count(p)) {
      EXPECT_EQ(**got, files[p]) << p;
    }
  }
}

TEST(GitStore, LargeCommitBuildsItsFoldersOneByOneIntoTheSameTree) {
  large_commit_builds_its_folders_one_by_one_into_the_same_tree(0);
}

// The same with the write's object filter, whose trees are built against an odb that answers from the filter and
// writes into the mempack (transaction.cpp, FilteredBackend): the same tree, the same packs, nothing written twice.
TEST(GitStore, LargeCommitWithAnObjectFilterBuildsTheSameTree) {
  large_commit_builds_its_folders_one_by_one_into_the_same_tree(5000);
}

TEST(GitStore, ManySmallPacksAreConsolidatedWithoutLosingObjects) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  std::vector<Oid> ids;
  std::size_t max_packs = 0;
  for (int i = 0; i < 40; ++i) {
    ids.push_back(must_commit(store, {{fmt::format("t/{}", i), fmt::format("{}", i)}}, fmt::format("c{}\n", i)));
    max_packs = std::max(max_packs, count_packs(store.git_dir()));
  }
  EXPECT_LT(max_packs, 10u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(store.read(ids[i], fmt::format("t/{}", i)), fmt::format("{}", i));
  auto fresh = GitStore::open(dir);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->read(ids[3], "t/3"), std::string("3"));
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
  EXPECT_EQ(run(git(dir, "count-objects -v | grep -E '^(count|garbage):'")).out, "count: 0\ngarbage: 0\n");
}

// A pack of 8 MiB or more is settled: the merges of later small packs leave it as it is (a batch of long texts writes
// such packs, one per core, and merging them would cost seconds inside a single append).
TEST(GitStore, LargePacksAreSettledAndNeverMergedAgain) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  std::string noise(9u << 20, '\0'); // incompressible: its pack is over 8 MiB
  std::uint64_t x = 42;
  for (auto& c : noise) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    c = static_cast<char>(x >> 56);
  }
  const Oid big = must_commit(store, {{"big", noise}}, "big\n");
  std::vector<fs::path> large;
  for (const auto& e : fs::directory_iterator(store.git_dir() / "objects" / "pack"))
    if (e.path().extension() == ".pack" && fs::file_size(e.path()) >= (8u << 20)) large.push_back(e.path());
  ASSERT_EQ(large.size(), 1u);
  std::size_t max_packs = 0;
  for (int i = 0; i < 24; ++i) {
    store = std::move(GitStore::open(dir).value());
    must_commit(store, {{fmt::format("t/{}", i), fmt::format("{}", i)}}, fmt::format("c{}\n", i));
    max_packs = std::max(max_packs, count_packs(store.git_dir()));
  }
  EXPECT_LT(max_packs, 10u);                                // the small packs were merged
  EXPECT_TRUE(fs::exists(large.front())) << large.front(); // the large one was not rewritten
  EXPECT_EQ(store.read(big, "big"), noise);
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
}

// A file that every commit rewrites a little longer (as each append rewrites its partial entry bundle
// log/tile/entries/N.p/W, under a new name) is stored as deltas once the packs are merged, not once whole per commit.
std::uintmax_t pack_bytes(const fs::path& git_dir) {
  std::uintmax_t n = 0;
  for (const auto& e : fs::directory_iterator(git_dir / "objects" / "pack"))
    if (e.path().extension() == ".pack") n += fs::file_size(e.path());
  return n;
}

TEST(GitStore, GrowingPartialBundleIsDeltaCompressedWhenPacksMerge) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  constexpr int k_commits = 64;
  std::string bundle;
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  std::uintmax_t whole = 0; // what the versions take compressed one by one (about half: hex digits)
  std::vector<Oid> ids;
  for (int i = 1; i <= k_commits; ++i) {
    for (int k = 0; k < 16; ++k) { // 1 KiB of hex digits per commit, hard to compress
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      bundle += fmt::format("{:016x}{:016x}{:016x}{:015x}\n", x, x * 31, x * 17, x >> 4);
    }
    whole += bundle.size() / 2;
    store = std::move(GitStore::open(dir).value()); // one handle per append, as the CLI does (a long-lived one is reopened by a merge)
    auto tx = store.begin();
    ASSERT_TRUE(tx);
    if (i > 1) {
      ASSERT_TRUE(tx->remove(fmt::format("log/tile/entries/000.p/{}", i - 1)));
    }
    ASSERT_TRUE(tx->put(fmt::format("log/tile/entries/000.p/{}", i), bundle));
    auto id = tx->commit(fmt::format("append {}\n", i));
    ASSERT_TRUE(id) << id.error().message;
    ids.push_back(*id);
  }
  const std::uintmax_t bytes = pack_bytes(store.git_dir());
  std::printf("[ figures  ] %d versions: %ju bytes of packs; whole, compressed one by one: about %ju\n", k_commits,
              bytes, whole);
  EXPECT_LT(bytes, whole / 3); // the newest few packs, not merged yet, hold their version whole
  for (int i = 1; i <= k_commits; i += 7) {
    auto data = store.read(ids[static_cast<std::size_t>(i - 1)], fmt::format("log/tile/entries/000.p/{}", i));
    ASSERT_TRUE(data) << data.error().message;
    EXPECT_EQ(data->size(), static_cast<std::size_t>(i) * 16 * 64);
    EXPECT_EQ(*data, bundle.substr(0, data->size()));
  }
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
  EXPECT_EQ(run(git(dir, "count-objects -v | grep -E '^(count|garbage):'")).out, "count: 0\ngarbage: 0\n");
}

// A folder whose size no longer changes while each commit changes one of its entries (the `texts` tree once all 256
// subfolders exist: one new text a commit) is stored, once packs merge, as a chain of small deltas along the history.
// The merge used to insert the commits in id order: each version then sat among unrelated versions of the same size
// in the delta search's window, and was stored whole or as a large delta.
TEST(GitStore, FolderOfFixedSizeIsDeltaCompressedAlongItsHistoryWhenPacksMerge) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  constexpr int k_folders = 64; // `texts`: 64 entries of 29 bytes, 1,856 bytes, nearly all object ids
  std::vector<std::pair<std::string, std::string>> first;
  for (int d = 0; d < k_folders; ++d) first.emplace_back(fmt::format("texts/{:02x}/0", d), fmt::format("text {}", d));
  must_commit(store, first, "all folders\n");
  const std::uintmax_t before = pack_bytes(store.git_dir());
  constexpr int k_commits = 120;
  std::uint64_t x = 7;
  std::vector<std::pair<Oid, std::string>> written;
  for (int i = 1; i <= k_commits; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::string path = fmt::format("texts/{:02x}/0", (x >> 32) % k_folders);
    store = std::move(GitStore::open(dir).value()); // one handle per append, as the CLI does
    written.emplace_back(must_commit(store, {{path, fmt::format("text {}", i)}}, fmt::format("append {}\n", i)), path);
  }
  // Stock git reads each version of `texts` from the packs: its size there, and whether it is stored as a delta.
  const auto listed = run(git(dir, "rev-list --objects --all") + " | awk '$2 == \"texts\" {print $1}' | " +
                          git(dir, "cat-file --batch-check='%(objectsize:disk) %(deltabase)'"));
  ASSERT_EQ(listed.exit_code, 0);
  std::size_t versions = 0, deltas = 0;
  std::uintmax_t delta_bytes = 0;
  std::istringstream lines(listed.out);
  for (std::uintmax_t size = 0; lines >> size;) {
    std::string base;
    lines >> base;
    ++versions;
    if (base != std::string(40, '0')) {
      ++deltas;
      delta_bytes += size;
    }
  }
  ASSERT_EQ(versions, static_cast<std::size_t>(k_commits) + 1);
  // Whole, a version takes ~1.9 KB. The newest few packs, not merged yet, hold theirs whole, and a chain of deltas is
  // cut every 50; the rest are deltas of one changed entry (20 bytes of object id and a few of copy instructions,
  // compressed).
  std::printf("[ figures  ] %zu versions of `texts`: %zu deltas, %ju bytes in all (%ju a delta); packs %ju bytes\n",
              versions, deltas, delta_bytes, deltas ? delta_bytes / deltas : 0,
              pack_bytes(store.git_dir()) - before);
  EXPECT_GE(deltas, versions * 3 / 4);
  EXPECT_LT(delta_bytes, deltas * 100); // 64 bytes here; 174 with the versions taken in id order
  for (std::size_t i = 0; i < written.size(); i += 13)
    EXPECT_EQ(store.read(written[i].first, written[i].second), fmt::format("text {}", i + 1));
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
}

TEST(GitStore, UncommittedTransactionLeavesNoTrace) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  const Oid first = must_commit(store, {{"a", "1"}}, "one\n");
  const std::size_t packs = count_packs(store.git_dir());
  {
    auto tx = store.begin();
    ASSERT_TRUE(tx);
    EXPECT_EQ(tx->base(), first);
    ASSERT_TRUE(tx->put("b", "never committed"));
    ASSERT_TRUE(tx->remove("a"));
  }
  EXPECT_EQ(store.head().value(), first);
  EXPECT_EQ(count_packs(store.git_dir()), packs);
  EXPECT_EQ(count_loose(store.git_dir()), 0u);
  EXPECT_EQ(run(git(dir, "cat-file -e " /* blob of "never committed" */
                         "$(printf 'never committed' | git hash-object --stdin)")).exit_code,
            1);
  EXPECT_FALSE(fs::exists(dir / "b"));
  EXPECT_EQ(run(git(dir, "status --porcelain")).out, "");
}

// A write that flushed blobs to packs and is then abandoned (a bad input found late in a large batch), or that loses
// the compare-and-swap, removes the packs it wrote; the same handle then writes those blobs again, whole.
TEST(GitStore, AbandonedWriteRemovesThePacksItFlushed) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  const Oid first = must_commit(store, {{"a", "1"}}, "one\n");
  const auto packs_of = [&] {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(store.git_dir() / "objects" / "pack")) out.insert(e.path().filename());
    return out;
  };
  const auto before = packs_of();
  {
    auto tx = store.begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(tx->put("b", "flushed, never committed"));
    ASSERT_TRUE(tx->flush());
    EXPECT_GT(packs_of().size(), before.size()); // on disk while the write is open
    // Read it from the new pack through this handle, so that the handle holds that pack open.
    auto flushed_id =
        Oid::from_hex(run("printf 'flushed, never committed' | " + git(dir, "hash-object --stdin")).out.substr(0, 40));
    ASSERT_TRUE(flushed_id);
    EXPECT_EQ(store.read_object(*flushed_id), std::string("flushed, never committed"));
    ASSERT_TRUE(tx->put("c", "staged only"));
  }
  EXPECT_EQ(packs_of(), before);
  EXPECT_EQ(store.head().value(), first);
  EXPECT_EQ(run(git(dir, "cat-file -e $(printf 'flushed, never committed' | git hash-object --stdin)")).exit_code, 1);
  // The same handle writes the blob again: it must not be taken as already on disk.
  const Oid second = must_commit(store, {{"b", "flushed, never committed"}}, "two\n");
  EXPECT_EQ(store.read(second, "b"), std::string("flushed, never committed"));
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);

  // Losing the compare-and-swap: the loser's flushed pack and its commit pack go.
  auto other = GitStore::open(dir);
  ASSERT_TRUE(other);
  const auto settled = packs_of();
  auto loser = store.begin();
  ASSERT_TRUE(loser);
  ASSERT_TRUE(loser->put("d", "from the loser"));
  ASSERT_TRUE(loser->flush());
  const Oid third = must_commit(*other, {{"e", "from the winner"}}, "three\n");
  auto lost = loser->commit("lost\n");
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, ErrorCode::failed_precondition);
  loser = std::unexpected(Error{});
  std::set<std::string> added;
  for (const auto& name : packs_of())
    if (!settled.contains(name)) added.insert(name);
  EXPECT_EQ(added.size(), 2u) << "only the winner's pack (.idx and .pack) is new";
  EXPECT_EQ(run(git(dir, "cat-file -e $(printf 'from the loser' | git hash-object --stdin)")).exit_code, 1);
  EXPECT_EQ(store.head().value(), third);
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
}

TEST(GitStore, CompareAndSwapFailsWhenMainMoved) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);

  // One write at a time per handle.
  {
    auto first = store.begin();
    ASSERT_TRUE(first);
    auto second = store.begin();
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, ErrorCode::failed_precondition);
  }
  // Two first commits racing on an empty archive, through two handles.
  auto racer = GitStore::open(dir);
  ASSERT_TRUE(racer);
  auto a0 = store.begin();
  auto b0 = racer->begin();
  ASSERT_TRUE(a0 && b0);
  ASSERT_TRUE(a0->put("x", "a"));
  ASSERT_TRUE(b0->put("x", "b"));
  auto a0_id = a0->commit("a0\n");
  ASSERT_TRUE(a0_id) << a0_id.error().message;
  auto b0_id = b0->commit("b0\n");
  ASSERT_FALSE(b0_id);
  EXPECT_EQ(b0_id.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(b0_id.error().message, "archive changed during the write (another writer?)");
  a0 = std::unexpected(Error{}); // release the handles' write slots
  b0 = std::unexpected(Error{});

  // Two writers on a second store handle and the first one.
  auto other = GitStore::open(dir);
  ASSERT_TRUE(other);
  auto a = store.begin();
  auto b = other->begin();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->base(), *a0_id);
  EXPECT_EQ(b->base(), *a0_id);
  ASSERT_TRUE(b->put("y", "from b"));
  auto b_id = b->commit("b\n");
  ASSERT_TRUE(b_id);
  EXPECT_TRUE(other->begin()) << "a committed transaction still blocks its handle"; // b is committed but alive
  ASSERT_TRUE(a->put("y", "from a"));
  auto a_id = a->commit("a\n");
  ASSERT_FALSE(a_id);
  EXPECT_EQ(a_id.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(a_id.error().message, "archive changed during the write (another writer?)");
  EXPECT_EQ(store.head().value(), *b_id);
  EXPECT_EQ(store.read(*b_id, "y"), std::string("from b"));
  EXPECT_EQ(run(git(dir, "rev-list --count main")).out, "2\n");
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);

  // A committed transaction cannot be reused.
  auto again = b->commit("again\n");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::failed_precondition);
  EXPECT_FALSE(b->put("z", "z"));
}

TEST(GitStore, RemovalDeletesFromTreeAndWorkingTree) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  const Oid c1 = must_commit(store, {{"a/b/c.txt", "c"}, {"a/d.txt", "d"}, {"e", "e"}}, "one\n");
  ASSERT_TRUE(fs::exists(dir / "a" / "b" / "c.txt"));

  auto tx = store.begin();
  ASSERT_TRUE(tx);
  auto missing = tx->remove("a/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  auto folder = tx->remove("a/b"); // only blobs can be removed
  ASSERT_FALSE(folder);
  EXPECT_EQ(folder.error().code, ErrorCode::not_found);
  ASSERT_TRUE(tx->put("staged", "s"));
  ASSERT_TRUE(tx->remove("staged")); // a staged put can be taken back
  ASSERT_TRUE(tx->remove("a/b/c.txt"));
  auto c2 = tx->commit("two\n");
  ASSERT_TRUE(c2) << c2.error().message;
  EXPECT_TRUE(tx->warnings().empty());

  EXPECT_EQ(store.exists(*c2, "a/b/c.txt"), false);
  EXPECT_EQ(store.exists(c1, "a/b/c.txt"), true);
  EXPECT_EQ(store.exists(*c2, "staged"), false);
  EXPECT_EQ(run(git(dir, "ls-tree -r --name-only main")).out, "a/d.txt\ne\n");
  EXPECT_EQ(run(git(dir, "ls-tree -r -t --name-only main")).out, "a\na/d.txt\ne\n"); // no empty tree a/b
  EXPECT_FALSE(fs::exists(dir / "a" / "b"));
  EXPECT_FALSE(fs::exists(dir / "staged"));
  EXPECT_EQ(run(git(dir, "status --porcelain --untracked-files=all")).out, "");
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
}

TEST(GitStore, RejectsMalformedPaths) {
  TempDir t;
  GitStore store = must_init(t.path() / "r");
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  for (const std::string& bad : std::vector<std::string>{"", "/a", "a/", "a//b", "./a", "a/../b", "..", ".git/config", "a/.GIT/x",
                                 "x/.Git", std::string("a\0b", 3)}) {
    auto r = tx->put(bad, "x");
    ASSERT_FALSE(r) << "accepted '" << bad << "'";
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input) << bad;
    auto rm = tx->remove(bad);
    ASSERT_FALSE(rm);
    EXPECT_EQ(rm.error().code, ErrorCode::invalid_input) << bad;
  }
  EXPECT_EQ(tx->size(), 0u);
  EXPECT_TRUE(tx->put(".gitx/a..b/.../c", "fine"));
}

TEST(GitStore, DiffReportsEachKind) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  const Oid c1 = must_commit(store, {{"x", "1"}, {"y", "1"}, {"z/w", "1"}, {"link", "target"}}, "one\n");
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(tx->put("x", "2"));
  ASSERT_TRUE(tx->remove("y"));
  ASSERT_TRUE(tx->put("n/m", "new"));
  ASSERT_TRUE(tx->put("z/w", "1")); // unchanged content: no change
  auto c2 = tx->commit("two\n");
  ASSERT_TRUE(c2);

  auto root = store.diff(std::nullopt, c1);
  ASSERT_TRUE(root) << root.error().message;
  EXPECT_EQ(*root, (std::vector<Change>{{ChangeKind::added, "link"},
                                        {ChangeKind::added, "x"},
                                        {ChangeKind::added, "y"},
                                        {ChangeKind::added, "z/w"}}));
  auto d = store.diff(c1, *c2);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (std::vector<Change>{
                    {ChangeKind::added, "n/m"}, {ChangeKind::modified, "x"}, {ChangeKind::deleted, "y"}}));

  // A type change (blob -> symlink) made by stock git, as a hostile archive could hold.
  fs::remove(dir / "link");
  fs::create_symlink("target", dir / "link");
  ASSERT_EQ(run(git(dir, "add link")).exit_code, 0);
  ASSERT_EQ(run(git(dir, "-c user.name=t -c user.email=t@t commit -q -m three")).exit_code, 0);
  auto c3 = store.head();
  ASSERT_TRUE(c3 && c3->has_value());
  auto d3 = store.diff(*c2, **c3);
  ASSERT_TRUE(d3);
  EXPECT_EQ(*d3, (std::vector<Change>{{ChangeKind::type_changed, "link"}}));
  auto entries = store.list_entries(**c3, "");
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[0].path, "link");
  EXPECT_EQ((*entries)[0].kind, EntryKind::symlink);
  EXPECT_EQ((*entries)[0].size, 6u);
}

// The diff reads every changed folder of one side before those of the other (for pack locality): each folder must
// still be compared with its own counterpart, at every depth.
TEST(GitStore, DiffComparesEachChangedFolderWithItsOwnCounterpartAtEveryDepth) {
  TempDir t;
  GitStore store = must_init(t.path() / "r");
  const Oid c1 = must_commit(store, {{"t/a/1/x", "1"}, {"t/a/2/x", "1"}, {"t/b/1/x", "1"}, {"t/b/2/x", "1"},
                                     {"t/c/1/x", "1"}, {"u/x", "1"}, {"v", "1"}},
                             "one\n");
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(tx->put("t/a/1/x", "2"));
  ASSERT_TRUE(tx->put("t/a/2/y", "2"));
  ASSERT_TRUE(tx->remove("t/b/2/x"));
  ASSERT_TRUE(tx->put("t/b/2/z", "2"));
  ASSERT_TRUE(tx->put("t/c/1/y", "2"));
  ASSERT_TRUE(tx->remove("v"));
  ASSERT_TRUE(tx->put("u/x", "3"));
  auto c2 = tx->commit("two\n");
  ASSERT_TRUE(c2) << c2.error().message;
  auto d = store.diff(c1, *c2);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, (std::vector<Change>{{ChangeKind::modified, "t/a/1/x"},
                                     {ChangeKind::added, "t/a/2/y"},
                                     {ChangeKind::deleted, "t/b/2/x"},
                                     {ChangeKind::added, "t/b/2/z"},
                                     {ChangeKind::added, "t/c/1/y"},
                                     {ChangeKind::modified, "u/x"},
                                     {ChangeKind::deleted, "v"}}));
  auto kept = store.diff_except_added(c1, *c2);
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, (std::vector<Change>{{ChangeKind::modified, "t/a/1/x"},
                                        {ChangeKind::deleted, "t/b/2/x"},
                                        {ChangeKind::modified, "u/x"},
                                        {ChangeKind::deleted, "v"}}));
}

// Changed folders are read in groups of 1,024: across a group's edge too, each is compared with its own counterpart.
TEST(GitStore, DiffComparesEachFolderWithItsCounterpartAcrossGroupsOfFolders) {
  TempDir t;
  GitStore store = must_init(t.path() / "r");
  const auto path = [](int i) {
    char name[32];
    std::snprintf(name, sizeof name, "g/%04d/x%d", i, i);
    return std::string(name);
  };
  constexpr int k_folders = 2100;
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < k_folders; ++i) files.emplace_back(path(i), "1");
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  for (const auto& [p, c] : files) ASSERT_TRUE(tx->put(p, c));
  auto c1 = tx->commit("one\n");
  ASSERT_TRUE(c1);
  auto tx2 = store.begin();
  ASSERT_TRUE(tx2);
  for (int i = 0; i < k_folders; ++i) ASSERT_TRUE(tx2->put(path(i), "2"));
  auto c2 = tx2->commit("two\n");
  ASSERT_TRUE(c2);
  auto d = store.diff(*c1, *c2);
  ASSERT_TRUE(d) << d.error().message;
  std::vector<Change> want;
  for (int i = 0; i < k_folders; ++i) want.push_back({ChangeKind::modified, path(i)});
  EXPECT_EQ(*d, want);
}

TEST(GitStore, DiffExceptAddedKeepsEveryOtherChangeAndReadObjectReadsListedBlobs) {
  TempDir t;
  GitStore store = must_init(t.path() / "r");
  const Oid c1 = must_commit(store, {{"x", "1"}, {"y", "1"}, {"z/w", "1"}}, "one\n");
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(tx->put("x", "2"));
  ASSERT_TRUE(tx->remove("y"));
  ASSERT_TRUE(tx->put("n/m", "new"));
  ASSERT_TRUE(tx->put("z/v", "new too"));
  auto c2 = tx->commit("two\n");
  ASSERT_TRUE(c2);
  auto root = store.diff_except_added(std::nullopt, c1);
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->empty());
  auto d = store.diff_except_added(c1, *c2);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (std::vector<Change>{{ChangeKind::modified, "x"}, {ChangeKind::deleted, "y"}}));

  auto entries = store.list_entries(*c2, "");
  ASSERT_TRUE(entries);
  for (const auto& e : *entries) {
    auto by_id = store.read_object(e.id);
    ASSERT_TRUE(by_id) << e.path;
    EXPECT_EQ(*by_id, *store.read(*c2, e.path)) << e.path;
    EXPECT_EQ(by_id->size(), e.size);
  }
  // A tree is not a blob.
  auto info = store.commit_info(*c2);
  ASSERT_TRUE(info);
  auto tree = store.read_object(info->tree);
  ASSERT_FALSE(tree);
  EXPECT_EQ(tree.error().code, ErrorCode::not_found);
}

// The blobs of each pack of objects/pack, in the order the pack holds them: pack file name -> blob ids.
std::map<std::string, std::vector<std::string>> blobs_by_pack(const fs::path& git_dir) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& e : fs::directory_iterator(git_dir / "objects" / "pack"))
    if (e.path().extension() == ".idx") out[e.path().stem().string()] = avow::test::blobs_in_pack_order(e.path());
  return out;
}

// A write packs its blobs in the order it staged them (for a batch, the order of its entries), both the packs a flush
// writes and the commit's own: a reader of the log in order then reads each pack from front to back.
TEST(GitStore, AWritePacksItsBlobsInTheOrderItStagedThem) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  must_commit(store, {{"first", "1"}}, "one\n");
  const auto before = blobs_by_pack(store.git_dir());
  // Paths and ids both out of step with the order of the puts.
  const auto content = [](int i) { return "statement " + std::to_string(i * 7919 % 1000); };
  const auto path = [](int i) { return "texts/" + std::to_string((i * 37) % 100) + "-" + std::to_string(i); };
  std::vector<std::string> flushed, committed; // blob ids in the order put
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(tx->put(path(i), content(i)));
    const std::string id =
        run("printf '%s' '" + content(i) + "' | " + git(dir, "hash-object --stdin")).out.substr(0, 40);
    (i < 50 ? flushed : committed).push_back(id);
    if (i == 49) {
      ASSERT_TRUE(tx->flush());
    }
  }
  ASSERT_TRUE(tx->commit("two\n"));
  std::vector<std::vector<std::string>> new_packs;
  for (auto& [name, blobs] : blobs_by_pack(store.git_dir()))
    if (!before.contains(name)) new_packs.push_back(std::move(blobs));
  ASSERT_EQ(new_packs.size(), 2u);
  if (new_packs[0] != flushed) std::swap(new_packs[0], new_packs[1]);
  EXPECT_EQ(new_packs[0], flushed);
  EXPECT_EQ(new_packs[1], committed);
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
}

TEST(GitStore, BlobSizeReadsTheObjectHeaderOfABlobOnly) {
  TempDir t;
  GitStore store = must_init(t.path() / "r");
  const Oid c = must_commit(store, {{"a", "12345"}, {"d/b", std::string(70000, 'x')}, {"e", ""}}, "one\n");
  auto entries = store.list_entries(c, "");
  ASSERT_TRUE(entries);
  std::vector<std::pair<std::string, std::uint64_t>> sizes;
  for (const auto& e : *entries) {
    auto size = store.blob_size(e.id);
    ASSERT_TRUE(size) << e.path << ": " << size.error().message;
    sizes.emplace_back(e.path, *size);
  }
  EXPECT_EQ(sizes, (std::vector<std::pair<std::string, std::uint64_t>>{{"a", 5}, {"d/b", 70000}, {"e", 0}}));
  // A tree is not a blob; an object that is not there is not found.
  auto info = store.commit_info(c);
  ASSERT_TRUE(info);
  auto tree = store.blob_size(info->tree);
  ASSERT_FALSE(tree);
  EXPECT_EQ(tree.error().code, ErrorCode::not_found);
  EXPECT_EQ(tree.error().message, "object " + info->tree.hex() + " is not a blob");
  const Oid absent = *Oid::from_hex(std::string(40, '7'));
  auto missing = store.blob_size(absent);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

// verify holds the mapped windows at one limit and its commit walk at another inside it: each limit gives back the
// one it replaced, not the process default.
TEST(GitStore, MappedPackLimitsNestAndGiveBackTheLimitTheyReplaced) {
  const LibGit2Session session;
  const auto limit = [] {
    std::size_t bytes = 0;
    git_libgit2_opts(GIT_OPT_GET_MWINDOW_MAPPED_LIMIT, &bytes);
    return bytes;
  };
  ASSERT_EQ(limit(), k_mapped_pack_bytes);
  {
    const MappedPackLimit outer(std::size_t{32} << 20);
    EXPECT_EQ(limit(), std::size_t{32} << 20);
    {
      const MappedPackLimit inner(std::size_t{128} << 20);
      EXPECT_EQ(limit(), std::size_t{128} << 20);
    }
    EXPECT_EQ(limit(), std::size_t{32} << 20);
  }
  EXPECT_EQ(limit(), k_mapped_pack_bytes);
}

TEST(GitStore, ForEachEntryWalksInOrderSkipsSizesAndStopsOnError) {
  TempDir t;
  GitStore store = must_init(t.path() / "r");
  const Oid c = must_commit(store, {{"a", "12345"}, {"d/b", "1"}, {"d/c", "123"}, {"e", "12"}}, "one\n");
  std::vector<std::pair<std::string, std::uint64_t>> seen;
  auto walked = store.for_each_entry(c, "", [&](TreeEntry&& e) -> Expected<void> {
    seen.emplace_back(e.path, e.size);
    return {};
  });
  ASSERT_TRUE(walked);
  using L = std::vector<std::pair<std::string, std::uint64_t>>;
  EXPECT_EQ(seen, (L{{"a", 5}, {"d/b", 1}, {"d/c", 3}, {"e", 2}}));
  // Without sizes: the same entries and object ids, every size 0.
  seen.clear();
  std::vector<Oid> ids;
  walked = store.for_each_entry(c, "d", [&](TreeEntry&& e) -> Expected<void> {
    seen.emplace_back(e.path, e.size);
    ids.push_back(e.id);
    return {};
  }, GitStore::Sizes::skip);
  ASSERT_TRUE(walked);
  EXPECT_EQ(seen, (L{{"d/b", 0}, {"d/c", 0}}));
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(*store.read_object(ids[1]), "123");
  // An error from the callback stops the walk and is returned.
  int calls = 0;
  walked = store.for_each_entry(c, "", [&](TreeEntry&&) -> Expected<void> {
    if (++calls == 2) return fail(ErrorCode::io, "stop here");
    return {};
  });
  ASSERT_FALSE(walked);
  EXPECT_EQ(walked.error().message, "stop here");
  EXPECT_EQ(calls, 2);
}

TEST(GitStore, ListsBlobsUnderAPrefix) {
  TempDir t;
  GitStore store = must_init(t.path() / "r");
  const Oid c = must_commit(store,
                            {{"log/tile/0/000", std::string(64, 'a')},
                             {"log/tile/0/001.p/3", std::string(96, 'b')},
                             {"log/checkpoint", "cp\n"},
                             {"avow.json", "{}"}},
                            "one\n");
  using L = std::vector<std::pair<std::string, std::uint64_t>>;
  EXPECT_EQ(store.list(c, "log/tile"), (L{{"log/tile/0/000", 64}, {"log/tile/0/001.p/3", 96}}));
  EXPECT_EQ(store.list(c, "log/tile/"), (L{{"log/tile/0/000", 64}, {"log/tile/0/001.p/3", 96}}));
  EXPECT_EQ(store.list(c, ""), (L{{"avow.json", 2},
                                  {"log/checkpoint", 3},
                                  {"log/tile/0/000", 64},
                                  {"log/tile/0/001.p/3", 96}}));
  EXPECT_EQ(store.list(c, "log/checkpoint"), (L{{"log/checkpoint", 3}}));
  EXPECT_EQ(store.list(c, "nope"), L{});
  auto bad = store.list(c, "../x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_input);
}

TEST(GitStore, ForEachCommitWalksOldestFirst) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  int calls = 0;
  ASSERT_TRUE(store.for_each_commit([&](const CommitInfo&) -> Expected<void> {
    ++calls;
    return {};
  }));
  EXPECT_EQ(calls, 0);

  std::vector<Oid> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(must_commit(store, {{fmt::format("f{}", i), "x"}}, fmt::format("m{}\n", i)));
  std::vector<CommitInfo> seen;
  ASSERT_TRUE(store.for_each_commit([&](const CommitInfo& c) -> Expected<void> {
    seen.push_back(c);
    return {};
  }));
  ASSERT_EQ(seen.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(seen[i].id, ids[i]);
    EXPECT_EQ(seen[i].message, fmt::format("m{}\n", i));
    if (i == 0)
      EXPECT_TRUE(seen[i].parents.empty());
    else
      EXPECT_EQ(seen[i].parents, std::vector<Oid>{ids[i - 1]});
    EXPECT_EQ(seen[i].raw, run(git(dir, "cat-file commit " + ids[i].hex())).out);
    EXPECT_EQ(seen[i].raw.rfind("tree " + seen[i].tree.hex() + "\n", 0), 0u);
    EXPECT_EQ(seen[i].raw, seen[i].raw_header + "\n" + seen[i].message);
    EXPECT_GT(seen[i].commit_time, 1600000000);
  }
  // Errors stop the walk.
  int n = 0;
  auto stopped = store.for_each_commit([&](const CommitInfo&) -> Expected<void> {
    if (++n == 2) return fail(ErrorCode::internal, "stop");
    return {};
  });
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().message, "stop");
  EXPECT_EQ(n, 2);
}

TEST(GitStore, SignerHookWritesGpgsigLikeStockGit) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  const Oid parent = must_commit(store, {{"a", "1"}}, "one\n");
  const std::string armored = "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n";
  std::string signed_buffer;
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(tx->put("b", "2"));
  auto id = tx->commit("two\n\nsize: 2\n", [&](std::string_view buffer) -> Expected<std::string> {
    signed_buffer = std::string(buffer);
    return armored;
  });
  ASSERT_TRUE(id) << id.error().message;

  // The signed payload is the unsigned commit exactly.
  const auto header_end = signed_buffer.find("\n\n");
  ASSERT_NE(header_end, std::string::npos);
  EXPECT_EQ(signed_buffer.rfind("tree ", 0), 0u);
  EXPECT_NE(signed_buffer.find("\nparent " + parent.hex() + "\n"), std::string::npos);
  EXPECT_EQ(signed_buffer.substr(header_end), "\n\ntwo\n\nsize: 2\n");

  const std::string expected = signed_buffer.substr(0, header_end + 1) +
                               "gpgsig -----BEGIN SSH SIGNATURE-----\n"
                               " AAAA\n"
                               " -----END SSH SIGNATURE-----\n" +
                               signed_buffer.substr(header_end + 1);
  const auto shown = run(git(dir, "cat-file commit main"));
  EXPECT_EQ(shown.out, expected);
  EXPECT_EQ(shown.out.find(" \n"), std::string::npos);
  auto info = store.commit_info(*id);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->raw, expected);
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
  EXPECT_EQ(run(git(dir, "status --porcelain")).out, "");
}

TEST(GitStore, SignerFailureLeavesHeadUnchanged) {
  TempDir t;
  GitStore store = must_init(t.path() / "r");
  const Oid first = must_commit(store, {{"a", "1"}}, "one\n");
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(tx->put("b", "2"));
  auto id = tx->commit("two\n", [](std::string_view) -> Expected<std::string> {
    return fail(ErrorCode::key, "cannot read key 'k': missing");
  });
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, ErrorCode::key);
  EXPECT_EQ(store.head().value(), first);
  tx = std::unexpected(Error{});

  auto tx2 = store.begin();
  ASSERT_TRUE(tx2);
  auto empty = tx2->commit("x\n", [](std::string_view) -> Expected<std::string> { return std::string("\n"); });
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(store.head().value(), first);
}

TEST(GitStore, LocalConfigGetSet) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  auto none = store.config_get("avow.logkey");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store.config_set("avow.logkey", "/home/u/.config/avow/keys/log.pem"));
  EXPECT_EQ(store.config_get("avow.logkey").value(), std::optional<std::string>("/home/u/.config/avow/keys/log.pem"));
  EXPECT_EQ(run(git(dir, "config --local avow.logkey")).out, "/home/u/.config/avow/keys/log.pem\n");
  auto bad = store.config_set("no-section", "x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_input);
  // Another handle sees it.
  auto other = GitStore::open(dir);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->config_get("avow.logkey").value(), std::optional<std::string>("/home/u/.config/avow/keys/log.pem"));
}

TEST(GitStore, TransactionMayOutliveItsStore) {
  TempDir t;
  std::optional<Transaction> tx;
  {
    GitStore store = must_init(t.path() / "r");
    auto begun = store.begin();
    ASSERT_TRUE(begun);
    tx.emplace(std::move(*begun));
  }
  ASSERT_TRUE(tx->put("a", "1"));
  auto id = tx->commit("one\n");
  ASSERT_TRUE(id) << id.error().message;
  auto store = GitStore::open(t.path() / "r");
  ASSERT_TRUE(store);
  EXPECT_EQ(store->read(*id, "a"), std::string("1"));
}

TEST(GitStore, MovedStoreStillWorks) {
  TempDir t;
  GitStore a = must_init(t.path() / "r");
  GitStore b = std::move(a);
  const Oid id = must_commit(b, {{"a", "1"}}, "one\n");
  GitStore c = must_init(t.path() / "r2");
  c = std::move(b);
  EXPECT_EQ(c.read(id, "a"), std::string("1"));
}

// Performance: not timed, but it must work and stay correct at this size. 200 commits by default (fsync makes
// each one cost a few ms); AVOW_STRESS=1 runs 2,000.
TEST(GitStorePerformance, ManyCommitsOfOneFile) {
  const int total = std::getenv("AVOW_STRESS") ? 2000 : 200;
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  const auto start = std::chrono::steady_clock::now();
  auto last = std::chrono::steady_clock::now();
  Oid tip;
  for (int i = 0; i < total; ++i) {
    tip = must_commit(store, {{fmt::format("texts/{:02x}/{:04x}", i % 256, i), fmt::format("text {}\n", i)},
                              {"log/checkpoint", fmt::format("size {}\n", i + 1)}},
                      fmt::format("entry {}\n", i));
    if ((i + 1) % 500 == 0) {
      const auto now = std::chrono::steady_clock::now();
      std::cout << "commits " << i - 498 << ".." << i + 1 << ": "
                << std::chrono::duration<double>(now - last).count() << " s\n";
      last = now;
    }
  }
  std::cout << total << " commits: " << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
            << " s\n";
  EXPECT_EQ(store.head().value(), tip);
  int n = 0;
  ASSERT_TRUE(store.for_each_commit([&](const CommitInfo& c) -> Expected<void> {
    EXPECT_EQ(c.message, fmt::format("entry {}\n", n));
    ++n;
    return {};
  }));
  EXPECT_EQ(n, total);
  EXPECT_EQ(store.read(tip, "texts/07/0007"), std::string("text 7\n"));
  EXPECT_EQ(store.read(tip, "log/checkpoint"), fmt::format("size {}\n", total));
  EXPECT_EQ(store.list(tip, "texts")->size(), static_cast<std::size_t>(total));
  EXPECT_EQ(count_loose(store.git_dir()), 0u);
  EXPECT_LE(count_packs(store.git_dir()), 24u); // consolidated: O(log n), not one per commit
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
  EXPECT_EQ(run(git(dir, "status --porcelain")).out, "");
}

TEST(GitStorePerformance, TwentyThousandBlobsInOneCommit) {
  TempDir t;
  const fs::path dir = t.path() / "r";
  GitStore store = must_init(dir);
  const auto start = std::chrono::steady_clock::now();
  auto tx = store.begin();
  ASSERT_TRUE(tx);
  for (int i = 0; i < 20000; ++i) {
    const std::string h = fmt::format("{:064x}", static_cast<unsigned long long>(i) * 2654435761ULL);
    ASSERT_TRUE(tx->put(fmt::format("texts/{}/{}/{}", h.substr(0, 2), h.substr(2, 2), h),
                        fmt::format("statement number {}\nsome body text that is not tiny {}\n", i, i * 7)));
  }
  const auto staged = std::chrono::steady_clock::now();
  auto id = tx->commit("batch\n");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_TRUE(tx->warnings().empty());
  const auto done = std::chrono::steady_clock::now();
  std::cout << "20000 blobs: stage " << std::chrono::duration<double>(staged - start).count() << " s, commit "
            << std::chrono::duration<double>(done - staged).count() << " s\n";
  EXPECT_EQ(count_packs(store.git_dir()), 1u);
  EXPECT_EQ(count_loose(store.git_dir()), 0u);
  EXPECT_EQ(store.list(*id, "texts")->size(), 20000u);
  EXPECT_EQ(run(git(dir, "ls-files | wc -l")).out, "20000\n");
  EXPECT_EQ(run(git(dir, "status --porcelain")).out, "");
  EXPECT_EQ(run(git(dir, "fsck --strict")).exit_code, 0);
  // A follow-up small commit on top of the big tree stays a small pack.
  const Oid next = must_commit(store, {{"log/checkpoint", "x\n"}}, "small\n");
  EXPECT_EQ(run(git(dir, "rev-list --count main")).out, "2\n");
  EXPECT_EQ(store.read(next, "log/checkpoint"), std::string("x\n"));
}

} // namespace
} // namespace avow::store
