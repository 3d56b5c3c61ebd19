#include <archive/store/writer_lock.hpp>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

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

} // namespace

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
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return lock;
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

WriterLock::WriterLock(WriterLock&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_path(std::move(other.m_path)) {}

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
    m_path = std::move(other.m_path);
  }
  return *this;
}

WriterLock::~WriterLock() {
  if (m_fd >= 0) ::close(m_fd); // closing the last descriptor releases the flock
}

} // namespace avow::store
