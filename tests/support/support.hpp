#pragma once

// Test support: temporary folders, running the built avow binary and stock tools, and tampering with an archive
// through stock git plumbing (so tamper tests do not depend on the code under test).

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace avow::test {

// A temporary folder, removed on destruction unless the test failed (then its path is printed and it is kept).
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

private:
  std::filesystem::path m_path;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  nlohmann::json json() const { return nlohmann::json::parse(out); }
};

// Run `argv` (argv[0] looked up in PATH unless it has a '/'), with `stdin_data` on standard input and `env`
// added to the environment; capture both streams.
RunResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = {},
                      const std::map<std::string, std::string>& env = {}, const std::filesystem::path& cwd = {});

// The same, but the process is killed with SIGKILL `kill_after` after it was started (unless it ended before): what it
// printed until then is returned, and exit_code is 137 when the kill ended it.
RunResult run_process_killed_after(const std::vector<std::string>& argv, std::chrono::microseconds kill_after,
                                   const std::string& stdin_data = {},
                                   const std::map<std::string, std::string>& env = {},
                                   const std::filesystem::path& cwd = {});

// Path of the avow binary under test ($AVOW_BIN).
std::string avow_bin();

// AVOW_LONG_TESTS=1 (anything but empty or 0): run the long versions of the stress tests.
bool long_tests();

// Write `data` to `path` (creating parent folders).
void write_file(const std::filesystem::path& path, const std::string& data);
std::string read_file(const std::filesystem::path& path);
// The bytes of `name` under tests/data/ of the source tree (a test's sample inputs, kept as files so every test
// that needs them reads the same bytes); an empty string when it is missing, which the test's own checks catch.
std::string test_data(const std::string& name);

// Folder with the shared vectors and corpus, or nullopt when absent.
std::optional<std::filesystem::path> shared_dir();

// An archive in a temporary folder, with its own key folder (XDG_CONFIG_HOME), driven through the avow binary.
class TempArchive {
public:
  explicit TempArchive(std::string origin = "test.avow.example/archive");
  // Run avow with "-C <archive>" prepended.
  RunResult avow(const std::vector<std::string>& args, const std::string& stdin_data = {}) const;
  // Run avow without -C.
  RunResult avow_raw(const std::vector<std::string>& args, const std::string& stdin_data = {}) const;
  // Run stock git in the archive.
  RunResult git(const std::vector<std::string>& args) const;
  const std::filesystem::path& dir() const { return m_dir; }
  const std::filesystem::path& config_home() const { return m_config; }
  const TempDir& tmp() const { return m_tmp; }
  std::map<std::string, std::string> env() const;
  // Write `data` to `name` in the temporary folder; returns its path.
  std::string file(const std::string& name, const std::string& data) const;
  // Write `text` to a new file in the temporary folder and run "archive FILE extra..." (no other option added).
  RunResult archive_file(const std::string& text, const std::vector<std::string>& extra) const;
  // Archive a text from a file with the given extra args; returns the record id (asserts success).
  std::string archive_text(const std::string& text, const std::vector<std::string>& extra = {});
  // Snapshot of the branch tip and every file of the working tree (to assert "nothing changed").
  std::string state() const;
  // Every file under .git (refs, objects, packs, config, .git/avow's lock and seen checkpoint) with its content, and
  // the tip of main; only the derived index is left out (a read may bring it up to date).
  std::string git_snapshot() const;
  // Replace the blob at `path` on main by `data` and commit it with plain git plumbing (unsigned commit).
  void git_replace(const std::string& path, const std::string& data, const std::string& message = "tamper") const;
  // Flip one bit of byte `offset` of the blob at `path` (negative: from the end) and commit it with git plumbing.
  void git_flip_byte(const std::string& path, long offset) const;
  // Read the blob at `path` on main with stock git.
  std::string git_show(const std::string& path) const;

private:
  TempDir m_tmp;
  std::filesystem::path m_dir;
  std::filesystem::path m_config;
};

// Read the log entries (DSSE envelopes, JCS) of the archive at `dir` with the library's log reader.
std::vector<std::string> log_entries(const std::filesystem::path& dir);
// Append `envelopes` as they are to the log of the archive at `dir`, as a writer holding the log key would (tiles,
// checkpoint signed with the log key named in .git/config avow.logkey, signed commit), bypassing every check that
// `avow archive` makes: for tests of what verify must catch in a log that is otherwise well formed.
// The key state (log/keys and the checkpoint's avow-keys line) is kept as a writer keeps it, with the key events among
// `envelopes` applied; `how` can sign with another log key file or leave the key state as it was.
struct RawAppend {
  std::optional<std::filesystem::path> log_key; // sign the checkpoint and commit with this key file, not avow.logkey
  bool key_state = true;                        // false: no avow-keys line and log/keys left unchanged
  std::map<std::string, std::string> files;     // more files to put in the same commit (texts/...)
};
void append_raw_entries(const std::filesystem::path& dir, const std::vector<std::string>& envelopes,
                        const RawAppend& how = {});

// Copy the one-commit archive at `from` (just made by avow init) to a new archive at `to` as a version before key
// state wrote it: the same files and message, but no log/keys and a checkpoint without the avow-keys line, signed by
// the same log key (commit and checkpoint); avow.logkey and avow.key are copied to its local config.
void make_legacy_copy(const std::filesystem::path& from, const std::filesystem::path& to);

// Assert (gtest) that flipping any one bit of `bundle`, a bundle that verifies under `policy`, makes verify_bundle
// answer "not proven", never an error; the failures name the offset and the bytes around it.
void expect_every_bit_flip_unproven(const std::string& bundle, const std::string& policy);

// The blob ids of the pack whose index is `idx`, in the order the pack holds them (by offset), as stock git reads
// them (`git verify-pack -v`): for tests of the order writes and repacks lay objects out in.
std::vector<std::string> blobs_in_pack_order(const std::filesystem::path& idx);

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed): for "cannot connect" tests.
int closed_port();

} // namespace avow::test
