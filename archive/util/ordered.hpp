#pragma once

#include <archive/util/error.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <vector>

// Items made in parallel and used in order: the shape of a rebuild that reads and parses chunks of a log on several
// threads while one consumer (the index builder) must take them in log order.
namespace avow {

// Run `produce(worker, k)` for k = 0, 1, ..., n - 1 on `workers` threads (worker = 0 .. workers - 1; each worker is one
// thread, so per-worker state needs no lock), and hand each result to `consume(k, T&&)` on the calling thread, in the
// order of k. At most `ahead` items (at least `workers`) are made and not yet consumed: memory stays bounded however
// far the producers could run. The first failure in the order of k, of `produce` or of `consume`, is returned; no new
// item is started after it, and every thread has stopped when this returns. `produce` returns Expected<T>, `consume`
// Expected<void>; an exception thrown by `produce` is reported as an internal error (out of memory as io) of its item.
template <class T, class Produce, class Consume>
Expected<void> for_each_ordered(std::size_t n, unsigned workers, std::size_t ahead, Produce&& produce,
                                Consume&& consume) {
  workers = static_cast<unsigned>(std::clamp<std::size_t>(std::min<std::size_t>(workers, n), 1, 64));
  ahead = std::max<std::size_t>(ahead, workers);
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::optional<Expected<T>>> ready(ahead); // slot k % ahead holds item k once made
  std::size_t next = 0;     // the next item a worker takes
  std::size_t consumed = 0; // items handed to consume (or the one that failed)
  bool stop = false;

  const auto work = [&](unsigned worker) {
    for (;;) {
      std::size_t k = 0;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return stop || next >= n || next < consumed + ahead; });
        if (stop || next >= n) return;
        k = next++;
      }
      std::optional<Expected<T>> made;
      try {
        made.emplace(produce(worker, k));
      } catch (const std::bad_alloc&) {
        made.emplace(std::unexpected(Error{ErrorCode::io, "out of memory"}));
      } catch (const std::exception& e) {
        made.emplace(std::unexpected(Error{ErrorCode::internal, e.what()}));
      }
      {
        std::lock_guard lock(mutex);
        ready[k % ahead] = std::move(made);
      }
      changed.notify_all();
    }
  };

  Expected<void> result;
  {
    std::vector<std::jthread> pool;
    // Declared after the pool, so it runs before the pool joins its threads: on return, or if consume throws.
    struct StopFirst {
      std::mutex& mutex;
      std::condition_variable& changed;
      bool& stop;
      ~StopFirst() {
        {
          std::lock_guard lock(mutex);
          stop = true;
        }
        changed.notify_all();
      }
    } stop_first{mutex, changed, stop};
    pool.reserve(workers);
    for (unsigned w = 0; w < workers; ++w) pool.emplace_back(work, w);
    for (std::size_t k = 0; k < n; ++k) {
      std::optional<Expected<T>> item;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return ready[k % ahead].has_value(); });
        item = std::move(ready[k % ahead]);
        ready[k % ahead].reset();
        if (!*item) stop = true;
        else ++consumed; // its slot is free: a worker may take item k + ahead
      }
      changed.notify_all();
      if (!*item) {
        result = std::unexpected(item->error());
        break;
      }
      if (auto ok = consume(k, std::move(**item)); !ok) {
        result = std::unexpected(ok.error());
        break;
      }
    }
  } // stop_first, then the workers finish the items they hold and are joined
  return result;
}

} // namespace avow
