// End-to-end: readers and a writer on one archive at the same time, as separate avow processes. Readers bring the
// derived index up to date too; neither side may ever fail because the other touched the index.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

namespace avow::test {
namespace {

TEST(CliConcurrency, ReadersAndAWriterNeverFailEachOther) {
  TempArchive a;
  constexpr int k_appends = 30;
  const std::string source = "urn:example:race";
  std::atomic<bool> done{false};
  std::mutex mutex;
  std::vector<std::string> failures;
  std::atomic<int> reads{0};
  const auto fail_with = [&](const std::string& what, const RunResult& r) {
    std::lock_guard lock(mutex);
    failures.push_back(what + " exit " + std::to_string(r.exit_code) + ": " + r.err + " | stdout: " + r.out.substr(0, 2000));
  };
  const auto reader = [&](std::vector<std::string> args) {
    while (!done) {
      const auto r = a.avow(args);
      if (r.exit_code != 0 || r.err.find("index") != std::string::npos) fail_with(args[0], r);
      ++reads;
    }
  };
  const auto append = [&](int i) {
    const auto f = a.tmp() / ("s" + std::to_string(i) + ".txt");
    write_file(f, "Version " + std::to_string(i) + " of the statement.\n");
    const auto r = a.avow({"archive", f.string(), "--source", source});
    // Nor a note about the index: a reader that followed on first is not a failed index update.
    if (r.exit_code != 0 || r.err.find("index") != std::string::npos) fail_with("archive " + std::to_string(i), r);
  };
  append(0); // so that history has something to show from the start
  std::vector<std::thread> readers;
  readers.emplace_back(reader, std::vector<std::string>{"log", "--json"});
  readers.emplace_back(reader, std::vector<std::string>{"log", "--json"});
  readers.emplace_back(reader, std::vector<std::string>{"history", "--source", source});
  // check, audit and show, in turn.
  const std::string first_id = a.avow({"log", "--json"}).json()[0]["id"];
  readers.emplace_back([&] {
    const std::vector<std::vector<std::string>> commands{
        {"check", (a.tmp() / "s0.txt").string(), "--source", source}, {"audit"}, {"show", first_id}};
    for (std::size_t k = 0; !done; ++k) {
      const auto& args = commands[k % commands.size()];
      const auto r = a.avow(args);
      if (r.exit_code != 0 || r.err.find("index") != std::string::npos) fail_with(args[0], r);
      ++reads;
    }
  });

  for (int i = 1; i < k_appends; ++i) append(i);
  done = true;
  for (auto& t : readers) t.join();

  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_GE(reads.load(), 6) << "the readers hardly ran";
  const auto log = a.avow({"log", "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_EQ(log.json().size(), static_cast<std::size_t>(k_appends + 1)); // + the key.add of init
  EXPECT_EQ(log.err, "");
  const auto history = a.avow({"history", "--source", source, "--json"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

// 8 writer processes at once, each archiving its statements one `avow archive` at a time (one commit each), into one
// archive, while verify, log, show and audit run in loops. Every writer waits its turn for the lock and none fails;
// every statement lands, in each writer's order, each a revision of the writer's previous one; verify passes.
// Default: 8 x 25 appends; AVOW_LONG_TESTS=1: 8 x 100 (the figure; about four times as long).
TEST(CliConcurrency, EightWritersAndReadersAllSucceed) {
  TempArchive a;
  constexpr int k_writers = 8;
  const int per_writer = long_tests() ? 100 : 25;
  std::mutex mutex;
  std::vector<std::string> failures;
  const auto fail_with = [&](const std::string& what, const RunResult& r) {
    std::lock_guard lock(mutex);
    failures.push_back(what + " exit " + std::to_string(r.exit_code) + ": " + r.err + " | stdout: " + r.out.substr(0, 500));
  };
  const std::string first_id = a.archive_text("The statement every reader shows.\n");

  std::atomic<int> writers_left{k_writers};
  std::atomic<int> reads{0};
  std::vector<std::vector<std::string>> ids(k_writers);
  std::vector<double> slowest(k_writers, 0);
  std::atomic<int> over_ten_seconds{0}; // appends (lock wait included) over the default --lock-timeout (10 s)
  const auto writer = [&](int w) {
    const std::string source = "urn:example:writer:" + std::to_string(w);
    for (int i = 0; i < per_writer; ++i) {
      const auto f = a.tmp() / ("w" + std::to_string(w) + "-" + std::to_string(i) + ".txt");
      write_file(f, "Writer " + std::to_string(w) + ", version " + std::to_string(i) + " of its statement.\n");
      const auto t0 = std::chrono::steady_clock::now();
      // Writers wait in turn (the queue under .git/avow/queue), so each waits for at most the seven others' appends:
      // well under the default --lock-timeout (10 s) on an idle machine, but ctest runs other heavy tests beside this
      // one, so the timeout here is 60 s; the order of the queue is proven by store_lock_test's WriterQueue tests.
      const auto r = a.avow({"archive", f.string(), "--source", source, "--lock-timeout", "60"});
      const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      slowest[w] = std::max(slowest[w], took);
      if (took > 10) ++over_ten_seconds;
      std::string id = r.out;
      while (!id.empty() && id.back() == '\n') id.pop_back();
      if (r.exit_code != 0 || id.size() != 64 || r.err.find("index") != std::string::npos) {
        fail_with("writer " + std::to_string(w) + " append " + std::to_string(i), r);
        if (r.exit_code != 0) continue;
      }
      ids[w].push_back(id);
    }
    --writers_left;
  };
  const auto reader = [&](std::vector<std::vector<std::string>> commands) {
    for (std::size_t k = 0; writers_left > 0; ++k) {
      const auto& args = commands[k % commands.size()];
      const auto r = a.avow(args);
      if (r.exit_code != 0 || r.err.find("index") != std::string::npos) fail_with(args[0], r);
      ++reads;
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < k_writers; ++w) threads.emplace_back(writer, w);
  threads.emplace_back(reader, std::vector<std::vector<std::string>>{{"verify"}});
  threads.emplace_back(reader, std::vector<std::vector<std::string>>{{"log", "--json"}, {"show", first_id}});
  threads.emplace_back(reader, std::vector<std::vector<std::string>>{{"audit"}});
  for (auto& t : threads) t.join();

  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_GE(reads.load(), 8) << "the readers hardly ran";
  // All landed: the key.add of init, the first statement and every writer's statements, each once.
  const auto log = a.avow({"log", "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  const auto entries = log.json();
  EXPECT_EQ(entries.size(), static_cast<std::size_t>(2 + k_writers * per_writer));
  std::set<std::uint64_t> indexes;
  for (const auto& e : entries) indexes.insert(e["index"].get<std::uint64_t>());
  EXPECT_EQ(indexes.size(), entries.size());
  EXPECT_EQ(*indexes.rbegin(), entries.size() - 1);
  // Each writer's statements are its source's versions, in its order, each at a later index than the one before.
  for (int w = 0; w < k_writers; ++w) {
    SCOPED_TRACE("writer " + std::to_string(w));
    EXPECT_EQ(ids[w].size(), static_cast<std::size_t>(per_writer));
    const auto h = a.avow({"history", "--source", "urn:example:writer:" + std::to_string(w), "--json"});
    ASSERT_EQ(h.exit_code, 0) << h.err;
    const auto versions = h.json()["versions"];
    std::vector<std::string> seen;
    std::uint64_t last = 0;
    for (const auto& v : versions) {
      seen.push_back(v["id"]);
      EXPECT_GT(v["index"].get<std::uint64_t>(), last);
      last = v["index"].get<std::uint64_t>();
    }
    EXPECT_EQ(seen, ids[w]);
  }
  const auto v = a.avow({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  const double worst = *std::max_element(slowest.begin(), slowest.end());
  std::printf("[ figures  ] %d writers x %d appends, %d reads; the slowest append (lock wait included) took %.1f s; "
              "%d took over 10 s\n",
              k_writers, per_writer, reads.load(), worst, over_ten_seconds.load());
}

} // namespace
} // namespace avow::test
