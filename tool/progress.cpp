#include "progress.hpp"

#include "cli.hpp"
#include "output.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <utility>

namespace avow::tool {

std::string thousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string clock_time(std::uint64_t seconds) {
  const std::uint64_t h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, s);
  return fmt::format("{}:{:02}", m, s);
}

std::string progress_line(std::uint64_t done, std::uint64_t total, double elapsed, std::size_t width,
                          std::string_view label, std::uint64_t done_at_start) {
  const std::size_t room = width > 1 ? width - 1 : 0; // the last column stays free: no wrap on any terminal
  std::string tail = total > 0 ? thousands(done) + "/" + thousands(total) : thousands(done);
  if (elapsed >= 0.2 && done > done_at_start) {
    const double rate = static_cast<double>(done - done_at_start) / elapsed;
    tail += "  " + thousands(static_cast<std::uint64_t>(std::llround(rate))) + "/s";
    if (total > 0) {
      const double left = done >= total ? 0.0 : static_cast<double>(total - done) / rate;
      tail += "  " + clock_time(static_cast<std::uint64_t>(std::ceil(left))) + " left";
    }
  }
  constexpr std::size_t k_bar = 24;
  // "[" bar "] " tail: the bar gives way first when the line does not fit.
  std::size_t bar = k_bar;
  if (3 + bar + tail.size() > room) bar = room > 3 + tail.size() + 4 ? room - 3 - tail.size() : 0;
  std::string line;
  if (bar > 0) {
    const std::uint64_t capped = total > 0 ? std::min(done, total) : 0;
    const std::size_t filled = total > 0 ? static_cast<std::size_t>(capped * bar / total) : 0;
    line = "[" + std::string(filled, '=') + std::string(bar - filled, ' ') + "] ";
  }
  line += tail;
  if (line.size() > room) line.resize(room); // ASCII so far: bytes are columns
  if (!label.empty() && line.size() + 3 <= room) {
    const std::size_t left = room - line.size() - 2;
    std::string shown(label);
    while (!shown.empty() && display_width(shown) > left) {
      shown.pop_back();
      while (!shown.empty() && (static_cast<unsigned char>(shown.back()) & 0xC0) == 0x80) shown.pop_back();
      if (!shown.empty() && (static_cast<unsigned char>(shown.back()) & 0x80)) shown.pop_back();
    }
    if (!shown.empty()) line += "  " + shown;
  }
  return line;
}

ProgressBar::ProgressBar(const Globals& g) : ProgressBar(!g.quiet && ::isatty(STDERR_FILENO) != 0) {}

ProgressBar::ProgressBar(bool on) : m_on(on), m_start(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

Progress ProgressBar::callback() {
  if (!m_on) return {};
  return [this](std::uint64_t done, std::uint64_t total) { update(done, total); };
}

std::function<void(std::size_t, std::size_t, const std::string&)> ProgressBar::labelled_callback() {
  if (!m_on) return {};
  return [this](std::size_t done, std::size_t total, const std::string& label) {
    update(done, total, terminal_field(label));
  };
}

void ProgressBar::update(std::uint64_t done, std::uint64_t total, std::string_view label) {
  if (!m_on) return;
  std::lock_guard lock(m_mutex);
  const auto now = std::chrono::steady_clock::now();
  // At most ten redraws a second; the first one at once, so that a short run still shows what it does, and the
  // last (all done) too.
  const bool last = total > 0 && done == total;
  if (m_drawn && !last && now - m_last < std::chrono::milliseconds(100)) return;
  m_last = now;
  std::size_t width = 80;
  struct winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) width = ws.ws_col;
  const double elapsed = std::chrono::duration<double>(now - m_start).count();
  const std::string line = progress_line(done, total, elapsed, width, label, m_done_at_start);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  m_drawn = true;
}

void ProgressBar::restart_clock(std::uint64_t done) {
  if (!m_on) return;
  std::lock_guard lock(m_mutex);
  m_start = std::chrono::steady_clock::now();
  m_done_at_start = done;
}

void ProgressBar::finish() {
  if (!m_on) return;
  std::lock_guard lock(m_mutex);
  if (m_drawn) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
  m_drawn = false;
}

Progress index_progress(const Globals& g) {
  struct State {
    explicit State(const Globals& g) : bar(g) {}
    ProgressBar bar;
    bool first = true;
  };
  auto state = std::make_shared<State>(g);
  if (!state->bar.on()) return {};
  return [state](std::uint64_t done, std::uint64_t total) {
    const bool all = total > 0 && done >= total;
    const bool first = std::exchange(state->first, false);
    if (first && all) return; // one chunk did it all: nothing worth a bar
    // The first report comes after the set-up (the walk of texts/ for a rebuild: seconds at 1M) and one chunk: the
    // rate counts from there, or the first estimates of the time left run high.
    if (first) state->bar.restart_clock(done);
    state->bar.update(done, total);
    if (all) {
      state->bar.finish();
      state->first = true; // the next time the index is brought along (another call on the handle) starts anew
    }
  };
}

} // namespace avow::tool
