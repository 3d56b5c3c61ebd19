#include <archive/index/index.hpp>

#include <tests/support/support.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

// Performance smoke test: 200,000 synthetic entries, then the queries `avow log` and `avow check` make. It prints the
// times and asserts only on the results (machines differ; the numbers are for the reader and bench/).
namespace avow::index {
namespace {

// AVOW_INDEX_PERF_ENTRIES overrides the count (at least 100,000) for a manual run at another scale.
const std::uint64_t k_entries = [] {
  const char* env = std::getenv("AVOW_INDEX_PERF_ENTRIES");
  return env != nullptr ? std::max<std::uint64_t>(std::strtoull(env, nullptr, 10), 100'000) : 200'000;
}();
constexpr std::uint64_t k_publishers = 100;

std::string sha_of(std::uint64_t i) { return fmt::format("{:016x}{:048x}", i * 0x9e3779b97f4a7c15ULL, i); }

IndexEntry synthetic(std::uint64_t i) {
  using namespace std::chrono;
  record::Statement s;
  s.text.sha256 = sha_of(i);
  static const char* const k_langs[] = {"en", "ar", "fr", "de"};
  s.text.lang = k_langs[i % 4];
  s.source.uri = fmt::format("https://p{}.example/doc/{}", i % k_publishers, i / 300);
  s.source.publisher = fmt::format("Publisher {}", i % k_publishers);
  s.archivist = fmt::format("{:064x}", 1 + i % 3);
  // Captured in log order, one per 10 minutes from 2020; published on a scattered day of 2000..2024.
  const sys_seconds captured = sys_days{2020y / January / 1} + minutes{10 * i};
  s.captured = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", captured);
  const sys_seconds published = sys_days{2000y / January / 1} + days{(i * 7919) % 9131} + hours{i % 24};
  s.published = record::Published{"as written", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", published), std::nullopt,
                                  std::nullopt};
  std::string text = fmt::format("Statement {} on topic{} by publisher{}: the committee met and agreed.\n", i,
                                 i % 1000, i % k_publishers);
  s.text.bytes = text.size();
  return IndexEntry{i, sha_of(i ^ 0xabcdef), std::move(s), std::move(text)};
}

// Run `f` five times; return the fastest time in milliseconds.
double best_ms(const std::function<void()>& f) {
  double best = 1e18;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return best;
}

TEST(IndexPerf, TwoHundredThousandEntries) {
  test::TempDir dir;
  const auto file = dir.path() / "index.sqlite";
  auto idx = Index::open(file);
  ASSERT_TRUE(idx) << idx.error().message;

  const auto t0 = std::chrono::steady_clock::now();
  constexpr std::uint64_t k_batch = 20'000;
  for (std::uint64_t first = 0; first < k_entries; first += k_batch) {
    std::vector<IndexEntry> batch;
    batch.reserve(k_batch);
    for (std::uint64_t i = first; i < first + k_batch; ++i) batch.push_back(synthetic(i));
    auto r = idx->add(batch, fmt::format("note {}", first + k_batch));
    ASSERT_TRUE(r) << r.error().message;
  }
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(idx->size().value(), k_entries);
  fmt::print("index build: {} entries in {:.2f} s ({} MB)\n", k_entries, build_s,
             std::filesystem::file_size(file) / (1024 * 1024));

  // The expected answers, computed the slow way.
  std::uint64_t want = 0, want_newest = 0;
  for (std::uint64_t i = 42; i < k_entries; i += k_publishers)
    if (std::get<record::Statement>(synthetic(i).record).published->utc >= "2020-06-01") ++want, want_newest = i;

  // avow log --publisher X --since DATE --limit 50 (newest first)
  Filter f;
  f.publisher = "Publisher 42";
  f.since = "2020-06-01";
  f.limit = 50;
  std::vector<Row> rows;
  const double log_limit_ms = best_ms([&] { rows = idx->log(f).value(); });
  ASSERT_EQ(rows.size(), 50u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].publisher, "Publisher 42");
    EXPECT_GE(rows[i].published_utc, "2020-06-01");
    if (i > 0) {
      EXPECT_LT(rows[i].index, rows[i - 1].index);
    }
  }
  EXPECT_EQ(rows.front().index, want_newest);

  // The same without a limit (avow log ... --format csv): every match.
  f.limit = 0;
  const double log_all_ms = best_ms([&] { rows = idx->log(f).value(); });
  EXPECT_EQ(rows.size(), want);

  // avow check: by text hash, by id prefix, latest version of a source.
  std::vector<Row> found;
  const double by_text_ms = best_ms([&] { found = idx->by_text(sha_of(123'456)).value(); });
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].index, 123'456u);
  const double by_id_ms = best_ms([&] { found = idx->by_id_prefix(sha_of(777 ^ 0xabcdef).substr(0, 12)).value(); });
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].index, 777u);
  std::optional<Row> latest;
  const double latest_ms =
      best_ms([&] { latest = idx->latest_version("https://p7.example/doc/100").value(); });
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->index, 30'207u); // i / 300 == 100 and i % 100 == 7: 30007, 30107, 30207

  // --grep with a word in 200 texts, newest 20.
  Filter g;
  g.grep = "topic321";
  g.limit = 20;
  const double grep_ms = best_ms([&] { rows = idx->log(g).value(); });
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_EQ(rows.front().index, (k_entries - 1 - 321) / 1000 * 1000 + 321);

  Audit audit;
  const double audit_ms = best_ms([&] { audit = idx->audit({}).value(); });
  EXPECT_EQ(audit.statements, k_entries);
  EXPECT_EQ(audit.publishers.size(), k_publishers);

  fmt::print("log publisher+since+limit 50: {:.2f} ms\n", log_limit_ms);
  fmt::print("log publisher+since, all {} rows: {:.2f} ms\n", want, log_all_ms);
  fmt::print("by_text: {:.3f} ms  by_id_prefix: {:.3f} ms  latest_version: {:.3f} ms\n", by_text_ms, by_id_ms,
             latest_ms);
  fmt::print("grep + limit 20: {:.2f} ms  audit (all): {:.1f} ms\n", grep_ms, audit_ms);
}

} // namespace
} // namespace avow::index
