// End-to-end: a writer killed (SIGKILL) at a system call of one append, by strace fault injection. After each kill
// the archive holds the old or the new state, verify passes (naming any file the dead writer left), and the next
// append succeeds without manual help, removing what was left with a note.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

bool have_strace() {
  try {
    return run_process({"strace", "-V"}).exit_code == 0;
  } catch (...) {
    return false;
  }
}

// Files a dead writer can leave in a git dir (the same patterns as store::find_leftovers, written out independently).
std::vector<std::string> leftovers(const fs::path& git_dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(git_dir)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = e.path().lexically_relative(git_dir).generic_string();
    const std::string name = e.path().filename().string();
    if (rel == "avow/lock" || rel == "avow/index.lock") continue; // flock files, always there
    bool left = name.ends_with(".lock") || name.starts_with("pack_git2_") || name.find(".tmp.") != std::string::npos;
    if (rel.starts_with("objects/pack/pack-")) {
      const fs::path base = e.path().parent_path() / e.path().stem();
      if (name.ends_with(".idx")) left = !fs::exists(fs::path(base).concat(".pack"));
      if (name.ends_with(".pack")) left = !fs::exists(fs::path(base).concat(".idx"));
    }
    if (left) out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Verified {
  int exit_code = -1;
  std::uint64_t tree_size = 0;
  std::vector<std::string> notice_paths;
  std::string text;
};

Verified verify(const fs::path& dir, const std::map<std::string, std::string>& env) {
  const auto r = run_process({avow_bin(), "-C", dir.string(), "verify", "--json"}, {}, env);
  Verified v;
  v.exit_code = r.exit_code;
  v.text = r.out + r.err;
  if (r.exit_code > 1) return v;
  const auto j = r.json();
  v.tree_size = j["tree_size"];
  for (const auto& n : j["notices"]) v.notice_paths.push_back(n["path"]);
  return v;
}

class CliCrash : public ::testing::Test {
protected:
  void SetUp() override {
    if (!have_strace()) GTEST_SKIP() << "strace is not installed (scripts/install-deps installs it)";
    // A template archive with one statement (so the append extends a partial tile), copied for every trial.
    a.archive_text("The first statement.\n");
    write_file(a.tmp() / "t.txt", "The statement being written when the writer dies.\n");
    write_file(a.tmp() / "u.txt", "The statement written after the crash.\n");
    const auto v = verify(a.dir(), a.env());
    ASSERT_EQ(v.exit_code, 0) << v.text;
    base_size = v.tree_size;
  }

  // The write under test: one single append (t.txt), or with batch() a manifest of k_batch statements.
  std::vector<std::string> append_args(const fs::path& dir) const {
    if (added > 1) return {avow_bin(), "-C", dir.string(), "archive", "--batch", (a.tmp() / "m.jsonl").string()};
    return {avow_bin(), "-C", dir.string(), "archive", (a.tmp() / "t.txt").string(), "--source", "urn:example:crash"};
  }

  void batch() {
    added = k_batch;
    std::string manifest;
    for (int i = 0; i < k_batch; ++i)
      manifest += nlohmann::json{{"text", "Statement " + std::to_string(i) + " of the batch being written.\n"},
                                 {"source", "urn:example:batch:" + std::to_string(i)}}
                      .dump() +
                  "\n";
    write_file(a.tmp() / "m.jsonl", manifest);
  }

  // Count the calls of each system call in one append (on a copy of the template): for each call, the most any one
  // thread made. strace's `inject=...:when=N` counts each thread's calls apart (a write feeds its index on a thread of
  // its own), so call N is reached only when some thread makes N of them.
  std::map<std::string, int> count_calls(const std::set<std::string>& names) {
    const fs::path dir = a.tmp() / "count";
    fs::copy(a.dir(), dir, fs::copy_options::recursive);
    const fs::path trace = a.tmp() / "trace.txt";
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
    std::vector<std::string> argv{"strace", "-f", "-o", trace.string(), "-e", "trace=" + list};
    for (auto& s : append_args(dir)) argv.push_back(s);
    const auto r = run_process(argv, {}, a.env());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::pair<std::string, std::string>, int> per_thread; // (call, thread id)
    std::ifstream in(trace);
    const std::regex call(R"(^(\d+)\s+([a-z0-9_]+)\()");
    std::smatch m;
    for (std::string line; std::getline(in, line);)
      if (std::regex_search(line, m, call)) ++per_thread[{m[2], m[1]}];
    std::map<std::string, int> counts;
    for (const auto& [key, n] : per_thread) counts[key.first] = std::max(counts[key.first], n);
    fs::remove_all(dir);
    return counts;
  }

  // Kill the append at call `when` of `syscall`, then check recovery. Returns the leftovers the kill made.
  std::vector<std::string> trial(const std::string& syscall, int when) {
    SCOPED_TRACE(syscall + " #" + std::to_string(when));
    const fs::path dir = a.tmp() / ("trial-" + syscall + "-" + std::to_string(when));
    fs::copy(a.dir(), dir, fs::copy_options::recursive);
    std::vector<std::string> argv{"strace", "-f", "-o", "/dev/null", "-e",
                                  "inject=" + syscall + ":signal=KILL:when=" + std::to_string(when)};
    for (auto& s : append_args(dir)) argv.push_back(s);
    const auto killed = run_process(argv, {}, a.env());
    ++trials_run;
    if (killed.exit_code == 0) {
      // A write's count of some calls varies a little from run to run (SQLite's pwrite64s): a call numbered past this
      // run's last is never reached and the write completes. It must then be whole; TearDown bounds how often.
      ++not_reached;
      const auto v = verify(dir, a.env());
      EXPECT_EQ(v.exit_code, 0) << v.text;
      EXPECT_EQ(v.tree_size, base_size + added);
      EXPECT_EQ(leftovers(dir / ".git"), std::vector<std::string>{});
      fs::remove_all(dir);
      return {};
    }
    const auto left = leftovers(dir / ".git");

    // Old or new state, verified; the leftovers named, not counted as problems.
    const auto v1 = verify(dir, a.env());
    EXPECT_EQ(v1.exit_code, 0) << v1.text;
    EXPECT_TRUE(v1.tree_size == base_size || v1.tree_size == base_size + added) << v1.tree_size;
    std::vector<std::string> named;
    for (const auto& p : v1.notice_paths) named.push_back(p.substr(5)); // ".git/..."
    EXPECT_EQ(named, left);

    // The next append works without manual help, and says what it removed.
    const auto next = run_process(
        {avow_bin(), "-C", dir.string(), "archive", (a.tmp() / "u.txt").string(), "--source", "urn:example:after"}, {},
        a.env());
    EXPECT_EQ(next.exit_code, 0) << next.err;
    for (const auto& l : left)
      EXPECT_NE(next.err.find("avow: note: removed a stale " + l + " left by an interrupted write"), std::string::npos)
          << next.err;
    EXPECT_EQ(leftovers(dir / ".git"), std::vector<std::string>{});
    const auto v2 = verify(dir, a.env());
    EXPECT_EQ(v2.exit_code, 0) << v2.text;
    EXPECT_EQ(v2.tree_size, v1.tree_size + 1);
    EXPECT_TRUE(v2.notice_paths.empty()) << v2.text;
    fs::remove_all(dir);
    return left;
  }

  // Make call `when` of `syscall` fail with `error` (strace fault injection: the call is not made, it returns the
  // error). Either the write fails cleanly (exit 6, one line naming what could not be written and why, nothing
  // printed on stdout) or the call was one that avow may survive (a best-effort step after the commit, such as the
  // derived index or a link(2) that libgit2 retries as a rename) and the write succeeded. Either way the archive
  // verifies, holds the old or the new state, and the next append works. Returns the exit code.
  int inject_error(const std::string& syscall, int when, const std::string& error, const std::string& strerror_text) {
    SCOPED_TRACE(syscall + " #" + std::to_string(when) + " -> " + error);
    const fs::path dir = a.tmp() / ("inject-" + syscall + "-" + std::to_string(when) + "-" + error);
    fs::copy(a.dir(), dir, fs::copy_options::recursive);
    std::vector<std::string> argv{"strace", "-f", "-o", "/dev/null", "-e", "trace=" + syscall, "-e",
                                  "inject=" + syscall + ":error=" + error + ":when=" + std::to_string(when)};
    for (auto& s : append_args(dir)) argv.push_back(s);
    const auto r = run_process(argv, {}, a.env());
    const auto v1 = verify(dir, a.env());
    EXPECT_EQ(v1.exit_code, 0) << v1.text;
    EXPECT_TRUE(v1.tree_size == base_size || v1.tree_size == base_size + added) << v1.tree_size;
    if (r.exit_code == 6) {
      EXPECT_EQ(r.out, "");
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_TRUE(r.err.starts_with("avow: error: cannot ")) << r.err;
      EXPECT_NE(r.err.find(strerror_text), std::string::npos) << r.err;
      // A failure reported after the branch moved must say that the statements are in.
      if (v1.tree_size != base_size) {
        EXPECT_NE(r.err.find("is in place"), std::string::npos) << r.err;
      }
    } else {
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(v1.tree_size, base_size + added) << r.err;
    }
    const auto next = run_process(
        {avow_bin(), "-C", dir.string(), "archive", (a.tmp() / "u.txt").string(), "--source", "urn:example:after"}, {},
        a.env());
    EXPECT_EQ(next.exit_code, 0) << next.err;
    EXPECT_EQ(leftovers(dir / ".git"), std::vector<std::string>{});
    const auto v2 = verify(dir, a.env());
    EXPECT_EQ(v2.exit_code, 0) << v2.text;
    EXPECT_EQ(v2.tree_size, v1.tree_size + 1);
    fs::remove_all(dir);
    return r.exit_code;
  }

  static constexpr int k_batch = 200;
  void TearDown() override {
    EXPECT_LE(not_reached * 10, trials_run) << not_reached << " of " << trials_run << " trials were never killed";
  }

  TempArchive a;
  std::uint64_t base_size = 0;
  std::uint64_t added = 1; // statements the write under test adds
  int trials_run = 0;
  int not_reached = 0; // trials whose call was never made (see trial)
};

// The ref lock: killed between writing refs/heads/main.lock and renaming it onto refs/heads/main (libgit2 first tries
// link(2), then rename(2)), and at every other rename and link of the append.
TEST_F(CliCrash, KilledAtEveryRenameAndLinkRecovers) {
  const auto counts = count_calls({"rename", "link"});
  ASSERT_GE(counts.count("rename") ? counts.at("rename") : 0, 1);
  ASSERT_GE(counts.count("link") ? counts.at("link") : 0, 3);
  bool ref_lock_left = false;
  for (const auto& [name, n] : counts)
    for (int when = 1; when <= n; ++when) {
      const auto left = trial(name, when);
      if (std::find(left.begin(), left.end(), "refs/heads/main.lock") != left.end()) ref_lock_left = true;
    }
  EXPECT_TRUE(ref_lock_left) << "no trial killed the writer while it held refs/heads/main.lock";
}

TEST_F(CliCrash, KilledAtEveryUnlinkAndFsyncRecovers) {
  const auto counts = count_calls({"unlink", "fsync", "fdatasync"});
  ASSERT_FALSE(counts.empty());
  for (const auto& [name, n] : counts)
    for (int when = 1; when <= n; ++when) trial(name, when);
}

// openat and write are many; every few of them, so the run stays short.
TEST_F(CliCrash, KilledAtOpensAndWritesRecovers) {
  const auto counts = count_calls({"openat", "write"});
  ASSERT_FALSE(counts.empty());
  for (const auto& [name, n] : counts) {
    const int step = std::max(1, n / 8);
    for (int when = 1; when <= n; when += step) trial(name, when);
  }
}

// The same for a batch of k_batch statements in one commit: every rename, link, unlink, fsync and fdatasync, and a
// sample of the openat, write and pwrite64 calls (every call of those with AVOW_LONG_TESTS=1).
TEST_F(CliCrash, BatchKilledAtEveryWriteCallRecovers) {
  batch();
  const auto counts = count_calls({"rename", "link", "unlink", "fsync", "fdatasync", "openat", "write", "pwrite64"});
  ASSERT_GE(counts.count("fsync") ? counts.at("fsync") : 0, 3);
  bool ref_lock_left = false;
  int trials = 0;
  for (const auto& [name, n] : counts) {
    const bool many = name == "openat" || name == "write" || name == "pwrite64";
    const int step = many && !long_tests() ? std::max(1, n / 3) : 1;
    for (int when = 1; when <= n; when += step, ++trials) {
      const auto left = trial(name, when);
      if (std::find(left.begin(), left.end(), "refs/heads/main.lock") != left.end()) ref_lock_left = true;
    }
  }
  EXPECT_TRUE(ref_lock_left) << "no trial killed the batch while it held refs/heads/main.lock";
  std::printf("[ figures  ] %d kills of archive --batch (%d statements)\n", trials, k_batch);
}

// A failing system call (disk full, an I/O error) at every write, fsync and rename of one append, and of a batch:
// exit 6 with one clear line, or success when the failed call was not needed; never a broken archive.
TEST_F(CliCrash, ErrorsInjectedAtEveryWriteCallFailCleanly) {
  const std::vector<std::pair<std::string, std::string>> errors{{"ENOSPC", "No space left on device"},
                                                                {"EIO", "Input/output error"}};
  // ENOSPC and EIO at every write, fsync and rename; with AVOW_LONG_TESTS=1 also at every fdatasync, link, unlink and
  // pwrite64 (SQLite's writes; a sample of them by default).
  const auto counts = count_calls({"write", "pwrite64", "fsync", "fdatasync", "rename", "link", "unlink"});
  std::map<std::string, int> clean_failures;
  int trials = 0;
  for (const auto& [error, text] : errors)
    for (const auto& [name, n] : counts) {
      const bool core = name == "write" || name == "fsync" || name == "rename";
      if (!core && !long_tests() && !(name == "pwrite64" && error == "ENOSPC")) continue;
      const int step = name == "pwrite64" && !long_tests() ? std::max(1, n / 2) : 1;
      for (int when = 1; when <= n; when += step, ++trials)
        if (inject_error(name, when, error, text) == 6) ++clean_failures[name];
    }
  // The test is not vacuous: failures of the pack, the ref and their fsyncs are errors, not ignored.
  for (const char* name : {"write", "fsync", "rename"}) EXPECT_GE(clean_failures[name], 1) << name;
  std::printf("[ figures  ] %d injected errors; exit 6: write %d, fsync %d, rename %d, pwrite64 %d\n", trials,
              clean_failures["write"], clean_failures["fsync"], clean_failures["rename"], clean_failures["pwrite64"]);
}

TEST_F(CliCrash, ErrorsInjectedIntoABatchFailCleanly) {
  batch();
  const auto counts = count_calls({"write", "pwrite64", "fsync", "fdatasync", "rename"});
  int trials = 0, failed = 0;
  for (const auto& [name, n] : counts) {
    const int step = name == "pwrite64" || name == "write" ? std::max(1, n / (long_tests() ? 64 : 3)) : 1;
    for (int when = 1; when <= n; when += step, ++trials)
      if (inject_error(name, when, "ENOSPC", "No space left on device") == 6) ++failed;
  }
  EXPECT_GE(failed, 3);
  std::printf("[ figures  ] %d injected ENOSPC into archive --batch; %d exit 6\n", trials, failed);
}

// SIGKILL at random instants, for single appends and for batches, one after the other into one archive (each kill
// leaves what the next writer must cope with). The seed is printed with any failure; AVOW_CRASH_SEED=N replays it.
class CliRandomKill : public ::testing::Test {
protected:
  void SetUp() override {
    const char* fixed = std::getenv("AVOW_CRASH_SEED");
    seed = fixed && *fixed ? static_cast<std::uint32_t>(std::stoul(fixed)) : std::random_device{}();
    rng.seed(seed);
    a.archive_text("The first statement.\n");
  }

  // A fresh write: one statement, or a manifest of k_batch; unique texts, so nothing is "already archived".
  std::vector<std::string> write_args(bool batch) {
    ++serial;
    if (!batch) {
      const auto f = a.tmp() / "single.txt";
      write_file(f, "Single statement " + std::to_string(serial) + ", written while a kill may come.\n");
      return {avow_bin(), "-C", a.dir().string(), "archive", f.string(), "--source",
              "urn:example:single:" + std::to_string(serial % 7)};
    }
    std::string manifest;
    for (int i = 0; i < k_batch; ++i)
      manifest += nlohmann::json{{"text", "Batch " + std::to_string(serial) + ", statement " + std::to_string(i) + ".\n"},
                                 {"source", "urn:example:batch:" + std::to_string(i)}}
                      .dump() +
                  "\n";
    write_file(a.tmp() / "m.jsonl", manifest);
    return {avow_bin(), "-C", a.dir().string(), "archive", "--batch", (a.tmp() / "m.jsonl").string()};
  }

  // The record ids on complete lines of a writer's standard output: what it reported as committed.
  static std::vector<std::string> reported(const std::string& out) {
    std::vector<std::string> ids;
    std::size_t pos = 0;
    for (std::size_t eol; (eol = out.find('\n', pos)) != std::string::npos; pos = eol + 1) ids.push_back(out.substr(pos, eol - pos));
    return ids;
  }

  void run(bool batch) {
    const int trials = long_tests() ? 200 : 20;
    const std::uint64_t n = batch ? k_batch : 1;
    SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with AVOW_CRASH_SEED=" + std::to_string(seed) + ")");
    std::set<std::string> committed;
    auto v0 = verify(a.dir(), a.env());
    ASSERT_EQ(v0.exit_code, 0) << v0.text;
    std::uint64_t size = v0.tree_size;

    // How long an uninterrupted write takes here (the longest of three; the machine's load varies). Even trials kill
    // at an instant spread evenly over 0 .. 1.3 times that; odd ones over 0.6 .. 1.3 times, where the lock is held and
    // the commit made (most of a write is starting, loading keys and signing, before the lock).
    std::chrono::microseconds took{0};
    for (int k = 0; k < 3; ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto full = run_process(write_args(batch), {}, a.env());
      took = std::max(took, std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0));
      ASSERT_EQ(full.exit_code, 0) << full.err;
      for (const auto& id : reported(full.out)) committed.insert(id);
      size += n;
    }

    int killed_old = 0, killed_new = 0, finished = 0, with_leftovers = 0;
    for (int t = 0; t < trials; ++t) {
      std::uniform_int_distribution<long long> anywhere(0, took.count() * 13 / 10);
      std::uniform_int_distribution<long long> late(took.count() * 6 / 10, took.count() * 13 / 10);
      const auto delay = std::chrono::microseconds(t % 2 == 0 ? anywhere(rng) : late(rng));
      SCOPED_TRACE("trial " + std::to_string(t) + ", killed after " + std::to_string(delay.count()) + " us");
      const auto r = run_process_killed_after(write_args(batch), delay, {}, a.env());
      const auto ids = reported(r.out);
      if (r.exit_code == 0) {
        EXPECT_EQ(ids.size(), n);
      } else {
        EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.err;
      }
      const auto left = leftovers(a.dir() / ".git");
      if (!left.empty()) ++with_leftovers;

      // verify passes, naming what the dead writer left; the log holds the old or the new state.
      const auto v = verify(a.dir(), a.env());
      ASSERT_EQ(v.exit_code, 0) << v.text;
      ASSERT_TRUE(v.tree_size == size || v.tree_size == size + n) << v.tree_size << " after " << size;
      std::vector<std::string> named;
      for (const auto& p : v.notice_paths) named.push_back(p.substr(5)); // ".git/..."
      EXPECT_EQ(named, left);
      // Whatever the writer reported is in.
      if (!ids.empty()) {
        EXPECT_EQ(v.tree_size, size + n) << "the writer reported ids but the log did not grow";
      }
      for (const auto& id : ids) committed.insert(id);
      for (const auto& id : {ids.empty() ? std::string() : ids.front(), ids.empty() ? std::string() : ids.back()}) {
        if (id.empty()) continue;
        const auto shown = a.avow({"show", id, "--json"});
        EXPECT_EQ(shown.exit_code, 0) << id << ": " << shown.err;
      }
      if (r.exit_code == 0) ++finished;
      else if (v.tree_size == size) ++killed_old;
      else ++killed_new;
      // Follow the machine's pace: a late kill that came before the commit widens the window, one that came after
      // the end narrows it.
      if (t % 2 == 1 && r.exit_code != 0 && v.tree_size == size) took = took * 12 / 10;
      if (t % 2 == 1 && r.exit_code == 0) took = took * 9 / 10;
      size = v.tree_size;

      // The next write needs no manual step: it removes the leftovers, with a note for each.
      const auto next = run_process(write_args(false), {}, a.env());
      ASSERT_EQ(next.exit_code, 0) << next.err;
      for (const auto& l : left)
        EXPECT_NE(next.err.find("avow: note: removed a stale " + l + " left by an interrupted write"), std::string::npos)
            << next.err;
      EXPECT_EQ(leftovers(a.dir() / ".git"), std::vector<std::string>{});
      for (const auto& id : reported(next.out)) committed.insert(id);
      size += 1;
    }

    // Every reported statement is in the log, the log is exactly as long as the checkpoint says, verify is clean.
    const auto log = a.avow({"log", "--json"});
    ASSERT_EQ(log.exit_code, 0) << log.err;
    std::set<std::string> logged;
    for (const auto& e : log.json()) logged.insert(e["id"].get<std::string>());
    EXPECT_EQ(log.json().size(), size);
    for (const auto& id : committed) EXPECT_TRUE(logged.contains(id)) << id << " was reported but is not in the log";
    const auto v = verify(a.dir(), a.env());
    EXPECT_EQ(v.exit_code, 0) << v.text;
    EXPECT_EQ(v.tree_size, size);
    EXPECT_TRUE(v.notice_paths.empty()) << v.text;
    EXPECT_LT(finished, trials) << "no write was killed";
    std::printf("[ figures  ] seed %u: %d %s, %d killed before the commit, %d after it, %d finished first, %d left "
                "files behind; one write took %lld ms (window at the end)\n",
                seed, trials, batch ? "batches" : "single appends", killed_old, killed_new, finished, with_leftovers,
                static_cast<long long>(took.count() / 1000));
  }

  static constexpr int k_batch = 200;
  TempArchive a;
  std::uint32_t seed = 0;
  std::mt19937 rng;
  int serial = 0;
};

TEST_F(CliRandomKill, SingleAppendsKilledAtRandomInstantsRecover) { run(false); }

TEST_F(CliRandomKill, BatchesKilledAtRandomInstantsRecover) { run(true); }

} // namespace
} // namespace avow::test
