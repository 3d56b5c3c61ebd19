#include <archive/store/writer_lock.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
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
  while (true) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      lock.m_recovered = recover(git_dir);
      return lock;
    }
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK)
      return fail(ErrorCode::io, "cannot lock '{}': {}", lock.m_path.string(), std::strerror(errno));
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      const double waited = std::chrono::duration<double>(now - start).count();
      return fail(ErrorCode::failed_precondition, "archive '{}' is locked by another writer (waited {:.1f} s)",
                  archive_name(git_dir), waited);
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(20),
                                                                              deadline - now));
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
