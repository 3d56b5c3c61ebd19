#include <archive/store/writer_lock.hpp>

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <vector>
#include <algorithm>
#include <csignal>
#include <string>
#include <thread>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace avow::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using avow::test::TempDir; // tests/support: removed afterwards unless the test failed

fs::path make_git_dir(const TempDir& t) {
  const fs::path git_dir = t.path() / "archive" / ".git";
  fs::create_directories(git_dir);
  return git_dir;
}

TEST(WriterLock, CreatesPrivateFolderAndFile) {
  TempDir t;
  const fs::path git_dir = make_git_dir(t);
  auto lock = WriterLock::acquire(git_dir, 0ms);
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_EQ(lock->path(), git_dir / "avow" / "lock");
  struct stat st{};
  ASSERT_EQ(::stat((git_dir / "avow").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((git_dir / "avow" / "lock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777 & ~0600, 0u); // never more open than 0600 (umask may narrow it)
}

TEST(WriterLock, SecondAcquireInSameProcessTimesOut) {
  TempDir t;
  const fs::path git_dir = make_git_dir(t);
  auto first = WriterLock::acquire(git_dir, 0ms);
  ASSERT_TRUE(first);
  const auto start = std::chrono::steady_clock::now();
  auto second = WriterLock::acquire(git_dir, 200ms);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::failed_precondition);
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 2000ms);
  const std::string prefix = fmt::format("archive '{}' is locked by another writer (waited ", (t.path() / "archive").string());
  EXPECT_EQ(second.error().message.rfind(prefix, 0), 0u) << second.error().message;
  EXPECT_EQ(second.error().message.substr(second.error().message.size() - 3), " s)");
}

TEST(WriterLock, ReleasedByDestructorAndMove) {
  TempDir t;
  const fs::path git_dir = make_git_dir(t);
  {
    auto first = WriterLock::acquire(git_dir, 0ms);
    ASSERT_TRUE(first);
    WriterLock moved = std::move(*first);
    EXPECT_FALSE(WriterLock::acquire(git_dir, 0ms));
  }
  auto again = WriterLock::acquire(git_dir, 0ms);
  EXPECT_TRUE(again) << again.error().message;
}

TEST(WriterLock, AnotherProcessIsExcludedWhileHeld) {
  TempDir t;
  const fs::path git_dir = make_git_dir(t);
  auto held = WriterLock::acquire(git_dir, 0ms);
  ASSERT_TRUE(held);

  // The child tries with a 200 ms timeout: exit 0 if it failed with failed_precondition.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto r = WriterLock::acquire(git_dir, 200ms);
    ::_exit(!r && r.error().code == ErrorCode::failed_precondition ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  held = std::unexpected(Error{}); // release
}

TEST(WriterLock, AnotherProcessWaitsForRelease) {
  TempDir t;
  const fs::path git_dir = make_git_dir(t);
  // The child is forked before the parent takes the lock: a forked child would otherwise share the
  // parent's open file description, and with it the lock.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::this_thread::sleep_for(100ms);
    const auto start = std::chrono::steady_clock::now();
    auto r = WriterLock::acquire(git_dir, 10000ms);
    const auto waited = std::chrono::steady_clock::now() - start;
    ::_exit(r && waited >= 200ms ? 0 : 1);
  }
  {
    auto held = WriterLock::acquire(git_dir, 0ms);
    ASSERT_TRUE(held);
    std::this_thread::sleep_for(500ms);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(WriterLock, FailsWithIoWhenTheFolderCannotBeCreated) {
  TempDir t;
  auto r = WriterLock::acquire(t.path() / "missing" / ".git", 0ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::io);
}

// The waiting queue (.git/avow/queue): first come, first served; dead waiters never block it.
std::vector<std::string> tickets(const fs::path& git_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(git_dir / "avow" / "queue", ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().starts_with("t-")) out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Wait until the queue holds `n` tickets (at most 5 s).
bool wait_for_tickets(const fs::path& git_dir, std::size_t n) {
  for (int i = 0; i < 500; ++i) {
    if (tickets(git_dir).size() == n) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(WriterQueue, WaitersGetTheLockInTheOrderTheyCame) {
  TempDir t;
  const fs::path g = make_git_dir(t);
  auto held = WriterLock::acquire(g, 0ms);
  ASSERT_TRUE(held);
  constexpr int k_waiters = 6;
  std::mutex mutex;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int w = 0; w < k_waiters; ++w) {
    threads.emplace_back([&, w] {
      auto lock = WriterLock::acquire(g, 20000ms);
      {
        std::lock_guard guard(mutex);
        order.push_back(lock ? w : -1);
      }
      std::this_thread::sleep_for(30ms); // hold it a moment: the others keep polling meanwhile
    });
    ASSERT_TRUE(wait_for_tickets(g, static_cast<std::size_t>(w + 1))) << "waiter " << w << " did not queue";
  }
  // A newcomer does not pass the queue, even for a moment when the lock is free.
  held = std::unexpected(Error{});
  for (auto& th : threads) th.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(tickets(g).empty()); // each left the queue
}

TEST(WriterQueue, NewcomerDoesNotPassAWaiter) {
  TempDir t;
  const fs::path g = make_git_dir(t);
  auto held = WriterLock::acquire(g, 0ms);
  ASSERT_TRUE(held);
  std::thread waiter([&] {
    auto lock = WriterLock::acquire(g, 20000ms);
    EXPECT_TRUE(lock);
    std::this_thread::sleep_for(300ms);
  });
  ASSERT_TRUE(wait_for_tickets(g, 1));
  // The lock is free from here, but the waiter is first: a writer that arrives now (and will not wait) fails.
  held = std::unexpected(Error{});
  auto newcomer = WriterLock::acquire(g, 0ms);
  EXPECT_FALSE(newcomer);
  waiter.join();
  EXPECT_TRUE(WriterLock::acquire(g, 0ms)); // and once the queue is empty, takes it at once
}

TEST(WriterQueue, KilledWaiterDoesNotBlockTheOthers) {
  TempDir t;
  const fs::path g = make_git_dir(t);
  auto held = WriterLock::acquire(g, 0ms);
  ASSERT_TRUE(held);
  // The child queues behind the parent and is killed while it waits (the inherited descriptor of the parent's lock
  // goes with it).
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto r = WriterLock::acquire(g, 60000ms);
    ::_exit(r ? 0 : 1);
  }
  ASSERT_TRUE(wait_for_tickets(g, 1));
  const auto dead = tickets(g);
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(tickets(g), dead); // its ticket stays behind
  std::atomic<bool> got{false};
  std::thread next([&] {
    auto lock = WriterLock::acquire(g, 20000ms);
    got = static_cast<bool>(lock);
  });
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(got); // the parent still holds it
  const auto released = std::chrono::steady_clock::now();
  held = std::unexpected(Error{});
  next.join();
  EXPECT_TRUE(got);
  EXPECT_LT(std::chrono::steady_clock::now() - released, 1000ms);
  EXPECT_TRUE(tickets(g).empty());
}

TEST(WriterQueue, StaleTicketFileIsRemoved) {
  TempDir t;
  const fs::path g = make_git_dir(t);
  fs::create_directories(g / "avow" / "queue");
  test::write_file(g / "avow" / "queue" / "t-00000000000000000001-1", ""); // no one holds its flock
  auto lock = WriterLock::acquire(g, 0ms);
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_TRUE(tickets(g).empty());
}

// Leftovers of an interrupted write (docs/FORMAT.md "Locks and leftovers").
void touch_old(const fs::path& p, const std::string& data = "x") {
  test::write_file(p, data);
  fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::seconds(60));
}

TEST(Leftovers, FindsLocksTemporariesAndHalfPacksOnly) {
  TempDir t;
  const fs::path g = make_git_dir(t);
  for (const char* keep : {"avow/lock", "avow/index.lock", "avow/seen-checkpoint", "avow/index.sqlite",
                           "avow/index.sqlite-wal", "refs/heads/main", "packed-refs", "objects/pack/pack-1.pack",
                           "objects/pack/pack-1.idx", "objects/pack/pack-1.rev", "HEAD", "config"})
    touch_old(g / keep);
  for (const char* left : {"refs/heads/main.lock", "packed-refs.lock", "HEAD.lock", "config.lock",
                           "objects/pack/pack_git2_3a638a295628idx.lock", "objects/pack/pack_git2_3a638a2956286d5e",
                           "objects/pack/pack-2.idx", "objects/pack/pack-3.pack", "avow/seen-checkpoint.tmp.RyFabU"})
    touch_old(g / left);
  std::vector<std::string> names;
  for (const auto& l : find_leftovers(g)) {
    names.push_back(l.name);
    EXPECT_EQ(l.path, g / l.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"HEAD.lock", "avow/seen-checkpoint.tmp.RyFabU", "config.lock",
                                             "objects/pack/pack-2.idx", "objects/pack/pack-3.pack",
                                             "objects/pack/pack_git2_3a638a2956286d5e",
                                             "objects/pack/pack_git2_3a638a295628idx.lock", "packed-refs.lock",
                                             "refs/heads/main.lock"}));
  EXPECT_TRUE(find_leftovers(t.path() / "nothing-here").empty());
}

TEST(Leftovers, AcquireRemovesOldOnesWithANote) {
  TempDir t;
  const fs::path g = make_git_dir(t);
  touch_old(g / "refs" / "heads" / "main.lock", "0123\n");
  touch_old(g / "objects" / "pack" / "pack_git2_abc");
  touch_old(g / "refs" / "heads" / "main", "0123\n");
  const auto start = std::chrono::steady_clock::now();
  auto lock = WriterLock::acquire(g, 0ms);
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms); // old ones: no wait
  EXPECT_EQ(lock->recovered(),
            (std::vector<std::string>{"removed a stale objects/pack/pack_git2_abc left by an interrupted write",
                                      "removed a stale refs/heads/main.lock left by an interrupted write"}));
  EXPECT_FALSE(fs::exists(g / "refs" / "heads" / "main.lock"));
  EXPECT_TRUE(fs::exists(g / "refs" / "heads" / "main"));
  EXPECT_TRUE(find_leftovers(g).empty());
}

TEST(Leftovers, YoungOneIsWatchedAndKeptWhileItChanges) {
  TempDir t;
  const fs::path g = make_git_dir(t);
  const fs::path busy = g / "packed-refs.lock"; // a live stock git process keeps writing it
  const fs::path dead = g / "refs" / "heads" / "main.lock"; // just left by a killed writer
  test::write_file(busy, "a");
  test::write_file(dead, "b");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      test::write_file(busy, std::string(static_cast<std::size_t>(i % 7 + 1), 'a'));
      std::this_thread::sleep_for(50ms);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  auto lock = WriterLock::acquire(g, 0ms);
  const auto waited = std::chrono::steady_clock::now() - start;
  stop = true;
  writer.join();
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_GE(waited, k_leftover_grace - 100ms);
  EXPECT_LT(waited, k_leftover_grace + 2000ms);
  EXPECT_EQ(lock->recovered(),
            std::vector<std::string>{"removed a stale refs/heads/main.lock left by an interrupted write"});
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(busy));
}

TEST(Leftovers, HeldTellsWhetherAWriterIsAlive) {
  TempDir t;
  const fs::path g = make_git_dir(t);
  EXPECT_FALSE(WriterLock::held(g)); // no lock file yet
  {
    auto lock = WriterLock::acquire(g, 0ms);
    ASSERT_TRUE(lock);
    EXPECT_TRUE(WriterLock::held(g));
  }
  EXPECT_FALSE(WriterLock::held(g));
}

} // namespace
} // namespace avow::store
