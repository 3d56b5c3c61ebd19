// avow witness init/serve, avow cosign, policy --witness and the quorum in verify --policy / verify-proof --policy,
// end to end: real witness servers (the avow binary) on 127.0.0.1, started on port 0 (each prints the port it bound
// as the first line of its stdout), stopped with SIGTERM or killed with SIGKILL by the test. HTTP faults are sent
// with stock curl.

#include <archive/log/note.hpp>
#include <archive/util/bytes.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace avow::test {
namespace {
namespace fs = std::filesystem;

bool have_tool(const std::string& name) { return run_process({"sh", "-c", "command -v " + name}).exit_code == 0; }

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// `avow witness serve DIR --listen 127.0.0.1:0` in the background; its stdout and stderr go to files.
class WitnessServer {
public:
  WitnessServer(const fs::path& dir, const fs::path& logs, const std::map<std::string, std::string>& env = {})
      : m_out(logs / fmt::format("{}.{}.out", dir.filename().string(), ++s_started)),
        m_err(logs / fmt::format("{}.{}.err", dir.filename().string(), s_started)) {
    m_pid = ::fork();
    if (m_pid == 0) {
      const int out = ::open(m_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = ::open(m_err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(out, 1);
      ::dup2(err, 2);
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      const std::string bin = avow_bin();
      ::execl(bin.c_str(), bin.c_str(), "witness", "serve", dir.c_str(), "--listen", "127.0.0.1:0",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // The first line on stdout is "listening on http://127.0.0.1:PORT".
    for (int i = 0; i < 500; ++i) {
      std::error_code ec;
      const std::string out = fs::exists(m_out, ec) ? read_file(m_out) : std::string();
      if (out.find('\n') != std::string::npos) {
        const std::string line = out.substr(0, out.find('\n'));
        if (line.starts_with("listening on http://127.0.0.1:")) m_url = line.substr(std::string("listening on ").size());
        break;
      }
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~WitnessServer() { kill(SIGKILL); }
  WitnessServer(const WitnessServer&) = delete;
  WitnessServer& operator=(const WitnessServer&) = delete;

  // Send `sig` and wait for the process; returns its wait status.
  int kill(int sig) {
    if (m_pid <= 0) return m_status;
    ::kill(m_pid, sig);
    ::waitpid(m_pid, &m_status, 0);
    m_pid = -1;
    return m_status;
  }
  // Wait for the process to end by itself (up to 10 s); its wait status, or -1 while it still runs.
  int wait_exit() {
    for (int i = 0; i < 1000 && m_pid > 0; ++i) {
      if (::waitpid(m_pid, &m_status, WNOHANG) == m_pid) m_pid = -1;
      else std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return m_pid > 0 ? -1 : m_status;
  }
  const std::string& url() const { return m_url; }
  std::string err() const { return read_file(m_err); }

private:
  static inline int s_started = 0; // each server its own output files, so a restart never reads its predecessor's
  fs::path m_out, m_err;
  pid_t m_pid = -1;
  int m_status = 0;
  std::string m_url;
};

struct HttpAnswer {
  int status = 0;
  std::string content_type;
  std::string body;
};

// POST `body` to `url` with stock curl.
HttpAnswer post(const std::string& url, const std::string& body, const fs::path& tmp) {
  const fs::path in = tmp / "request.body", out = tmp / "reply.body";
  write_file(in, body);
  auto r = run_process({"curl", "-sS", "-o", out.string(), "-w", "%{http_code} %{content_type}", "--data-binary",
                        "@" + in.string(), "-H", "Content-Type: text/plain", url + "/add-checkpoint"});
  HttpAnswer a;
  const std::size_t sp = r.out.find(' ');
  a.status = std::atoi(r.out.substr(0, sp).c_str());
  a.content_type = sp == std::string::npos ? "" : r.out.substr(sp + 1);
  a.body = fs::exists(out) ? read_file(out) : "";
  return a;
}

class CliWitness : public ::testing::Test {
protected:
  void SetUp() override {
    if (!have_tool("curl")) GTEST_SKIP() << "curl is not installed (scripts/install-deps installs it)";
    for (int i = 1; i <= 4; ++i) m_a.archive_text(fmt::format("Statement number {} of the witness test.\n", i));
    const std::string policy = m_a.avow({"policy"}).out;
    const std::size_t at = policy.find("\nlog ");
    m_log_vkey = policy.substr(at + 5, policy.find('\n', at + 1) - at - 5);
  }

  // Create witness `name` (key name `name`.example) trusting the archive's log, and add its vkey to the archive.
  fs::path make_witness(const std::string& name, bool add = true) {
    const fs::path dir = m_a.tmp() / name;
    auto r = m_a.avow_raw({"witness", "init", dir.string(), "--log", m_log_vkey, "--name", name + ".example"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("the log operator adds it with:\n  avow key add " + (dir / "witness.vkey").string() + "\n"),
              std::string::npos)
        << r.out;
    if (add) {
      auto k = m_a.avow({"key", "add", (dir / "witness.vkey").string()});
      EXPECT_EQ(k.exit_code, 0) << k.err;
      EXPECT_TRUE(k.out.starts_with("added witness key ")) << k.out;
    }
    return dir;
  }
  std::unique_ptr<WitnessServer> start(const fs::path& dir, const std::map<std::string, std::string>& env = {}) {
    auto s = std::make_unique<WitnessServer>(dir, m_a.tmp().path(), env);
    EXPECT_FALSE(s->url().empty()) << "witness did not start: " << s->err();
    return s;
  }
  static std::string state_of(const fs::path& witness_dir) {
    std::string out;
    for (const auto& e : fs::directory_iterator(witness_dir / "state"))
      out += e.path().filename().string() + "\n" + read_file(e.path());
    return out;
  }
  // avow cosign on the archive at `dir` (default: m_a's), with the witnesses `urls`.
  // A split view made with the log key: a copy B of the archive from the current prefix, then "What A says." archived
  // into A and `b_text` from `b_source` into B. Returns B's folder.
  fs::path split_view(const std::string& b_text, const std::string& b_source) {
    const fs::path b = m_a.tmp() / "b";
    fs::copy(m_a.dir(), b, fs::copy_options::recursive);
    m_a.archive_text("What A says.\n");
    write_file(m_a.tmp() / "b.txt", b_text);
    EXPECT_EQ(m_a.avow_raw({"-C", b.string(), "archive", (m_a.tmp() / "b.txt").string(), "--source", b_source})
                  .exit_code,
              0);
    return b;
  }

  RunResult cosign(const TempArchive& a, const std::vector<std::string>& urls, const fs::path* dir = nullptr) {
    std::vector<std::string> args{"-C", (dir ? *dir : a.dir()).string(), "cosign", "--timeout", "5"};
    for (const auto& u : urls) {
      args.push_back("--witness");
      args.push_back(u);
    }
    return a.avow_raw(args);
  }

  TempArchive m_a{"witness.avow.example/log"};
  std::string m_log_vkey;
};

TEST_F(CliWitness, QuorumTwoOfThreeWithOneAndTwoWitnessesDown) {
  const fs::path d1 = make_witness("w1"), d2 = make_witness("w2"), d3 = make_witness("w3");
  auto s1 = start(d1), s2 = start(d2), s3 = start(d3);
  const std::string u1 = s1->url(), u2 = s2->url(), u3 = s3->url();
  // Witness 3 is down: its port no longer answers.
  EXPECT_TRUE(WIFEXITED(s3->kill(SIGTERM)));
  EXPECT_NE(s3->err().find("avow: witness stopped"), std::string::npos) << s3->err();

  const std::string id = m_a.archive_text("The statement the witnesses will vouch for.\n");
  auto c = cosign(m_a, {u1, u2, u3});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find(u1 + ": cosigned by w1.example\n"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find(u2 + ": cosigned by w2.example\n"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find(u3 + ": failed: "), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("cosigned by 2 witnesses (commit "), std::string::npos) << c.out;
  // log/checkpoint: the log's signature line, then w1's and w2's cosignatures, in name order.
  const std::string cp = m_a.git_show("log/checkpoint");
  const std::string sigs = cp.substr(cp.find("\n\n") + 2);
  ASSERT_EQ(std::count(sigs.begin(), sigs.end(), '\n'), 3) << cp;
  EXPECT_TRUE(sigs.starts_with("\u2014 witness.avow.example/log ")) << cp;
  EXPECT_NE(sigs.find("\n\u2014 w1.example "), std::string::npos) << cp;
  EXPECT_LT(sigs.find("\u2014 w1.example "), sigs.find("\u2014 w2.example ")) << cp;
  auto msg = m_a.git({"log", "-1", "--format=%B"});
  EXPECT_NE(msg.out.find("Avow-Cosigned-By: w1.example\nAvow-Cosigned-By: w2.example\n"), std::string::npos) << msg.out;
  auto v = m_a.avow({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;

  auto pol = m_a.avow({"policy", "--witness", "w1.example=" + u1, "--witness", "w2.example=" + u2, "--witness",
                       "w3.example=" + u3, "--quorum", "2"});
  ASSERT_EQ(pol.exit_code, 0) << pol.err;
  EXPECT_NE(pol.out.find("\ngroup witnesses 2 w1.example w2.example w3.example\nquorum witnesses\n"), std::string::npos)
      << pol.out;
  EXPECT_NE(pol.out.find("\nwitness w1.example " + trim(read_file(d1 / "witness.vkey")) + " " + u1 + "\n"),
            std::string::npos)
      << pol.out;
  const std::string policy_file = m_a.file("quorum.policy", pol.out);
  auto vp = m_a.avow({"verify", "--policy", policy_file});
  EXPECT_EQ(vp.exit_code, 0) << vp.out << vp.err;
  EXPECT_NE(vp.out.find("cosigned by w1.example, w2.example"), std::string::npos) << vp.out;
  auto proof = m_a.avow({"proof", id, "-o", (m_a.tmp() / "p1.proof").string()});
  ASSERT_EQ(proof.exit_code, 0) << proof.err;
  auto vpp = m_a.avow_raw({"verify-proof", (m_a.tmp() / "p1.proof").string(), "--policy", policy_file});
  EXPECT_EQ(vpp.exit_code, 0) << vpp.out << vpp.err;
  EXPECT_TRUE(vpp.out.starts_with("proven: ")) << vpp.out;

  // Two witnesses down: a new checkpoint gets one cosignature, and the quorum fails naming the missing ones.
  EXPECT_TRUE(WIFEXITED(s2->kill(SIGINT)));
  const std::string id2 = m_a.archive_text("A statement after two witnesses went down.\n");
  c = cosign(m_a, {u1, u2, u3});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("cosigned by 1 witness (commit "), std::string::npos) << c.out;
  const std::string missing = "quorum not reached: 1 of 2 needed in group 'witnesses'; cosigned by w1.example; "
                              "missing w2.example, w3.example";
  vp = m_a.avow({"verify", "--policy", policy_file});
  EXPECT_EQ(vp.exit_code, 1) << vp.out << vp.err;
  EXPECT_NE(vp.out.find("policy_unsatisfied path log/checkpoint: the checkpoint does not satisfy the policy: " + missing +
                        "\n"),
            std::string::npos)
      << vp.out;
  proof = m_a.avow({"proof", id2, "-o", (m_a.tmp() / "p2.proof").string()});
  ASSERT_EQ(proof.exit_code, 0) << proof.err;
  vpp = m_a.avow_raw({"verify-proof", (m_a.tmp() / "p2.proof").string(), "--policy", policy_file});
  EXPECT_EQ(vpp.exit_code, 1) << vpp.out << vpp.err;
  EXPECT_EQ(vpp.out, "NOT proven: the entry is not proven in the log: " + missing + "\n");
  // The bundle made before still proves: its checkpoint was cosigned by two.
  vpp = m_a.avow_raw({"verify-proof", (m_a.tmp() / "p1.proof").string(), "--policy", policy_file});
  EXPECT_EQ(vpp.exit_code, 0) << vpp.out;

  // No witness reachable: exit 6, nothing written.
  EXPECT_TRUE(WIFEXITED(s1->kill(SIGTERM)));
  const std::string before = m_a.state();
  c = cosign(m_a, {u1, u2});
  EXPECT_EQ(c.exit_code, 6) << c.out << c.err;
  EXPECT_EQ(c.err, "avow: error: no witness could be reached\n");
  EXPECT_EQ(m_a.state(), before);
}

TEST_F(CliWitness, WitnessAnswersFaultsWithTheRightStatusAndKeepsItsState) {
  const fs::path d1 = make_witness("w1");
  auto s1 = start(d1);
  ASSERT_EQ(cosign(m_a, {s1->url()}).exit_code, 0);
  const std::string state = state_of(d1);
  const std::string cp = m_a.avow({"checkpoint"}).out; // size N, with w1's cosignature
  const std::string size = cp.substr(cp.find('\n') + 1, cp.find('\n', cp.find('\n') + 1) - cp.find('\n') - 1);
  const fs::path fork = m_a.tmp() / "fork"; // a copy at size N, for a fork made with the log key below
  fs::copy(m_a.dir(), fork, fs::copy_options::recursive);
  const auto expect = [&](const std::string& body, int status, const std::string& reply) {
    HttpAnswer a = post(s1->url(), body, m_a.tmp().path());
    EXPECT_EQ(a.status, status) << a.body;
    EXPECT_EQ(a.body, reply);
    EXPECT_EQ(state_of(d1), state);
    return a;
  };
  // Unknown log: another archive's checkpoint.
  TempArchive other("other.avow.example/log");
  expect("old 0\n\n" + other.avow({"checkpoint"}).out, 404, "unknown log 'other.avow.example/log'\n");
  // Bad signature: an archive of the same origin with its own keys.
  TempArchive impostor("witness.avow.example/log");
  expect("old 0\n\n" + impostor.avow({"checkpoint"}).out, 403,
         "no valid signature by the log key of 'witness.avow.example/log': note has no verifiable signature\n");
  // An older size than the witness's: 409 with the witness's size.
  HttpAnswer a = expect("old 0\n\n" + cp, 409, size + "\n");
  EXPECT_EQ(a.content_type, "text/x.tlog.size");
  expect("old 2\n\n" + cp, 409, size + "\n");
  // old > checkpoint size.
  expect("old 999\n\n" + cp, 400, "old size 999 is larger than the checkpoint size " + size + "\n");
  // A consistency proof that does not verify, to a larger checkpoint.
  m_a.archive_text("One more statement.\n");
  const std::string next = m_a.avow({"checkpoint"}).out;
  HttpAnswer bad = post(s1->url(), "old " + size + "\n" + base64_encode(Bytes(32, 1)) + "\n\n" + next, m_a.tmp().path());
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_TRUE(bad.body.starts_with("the consistency proof from " + size + " to ")) << bad.body;
  EXPECT_EQ(state_of(d1), state);
  // Same size, different root: a checkpoint of the same size signed by the log key over other entries (a fork made
  // by the log key; see SplitView for the whole story). C2SP tlog-witness answers 409 with the witness's size.
  write_file(m_a.tmp() / "f.txt", "A different last statement.\n");
  auto f = m_a.avow_raw({"-C", fork.string(), "archive", (m_a.tmp() / "f.txt").string(), "--source", "https://example.org/f"});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  // The witness holds size N; advance it to N+1 on the main line, then offer the fork's N+1.
  ASSERT_EQ(cosign(m_a, {s1->url()}).exit_code, 0);
  const std::string state2 = state_of(d1);
  const std::string fork_cp = m_a.avow_raw({"-C", fork.string(), "checkpoint"}).out;
  const std::string n1 = std::to_string(std::stoull(size) + 1);
  a = post(s1->url(), "old " + n1 + "\n\n" + fork_cp, m_a.tmp().path());
  EXPECT_EQ(a.status, 409) << a.body;
  EXPECT_EQ(a.body, n1 + "\n");
  EXPECT_EQ(state_of(d1), state2);
  // Not a POST, another path, a body over the limit.
  auto get = run_process({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", s1->url() + "/add-checkpoint"});
  EXPECT_EQ(get.out, "405");
  auto other_path = run_process({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-d", "x", s1->url() + "/x"});
  EXPECT_EQ(other_path.out, "404");
  EXPECT_EQ(post(s1->url(), std::string(70 * 1024, 'a'), m_a.tmp().path()).status, 413);
  EXPECT_EQ(state_of(d1), state2);
  // One line per request on stderr.
  const std::string log = s1->err();
  EXPECT_NE(log.find(" 127.0.0.1 POST /add-checkpoint 404 origin=other.avow.example/log size=1 unknown log"),
            std::string::npos)
      << log;
}

TEST_F(CliWitness, SplitViewIsRefusedByTheWitness) {
  const fs::path d1 = make_witness("w1");
  // Two archives from one prefix, both written with the log key: A and B.
  const fs::path b = split_view("What B says instead.\n", "https://example.org/split");
  auto s1 = start(d1);
  auto c = cosign(m_a, {s1->url()});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  const std::string state = state_of(d1);
  // B has the witness key too (the same key events), so only the witness's memory stops it.
  c = cosign(m_a, {s1->url()}, &b);
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  EXPECT_NE(c.out.find(s1->url() + ": CONFLICT: the witness holds a checkpoint of size "), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("(HTTP 409: "), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("no cosignature added"), std::string::npos) << c.out;
  EXPECT_EQ(c.err, "avow: error: a witness holds a checkpoint this log does not extend: a split view, or this copy is "
                   "not the log the witness saw\n");
  EXPECT_EQ(state_of(d1), state);

  // One more entry on B: a larger size whose proof from the witness's size does not verify (422).
  write_file(m_a.tmp() / "b2.txt", "B goes on.\n");
  ASSERT_EQ(m_a.avow_raw({"-C", b.string(), "archive", (m_a.tmp() / "b2.txt").string(), "--source",
                          "https://example.org/split2"}).exit_code, 0);
  c = cosign(m_a, {s1->url()}, &b);
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  EXPECT_NE(c.out.find("(HTTP 422: the consistency proof from "), std::string::npos) << c.out;
  EXPECT_EQ(state_of(d1), state);
}

TEST_F(CliWitness, CrashedWitnessRestartsAndNeverCosignsAConflictingCheckpoint) {
  const fs::path d1 = make_witness("w1");
  const fs::path b = split_view("What B says instead.\n", "https://example.org/crash");

  // The witness dies right after persisting A's checkpoint, before it replies: cosign gets no answer.
  auto s1 = start(d1, {{"AVOW_TEST_WITNESS_CRASH_AFTER_PERSIST", "1"}});
  const std::string before = m_a.state();
  auto c = cosign(m_a, {s1->url()});
  EXPECT_EQ(c.exit_code, 6) << c.out << c.err;
  const int status = s1->wait_exit();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 137);
  EXPECT_EQ(m_a.state(), before);
  const std::string state = state_of(d1);
  ASSERT_NE(state.find(m_a.avow({"checkpoint"}).out), std::string::npos) << state;

  // Restarted, it remembers A: B's conflicting checkpoint is refused.
  auto s2 = start(d1);
  c = cosign(m_a, {s2->url()}, &b);
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  EXPECT_EQ(state_of(d1), state);
  // Killed with SIGKILL between requests, restarted again: still A's state.
  s2->kill(SIGKILL);
  auto s3 = start(d1);
  EXPECT_EQ(state_of(d1), state);
  c = cosign(m_a, {s3->url()}, &b);
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  // A's consistent next checkpoint is cosigned.
  m_a.archive_text("A goes on.\n");
  c = cosign(m_a, {s3->url()});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  // The witness's state is the checkpoint as the log signed it (the log sends its own signature only).
  const std::string cosigned = m_a.avow({"checkpoint"}).out;
  EXPECT_EQ(read_file(fs::directory_iterator(d1 / "state")->path()),
            cosigned.substr(0, cosigned.find("\u2014 w1.example ")));
  EXPECT_EQ(m_a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliWitness, WitnessRefusesToStartOnABadStateOrABusyPort) {
  const fs::path d1 = make_witness("w1");
  auto s1 = start(d1);
  ASSERT_EQ(cosign(m_a, {s1->url()}).exit_code, 0);
  // Another witness on the same port: exit 6.
  const fs::path d2 = make_witness("w2");
  const std::string port = s1->url().substr(s1->url().rfind(':') + 1);
  auto busy = m_a.avow_raw({"witness", "serve", d2.string(), "--listen", "127.0.0.1:" + port});
  EXPECT_EQ(busy.exit_code, 6) << busy.err;
  EXPECT_EQ(busy.err, "avow: error: cannot listen on 127.0.0.1:" + port + ": the address is in use or not local\n");
  // A second server on the same folder: exit 4 (it would answer from a stale state).
  auto twice = m_a.avow_raw({"witness", "serve", d1.string(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(twice.exit_code, 4) << twice.err;
  EXPECT_EQ(twice.err, "avow: error: cannot use witness '" + d1.string() +
                           "': another process is using it (is a witness already serving this folder?)\n");
  s1->kill(SIGTERM);
  // A state file that does not parse: exit 4, the file left as it is.
  const fs::path file = fs::directory_iterator(d1 / "state")->path();
  write_file(file, "not a checkpoint\n");
  auto r = m_a.avow_raw({"witness", "serve", d1.string(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(r.err.starts_with("avow: error: cannot use witness '" + d1.string() + "': state file '" + file.string() +
                                "' does not parse: ")) << r.err;
  EXPECT_EQ(read_file(file), "not a checkpoint\n");
  EXPECT_EQ(r.out, "");
  // Not a witness folder; a bad address.
  EXPECT_EQ(m_a.avow_raw({"witness", "serve", (m_a.tmp() / "nope").string(), "--listen", "127.0.0.1:0"}).exit_code, 4);
  EXPECT_EQ(m_a.avow_raw({"witness", "serve", d1.string()}).exit_code, 2);
}

TEST_F(CliWitness, KeyAddTakesAWitnessVkey) {
  const fs::path d1 = make_witness("w1", false);
  const std::string vkey = (d1 / "witness.vkey").string();
  const std::string before = m_a.state();
  auto r = m_a.avow({"key", "add", vkey, "--name", "someone-else"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "avow: error: --name 'someone-else' is not the name in the vkey 'w1.example' (a witness's name is "
                   "its key name)\n");
  r = m_a.avow({"key", "add", vkey, "--role", "archivist"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "avow: error: '" + vkey + "' is a witness vkey: its role is witness, not archivist\n");
  // A log vkey (type 0x01) is not a witness key.
  r = m_a.avow({"key", "add", m_a.file("log.vkey", m_log_vkey + "\n")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("is a vkey of type 0x01, not a witness (cosignature/v1, type 0x04) key"), std::string::npos) << r.err;
  // A PEM without --name.
  r = m_a.avow({"key", "add", (d1 / "witness.pub").string(), "--role", "witness"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(m_a.state(), before);

  r = m_a.avow({"key", "add", vkey, "--name", "w1.example", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto list = m_a.avow({"key", "list", "--json"}).json();
  const auto& keys = list["archive"];
  ASSERT_EQ(keys.back()["role"], "witness");
  EXPECT_EQ(keys.back()["name"], "w1.example");
  EXPECT_EQ(keys.back()["id"], r.json()["key"]);
  // A policy names it by its key name; an unknown witness is refused.
  auto pol = m_a.avow({"policy", "--witness", "w1.example"});
  ASSERT_EQ(pol.exit_code, 0) << pol.err;
  EXPECT_NE(pol.out.find("\nwitness w1.example " + trim(read_file(d1 / "witness.vkey")) +
                         "\ngroup witnesses all w1.example\nquorum witnesses\n"),
            std::string::npos)
      << pol.out;
  pol = m_a.avow({"policy", "--witness", "w9.example"});
  EXPECT_EQ(pol.exit_code, 3);
  EXPECT_EQ(pol.err, "avow: error: no witness key named 'w9.example' in force in this archive (add its vkey with avow "
                     "key add)\n");
  EXPECT_EQ(m_a.avow({"policy", "--witness", "w1.example", "--quorum", "2"}).exit_code, 3);
  EXPECT_EQ(m_a.avow({"policy", "--quorum", "2"}).exit_code, 2);
}

TEST_F(CliWitness, VerifyCatchesACosignatureThatDoesNotVerify) {
  const fs::path d1 = make_witness("w1");
  auto s1 = start(d1);
  ASSERT_EQ(cosign(m_a, {s1->url()}).exit_code, 0);
  // Change one byte of w1's Ed25519 signature (after the 4-byte id and 8-byte timestamp), keeping the line well formed.
  const std::string cp = m_a.git_show("log/checkpoint");
  const std::string prefix = "\u2014 w1.example ";
  const std::size_t at = cp.find(prefix);
  ASSERT_NE(at, std::string::npos) << cp;
  const std::size_t start_b64 = at + prefix.size();
  auto sig = base64_decode(cp.substr(start_b64, cp.find('\n', start_b64) - start_b64));
  ASSERT_TRUE(sig.has_value());
  (*sig)[20] ^= 0x01;
  const std::string tampered = cp.substr(0, start_b64) + base64_encode(*sig) + "\n";
  m_a.git_replace("log/checkpoint", tampered);
  auto v = m_a.avow({"verify", "--json"});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  bool found = false;
  const nlohmann::json report = v.json();
  for (const auto& p : report["problems"])
    if (p["kind"] == "cosignature_invalid") {
      found = true;
      EXPECT_TRUE(p["message"].get<std::string>().starts_with("the cosignature by witness 'w1.example' on the checkpoint "
                                                              "of commit "))
          << p;
    }
  EXPECT_TRUE(found) << v.out;
}

} // namespace
} // namespace avow::test

namespace avow::test {
namespace {

TEST_F(CliWitness, UnknownWitnessFailsAndCosigningAgainKeepsOneLinePerWitness) {
  const fs::path d1 = make_witness("w1"), d9 = make_witness("w9", false);
  auto s1 = start(d1), s9 = start(d9);
  // w9 is not in the archive's key state: its cosignature is ignored, nothing is written.
  const std::string before = m_a.state();
  auto c = cosign(m_a, {s9->url()});
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  EXPECT_EQ(c.out, s9->url() + ": failed: no cosignature by a witness key of this archive (the reply was signed by "
                               "'w9.example'; add its vkey with avow key add)\ncheckpoint 6: no cosignature added\n");
  EXPECT_EQ(c.err, "avow: error: no witness cosigned the checkpoint\n");
  EXPECT_EQ(m_a.state(), before);
  // The same checkpoint cosigned twice by w1: one line for w1 (the newer), two cosign commits.
  ASSERT_EQ(cosign(m_a, {s1->url()}).exit_code, 0);
  c = cosign(m_a, {s1->url(), s9->url()});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  const std::string cp = m_a.git_show("log/checkpoint");
  const std::string sigs = cp.substr(cp.find("\n\n") + 2);
  EXPECT_EQ(std::count(sigs.begin(), sigs.end(), '\n'), 2) << cp;
  EXPECT_EQ(sigs.find("w9.example"), std::string::npos) << cp;
  auto log = m_a.git({"log", "--format=%s"});
  EXPECT_TRUE(log.out.starts_with("avow: cosign checkpoint 6\navow: cosign checkpoint 6\n")) << log.out;
  EXPECT_EQ(m_a.avow({"verify"}).exit_code, 0);
}

} // namespace
} // namespace avow::test
