#include <archive/store/writer_lock.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace avow::store {

namespace fs = std::filesystem;

namespace {

// Name the archive by its working tree when `git_dir` is the usual ".git" folder.
std::string archive_name(const fs::path& git_dir) {
  fs::path p = git_dir;
  if (!p.has_filename()) p = p.parent_path();
  if (p.filename() == ".git") return p.parent_path().string();
  return p.string();
}

// Whether objects/pack/NAME is a leftover: libgit2's temporary pack or index (pack_git2_*), a lock
// of a pack file being written (*.lock), or half of a pack: an index whose pack is missing (libgit2
// links the index into place first, then the pack) or a pack without its index. No git reads
// either half alone, and neither holds an object that a ref can reach.
bool pack_leftover(const fs::path& folder, const std::string& name) {
  if (name.starts_with("pack_git2_") || name.ends_with(".lock")) return true;
  if (!name.starts_with("pack-")) return false;
  std::error_code ec;
  if (name.ends_with(".pack")) return !fs::exists(folder / (name.substr(0, name.size() - 5) + ".idx"), ec);
  if (name.ends_with(".idx")) return !fs::exists(folder / (name.substr(0, name.size() - 4) + ".pack"), ec);
  return false;
}

void add_file(std::vector<Leftover>& out, const fs::path& git_dir, const fs::path& path) {
  std::error_code ec;
  const auto st = fs::symlink_status(path, ec);
  if (ec || !fs::is_regular_file(st)) return;
  const auto mtime = fs::last_write_time(path, ec);
  if (ec) return;
  out.push_back({path, path.lexically_relative(git_dir).generic_string(), mtime});
}

// What identifies one version of a file: a change of any part means someone is writing it.
struct Stamp {
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const Stamp&) const = default;
};

std::optional<Stamp> stamp(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return std::nullopt;
  return Stamp{st.st_ino, st.st_size, std::int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
}

// Remove the leftovers of a dead writer; the caller holds the avow flock. See WriterLock::acquire.
std::vector<std::string> recover(const fs::path& git_dir) {
  std::vector<std::string> notes;
  auto found = find_leftovers(git_dir);
  if (found.empty()) return notes;
  std::vector<std::optional<Stamp>> before;
  for (const auto& l : found) before.push_back(stamp(l.path));
  using std::chrono::milliseconds;
  const auto now = fs::file_time_type::clock::now();
  milliseconds youngest = k_leftover_grace;
  for (const auto& l : found)
    youngest = std::min(youngest, std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(now - l.mtime)));
  // A leftover younger than the grace period may belong to a live stock git process: watch it that long.
  if (youngest < k_leftover_grace) std::this_thread::sleep_for(k_leftover_grace - youngest);
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto after = stamp(found[i].path);
    if (!after) continue;                         // gone: its owner finished
    if (!before[i] || *after != *before[i]) continue; // changed: its owner is alive
    if (::unlink(found[i].path.c_str()) != 0) {
      if (errno != ENOENT)
        notes.push_back(fmt::format("cannot remove a stale {} left by an interrupted write: {}", found[i].name,
                                    std::strerror(errno)));
      continue;
    }
    notes.push_back(fmt::format("removed a stale {} left by an interrupted write", found[i].name));
  }
  return notes;
}

// --- The waiting queue: <git dir>/avow/queue/ -------------------------------------------------------------------
// flock alone is not fair: a releasing writer, or one that just arrived, can take the lock again and again before a
// waiter polling every few milliseconds gets it (one of eight writers waited 17 s). So a writer that finds the lock
// taken, or others already waiting, takes a ticket: a file queue/t-<ns>-<pid> (CLOCK_REALTIME nanoseconds, then its
// pid; names order the queue), flock()ed by it for as long as it waits. Only the writer whose ticket is first among
// the live ones tries the lock; the others wait their turn. A waiter that dies (even SIGKILL) loses its flock, and the
// next one to look finds the ticket unlocked and removes it: a dead waiter never blocks the queue. A ticket is made
// under a temporary name (queue/n-<pid>-<ns>), flocked, then renamed, so it is never seen unlocked while its owner
// lives. Writers that do not queue (older avow versions, a read-only folder) still only flock: they can pass the
// queue, never break the exclusion.

// How often the head of the queue tries the lock, and the others look at the queue.
constexpr auto k_head_poll = std::chrono::milliseconds(2);
constexpr auto k_queue_poll = std::chrono::milliseconds(10);
// How long a temporary ticket name (between its creation and its rename) may stay before it counts as dead.
constexpr auto k_temp_ticket_grace = std::chrono::seconds(5);

std::int64_t now_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// List the ticket names (t-*) of `folder`, sorted; removes the tickets of dead waiters (flock free) on the way, and
// temporary ones (n-*) older than k_temp_ticket_grace whose flock is free. `mine` is never touched.
std::vector<std::string> live_tickets(const fs::path& folder, const std::string& mine) {
  std::vector<std::string> names;
  std::vector<std::string> temps;
  if (DIR* d = ::opendir(folder.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string_view n = e->d_name;
      if (n.starts_with("t-")) names.emplace_back(n);
      else if (n.starts_with("n-")) temps.emplace_back(n);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  // Whether the ticket's owner is gone: nobody holds its flock (we take it for a moment, then remove the file).
  const auto dead = [&](const std::string& name) {
    const fs::path p = folder / name;
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false; // already gone
    const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (free) ::unlink(p.c_str()); // under our flock: its owner is dead, and no one else reuses the name
    ::close(fd);
    return free;
  };
  std::vector<std::string> out;
  for (const auto& n : names)
    if (n == mine || !dead(n)) out.push_back(n);
  for (const auto& n : temps) {
    struct stat st {};
    if (::lstat((folder / n).c_str(), &st) != 0) continue;
    const std::int64_t age = now_ns() - (std::int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec);
    if (age > std::chrono::duration_cast<std::chrono::nanoseconds>(k_temp_ticket_grace).count()) (void)dead(n);
  }
  return out;
}

// A ticket in the queue, removed (and its flock dropped) when it goes out of scope.
struct Ticket {
  int fd = -1;
  fs::path path;
  std::string name;
  Ticket() = default;
  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;
  ~Ticket() {
    if (fd < 0) return;
    ::unlink(path.c_str()); // first: while we hold the flock, no one else removes (or could reuse) it
    ::close(fd);
  }
};

// Take a ticket; false when the queue cannot be used (e.g. a read-only folder): the caller then just polls the lock.
bool take_ticket(const fs::path& folder, Ticket& t) {
  if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST) return false;
  const std::string pid = std::to_string(::getpid());
  const fs::path temp = folder / fmt::format("n-{}-{}", pid, now_ns());
  const int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return false;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) { // cannot fail on a file only we know, short of a broken file system
    ::unlink(temp.c_str());
    ::close(fd);
    return false;
  }
  t.name = fmt::format("t-{:020}-{}", now_ns(), pid);
  t.path = folder / t.name;
  if (::rename(temp.c_str(), t.path.c_str()) != 0) {
    ::unlink(temp.c_str());
    ::close(fd);
    return false;
  }
  t.fd = fd;
  return true;
}

} // namespace

std::vector<Leftover> find_leftovers(const fs::path& git_dir) {
  std::vector<Leftover> out;
  std::error_code ec;
  for (const char* name : {"HEAD.lock", "packed-refs.lock", "config.lock", "index.lock", "shallow.lock"})
    if (fs::exists(git_dir / name, ec)) add_file(out, git_dir, git_dir / name);
  const fs::path refs = git_dir / "refs";
  for (fs::recursive_directory_iterator it(refs, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().ends_with(".lock")) add_file(out, git_dir, it->path());
  ec.clear();
  const fs::path packs = git_dir / "objects" / "pack";
  for (fs::directory_iterator it(packs, ec), end; !ec && it != end; it.increment(ec))
    if (pack_leftover(packs, it->path().filename().string())) add_file(out, git_dir, it->path());
  ec.clear();
  const fs::path avow = git_dir / "avow";
  for (fs::directory_iterator it(avow, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().find(".tmp.") != std::string::npos) add_file(out, git_dir, it->path());
  std::sort(out.begin(), out.end(), [](const Leftover& a, const Leftover& b) { return a.name < b.name; });
  return out;
}

Expected<WriterLock> WriterLock::acquire(const fs::path& git_dir, std::chrono::milliseconds timeout) {
  const fs::path folder = git_dir / "avow";
  if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST)
    return fail(ErrorCode::io, "cannot create folder '{}': {}", folder.string(), std::strerror(errno));
  fs::path path = folder / "lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(ErrorCode::io, "cannot open lock file '{}': {}", path.string(), std::strerror(errno));
  WriterLock lock(fd, std::move(path));
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  const fs::path queue = folder / "queue";
  Ticket ticket;
  bool queued = false;   // we hold a ticket
  bool no_queue = false; // the queue cannot be used here: poll the lock as before
  while (true) {
    // Try the lock when no one queues before us: on the first pass only when the queue is empty, so a newcomer does
    // not pass waiters; then only as the head of the queue.
    bool my_turn = no_queue;
    if (!no_queue) {
      const auto live = live_tickets(queue, ticket.name);
      my_turn = queued ? !live.empty() && live.front() == ticket.name : live.empty();
    }
    if (my_turn) {
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
        lock.m_recovered = recover(git_dir);
        return lock; // ~Ticket leaves the queue
      }
      if (errno == EINTR) continue;
      if (errno != EWOULDBLOCK)
        return fail(ErrorCode::io, "cannot lock '{}': {}", lock.m_path.string(), std::strerror(errno));
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      const double waited = std::chrono::duration<double>(now - start).count();
      return fail(ErrorCode::failed_precondition, "archive '{}' is locked by another writer (waited {:.1f} s)",
                  archive_name(git_dir), waited);
    }
    if (!queued && !no_queue) {
      queued = take_ticket(queue, ticket);
      no_queue = !queued;
      continue; // look again at once: we may be the head already
    }
    const auto pause = my_turn ? k_head_poll : k_queue_poll;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
  }
}

bool WriterLock::held(const fs::path& git_dir) {
  const fs::path path = git_dir / "avow" / "lock";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  int rc;
  do rc = ::flock(fd, LOCK_SH | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  const bool busy = rc != 0 && errno == EWOULDBLOCK;
  ::close(fd); // releases the probe's shared lock
  return busy;
}

WriterLock::WriterLock(WriterLock&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_path(std::move(other.m_path)), m_recovered(std::move(other.m_recovered)) {}

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
    m_path = std::move(other.m_path);
    m_recovered = std::move(other.m_recovered);
  }
  return *this;
}

WriterLock::~WriterLock() {
  if (m_fd >= 0) ::close(m_fd); // closing the last descriptor releases the flock
}

} // namespace avow::store
