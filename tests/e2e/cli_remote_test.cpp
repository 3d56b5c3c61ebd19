// avow remote/pull/push/sync/clone/verify-evidence: bare repositories on disk and git daemon on 127.0.0.1.

#include "../support/support.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

// Every file under `dir` (the whole .git included), path and bytes: "byte-identical before and after".
std::string snapshot(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::string s;
  for (const auto& f : files) s += f.string() + "\n" + read_file(f) + "\n";
  return s;
}

std::string main_of(const fs::path& dir) {
  auto r = run_process({"git", "-C", dir.string(), "rev-parse", "refs/heads/main"});
  return r.out;
}

// A JSONL manifest of `n` synthetic statements numbered from `first`, tagged `tag`.
std::string manifest(int first, int n, const std::string& tag) {
  std::string out;
  for (int i = first; i < first + n; ++i)
    out += nlohmann::json({{"text", tag + " statement number " + std::to_string(i) + "\n"},
                           {"source", "https://example.org/" + tag + "/" + std::to_string(i)}})
               .dump() +
           "\n";
  return out;
}

// A free TCP port on 127.0.0.1 (bound then released: nothing listens there until we start something).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// git daemon serving `base` on 127.0.0.1, push enabled; killed on destruction.
class GitDaemon {
public:
  explicit GitDaemon(const fs::path& base) : m_port(free_port()) {
    m_pid = ::fork();
    if (m_pid == 0) {
      const std::string base_arg = "--base-path=" + base.string();
      const std::string port_arg = "--port=" + std::to_string(m_port);
      ::execlp("git", "git", "daemon", "--reuseaddr", base_arg.c_str(), "--export-all", "--enable=receive-pack",
               "--listen=127.0.0.1", port_arg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 100 && !accepts(m_port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~GitDaemon() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  std::string url(const std::string& repo) const { return "git://127.0.0.1:" + std::to_string(m_port) + "/" + repo; }

private:
  int m_port;
  pid_t m_pid = -1;
};

class CliRemote : public ::testing::Test {
protected:
  TempArchive a;
  TempDir other;

  RunResult avow_in(const fs::path& dir, const std::vector<std::string>& args) const {
    std::vector<std::string> argv{avow_bin(), "-C", dir.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, {}, a.env());
  }
  RunResult avow_raw(const std::vector<std::string>& args) const { return a.avow_raw(args); }
  void archive_in(const fs::path& dir, const std::string& text) {
    static int n = 0;
    const auto file = other / ("in-" + std::to_string(++n) + ".txt");
    write_file(file, text);
    auto r = avow_in(dir, {"archive", file.string(), "--source", "https://example.org/in/" + std::to_string(n)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void batch_in(const fs::path& dir, const std::string& jsonl) {
    static int n = 0;
    const auto file = other / ("batch-" + std::to_string(++n) + ".jsonl");
    write_file(file, jsonl);
    auto r = avow_in(dir, {"archive", "--batch", file.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // A copy of archive `a` (cp -a), for two histories from one prefix, signed with the same keys.
  fs::path copy_of_a(const std::string& name) {
    const fs::path to = other / name;
    auto r = run_process({"cp", "-a", a.dir().string(), to.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return to;
  }
};

TEST_F(CliRemote, CloneThenPullVerifiesOnlyTheNewEntries) {
  batch_in(a.dir(), manifest(0, 200, "base"));
  const fs::path b = other / "clone";
  auto c = avow_raw({"clone", a.dir().string(), b.string(), "--json"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.json()["ok"], true);
  EXPECT_EQ(c.json()["entries"], 201);
  EXPECT_EQ(main_of(b), main_of(a.dir()));
  auto list = avow_in(b, {"remote", "list"});
  EXPECT_EQ(list.out, "origin\t" + fs::absolute(a.dir()).lexically_normal().string() + "\n");

  batch_in(a.dir(), manifest(200, 50, "new"));
  auto p = avow_in(b, {"pull", "--json"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const auto j = p.json();
  EXPECT_EQ(j["status"], "updated");
  EXPECT_EQ(j["old_size"], 201);
  EXPECT_EQ(j["new_size"], 251);
  EXPECT_EQ(j["entries_verified"], 50); // only the new entries, not the 201 already verified
  EXPECT_EQ(j["commits_verified"], 1);
  EXPECT_EQ(j["texts_verified"], 50);
  EXPECT_EQ(main_of(b), main_of(a.dir()));
  EXPECT_EQ(read_file(b / ".git/avow/seen-checkpoint"), a.git_show("log/checkpoint"));
  EXPECT_EQ(avow_in(b, {"verify"}).exit_code, 0);
  // The quarantine ref is gone once main has it.
  EXPECT_NE(run_process({"git", "-C", b.string(), "rev-parse", "--verify", "-q", "refs/avow/quarantine/origin"}).exit_code, 0);

  auto again = avow_in(b, {"pull"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.out, "already up to date with origin (" + fs::absolute(a.dir()).lexically_normal().string() + ")\n");
  // The clone has no private keys.
  write_file(other / "x.txt", "x\n");
  auto w = avow_in(b, {"archive", (other / "x.txt").string(), "--source", "https://example.org/x"});
  EXPECT_EQ(w.exit_code, 5) << w.err;
}

TEST_F(CliRemote, PushToAnEmptyBareRepositoryThenPullItElsewhereOverGitDaemon) {
  a.archive_text("first\n");
  const fs::path served = other / "served";
  fs::create_directories(served);
  ASSERT_EQ(run_process({"git", "init", "-q", "--bare", (served / "mirror.git").string()}).exit_code, 0);
  GitDaemon daemon(served);
  ASSERT_EQ(a.avow({"remote", "add", "mirror", daemon.url("mirror.git")}).exit_code, 0);
  auto push = a.avow({"push", "mirror", "--json"});
  ASSERT_EQ(push.exit_code, 0) << push.err;
  EXPECT_EQ(push.json()["status"], "pushed");
  EXPECT_EQ(main_of(served / "mirror.git"), main_of(a.dir()));

  const fs::path b = other / "b";
  auto c = avow_raw({"clone", daemon.url("mirror.git"), b.string()});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  a.archive_text("second\n");
  ASSERT_EQ(a.avow({"sync", "mirror"}).exit_code, 0);
  auto p = avow_in(b, {"pull", "--json"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.json()["entries_verified"], 1);
  EXPECT_EQ(main_of(b), main_of(a.dir()));
}

TEST_F(CliRemote, PushIsRefusedWhenTheRemoteIsAhead) {
  const fs::path b = other / "b";
  ASSERT_EQ(avow_raw({"clone", a.dir().string(), b.string()}).exit_code, 0);
  a.archive_text("only upstream has this\n");
  const std::string before = snapshot(a.dir());
  auto r = avow_in(b, {"push"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err, "avow: error: remote is ahead: run avow pull origin\n");
  EXPECT_EQ(snapshot(a.dir()), before);
}

TEST_F(CliRemote, ASplitViewIsCaughtOnPullAndPushAndProvenOffline) {
  a.archive_text("shared prefix\n");
  const fs::path fork = copy_of_a("fork");
  a.archive_text("what the world is told\n");
  archive_in(fork, "what one reader is told\n");
  archive_in(fork, "and more of it\n");
  ASSERT_EQ(avow_in(fork, {"remote", "add", "upstream", a.dir().string()}).exit_code, 0);
  const std::string main_before = main_of(fork);

  const fs::path evidence = other / "evidence.json";
  auto p = avow_in(fork, {"pull", "upstream", "--evidence", evidence.string()});
  EXPECT_EQ(p.exit_code, 1) << p.err;
  EXPECT_NE(p.out.find("SPLIT VIEW"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("evidence written to " + evidence.string()), std::string::npos) << p.out;
  EXPECT_EQ(main_of(fork), main_before);
  auto v = avow_raw({"verify-evidence", evidence.string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_TRUE(v.out.starts_with("split view PROVEN: ")) << v.out;
  EXPECT_NE(v.out.find("pin it with --log-key"), std::string::npos);
  const auto ev = nlohmann::json::parse(read_file(evidence));
  EXPECT_EQ(ev["format"], "avow.split-view/1");
  EXPECT_EQ(ev["a"]["checkpoint"], a.git_show("log/checkpoint"));
  EXPECT_EQ(ev["a"]["source"], a.dir().string());
  EXPECT_EQ(ev["b"]["source"], "local");
  const std::string log_key = ev["log_key"];
  auto pinned = avow_raw({"verify-evidence", evidence.string(), "--log-key", log_key});
  EXPECT_EQ(pinned.exit_code, 0);
  EXPECT_NE(pinned.out.find("signed by the pinned log key"), std::string::npos);

  // The default place, on push.
  auto push = avow_in(fork, {"push", "upstream", "--json"});
  EXPECT_EQ(push.exit_code, 1);
  EXPECT_EQ(push.json()["status"], "split_view");
  const std::string path = push.json()["evidence"];
  EXPECT_TRUE(path.starts_with((fork / ".git/avow/evidence/").string())) << path;
  EXPECT_EQ(avow_raw({"verify-evidence", path}).exit_code, 0);

  // Each field tampered: not proven (or an unusable file), never PROVEN.
  const std::string good = read_file(evidence);
  const auto expect_not_proven = [&](nlohmann::json e, const std::string& what) {
    write_file(other / "bad.json", e.dump());
    auto r = avow_raw({"verify-evidence", (other / "bad.json").string()});
    EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 3) << what << ": " << r.out << r.err;
    if (r.exit_code == 1) {
      EXPECT_TRUE(r.out.starts_with("NOT proven: ")) << what << ": " << r.out;
    }
  };
  auto flip = [](std::string s, std::size_t at) {
    s[at] = s[at] == 'A' ? 'B' : 'A';
    return s;
  };
  {
    auto e = ev;
    e["origin"] = "other.example/log";
    expect_not_proven(e, "origin");
  }
  {
    auto e = ev;
    e["log_key"] = flip(log_key, log_key.size() - 5);
    expect_not_proven(e, "log_key");
  }
  for (const char* side : {"a", "b"}) {
    auto e = ev;
    std::string cp = e[side]["checkpoint"];
    cp[cp.find('\n') + 1] = '7'; // the size line
    e[side]["checkpoint"] = cp;
    expect_not_proven(e, std::string(side) + ".checkpoint size");
    e = ev;
    cp = e[side]["checkpoint"].get<std::string>();
    const auto sig = cp.rfind(' ') + 10;
    e[side]["checkpoint"] = flip(cp, sig);
    expect_not_proven(e, std::string(side) + ".checkpoint signature");
  }
  for (std::size_t k = 0; k < ev["proof"].size(); ++k) {
    auto e = ev;
    e["proof"][k] = flip(e["proof"][k].get<std::string>(), 3);
    expect_not_proven(e, "proof element " + std::to_string(k));
  }
  {
    auto e = ev;
    e["proof"] = nlohmann::json::array();
    expect_not_proven(e, "no proof");
    e = ev;
    std::swap(e["a"], e["b"]);
    expect_not_proven(e, "a and b swapped");
    e = ev;
    e["b"] = e["a"];
    expect_not_proven(e, "the same checkpoint twice");
  }
  // Another log key of the same origin (another archive's): not proven; a malformed key: unusable (3).
  TempArchive impostor;
  const std::string other_key = nlohmann::json::parse(impostor.git_show("avow.json"))["log_key"]["vkey"];
  ASSERT_NE(other_key, log_key);
  auto wrong_key = avow_raw({"verify-evidence", evidence.string(), "--log-key", other_key});
  EXPECT_EQ(wrong_key.exit_code, 1) << wrong_key.out << wrong_key.err;
  EXPECT_TRUE(wrong_key.out.starts_with("NOT proven: checkpoint a is not a checkpoint of")) << wrong_key.out;
  auto bad_key = avow_raw({"verify-evidence", evidence.string(), "--log-key", flip(log_key, log_key.size() - 5)});
  EXPECT_EQ(bad_key.exit_code, 3) << bad_key.out << bad_key.err;
  write_file(other / "junk.json", "{\"format\":\"avow.split-view/1\"}");
  auto junk = avow_raw({"verify-evidence", (other / "junk.json").string()});
  EXPECT_EQ(junk.exit_code, 3);
  EXPECT_TRUE(junk.err.starts_with("avow: error: invalid split-view evidence")) << junk.err;
  EXPECT_EQ(read_file(evidence), good);
}

TEST_F(CliRemote, SameSizeSplitViewIsProven) {
  a.archive_text("shared\n");
  const fs::path fork = copy_of_a("fork");
  a.archive_text("version for everyone\n");
  archive_in(fork, "version for one reader\n");
  ASSERT_EQ(a.avow({"remote", "add", "fork", fork.string()}).exit_code, 0);
  auto p = a.avow({"pull", "fork", "--json"});
  EXPECT_EQ(p.exit_code, 1);
  const std::string path = p.json()["evidence"];
  const auto ev = nlohmann::json::parse(read_file(path));
  EXPECT_TRUE(ev["proof"].empty());
  auto v = avow_raw({"verify-evidence", path});
  EXPECT_EQ(v.exit_code, 0) << v.out;
  EXPECT_NE(v.out.find("two different trees of size 3"), std::string::npos) << v.out;
}

TEST_F(CliRemote, SplitViewFromAPowerOfTwoSizeIsProven) {
  a.archive_text("shared\n");
  const fs::path fork = copy_of_a("fork");
  a.archive_text("x1\n");
  a.archive_text("x2\n");
  archive_in(fork, "y1\n");
  archive_in(fork, "y2\n");
  archive_in(fork, "y3\n");
  ASSERT_EQ(a.avow({"remote", "add", "fork", fork.string()}).exit_code, 0);
  auto p = a.avow({"pull", "fork", "--json"});
  EXPECT_EQ(p.exit_code, 1);
  const std::string path = p.json()["evidence"];
  auto ev = nlohmann::json::parse(read_file(path));
  EXPECT_EQ(ev["b"]["source"], fork.string());
  auto v = avow_raw({"verify-evidence", path, "--json"});
  EXPECT_EQ(v.exit_code, 0) << v.out;
  EXPECT_EQ(v.json()["size_a"], 4);
  EXPECT_EQ(v.json()["size_b"], 5);
  // Its first element is the fork's own root at size 4: replaced by the honest root, the proof shows consistency.
  ev["proof"].erase(ev["proof"].begin());
  write_file(a.tmp() / "unseeded.json", ev.dump());
  EXPECT_EQ(avow_raw({"verify-evidence", (a.tmp() / "unseeded.json").string()}).exit_code, 1);
}

TEST_F(CliRemote, UnreachableRemoteExitsSixAndChangesNothing) {
  a.archive_text("x\n");
  ASSERT_EQ(a.avow({"remote", "add", "gone", "git://127.0.0.1:" + std::to_string(free_port()) + "/archive"}).exit_code, 0);
  ASSERT_EQ(a.avow({"remote", "add", "nothing", (other / "does-not-exist").string()}).exit_code, 0);
  const std::string before = snapshot(a.dir());
  for (const char* cmd : {"pull", "push", "sync"}) {
    for (const char* name : {"gone", "nothing"}) {
      auto r = a.avow({cmd, name});
      EXPECT_EQ(r.exit_code, 6) << cmd << " " << name << ": " << r.err;
      EXPECT_TRUE(r.err.starts_with("avow: error: cannot reach remote '")) << r.err;
      EXPECT_EQ(snapshot(a.dir()), before) << cmd << " " << name;
    }
  }
  auto c = avow_raw({"clone", "git://127.0.0.1:" + std::to_string(free_port()) + "/archive", (other / "c").string()});
  EXPECT_EQ(c.exit_code, 6);
  EXPECT_FALSE(fs::exists(other / "c"));
}

TEST_F(CliRemote, APlainGitRepositoryOrAnotherArchiveIsRefusedWithExitFour) {
  const fs::path plain = other / "plain";
  ASSERT_EQ(run_process({"git", "init", "-q", "-b", "main", plain.string()}).exit_code, 0);
  write_file(plain / "README", "hello\n");
  ASSERT_EQ(run_process({"git", "-C", plain.string(), "add", "README"}, {}, a.env()).exit_code, 0);
  ASSERT_EQ(run_process({"git", "-C", plain.string(), "commit", "-q", "-m", "x"}, {}, a.env()).exit_code, 0);
  TempArchive stranger("other.example/archive");
  ASSERT_EQ(a.avow({"remote", "add", "plain", plain.string()}).exit_code, 0);
  ASSERT_EQ(a.avow({"remote", "add", "stranger", stranger.dir().string()}).exit_code, 0);
  const std::string main_before = main_of(a.dir());
  auto p = a.avow({"pull", "plain"});
  EXPECT_EQ(p.exit_code, 4);
  EXPECT_TRUE(p.err.starts_with("avow: error: remote '" + plain.string() + "' is not an avow archive: ")) << p.err;
  auto s = a.avow({"pull", "stranger"});
  EXPECT_EQ(s.exit_code, 4);
  EXPECT_EQ(s.err, "avow: error: remote '" + stranger.dir().string() +
                       "' is not this archive: its origin is 'other.example/archive', not 'test.avow.example/archive'\n");
  EXPECT_EQ(a.avow({"push", "stranger"}).exit_code, 4);
  EXPECT_EQ(main_of(a.dir()), main_before);
  for (const char* name : {"plain", "stranger"})
    EXPECT_NE(a.git({"rev-parse", "--verify", "-q", std::string("refs/avow/quarantine/") + name}).exit_code, 0);
  auto c = avow_raw({"clone", plain.string(), (other / "c").string()});
  EXPECT_EQ(c.exit_code, 4);
  EXPECT_FALSE(fs::exists(other / "c"));
  EXPECT_EQ(a.avow({"pull", "nobody"}).exit_code, 4);
  EXPECT_EQ(a.avow({"remote", "add", "plain", "/elsewhere"}).exit_code, 4);
  EXPECT_EQ(a.avow({"remote", "add", "bad name", "/elsewhere"}).exit_code, 3);
}

TEST_F(CliRemote, ARemoteWhoseNewEntryIsForgedIsRefused) {
  a.archive_text("good\n");
  const fs::path b = other / "b";
  ASSERT_EQ(avow_raw({"clone", a.dir().string(), b.string()}).exit_code, 0);
  // A new entry in upstream, well formed and committed with the log key, whose DSSE signature is not the archivist's.
  auto entries = log_entries(a.dir());
  auto env = nlohmann::json::parse(entries.back());
  std::string sig = env["signatures"][0]["sig"];
  sig[5] = sig[5] == 'A' ? 'B' : 'A';
  env["signatures"][0]["sig"] = sig;
  append_raw_entries(a.dir(), {env.dump()});
  const std::string main_before = main_of(b);
  auto p = avow_in(b, {"pull", "--json"});
  EXPECT_EQ(p.exit_code, 1) << p.err;
  const auto j = p.json();
  EXPECT_EQ(j["status"], "refused");
  bool found = false;
  for (const auto& pr : j["problems"])
    if (pr["kind"] == "signature_invalid" && pr["entry"] == 2) found = true;
  EXPECT_TRUE(found) << j.dump();
  EXPECT_EQ(main_of(b), main_before);
  EXPECT_EQ(avow_in(b, {"verify"}).exit_code, 0);
}

TEST_F(CliRemote, ARemoteWithAForgedTileSignedByTheLogKeyIsRefused) {
  a.archive_text("good\n");
  const fs::path b = other / "b";
  ASSERT_EQ(avow_raw({"clone", a.dir().string(), b.string()}).exit_code, 0);
  // A genuine new statement (made in a copy), appended upstream with a correct checkpoint and a commit signed by the
  // log key, but with one byte of its hash tile altered.
  const fs::path donor = copy_of_a("donor");
  archive_in(donor, "fresh\n");
  const std::string text = run_process({"git", "-C", donor.string(), "diff", "--name-only", "main~1", "main", "--", "texts/"}).out;
  const std::string text_path = text.substr(0, text.find('\n'));
  const std::string tile_path = "log/tile/0/000.p/3";
  std::string tile = run_process({"git", "-C", donor.string(), "show", "main:" + tile_path}).out;
  ASSERT_EQ(tile.size(), 96u);
  tile[40] ^= 1;
  RawAppend how;
  how.files = {{text_path, run_process({"git", "-C", donor.string(), "show", "main:" + text_path}).out}, {tile_path, tile}};
  append_raw_entries(a.dir(), {log_entries(donor).back()}, how);
  const std::string main_before = main_of(b);
  auto p = avow_in(b, {"pull", "--json"});
  EXPECT_EQ(p.exit_code, 1) << p.err;
  const auto j = p.json();
  EXPECT_EQ(j["status"], "refused");
  ASSERT_EQ(j["problems"].size(), 1u) << j.dump();
  EXPECT_EQ(j["problems"][0]["kind"], "tile_mismatch");
  EXPECT_EQ(j["problems"][0]["path"], tile_path);
  EXPECT_EQ(main_of(b), main_before);
}

TEST_F(CliRemote, ARemoteRepeatingAnOldRecordIsRefused) {
  a.archive_text("once\n");
  const fs::path b = other / "b";
  ASSERT_EQ(avow_raw({"clone", a.dir().string(), b.string()}).exit_code, 0);
  append_raw_entries(a.dir(), {log_entries(a.dir()).back()});
  auto p = avow_in(b, {"pull", "--json"});
  EXPECT_EQ(p.exit_code, 1) << p.err;
  const auto j = p.json();
  ASSERT_EQ(j["problems"].size(), 1u) << j.dump();
  EXPECT_EQ(j["problems"][0]["kind"], "duplicate_record");
  EXPECT_EQ(j["problems"][0]["entry"], 2);
}

TEST_F(CliRemote, ARemoteWithATamperedTileIsRefused) {
  a.archive_text("good\n");
  const fs::path b = other / "b";
  ASSERT_EQ(avow_raw({"clone", a.dir().string(), b.string()}).exit_code, 0);
  a.archive_text("more\n");
  a.git_flip_byte("log/tile/0/000.p/3", 7);
  const std::string main_before = main_of(b);
  auto p = avow_in(b, {"pull", "--json"});
  EXPECT_EQ(p.exit_code, 1) << p.err;
  EXPECT_NE(p.out.find("\"kind\":\"commit_unsigned\""), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("\"kind\":\"history_not_append_only\""), std::string::npos) << p.out;
  EXPECT_EQ(main_of(b), main_before);
}

TEST_F(CliRemote, CloneOfATamperedArchiveIsRefusedAndRemoved) {
  a.archive_text("to be altered\n");
  const auto id = a.git_show("log/checkpoint");
  auto texts = a.git({"ls-tree", "-r", "--name-only", "main", "texts/"});
  const std::string text_path = texts.out.substr(0, texts.out.find('\n'));
  a.git_flip_byte(text_path, 0);
  const fs::path c = other / "c";
  auto r = avow_raw({"clone", a.dir().string(), c.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("NOT cloned: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("problem: "), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(c));
  fs::create_directories(other / "full");
  write_file(other / "full" / "x", "x");
  EXPECT_EQ(avow_raw({"clone", a.dir().string(), (other / "full").string()}).exit_code, 4);
  EXPECT_TRUE(fs::exists(other / "full" / "x"));
}

} // namespace
} // namespace avow::test
