#pragma once

#include <archive/util/error.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace avow::store {

// A file that an interrupted write can leave in a git dir: a git lock file (refs/heads/main.lock,
// packed-refs.lock, objects/pack/*.idx.lock, ...) or a temporary file (objects/pack/pack_git2_*,
// avow/seen-checkpoint.tmp.*, avow/index.sqlite.tmp.*). docs/FORMAT.md "Locks and leftovers" lists
// the names. The avow lock files themselves (avow/lock, avow/index.lock) are never leftovers: they
// are flock()ed, not created and removed.
struct Leftover {
  std::filesystem::path path;  // absolute
  std::string name;            // relative to the git dir, slash-separated
  std::filesystem::file_time_type mtime;
};

// List the leftovers in `git_dir`, sorted by name. Read-only; missing folders are skipped.
std::vector<Leftover> find_leftovers(const std::filesystem::path& git_dir);

// How long a leftover must have stayed unchanged before a writer holding the avow lock removes it:
// no avow writer can be live (the flock proves it), and stock git holds its locks for milliseconds.
inline constexpr std::chrono::milliseconds k_leftover_grace{2000};

// An exclusive writer lock on an archive: flock(LOCK_EX) on <git_dir>/avow/lock. The kernel drops
// it when the holder dies, so a crashed writer never leaves a stale lock. flock locks belong to the
// open file description: a second acquire() conflicts even within the same process.
// Waiting is first come, first served: a writer that has to wait takes a ticket in <git_dir>/avow/queue
// (a file it holds an flock on while it waits) and only the oldest live ticket tries the lock; the
// ticket of a waiter that died is removed by the next one to look (docs/FORMAT.md "Locks and leftovers").
class WriterLock {
 public:
  // Take the lock, retrying until `timeout` has passed. Creates <git_dir>/avow (0700) and the lock
  // file (0600) if missing. failed_precondition "archive 'DIR' is locked by another writer (waited
  // N s)" on timeout; io when the folder or file cannot be created or opened.
  // Once the lock is held, the leftovers of a dead writer (find_leftovers) are removed: each one
  // that has not changed for k_leftover_grace (its mtime is older, or it stays unchanged while we
  // wait that long; one that changes belongs to a live stock git process and is left alone). Each
  // removal adds a sentence to recovered().
  static Expected<WriterLock> acquire(const std::filesystem::path& git_dir, std::chrono::milliseconds timeout);

  // Return whether a writer holds the lock of the archive at `git_dir` now (a read-only probe: false when the lock
  // file does not exist or cannot be opened).
  static bool held(const std::filesystem::path& git_dir);

  WriterLock(WriterLock&& other) noexcept;
  WriterLock& operator=(WriterLock&& other) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  // Release the lock (closes the file; the file itself stays).
  ~WriterLock();

  // Return the lock file path.
  const std::filesystem::path& path() const { return m_path; }
  // Return what acquire() cleaned up, one sentence each ("removed a stale refs/heads/main.lock left
  // by an interrupted write"); empty in the usual case.
  const std::vector<std::string>& recovered() const { return m_recovered; }

 private:
  WriterLock(int fd, std::filesystem::path path) : m_fd(fd), m_path(std::move(path)) {}
  int m_fd = -1;
  std::filesystem::path m_path;
  std::vector<std::string> m_recovered;
};

} // namespace avow::store
