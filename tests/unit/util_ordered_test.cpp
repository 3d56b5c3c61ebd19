// for_each_ordered: items made on several threads, consumed in order, with bounded look-ahead and early stop.

#include <archive/util/ordered.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace avow {
namespace {

using namespace std::chrono_literals;

// A short, uneven pause, so that later items are often made before earlier ones.
void jitter(std::size_t k) { std::this_thread::sleep_for(std::chrono::microseconds((k * 7919) % 300)); }

TEST(Ordered, ConsumesEveryItemInOrderWhateverOrderTheyAreMadeIn) {
  std::vector<std::size_t> seen;
  std::mutex mutex;
  std::map<unsigned, std::thread::id> thread_of;
  bool shared_worker = false;
  auto r = for_each_ordered<std::size_t>(
      500, 4, 6,
      [&](unsigned worker, std::size_t k) -> Expected<std::size_t> {
        {
          std::lock_guard lock(mutex);
          auto [it, fresh] = thread_of.emplace(worker, std::this_thread::get_id());
          if (!fresh && it->second != std::this_thread::get_id()) shared_worker = true;
        }
        jitter(k);
        return k * k;
      },
      [&](std::size_t k, std::size_t&& v) -> Expected<void> {
        EXPECT_EQ(v, k * k);
        seen.push_back(k);
        return {};
      });
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(seen.size(), 500u);
  for (std::size_t k = 0; k < seen.size(); ++k) ASSERT_EQ(seen[k], k);
  EXPECT_FALSE(shared_worker); // each worker number is one thread: per-worker state needs no lock
  EXPECT_EQ(thread_of.size(), 4u);
  for (const auto& [w, id] : thread_of) {
    EXPECT_LT(w, 4u);
    EXPECT_NE(id, std::this_thread::get_id()); // the caller only consumes
  }
}

TEST(Ordered, MakesAtMostAheadItemsBeyondWhatWasConsumed) {
  std::atomic<std::size_t> started{0};
  std::atomic<std::size_t> consumed{0};
  std::atomic<std::size_t> widest{0};
  constexpr std::size_t ahead = 5;
  auto r = for_each_ordered<int>(
      200, 3, ahead,
      [&](unsigned, std::size_t) -> Expected<int> {
        const std::size_t gap = ++started - consumed.load();
        std::size_t w = widest.load();
        while (gap > w && !widest.compare_exchange_weak(w, gap)) {
        }
        return 1;
      },
      [&](std::size_t, int&&) -> Expected<void> {
        std::this_thread::sleep_for(200us); // a slow consumer: unbounded producers would run far ahead
        ++consumed;
        return {};
      });
  ASSERT_TRUE(r);
  EXPECT_EQ(consumed.load(), 200u);
  EXPECT_EQ(started.load(), 200u);
  // The item being consumed counts as consumed for the bound; this count moves a little after it.
  EXPECT_LE(widest.load(), ahead + 1);
  EXPECT_GE(widest.load(), 3u); // the workers did run ahead of the consumer
}

TEST(Ordered, AFailedItemStopsTheRunAfterTheItemsBeforeIt) {
  std::vector<std::size_t> seen;
  std::atomic<std::size_t> highest{0};
  auto r = for_each_ordered<std::string>(
      10000, 3, 4,
      [&](unsigned, std::size_t k) -> Expected<std::string> {
        std::size_t h = highest.load();
        while (k > h && !highest.compare_exchange_weak(h, k)) {
        }
        jitter(k);
        if (k == 37) return fail(ErrorCode::invalid_input, "entry {}: bad", k);
        return std::to_string(k);
      },
      [&](std::size_t k, std::string&& v) -> Expected<void> {
        EXPECT_EQ(v, std::to_string(k));
        seen.push_back(k);
        return {};
      });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(r.error().message, "entry 37: bad");
  ASSERT_EQ(seen.size(), 37u);
  EXPECT_EQ(seen.back(), 36u);
  EXPECT_LT(highest.load(), 37u + 4u); // nothing started beyond the look-ahead of the failed item
}

TEST(Ordered, AFailedConsumeStopsTheRunAndIsReturned) {
  std::size_t calls = 0;
  std::atomic<std::size_t> made{0};
  auto r = for_each_ordered<int>(
      10000, 2, 3,
      [&](unsigned, std::size_t k) -> Expected<int> {
        ++made;
        return static_cast<int>(k);
      },
      [&](std::size_t k, int&&) -> Expected<void> {
        ++calls;
        if (k == 5) return fail(ErrorCode::io, "disk full");
        return {};
      });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_EQ(r.error().message, "disk full");
  EXPECT_EQ(calls, 6u);
  EXPECT_LE(made.load(), 6u + 3u);
}

TEST(Ordered, AnExceptionInAProducerIsThatItemsError) {
  std::vector<std::size_t> seen;
  auto r = for_each_ordered<int>(
      50, 2, 2,
      [&](unsigned, std::size_t k) -> Expected<int> {
        if (k == 3) throw std::runtime_error("boom");
        return 0;
      },
      [&](std::size_t k, int&&) -> Expected<void> {
        seen.push_back(k);
        return {};
      });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::internal);
  EXPECT_EQ(r.error().message, "boom");
  EXPECT_EQ(seen, (std::vector<std::size_t>{0, 1, 2}));
}

TEST(Ordered, AnExceptionInTheConsumerLeavesNoThreadBehind) {
  std::atomic<std::size_t> made{0};
  EXPECT_THROW((void)for_each_ordered<int>(
                   100000, 3, 3,
                   [&](unsigned, std::size_t) -> Expected<int> {
                     ++made;
                     return 0;
                   },
                   [&](std::size_t k, int&&) -> Expected<void> {
                     if (k == 2) throw std::runtime_error("consumer");
                     return {};
                   }),
               std::runtime_error);
  EXPECT_LE(made.load(), 3u + 3u); // returned (the workers were stopped and joined) long before the 100,000 items
}

TEST(Ordered, NoItemsOrFewerItemsThanWorkers) {
  std::size_t calls = 0;
  auto none = for_each_ordered<int>(
      0, 4, 8, [](unsigned, std::size_t) -> Expected<int> { return 0; },
      [&](std::size_t, int&&) -> Expected<void> {
        ++calls;
        return {};
      });
  EXPECT_TRUE(none);
  EXPECT_EQ(calls, 0u);
  std::vector<std::size_t> seen;
  auto two = for_each_ordered<std::size_t>(
      2, 8, 0, [](unsigned worker, std::size_t k) -> Expected<std::size_t> {
        EXPECT_LT(worker, 2u); // never more workers than items
        return k + 10;
      },
      [&](std::size_t, std::size_t&& v) -> Expected<void> {
        seen.push_back(v);
        return {};
      });
  EXPECT_TRUE(two);
  EXPECT_EQ(seen, (std::vector<std::size_t>{10, 11}));
}

} // namespace
} // namespace avow
