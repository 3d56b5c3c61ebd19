// End-to-end: readers and a writer on one archive at the same time, as separate avow processes. Readers bring the
// derived index up to date too; neither side may ever fail because the other touched the index.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
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

} // namespace
} // namespace avow::test
