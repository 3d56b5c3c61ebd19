// End-to-end: a writer killed (SIGKILL) at a system call of one append, by strace fault injection. After each kill
// the archive holds the old or the new state, verify passes (naming any file the dead writer left), and the next
// append succeeds without manual help, removing what was left with a note.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
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

  std::vector<std::string> append_args(const fs::path& dir) const {
    return {avow_bin(), "-C", dir.string(), "archive", (a.tmp() / "t.txt").string(), "--source", "urn:example:crash"};
  }

  // Count the calls of each system call in one append (on a copy of the template).
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
    std::map<std::string, int> counts;
    std::ifstream in(trace);
    const std::regex call(R"(^\d+\s+([a-z0-9_]+)\()");
    std::smatch m;
    for (std::string line; std::getline(in, line);)
      if (std::regex_search(line, m, call)) ++counts[m[1]];
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
    EXPECT_NE(killed.exit_code, 0) << "the append was not killed";
    const auto left = leftovers(dir / ".git");

    // Old or new state, verified; the leftovers named, not counted as problems.
    const auto v1 = verify(dir, a.env());
    EXPECT_EQ(v1.exit_code, 0) << v1.text;
    EXPECT_TRUE(v1.tree_size == base_size || v1.tree_size == base_size + 1) << v1.tree_size;
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

  TempArchive a;
  std::uint64_t base_size = 0;
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

} // namespace
} // namespace avow::test
