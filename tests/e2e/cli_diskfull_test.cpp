// End-to-end: archiving into a full filesystem (a small tmpfs mounted by the test), past a file size limit
// (`ulimit -f`, which needs no privilege) and into a read-only archive (a read-only bind mount). Each write fails with
// exit 6 and one line `avow: error: cannot …: <system error>`, leaves the archive verifiable in its old state (or with
// leftovers the next writer removes with a note), and once space is back the next append works. Reads work on a
// read-only archive.
//
// The mounts are made in a private mount namespace of the test process (unshare(2)), so nobody else sees them and
// they vanish with the process; where that is not permitted the mount tests are skipped with the reason.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

// Enter a private mount namespace, once per process: as root directly, else in a user namespace where this user is
// root. Returns why not, when neither is permitted.
std::optional<std::string> private_mounts() {
  static const std::optional<std::string> why = []() -> std::optional<std::string> {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWNS) != 0) {
      const std::string first = std::strerror(errno);
      if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        return "unshare(CLONE_NEWNS): " + first + "; unshare(CLONE_NEWUSER|CLONE_NEWNS): " + std::strerror(errno);
      const auto put = [](const char* file, const std::string& text) {
        std::ofstream f(file);
        f << text;
        return static_cast<bool>(f.flush());
      };
      if (!put("/proc/self/setgroups", "deny") || !put("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n") ||
          !put("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n"))
        return std::string("cannot map this user into a user namespace");
    }
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return std::string("mount --make-rprivate /: ") + std::strerror(errno);
    return std::nullopt;
  }();
  return why;
}

// A mount made by the test, undone at the end of the scope (lazily, in case a process still uses it).
struct Mount {
  fs::path at;
  ~Mount() {
    if (!at.empty()) ::umount2(at.c_str(), MNT_DETACH);
  }
};

#define REQUIRE_MOUNTS()                                                                                                \
  do {                                                                                                                  \
    if (const auto why = private_mounts())                                                                             \
      GTEST_SKIP() << "mounting is not permitted here (" << *why << "); the ulimit -f test covers a failed write";     \
  } while (0)

struct Verified {
  int exit_code = -1;
  std::uint64_t tree_size = 0;
  std::size_t notices = 0;
  std::string text;
};

Verified verify(const TempArchive& a, const fs::path& dir) {
  const auto r = run_process({avow_bin(), "-C", dir.string(), "verify", "--json"}, {}, a.env());
  Verified v;
  v.exit_code = r.exit_code;
  v.text = r.out + r.err;
  if (r.exit_code > 1) return v;
  const auto j = r.json();
  v.tree_size = j["tree_size"];
  v.notices = j["notices"].size();
  return v;
}

// A manifest of `n` statements of about `bytes` bytes each, of words drawn at random (so they compress poorly, as
// real texts of that size do not, and the pack is large); `tag` keeps every manifest's texts new.
std::string manifest(const TempArchive& a, const std::string& tag, int n, std::size_t bytes) {
  static const char* words[] = {"archive", "statement", "minister", "said", "record", "public", "evidence", "court",
                                "press",   "release",   "denied",   "today", "water",  "bridge", "council",  "budget"};
  std::mt19937 rng(static_cast<std::uint32_t>(std::hash<std::string>{}(tag)));
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string text = tag + " statement " + std::to_string(i) + ":";
    while (text.size() < bytes) text += std::string(" ") + words[rng() % 16] + std::to_string(rng() % 1000);
    out += nlohmann::json{{"text", text + ".\n"}, {"source", "urn:example:full:" + std::to_string(i)}}.dump() + "\n";
  }
  const auto path = a.tmp() / ("m-" + tag + ".jsonl");
  write_file(path, out);
  return path.string();
}

// One failed write: exit 6, nothing on stdout, one line on stderr naming what could not be done and the system error.
void expect_clean_failure(const RunResult& r, const std::string& strerror_text) {
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.err.starts_with("avow: error: cannot ")) << r.err;
  EXPECT_TRUE(r.err.ends_with(": " + strerror_text + "\n")) << r.err;
}

// Fill the filesystem of `file` up: append to it until the write fails with ENOSPC; returns its size.
off_t fill(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot open " + file.string());
  const std::string chunk(4096, 'x');
  while (::write(fd, chunk.data(), chunk.size()) > 0) {
  }
  const int err = errno;
  const off_t size = ::lseek(fd, 0, SEEK_END);
  ::close(fd);
  if (err != ENOSPC) throw std::runtime_error(std::string("filling the disk ended with ") + std::strerror(err));
  return size;
}

// A tmpfs filled up but for `spare` bytes, written into by archive --batch (a few sizes of spare, so that the write
// fails at different steps: the pack, its index, the ref, the seen checkpoint, the derived index), then by a single
// append with no space at all. Every failure is clean; once the filler file is deleted the next append works.
TEST(CliDiskFull, FullTmpfsFailsCleanlyAndRecovers) {
  REQUIRE_MOUNTS();
  TempArchive a;
  a.archive_text("The first statement.\n");
  const fs::path mnt = a.tmp() / "mnt";
  fs::create_directory(mnt);
  ASSERT_EQ(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16m"), 0) << std::strerror(errno);
  Mount guard{mnt};
  const fs::path dir = mnt / "archive";
  fs::copy(a.dir(), dir, fs::copy_options::recursive);
  const fs::path filler = mnt / "filler";
  auto v = verify(a, dir);
  ASSERT_EQ(v.exit_code, 0) << v.text;
  std::uint64_t size = v.tree_size;

  int failed = 0, fitted = 0;
  std::set<std::string> steps;
  const std::vector<off_t> spares = long_tests()
                                        ? std::vector<off_t>{0, 4096, 16384, 65536, 131072, 262144, 524288, 1048576, 2097152}
                                        : std::vector<off_t>{0, 262144, 1048576};
  for (const off_t spare : spares) {
    SCOPED_TRACE("spare " + std::to_string(spare) + " bytes");
    const auto m = manifest(a, "spare" + std::to_string(spare), 200, 1000);
    const off_t full = fill(filler);
    ASSERT_EQ(::truncate(filler.c_str(), std::max<off_t>(0, full - spare)), 0);
    const auto r = run_process({avow_bin(), "-C", dir.string(), "archive", "--batch", m}, {}, a.env());
    v = verify(a, dir);
    ASSERT_EQ(v.exit_code, 0) << v.text;
    if (r.exit_code == 0) {
      ++fitted;
      EXPECT_EQ(v.tree_size, size + 200);
    } else {
      ++failed;
      expect_clean_failure(r, "No space left on device");
      EXPECT_EQ(v.tree_size, size) << r.err;
      steps.insert(r.err.substr(0, r.err.find(" '"))); // what could not be written, without the path
    }
    size = v.tree_size;
  }
  EXPECT_GE(failed, 1);

  // No space at all: a single append fails the same way, unless deleting the derived index (which avow does when it
  // cannot use it, with a note) freed enough space for it.
  fill(filler);
  const auto single = a.file("single.txt", "A statement for a full disk.\n");
  const auto r = run_process({avow_bin(), "-C", dir.string(), "archive", single, "--source", "urn:example:full"}, {},
                             a.env());
  v = verify(a, dir);
  ASSERT_EQ(v.exit_code, 0) << v.text;
  if (r.exit_code == 0) {
    EXPECT_NE(r.err.find("avow: note: the index was unreadable (cannot write index"), std::string::npos) << r.err;
    EXPECT_EQ(v.tree_size, size + 1);
  } else {
    expect_clean_failure(r, "No space left on device");
    EXPECT_EQ(v.tree_size, size);
  }
  size = v.tree_size;

  // Space back: the next append works, removing what the failed writes left (with a note each), and verify is clean.
  fs::remove(filler);
  const auto last = a.file("last.txt", "A statement once space is back.\n");
  const auto next = run_process({avow_bin(), "-C", dir.string(), "archive", last, "--source", "urn:example:full"}, {},
                                a.env());
  EXPECT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(next.out.size(), 65u) << next.out;
  v = verify(a, dir);
  EXPECT_EQ(v.exit_code, 0) << v.text;
  EXPECT_EQ(v.tree_size, size + 1);
  EXPECT_EQ(v.notices, 0u) << v.text;
  std::string what;
  for (const auto& s : steps) what += "\n[ figures  ]   " + s;
  std::printf("[ figures  ] full tmpfs: %d batches failed cleanly, %d fitted; failed at:%s\n", failed, fitted,
              what.c_str());
}

// RLIMIT_FSIZE (`ulimit -f`, SIGXFSZ ignored as a shell script would): writes past the limit fail with EFBIG. No
// privilege needed, so this runs everywhere.
RunResult archive_limited(const TempArchive& a, int kib, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"bash", "-c", "trap '' XFSZ; ulimit -f " + std::to_string(kib) + "; exec \"$@\"",
                                "bash", avow_bin(), "-C", a.dir().string(), "archive"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, {}, a.env());
}

TEST(CliDiskFull, FileSizeLimitFailsCleanlyAndRecovers) {
  TempArchive a;
  a.archive_text("The first statement.\n");
  auto v = verify(a, a.dir());
  ASSERT_EQ(v.exit_code, 0) << v.text;
  const std::uint64_t size = v.tree_size;
  const std::string before = a.state();

  // A batch whose pack is far over the limit (200 statements of 2 KB of varied words), at two limits.
  const auto m = manifest(a, "limit", 200, 2000);
  for (const int kib : {8, 64}) {
    SCOPED_TRACE("ulimit -f " + std::to_string(kib));
    const auto r = archive_limited(a, kib, {"--batch", m});
    expect_clean_failure(r, "File too large");
    v = verify(a, a.dir());
    ASSERT_EQ(v.exit_code, 0) << v.text;
    EXPECT_EQ(v.tree_size, size);
  }
  // One statement of 4 KB: its pack is over a limit of 1 KiB.
  std::string text = "A statement of four kilobytes.";
  for (int i = 0; text.size() < 4096; ++i) text += " Sentence " + std::to_string(i * 7919 % 10007) + " of it.";
  const auto single = a.file("single.txt", text + "\n");
  const auto r = archive_limited(a, 1, {single, "--source", "urn:example:limit"});
  expect_clean_failure(r, "File too large");
  EXPECT_EQ(a.state(), before);

  // Without the limit both go in (libgit2 removed its half-written pack files itself: nothing is left over).
  const auto batch = a.avow({"archive", "--batch", m});
  EXPECT_EQ(batch.exit_code, 0) << batch.err;
  const auto one = a.avow({"archive", single, "--source", "urn:example:limit"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  v = verify(a, a.dir());
  EXPECT_EQ(v.exit_code, 0) << v.text;
  EXPECT_EQ(v.tree_size, size + 201);
  EXPECT_EQ(v.notices, 0u) << v.text;
}

// A read-only archive (a read-only bind mount: chmod does not stop root): every write fails with exit 6 and one line,
// nothing changes, and the reads answer as usual.
TEST(CliDiskFull, ReadOnlyArchiveRefusesWritesAndAnswersReads) {
  REQUIRE_MOUNTS();
  TempArchive a;
  const auto first = a.file("first.txt", "The statement already in the archive.\n");
  const auto added = a.avow({"archive", first, "--source", "urn:example:ro"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string id = added.out.substr(0, 64);
  const std::string before = a.state();
  {
    ASSERT_EQ(::mount(a.dir().c_str(), a.dir().c_str(), nullptr, MS_BIND, nullptr), 0) << std::strerror(errno);
    Mount guard{a.dir()};
    ASSERT_EQ(::mount(nullptr, a.dir().c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr), 0)
        << std::strerror(errno);
    const auto text = a.file("new.txt", "A statement for a read-only archive.\n");
    expect_clean_failure(a.avow({"archive", text, "--source", "urn:example:ro"}), "Read-only file system");
    expect_clean_failure(a.avow({"archive", "--batch", manifest(a, "ro", 3, 100)}), "Read-only file system");

    const auto v = a.avow({"verify"});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    const auto log = a.avow({"log", "--json"});
    ASSERT_EQ(log.exit_code, 0) << log.err;
    EXPECT_EQ(log.json().size(), 2u);
    EXPECT_EQ(log.json()[0]["id"], id);
    EXPECT_EQ(log.err, "avow: note: the archive is read-only; the index is built in memory for this command\n");
    const auto show = a.avow({"show", id});
    EXPECT_EQ(show.exit_code, 0) << show.err;
    EXPECT_NE(show.out.find("\"uri\": \"urn:example:ro\""), std::string::npos) << show.out;
    EXPECT_EQ(a.avow({"check", first, "--source", "urn:example:ro"}).exit_code, 0);
    EXPECT_EQ(a.avow({"history", "--source", "urn:example:ro"}).exit_code, 0);
    EXPECT_EQ(a.avow({"audit"}).exit_code, 0);
  }
  EXPECT_EQ(a.state(), before);
  // Writable again: the next append works.
  const auto next = a.archive_file("A statement once the archive is writable.\n", {"--source", "urn:example:ro"});
  EXPECT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

} // namespace
} // namespace avow::test
