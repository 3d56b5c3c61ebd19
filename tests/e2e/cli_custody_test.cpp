// End-to-end: keys that never leave a safe place. An Ed25519 key held only by a real ssh-agent (started by the test)
// archives statements that `avow verify` accepts; passphrase-encrypted PKCS#8 keys (interchangeable with stock
// `openssl pkcs8 -scrypt`) unlocked by --passphrase-file or AVOW_PASSPHRASE_FILE; and the refusals, each exit 5 with
// one line, the archive left byte for byte as it was: wrong passphrase, missing passphrase file, key files of the
// wrong type or readable by others, no agent, an agent without the key or with a key of another type, a malformed
// agent key spec.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

namespace avow::test {
namespace {
namespace fs = std::filesystem;

bool have_tool(const std::string& name) {
  return run_process({"sh", "-c", "command -v " + name}).exit_code == 0;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// A real ssh-agent on a socket of its own, in the foreground (-D) so the test owns its process; killed at the end.
class SshAgent {
public:
  explicit SshAgent(const fs::path& socket) : m_socket(socket) {
    m_pid = ::fork();
    if (m_pid == 0) {
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execlp("ssh-agent", "ssh-agent", "-D", "-a", socket.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !fs::exists(m_socket); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~SshAgent() { stop(); }
  SshAgent(const SshAgent&) = delete;
  SshAgent& operator=(const SshAgent&) = delete;
  void stop() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      ::waitpid(m_pid, nullptr, 0);
      m_pid = -1;
    }
  }
  bool running() const { return m_pid > 0 && fs::exists(m_socket); }
  const fs::path& socket() const { return m_socket; }
  // Load the private key file `key` into the agent with stock ssh-add.
  RunResult add(const fs::path& key) const {
    return run_process({"ssh-add", key.string()}, {}, {{"SSH_AUTH_SOCK", m_socket.string()}});
  }

private:
  fs::path m_socket;
  pid_t m_pid = -1;
};

class CliCustody : public ::testing::Test {
protected:
  void SetUp() override {
    for (const char* tool : {"ssh-agent", "ssh-add", "ssh-keygen", "openssl"})
      if (!have_tool(tool)) GTEST_SKIP() << tool << " is not installed (scripts/install-deps installs it)";
  }

  // Every file under `dir`/.git with its content, and the tip of main; only the derived index is left out (a read
  // may bring it up to date). Equal snapshots: nothing was written.
  using Snapshot = std::map<std::string, std::string>;
  static Snapshot git_snapshot(const fs::path& dir) {
    Snapshot s{{"main", run_process({"git", "-C", dir.string(), "rev-parse", "main"}).out}};
    for (const auto& e : fs::recursive_directory_iterator(dir / ".git"))
      if (e.is_regular_file() && !e.path().filename().string().starts_with("index.sqlite"))
        s[e.path().string()] = read_file(e.path());
    return s;
  }
  // The files that differ between two snapshots ("" when none).
  static std::string changes(const Snapshot& before, const Snapshot& after) {
    std::string out;
    for (const auto& [k, v] : after)
      if (auto it = before.find(k); it == before.end() || it->second != v) out += " " + k;
    for (const auto& [k, v] : before)
      if (!after.contains(k)) out += " -" + k;
    return out;
  }

  // Run avow in the archive `dir` with the test's environment plus `env`.
  RunResult avow_in(const fs::path& dir, std::vector<std::string> args,
                    const std::map<std::string, std::string>& env = {}) const {
    args.insert(args.begin(), {avow_bin(), "-C", dir.string()});
    auto all = a.env();
    all["SSH_AUTH_SOCK"] = ""; // the host's agent must never be used by accident
    for (const auto& [k, v] : env) all[k] = v;
    return run_process(args, {}, all);
  }
  RunResult avow(std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) const {
    return avow_in(a.dir(), std::move(args), env);
  }

  // Assert `args` (run in the archive `dir`) fails with exit 5 and exactly the one error line `line`, and writes
  // nothing.
  void expect_key_refusal(const fs::path& dir, const std::vector<std::string>& args, const std::string& line,
                          const std::map<std::string, std::string>& env = {}) {
    const auto before = git_snapshot(dir);
    const auto r = avow_in(dir, args, env);
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "avow: error: " + line + "\n");
    EXPECT_EQ(changes(before, git_snapshot(dir)), "") << "the archive changed";
  }
  // Assert `init NEWDIR --origin ... args` fails with exit 5 and `line`, and leaves no archive behind.
  void expect_init_refusal(const std::vector<std::string>& args, const std::string& line,
                           const std::map<std::string, std::string>& env = {}) {
    const fs::path dir = a.tmp() / ("refused-" + std::to_string(++m_refused));
    std::vector<std::string> argv{"init", dir.string(), "--origin", "custody.example/refused"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = avow_in(a.tmp().path(), argv, env);
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "avow: error: " + line + "\n");
    EXPECT_FALSE(fs::exists(dir)) << "a refused init left " << dir;
  }

  // Make an Ed25519 OpenSSH key pair `name` and `name`.pub with stock ssh-keygen, no passphrase.
  fs::path ssh_keygen(const std::string& name, const std::string& type = "ed25519") const {
    const fs::path key = a.tmp() / name;
    std::vector<std::string> argv{"ssh-keygen", "-q", "-t", type, "-N", "", "-C", "custody-" + name, "-f", key.string()};
    if (type == "rsa") argv.insert(argv.end(), {"-b", "2048"});
    const auto r = run_process(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return key;
  }
  // The SHA256 fingerprint of a public key file, as stock ssh-keygen -lf prints it.
  static std::string fingerprint(const fs::path& pub) {
    const auto r = run_process({"ssh-keygen", "-lf", pub.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto first = r.out.find(' ');
    const auto second = r.out.find(' ', first + 1);
    return r.out.substr(first + 1, second - first - 1);
  }
  // The avow key id (hex SHA-256 of the raw 32-byte key, the last 32 bytes of the OpenSSH blob) of an OpenSSH
  // public key file, computed with stock tools.
  static std::string key_id_of(const fs::path& pub) {
    const auto r = run_process(
        {"sh", "-c", "awk '{print $2}' '" + pub.string() + "' | base64 -d | tail -c 32 | openssl dgst -sha256 -r"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, 64);
  }
  // The SPKI PEM of an OpenSSH Ed25519 public key file (the RFC 8410 prefix and the raw key, through stock openssl).
  static std::string spki_pem_of(const fs::path& pub) {
    const auto r = run_process({"sh", "-c",
                                "(printf '\\060\\052\\060\\005\\006\\003\\053\\145\\160\\003\\041\\000'; "
                                "awk '{print $2}' '" + pub.string() +
                                    "' | base64 -d | tail -c 32) | openssl pkey -pubin -inform DER"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  // Run `sh -c cmd` in the temporary folder; assert it succeeds.
  void shell(const std::string& cmd) const {
    const auto r = run_process({"sh", "-c", cmd}, {}, {}, a.tmp().path());
    ASSERT_EQ(r.exit_code, 0) << cmd << "\n" << r.err;
  }

  std::string statement(const std::string& name, const std::string& text) const { return a.file(name, text); }

  TempArchive a{"custody.example/archive"};
  int m_refused = 0;
};

// ---- 1. ssh-agent -------------------------------------------------------------------------------------------------

TEST_F(CliCustody, KeyHeldOnlyByAgentArchivesAndVerifies) {
  SshAgent agent(a.tmp() / "agent.sock");
  ASSERT_TRUE(agent.running());
  const fs::path key = ssh_keygen("id_ed25519");
  ASSERT_EQ(agent.add(key).exit_code, 0);
  fs::remove(key); // from now on the private key exists only inside the agent
  const std::string fp = fingerprint(key.string() + ".pub");
  ASSERT_TRUE(fp.starts_with("SHA256:")) << fp;
  const std::string spec = "ssh-agent:" + fp;
  const std::string id = key_id_of(key.string() + ".pub");
  const std::map<std::string, std::string> env{{"SSH_AUTH_SOCK", agent.socket().string()}};

  // The agent key becomes the first archivist of a new archive.
  const fs::path dir = a.tmp() / "agent-archive";
  auto r = avow_in(a.tmp().path(), {"--key", spec, "init", dir.string(), "--origin", "custody.example/agent", "--json"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto init = r.json();
  EXPECT_EQ(init["archivist_key"]["id"], id);
  EXPECT_EQ(init["archivist_key"]["file"], spec);
  EXPECT_EQ(init["archivist_key"]["generated"], false);
  EXPECT_EQ(trim(run_process({"git", "-C", dir.string(), "config", "avow.key"}).out), spec);
  EXPECT_EQ(run_process({"git", "-C", dir.string(), "show", "main:keys/" + id + ".pem"}).out,
            spki_pem_of(key.string() + ".pub"));

  // Signed through the agent: from the key named in the local config, from --key, and from AVOW_KEY.
  r = avow_in(dir, {"archive", statement("a.txt", "Signed by the agent.\n"), "--source", "urn:custody:a", "--json"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string rec = r.json()["records"][0]["id"];
  r = avow_in(dir, {"--key", spec, "archive", statement("b.txt", "Again, with --key.\n"), "--source", "urn:custody:b"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto env_key = env;
  env_key["AVOW_KEY"] = spec;
  r = avow_in(dir, {"archive", statement("c.txt", "Again, with AVOW_KEY.\n"), "--source", "urn:custody:c"}, env_key);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // Verification needs no agent: the signatures are plain Ed25519 under the archived key.
  r = avow_in(dir, {"verify", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.json()["problems"].size(), 0u);
  r = avow_in(dir, {"show", rec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("signature  valid by " + id.substr(0, 16) + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"archivist\": \"" + id + "\""), std::string::npos) << r.out;
  const auto entries = log_entries(dir);
  ASSERT_EQ(entries.size(), 4u);
  for (std::size_t i = 1; i < entries.size(); ++i)
    EXPECT_NE(entries[i].find("\"keyid\":\"" + id + "\""), std::string::npos) << entries[i];

  // With the agent gone the key is gone: refused, nothing written.
  agent.stop();
  expect_key_refusal(dir, {"archive", statement("d.txt", "No agent now.\n"), "--source", "urn:custody:d"},
                     "no ssh-agent at '" + agent.socket().string() + "' (SSH_AUTH_SOCK): no such file or directory",
                     env);
}

// The SSH key an archivist already guards joins an existing archive as a second archivist (`key add` of its .pub
// line), signs through the agent, and is then revoked: the agent key is refused from then on.
TEST_F(CliCustody, AgentKeyAddedAsSecondArchivistSignsUntilRevoked) {
  SshAgent agent(a.tmp() / "agent.sock");
  ASSERT_TRUE(agent.running());
  const fs::path key = ssh_keygen("second_ed25519");
  ASSERT_EQ(agent.add(key).exit_code, 0);
  fs::remove(key);
  const std::string pub = key.string() + ".pub";
  const std::string spec = "ssh-agent:" + fingerprint(pub);
  const std::string id = key_id_of(pub);
  const std::map<std::string, std::string> env{{"SSH_AUTH_SOCK", agent.socket().string()}};

  auto r = avow({"key", "add", pub, "--name", "Second Archivist", "--role", "archivist"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("added archivist key " + id.substr(0, 16) + " at entry 1 ", 0), 0u) << r.out;
  r = avow({"--key", spec, "archive", statement("s.txt", "Captured by the second archivist.\n"), "--source",
            "urn:custody:second", "--json"},
           env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string rec = r.json()["records"][0]["id"];
  EXPECT_EQ(r.json()["records"][0]["index"], 2);
  r = avow({"show", rec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("signature  valid by " + id.substr(0, 16) + "\n"), std::string::npos) << r.out;
  r = avow({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  r = avow({"key", "revoke", id.substr(0, 12), "--reason", "token lost"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_key_refusal(a.dir(), {"--key", spec, "archive", statement("t.txt", "After the revocation.\n"), "--source",
                               "urn:custody:after"},
                     "archivist key " + id.substr(0, 16) + " was revoked by entry 3 (token lost); it signs no more statements",
                     env);
  r = avow({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(CliCustody, AgentProblemsAreRefusedAndChangeNothing) {
  SshAgent agent(a.tmp() / "agent.sock");
  ASSERT_TRUE(agent.running());
  const fs::path ed = ssh_keygen("held_ed25519");
  const fs::path other = ssh_keygen("other_ed25519"); // never added to the agent
  const fs::path rsa = ssh_keygen("held_rsa", "rsa");
  const fs::path ecdsa = ssh_keygen("held_ecdsa", "ecdsa");
  for (const auto& k : {ed, rsa, ecdsa}) ASSERT_EQ(agent.add(k).exit_code, 0);
  const std::map<std::string, std::string> env{{"SSH_AUTH_SOCK", agent.socket().string()}};
  const std::string sock = agent.socket().string();
  const std::string held = "ssh-agent:" + fingerprint(ed.string() + ".pub");
  const std::string missing_fp = fingerprint(other.string() + ".pub");
  const std::string rsa_fp = fingerprint(rsa.string() + ".pub");
  const std::string ecdsa_fp = fingerprint(ecdsa.string() + ".pub");
  const std::string s = statement("s.txt", "A statement that is never archived.\n");
  const std::vector<std::string> archive{"archive", s, "--source", "urn:custody:s"};
  const auto with_key = [&](const std::string& spec) {
    std::vector<std::string> v{"--key", spec};
    v.insert(v.end(), archive.begin(), archive.end());
    return v;
  };

  // No agent: SSH_AUTH_SOCK unset (empty), or naming nothing.
  expect_key_refusal(a.dir(), with_key(held), "no ssh-agent: SSH_AUTH_SOCK is not set");
  const std::string nothing = (a.tmp() / "no-agent.sock").string();
  expect_key_refusal(a.dir(), with_key(held),
                     "no ssh-agent at '" + nothing + "' (SSH_AUTH_SOCK): no such file or directory",
                     {{"SSH_AUTH_SOCK", nothing}});
  const std::string not_socket = a.file("plain-file", "not a socket\n");
  expect_key_refusal(a.dir(), with_key(held),
                     "no ssh-agent at '" + not_socket + "' (SSH_AUTH_SOCK): connection refused",
                     {{"SSH_AUTH_SOCK", not_socket}});
  // An agent without that key; keys of other types, named.
  expect_key_refusal(a.dir(), with_key("ssh-agent:" + missing_fp),
                     "ssh-agent at '" + sock + "' holds no key " + missing_fp + " (ssh-add -l lists the keys it holds)",
                     env);
  expect_key_refusal(a.dir(), with_key("ssh-agent:" + rsa_fp),
                     "ssh-agent key " + rsa_fp + " is ssh-rsa, not ssh-ed25519: avow signs with Ed25519 keys only", env);
  expect_key_refusal(a.dir(), with_key("ssh-agent:" + ecdsa_fp),
                     "ssh-agent key " + ecdsa_fp +
                         " is ecdsa-sha2-nistp256, not ssh-ed25519: avow signs with Ed25519 keys only",
                     env);
  // Malformed specs (exit 5, like every other unusable key; the spec is never taken for a file name).
  for (const std::string& bad : std::vector<std::string>{"ssh-agent:", "ssh-agent:SHA256:", "ssh-agent:SHA256:short",
                                "ssh-agent:MD5:" + std::string(43, 'A'), "ssh-agent:SHA256:" + std::string(42, 'A') + "!",
                                "ssh-agent:" + missing_fp.substr(7)})
    expect_key_refusal(a.dir(), with_key(bad),
                       "invalid key spec '" + bad + "': want ssh-agent:SHA256:<fingerprint> as ssh-add -l prints it", env);
  // The key is held but is not an archivist of this archive: refused, no record written (the check runs under the
  // writer lock, whose empty lock file may be left behind as after any write).
  {
    const auto r = avow(with_key(held), env);
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_EQ(r.err, "avow: error: archivist key " + key_id_of(ed.string() + ".pub").substr(0, 16) +
                         " is not trusted by this archive (no key.add entry adds it: avow key add)\n");
    EXPECT_EQ(log_entries(a.dir()).size(), 1u);
  }
  // init refuses the same way, and leaves no archive.
  expect_init_refusal({"--key", "ssh-agent:" + missing_fp},
                      "ssh-agent at '" + sock + "' holds no key " + missing_fp + " (ssh-add -l lists the keys it holds)",
                      env);
  expect_init_refusal({"--key", "ssh-agent:" + rsa_fp},
                      "ssh-agent key " + rsa_fp + " is ssh-rsa, not ssh-ed25519: avow signs with Ed25519 keys only", env);
  expect_init_refusal({"--key", held}, "no ssh-agent: SSH_AUTH_SOCK is not set");
}

TEST_F(CliCustody, LogKeyHeldOnlyByAgentSignsCheckpointsAndCommits) {
  SshAgent agent(a.tmp() / "agent.sock");
  ASSERT_TRUE(agent.running());
  const fs::path log_key = ssh_keygen("log_ed25519");
  const fs::path arch_key = ssh_keygen("archivist_ed25519");
  for (const auto& k : {log_key, arch_key}) {
    ASSERT_EQ(agent.add(k).exit_code, 0);
    fs::remove(k);
  }
  const std::string log_spec = "ssh-agent:" + fingerprint(log_key.string() + ".pub");
  const std::string arch_spec = "ssh-agent:" + fingerprint(arch_key.string() + ".pub");
  const std::map<std::string, std::string> env{{"SSH_AUTH_SOCK", agent.socket().string()}};
  const fs::path dir = a.tmp() / "agent-log";
  const std::string origin = "custody.example/agent-log";
  auto r = avow_in(a.tmp().path(),
                   {"--key", arch_spec, "init", dir.string(), "--origin", origin, "--log-key", log_spec, "--json"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json()["log_key"]["id"], key_id_of(log_key.string() + ".pub"));
  EXPECT_EQ(r.json()["log_key"]["file"], log_spec);
  EXPECT_EQ(trim(run_process({"git", "-C", dir.string(), "config", "avow.logkey"}).out), log_spec);
  r = avow_in(dir, {"archive", statement("l.txt", "Both keys in the agent.\n"), "--source", "urn:custody:l"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = avow_in(dir, {"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The agent's SSHSIG commit signatures pass stock git.
  const std::string allowed = a.file("allowed_signers",
                                     run_process({"git", "-C", dir.string(), "show", "main:keys/allowed_signers"}).out);
  const auto commits = run_process({"git", "-C", dir.string(), "rev-list", "main"}).out;
  ASSERT_EQ(std::count(commits.begin(), commits.end(), '\n'), 2);
  for (std::size_t at = 0; at < commits.size(); at = commits.find('\n', at) + 1) {
    const std::string c = commits.substr(at, 40);
    const auto v = run_process({"git", "-C", dir.string(), "-c", "gpg.ssh.allowedSignersFile=" + allowed,
                                "verify-commit", c});
    EXPECT_EQ(v.exit_code, 0) << c << ": " << v.err;
    EXPECT_NE(v.err.find("Good \"git\" signature for " + origin + " with ED25519 key " +
                         fingerprint(log_key.string() + ".pub")),
              std::string::npos)
        << v.err;
  }
  // Rotate to another key held only by the agent: the hand-over is signed by both agent keys, avow.logkey names the
  // new spec, and stock git accepts the old key's commits and the new key's under the rotated allowed_signers.
  const fs::path next_key = ssh_keygen("next_log_ed25519");
  ASSERT_EQ(agent.add(next_key).exit_code, 0);
  fs::remove(next_key);
  const std::string next_spec = "ssh-agent:" + fingerprint(next_key.string() + ".pub");
  r = avow_in(dir, {"key", "rotate", "--log", next_spec, "--json"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json()["file"], next_spec);
  EXPECT_EQ(trim(run_process({"git", "-C", dir.string(), "config", "avow.logkey"}).out), next_spec);
  r = avow_in(dir, {"archive", statement("n.txt", "After the rotation, through the agent.\n"), "--source",
                    "urn:custody:n"},
              env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = avow_in(dir, {"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string rotated = a.file("allowed_signers_rotated",
                                     run_process({"git", "-C", dir.string(), "show", "main:keys/allowed_signers"}).out);
  const auto all = run_process({"git", "-C", dir.string(), "rev-list", "main"}).out;
  ASSERT_EQ(std::count(all.begin(), all.end(), '\n'), 4);
  std::size_t by_next = 0;
  for (std::size_t at = 0; at < all.size(); at = all.find('\n', at) + 1) {
    const auto v = run_process({"git", "-C", dir.string(), "-c", "gpg.ssh.allowedSignersFile=" + rotated,
                                "verify-commit", all.substr(at, 40)});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    if (v.err.find("with ED25519 key " + fingerprint(next_key.string() + ".pub")) != std::string::npos) ++by_next;
  }
  EXPECT_EQ(by_next, 1u); // the commit after the rotation; the rotation commit itself is the old key's
  // Without the agent the log key is gone too: refused, nothing written.
  agent.stop();
  expect_key_refusal(dir, {"--key", (a.tmp() / "none.pem").string(), "archive", statement("m.txt", "No.\n"), "--source",
                           "urn:custody:m"},
                     "cannot read private key '" + (a.tmp() / "none.pem").string() + "': no such file", env);
  expect_key_refusal(dir, {"archive", statement("m.txt", "No.\n"), "--source", "urn:custody:m"},
                     "no ssh-agent at '" + agent.socket().string() + "' (SSH_AUTH_SOCK): no such file or directory",
                     env);
}

// ---- 2. passphrases -----------------------------------------------------------------------------------------------

TEST_F(CliCustody, EncryptedKeyArchivesWithPassphraseFileAndEnv) {
  // A key encrypted by stock openssl (PKCS#8, scrypt, AES-256-CBC) is the archivist of a new archive.
  const std::string pass = a.file("pass.txt", "correct horse battery staple\n");
  shell("openssl genpkey -algorithm ed25519 | openssl pkcs8 -topk8 -v2 aes-256-cbc -scrypt -passout file:pass.txt "
        "-out enc.pem && chmod 600 enc.pem");
  const std::string enc = (a.tmp() / "enc.pem").string();
  EXPECT_TRUE(read_file(enc).starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
  const fs::path dir = a.tmp() / "enc-archive";
  auto r = avow_in(a.tmp().path(), {"--key", enc, "--passphrase-file", pass, "init", dir.string(), "--origin",
                                    "custody.example/enc"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // Archived non-interactively with --passphrase-file (avow.key in the local config names the file)...
  r = avow_in(dir, {"--passphrase-file", pass, "archive", statement("e1.txt", "Unlocked by a file.\n"), "--source",
                    "urn:custody:e1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // ...and with AVOW_PASSPHRASE_FILE (only the first line counts, CRLF or not, as for openssl -passin file:).
  const std::string bare = a.file("bare.txt", "correct horse battery staple\r\nsecond line\n");
  r = avow_in(dir, {"archive", statement("e2.txt", "Unlocked by the environment.\n"), "--source", "urn:custody:e2"},
              {{"AVOW_PASSPHRASE_FILE", bare}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string no_newline = a.file("no-newline.txt", "correct horse battery staple");
  r = avow_in(dir, {"--passphrase-file", no_newline, "archive", statement("e4.txt", "No newline.\n"), "--source",
                    "urn:custody:e4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = avow_in(dir, {"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(log_entries(dir).size(), 4u);

  // Refusals: nothing written.
  const std::string wrong = a.file("wrong.txt", "Correct horse battery staple\n");
  const std::vector<std::string> archive{"archive", statement("e3.txt", "Never archived.\n"), "--source", "urn:custody:e3"};
  auto args = [&](std::vector<std::string> pre) {
    pre.insert(pre.end(), archive.begin(), archive.end());
    return pre;
  };
  const std::string wrong_line_start = "cannot decrypt private key '" + enc + "': wrong passphrase or damaged file (";
  {
    const auto before = git_snapshot(dir);
    r = avow_in(dir, args({"--passphrase-file", wrong}));
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(r.err.starts_with("avow: error: " + wrong_line_start)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(changes(before, git_snapshot(dir)), "") << "a wrong passphrase changed the archive";
    r = avow_in(dir, args({}), {{"AVOW_PASSPHRASE_FILE", wrong}});
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_TRUE(r.err.starts_with("avow: error: " + wrong_line_start)) << r.err;
    EXPECT_EQ(changes(before, git_snapshot(dir)), "") << "a wrong passphrase changed the archive";
  }
  const std::string gone = (a.tmp() / "no-such-pass.txt").string();
  expect_key_refusal(dir, args({"--passphrase-file", gone}),
                     "cannot read passphrase file '" + gone + "': no such file");
  expect_key_refusal(dir, args({}), "cannot read passphrase file '" + gone + "': no such file",
                     {{"AVOW_PASSPHRASE_FILE", gone}});
  const std::string empty = a.file("empty.txt", "\n");
  expect_key_refusal(dir, args({"--passphrase-file", empty}), "cannot read passphrase file '" + empty + "': its first line is empty");
  expect_key_refusal(dir, args({"--passphrase-file", a.tmp().path().string()}),
                     "cannot read passphrase file '" + a.tmp().path().string() + "': not a regular file");
  // init with a wrong passphrase: no archive.
  const fs::path refused = a.tmp() / "enc-refused";
  r = avow_in(a.tmp().path(), {"--key", enc, "--passphrase-file", wrong, "init", refused.string(), "--origin",
                               "custody.example/refused"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_TRUE(r.err.starts_with("avow: error: " + wrong_line_start)) << r.err;
  EXPECT_FALSE(fs::exists(refused));
}

TEST_F(CliCustody, KeysAvowEncryptsAreReadByStockOpenssl) {
  const std::string pass = a.file("pass.txt", "a passphrase for openssl\n");
  const std::string out = (a.tmp() / "gen.pem").string();
  auto r = avow({"--passphrase-file", pass, "key", "generate", "--encrypt", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(read_file(out).starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
  // PKCS#8 with PBES2: scrypt and AES-256-CBC.
  const auto asn1 = run_process({"openssl", "asn1parse", "-in", out});
  ASSERT_EQ(asn1.exit_code, 0) << asn1.err;
  EXPECT_NE(asn1.out.find(":PBES2"), std::string::npos) << asn1.out;
  EXPECT_NE(asn1.out.find(":scrypt"), std::string::npos) << asn1.out;
  EXPECT_NE(asn1.out.find(":aes-256-cbc"), std::string::npos) << asn1.out;
  // Stock openssl decrypts it with the passphrase (the file's first line), and refuses a wrong one.
  r = run_process({"openssl", "pkey", "-in", out, "-passin", "file:" + pass, "-noout", "-text"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("ED25519 Private-Key:")) << r.out;
  const std::string wrong = a.file("wrong.txt", "not the passphrase\n");
  EXPECT_NE(run_process({"openssl", "pkey", "-in", out, "-passin", "file:" + wrong, "-noout"}).exit_code, 0);
  // The same public key from both readers.
  const auto theirs = run_process({"openssl", "pkey", "-in", out, "-passin", "file:" + pass, "-pubout"});
  ASSERT_EQ(theirs.exit_code, 0);
  r = avow({"--json", "key", "generate", "-o", (a.tmp() / "plain.pem").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto plain_pub = run_process({"openssl", "pkey", "-in", (a.tmp() / "plain.pem").string(), "-pubout"});
  EXPECT_EQ(r.json()["public_key"], plain_pub.out);
}

// The prompt: avow asks on the controlling terminal (a pseudo-terminal that stock Python's pty module gives it), with
// echo off while the passphrase is typed, and the passphrase never appears in what the terminal shows.
TEST_F(CliCustody, PromptReadsPassphraseWithEchoOff) {
  if (!have_tool("python3")) GTEST_SKIP() << "python3 is not installed";
  const std::string pass = a.file("pass.txt", "typed at the prompt\n");
  shell("openssl genpkey -algorithm ed25519 | openssl pkcs8 -topk8 -v2 aes-256-cbc -scrypt -passout file:pass.txt "
        "-out enc.pem && chmod 600 enc.pem");
  const fs::path dir = a.tmp() / "prompt-archive";
  auto r = avow_in(a.tmp().path(), {"--key", (a.tmp() / "enc.pem").string(), "--passphrase-file", pass, "init",
                                    dir.string(), "--origin", "custody.example/prompt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string script = R"PY(
import json, os, pty, sys, termios, time
argv, secret = sys.argv[1:-1], sys.argv[-1]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
seen, echo_off, deadline = b"", None, time.time() + 60
def read_some():
    global seen
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        return False
    seen += chunk
    return bool(chunk)
while b"passphrase for the key: " not in seen and time.time() < deadline:
    if not read_some():
        break
echo_off = not (termios.tcgetattr(fd)[3] & termios.ECHO)
os.write(fd, b"\x03" if secret == "^C" else secret.encode() + b"\n")
while read_some():
    pass
_, status = os.waitpid(pid, 0)
try:
    echo_after = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
except termios.error:
    echo_after = None
print(json.dumps({"echo_off": echo_off, "echo_after": echo_after, "shown": seen.decode(errors="replace"),
                  "exit": os.waitstatus_to_exitcode(status)}))
)PY";
  const auto run_prompt = [&](const std::string& secret, const std::string& source) {
    std::vector<std::string> argv{"python3", "-c", script, avow_bin(), "-C", dir.string(), "archive",
                                  statement(source + ".txt", "Unlocked at the prompt: " + source + ".\n"),
                                  "--source", "urn:custody:" + source, secret};
    auto env = a.env();
    env["SSH_AUTH_SOCK"] = "";
    const auto p = run_process(argv, {}, env);
    EXPECT_EQ(p.exit_code, 0) << p.err;
    return nlohmann::json::parse(p.out);
  };
  auto good = run_prompt("typed at the prompt", "good");
  EXPECT_EQ(good["echo_off"], true);
  EXPECT_EQ(good["exit"], 0) << good["shown"];
  const std::string shown = good["shown"];
  EXPECT_TRUE(shown.starts_with("avow: passphrase for the key: \r\n")) << shown;
  EXPECT_EQ(shown.find("typed at the prompt"), std::string::npos) << shown;
  const auto before = git_snapshot(dir);
  auto bad = run_prompt("not the passphrase", "bad");
  EXPECT_EQ(bad["echo_off"], true);
  EXPECT_EQ(bad["exit"], 5) << bad["shown"];
  EXPECT_EQ(bad["shown"].get<std::string>().find("not the passphrase"), std::string::npos);
  EXPECT_EQ(changes(before, git_snapshot(dir)), "") << "a wrong passphrase at the prompt changed the archive";
  // Ctrl-C at the prompt: the terminal gets its echo back, the process ends by SIGINT, nothing is written.
  auto interrupted = run_prompt("^C", "interrupted");
  EXPECT_EQ(interrupted["echo_off"], true);
  EXPECT_EQ(interrupted["exit"], -SIGINT) << interrupted["shown"];
  EXPECT_EQ(interrupted["echo_after"], true) << interrupted["shown"];
  EXPECT_EQ(changes(before, git_snapshot(dir)), "") << "an interrupted prompt changed the archive";
  EXPECT_EQ(log_entries(dir).size(), 2u);
}

// ---- 3. key files -------------------------------------------------------------------------------------------------

TEST_F(CliCustody, KeyFilesOfOtherTypesAreRefused) {
  struct Case {
    std::string name;
    std::string genpkey;
    std::string type;
  };
  const std::vector<Case> cases{{"rsa.pem", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", "RSA"},
                                {"x25519.pem", "-algorithm X25519", "X25519"},
                                {"p256.pem", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "EC (prime256v1)"},
                                {"ed448.pem", "-algorithm ED448", "ED448"}};
  for (const auto& c : cases) {
    shell("openssl genpkey " + c.genpkey + " -out " + c.name + " && chmod 600 " + c.name);
    const std::string path = (a.tmp() / c.name).string();
    const std::string line = "cannot read private key '" + path + "': cannot use private key: it is " + c.type +
                             ", not ed25519";
    expect_key_refusal(a.dir(), {"--key", path, "archive", statement("t.txt", "Typed.\n"), "--source", "urn:t"}, line);
    expect_init_refusal({"--key", path}, line);
    expect_init_refusal({"--log-key", path}, line);
  }
}

TEST_F(CliCustody, KeyFilesOthersCanReadAreRefused) {
  // The archive's own archivist key, made readable by others: refused until it is 0600 again.
  const auto cfg = run_process({"git", "-C", a.dir().string(), "config", "avow.key"});
  const std::string key = trim(cfg.out);
  ASSERT_TRUE(fs::exists(key)) << key;
  const std::string s = statement("p.txt", "Permissions.\n");
  for (const unsigned mode : {0640u, 0604u, 0644u, 0620u, 0660u}) {
    ASSERT_EQ(::chmod(key.c_str(), mode), 0);
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", mode);
    const std::string line = "private key '" + key + "' has permissions " + octal + ", which are too open (must be 0600)";
    expect_key_refusal(a.dir(), {"archive", s, "--source", "urn:p"}, line);
    expect_key_refusal(a.dir(), {"--key", key, "archive", s, "--source", "urn:p"}, line);
    expect_init_refusal({"--key", key}, line);
  }
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  const auto r = avow({"archive", s, "--source", "urn:p"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

} // namespace
} // namespace avow::test
