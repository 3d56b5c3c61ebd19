#pragma once

// A progress bar on standard error for the long commands (archive --batch, capture --batch, watch, verify, reindex,
// pull, audit, and any command that brings a large derived index up to date): "[=====     ] 12,345/100,000  4,210/s
// 0:21 left". Drawn only when standard error is a terminal and -q is not given, redrawn at most about ten times a
// second (and always when all is done), erased when the command ends. The library reports progress through
// avow::Progress (archive/util/progress.hpp) and never draws.

#include <archive/util/progress.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace avow::tool {

struct Globals;

// Return `n` in decimal with a comma between each group of three digits: 12345 -> "12,345".
std::string thousands(std::uint64_t n);

// Return `seconds` as "m:ss", or "h:mm:ss" from one hour on.
std::string clock_time(std::uint64_t seconds);

// Return the bar's line (no control characters) for `done` of `total` after `elapsed` seconds, at most `width - 1`
// display columns wide: a 24-column bar (shorter when the terminal is narrow), the count, and once a rate is known
// (`elapsed` >= 0.2 s and done > `done_at_start`) the rate per second and, when `total` is known (not 0), the time
// left. The rate is that of the `done - done_at_start` units of the `elapsed` seconds (`done_at_start` is what was
// done when the clock started). `label` (a URL, say; made fit for a terminal by the caller) follows, cut to what room
// is left.
std::string progress_line(std::uint64_t done, std::uint64_t total, double elapsed, std::size_t width,
                          std::string_view label = {}, std::uint64_t done_at_start = 0);

// The bar. Off (every call does nothing) unless `on`; ProgressBar(g) is on when stderr is a terminal and -q is not
// given. Safe to update from several threads.
class ProgressBar {
public:
  explicit ProgressBar(const Globals& g);
  explicit ProgressBar(bool on);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool on() const { return m_on; }
  // A callback for the library: empty when the bar is off, so the library does not even count.
  Progress callback();
  // The same with a label (capture's URL).
  std::function<void(std::size_t, std::size_t, const std::string&)> labelled_callback();
  void update(std::uint64_t done, std::uint64_t total, std::string_view label = {});
  // Count the rate and the time left from now and from `done`, not from the bar's creation: for work whose first
  // report comes after a set-up that says nothing of the pace of the rest (the index's walk of texts/).
  void restart_clock(std::uint64_t done);
  // Erase the bar (also done by the destructor).
  void finish();

private:
  bool m_on;
  bool m_drawn = false;
  std::mutex m_mutex;
  std::chrono::steady_clock::time_point m_start;
  std::uint64_t m_done_at_start = 0;
  std::chrono::steady_clock::time_point m_last{};
};

// The callback a command gives Archive::set_index_progress: the derived index is brought up to date inside many
// commands (the first query of a fresh clone rebuilds it: about a minute at 1,000,000 entries; a pull of many entries
// leaves it far behind), a chunk of entries at a time. A bar of its own, drawn like ProgressBar(g) but only when the
// work takes more than one chunk (most commands add the few entries of the last append: no bar flashes for them),
// and erased as soon as the index is done, before the command prints anything.
Progress index_progress(const Globals& g);

} // namespace avow::tool
