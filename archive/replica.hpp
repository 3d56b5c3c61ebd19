#pragma once

// What avow::Archive's replication operations (archive/archive_remote.cpp) take and return: remotes, pull, push,
// sync and clone (docs/FORMAT.md §18).

#include <archive/verify/verify.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace avow {

struct RemoteEntry {
  std::string name;
  std::string url;
};

struct PullOptions {
  std::optional<std::filesystem::path> evidence_file; // where split-view evidence goes; default .git/avow/evidence/
  std::chrono::milliseconds lock_timeout{10000};
  unsigned jobs = 0;
  Progress progress; // new entries verified of those fetched
};

struct PullResult {
  enum class Status {
    up_to_date, // the remote's main is ours or behind it
    updated,    // main moved to the remote's tip after the new commits verified
    refused,    // the remote's new commits or entries fail verification (problems); nothing moved
    split_view, // the remote's log does not extend ours: evidence written; nothing moved
  };
  Status status = Status::up_to_date;
  std::string remote;
  std::string url;
  std::string old_commit;
  std::string new_commit;          // main after the pull
  std::string remote_commit;       // the remote's main as fetched
  std::uint64_t old_size = 0;
  std::uint64_t new_size = 0;      // the remote's tree size when known
  std::uint64_t commits_verified = 0;
  std::uint64_t entries_verified = 0;
  std::uint64_t texts_verified = 0;
  std::uint64_t tiles_compared = 0;
  double fetch_seconds = 0;        // the git transfer
  double verify_seconds = 0;       // checking what it adds (verify::verify_extension)
  std::vector<verify::Problem> problems;
  std::optional<std::filesystem::path> evidence_file;
  std::string detail;              // one sentence on a refusal or split view
};

struct PushResult {
  enum class Status {
    pushed,     // the remote's main moved to ours (a fast-forward, or a first push to an empty remote)
    up_to_date, // the remote's main already is ours
    split_view, // the remote's log does not extend ours nor ours its: evidence written; nothing pushed
    refused,    // the remote's history diverges from ours without a provable split view
  };
  Status status = Status::pushed;
  std::string remote;
  std::string url;
  std::string remote_commit;       // the remote's main before the push ("" when it had none)
  std::string commit;              // ours, pushed
  std::uint64_t size = 0;
  std::optional<std::filesystem::path> evidence_file;
  std::string detail;
};

struct CloneOptions {
  std::string url;
  std::filesystem::path dir;
  unsigned jobs = 0;
  Progress progress; // entries verified of the tree size
};
struct CloneResult {
  bool ok = false;                 // verified and usable; otherwise `dir` was removed and report says why
  std::filesystem::path dir;
  std::string url;
  std::string commit;
  verify::Report report;           // the full verify of what was fetched
};

} // namespace avow
