#pragma once

#include <archive/util/error.hpp>

#include <chrono>
#include <filesystem>

namespace avow::store {

// An exclusive writer lock on an archive: flock(LOCK_EX) on <git_dir>/avow/lock. The kernel drops
// it when the holder dies, so a crashed writer never leaves a stale lock. flock locks belong to the
// open file description: a second acquire() conflicts even within the same process.
class WriterLock {
 public:
  // Take the lock, retrying until `timeout` has passed. Creates <git_dir>/avow (0700) and the lock
  // file (0600) if missing. failed_precondition "archive 'DIR' is locked by another writer (waited
  // N s)" on timeout; io when the folder or file cannot be created or opened.
  static Expected<WriterLock> acquire(const std::filesystem::path& git_dir, std::chrono::milliseconds timeout);

  WriterLock(WriterLock&& other) noexcept;
  WriterLock& operator=(WriterLock&& other) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  // Release the lock (closes the file; the file itself stays).
  ~WriterLock();

  // Return the lock file path.
  const std::filesystem::path& path() const { return m_path; }

 private:
  WriterLock(int fd, std::filesystem::path path) : m_fd(fd), m_path(std::move(path)) {}
  int m_fd = -1;
  std::filesystem::path m_path;
};

} // namespace avow::store
