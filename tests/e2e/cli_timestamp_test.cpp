// End-to-end: RFC 3161 trusted time over checkpoints. A throw-away time-stamp authority (an Ed25519 CA and a P-256
// TSA certificate made with stock openssl by tests/support/make_tsa.sh) answers on 127.0.0.1 through
// tests/support/tsa_server.py, which runs `openssl ts -reply`. Stock `openssl ts -verify` checks what avow stored.

#include <tests/support/support.hpp>

#include <archive/util/time.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

const std::string k_support = std::string(AVOW_SOURCE_DIR) + "/tests/support";

// Make a TSA in `dir` (ca.pem, tsa.pem, ts.cnf...).
void make_tsa(const fs::path& dir, const std::string& name) {
  auto r = run_process({"bash", k_support + "/make_tsa.sh", dir.string(), name});
  if (r.exit_code != 0) throw std::runtime_error("make_tsa.sh failed: " + r.err);
}

// The test TSA server on 127.0.0.1; stops when destroyed (its stdin is closed).
class LocalTsa {
public:
  explicit LocalTsa(const fs::path& dir) {
    const fs::path port_file = dir / "port";
    const std::string cmd = "exec python3 '" + k_support + "/tsa_server.py' '" + dir.string() + "' '" +
                            port_file.string() + "' >/dev/null 2>&1";
    m_pipe = ::popen(cmd.c_str(), "w");
    if (!m_pipe) throw std::runtime_error("cannot start tsa_server.py");
    for (int i = 0; i < 200 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(port_file)) throw std::runtime_error("tsa_server.py did not start");
    m_url = "http://127.0.0.1:" + read_file(port_file) + "/";
  }
  ~LocalTsa() {
    if (m_pipe) ::pclose(m_pipe);
  }
  const std::string& url() const { return m_url; }

private:
  FILE* m_pipe = nullptr;
  std::string m_url;
};

std::string utc_in(std::chrono::seconds offset) {
  return format_rfc3339_utc(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) + offset);
}

class CliTimestamp : public ::testing::Test {
protected:
  TempArchive a;
  std::string id;
  fs::path tsa_dir;

  void SetUp() override {
    id = a.archive_text("A statement to time-stamp.\n");
    tsa_dir = a.tmp() / "tsa";
    make_tsa(tsa_dir, "avow test CA");
  }

  std::string ca() const { return (tsa_dir / "ca.pem").string(); }

  // avow with extra environment (AVOW_TEST_NOW).
  RunResult avow_env(const std::vector<std::string>& args, const std::map<std::string, std::string>& extra) const {
    std::vector<std::string> argv{avow_bin(), "-C", a.dir().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto env = a.env();
    env.insert(extra.begin(), extra.end());
    return run_process(argv, {}, env);
  }

  // `openssl ts -reply` from the TSA in `dir` to the query file `tsq`; returns the response file.
  std::string reply(const fs::path& dir, const std::string& tsq, const std::string& name) const {
    const std::string out = (a.tmp() / name).string();
    auto r = run_process({"openssl", "ts", "-reply", "-config", (dir / "ts.cnf").string(), "-queryfile", tsq, "-out", out});
    if (r.exit_code != 0) throw std::runtime_error("openssl ts -reply failed: " + r.err);
    return out;
  }

  // A request made by stock openssl over `data`, with an optional policy.
  std::string openssl_query(const std::string& data, const std::string& name, const std::string& policy = {}) const {
    const std::string in = a.file(name + ".data", data);
    const std::string out = (a.tmp() / (name + ".tsq")).string();
    std::vector<std::string> argv{"openssl", "ts", "-query", "-data", in, "-sha256", "-cert", "-out", out};
    if (!policy.empty()) argv.insert(argv.end(), {"-tspolicy", policy});
    auto r = run_process(argv);
    if (r.exit_code != 0) throw std::runtime_error("openssl ts -query failed: " + r.err);
    return out;
  }

  std::vector<nlohmann::json> problems_of(const RunResult& r, const std::string& kind) const {
    std::vector<nlohmann::json> out;
    const auto j = r.json(); // kept alive: a range-for over a member of a temporary would dangle
    for (const auto& p : j["problems"])
      if (p["kind"] == kind) out.push_back(p);
    return out;
  }
};

TEST_F(CliTimestamp, FetchStoresTokenThatAvowAndStockOpensslVerify) {
  LocalTsa tsa(tsa_dir);
  auto f = a.avow({"timestamp", "fetch", "--tsa", tsa.url(), "--tsa-cert", ca(), "--json"});
  ASSERT_EQ(f.exit_code, 0) << f.out << f.err;
  const auto j = f.json();
  EXPECT_EQ(j["tree_size"], 2);
  EXPECT_EQ(j["path"], "log/timestamps/2.tsr");
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["tsa"], "DirName:CN = avow test CA TSA");
  EXPECT_EQ(j["signer"], "CN=avow test CA TSA");
  EXPECT_EQ(j["policy"], "1.2.3.4.1");
  const std::string gen_time = j["gen_time"];
  EXPECT_LE(gen_time, utc_in(std::chrono::seconds(0)));
  EXPECT_GE(gen_time, utc_in(std::chrono::seconds(-120)));

  // Stored by a commit of its own, signed by the log key, that keeps the checkpoint and the tree-size trailer.
  const std::string token = a.git_show("log/timestamps/2.tsr");
  EXPECT_GT(token.size(), 1000u);
  auto msg = a.git({"log", "-1", "--format=%B"});
  EXPECT_EQ(msg.out, "avow: time-stamp checkpoint 2\n\nAvow-Timestamp: log/timestamps/2.tsr " + gen_time +
                         "\nAvow-Tree-Size: 2\n\n");
  auto changed = a.git({"diff", "--name-status", "main~1", "main"});
  EXPECT_EQ(changed.out, "A\tlog/timestamps/2.tsr\n");

  auto v = a.avow({"verify", "--tsa-cert", ca(), "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_EQ(v.json()["timestamps"], nlohmann::json({{"count", 1}, {"checked", true}, {"newest", gen_time}}));
  EXPECT_EQ(v.json()["notices"].size(), 0u);
  auto plain = a.avow({"verify"});
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  EXPECT_NE(plain.out.find("notice: timestamps_unchecked: 1 time-stamp token matched against the checkpoints but not "
                           "checked against a TSA certificate (give --tsa-cert FILE)\n"),
            std::string::npos)
      << plain.out;
  EXPECT_NE(plain.out.find("time-stamps: 1 token, newest " + gen_time + "\n"), std::string::npos) << plain.out;

  // Stock tools only: the body with git and sed, the check with openssl.
  const std::string body = (a.tmp() / "body").string();
  const std::string tsr = (a.tmp() / "2.tsr").string();
  auto sh = run_process({"sh", "-c",
                         "git -C '" + a.dir().string() + "' show main:log/checkpoint | sed '/^$/,$d' > '" + body +
                             "' && git -C '" + a.dir().string() + "' show main:log/timestamps/2.tsr > '" + tsr + "'"});
  ASSERT_EQ(sh.exit_code, 0) << sh.err;
  auto ossl = run_process({"openssl", "ts", "-verify", "-data", body, "-in", tsr, "-CAfile", ca(), "-untrusted",
                           (tsa_dir / "tsa.pem").string()});
  EXPECT_EQ(ossl.exit_code, 0) << ossl.out << ossl.err;
  EXPECT_NE(ossl.out.find("Verification: OK"), std::string::npos) << ossl.out << ossl.err;

  // A second token for the same checkpoint is refused, and nothing changes.
  const auto before = a.state();
  auto again = a.avow({"timestamp", "fetch", "--tsa", tsa.url()});
  EXPECT_EQ(again.exit_code, 4) << again.err;
  EXPECT_EQ(again.err, "avow: error: checkpoint 2 already has a time-stamp token (log/timestamps/2.tsr)\n");
  EXPECT_EQ(a.state(), before);

  // show and audit say when the statement existed by.
  auto show = a.avow({"show", id});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("existed by " + gen_time +
                          " (RFC 3161 token log/timestamps/2.tsr, DirName:CN = avow test CA TSA); the token was not "
                          "checked against a TSA certificate (--tsa-cert)\n"),
            std::string::npos)
      << show.out;
  auto shown = a.avow({"show", id, "--tsa-cert", ca(), "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.json()["existed_by"], nlohmann::json({{"time", gen_time},
                                                        {"token", "log/timestamps/2.tsr"},
                                                        {"tsa", "DirName:CN = avow test CA TSA"},
                                                        {"verified", true}}));
  auto audit = a.avow({"audit", "--json"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_EQ(audit.json()["timestamps"],
            nlohmann::json::array({{{"path", "log/timestamps/2.tsr"}, {"tree_size", 2}, {"existed_by", gen_time},
                                    {"tsa", "DirName:CN = avow test CA TSA"}}}));
  auto table = a.avow({"audit"});
  EXPECT_NE(table.out.find("log/timestamps/2.tsr  0..1             " + gen_time + "  DirName:CN = avow test CA TSA"),
            std::string::npos)
      << table.out;
}

TEST_F(CliTimestamp, RequestAndAttachByHandWithStockOpenssl) {
  auto q = a.avow({"timestamp", "request", "-o", (a.tmp() / "q.tsq").string(), "--json"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.json()["tree_size"], 2);
  // The request is for SHA-256 of the checkpoint body, as stock openssl reads it.
  auto text = run_process({"openssl", "ts", "-query", "-in", (a.tmp() / "q.tsq").string(), "-text"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Hash Algorithm: sha256"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Certificate required: yes"), std::string::npos) << text.out;
  const std::string note = a.git_show("log/checkpoint");
  const std::string body_file = a.file("body", note.substr(0, note.find("\n\n") + 1));
  auto digest = run_process({"sha256sum", body_file});
  EXPECT_EQ(q.json()["body_sha256"], digest.out.substr(0, 64));

  const std::string tsr = reply(tsa_dir, (a.tmp() / "q.tsq").string(), "r.tsr");
  // The archive grows before the token comes back: it still covers checkpoint 2, found in the history.
  a.archive_text("A later statement.\n");
  auto at = a.avow({"timestamp", "attach", tsr, "--tsa-cert", ca()});
  ASSERT_EQ(at.exit_code, 0) << at.out << at.err;
  EXPECT_TRUE(at.out.starts_with("time-stamped checkpoint 2: existed by ")) << at.out;
  EXPECT_EQ(a.git_show("log/timestamps/2.tsr"), read_file(tsr));
  EXPECT_EQ(a.git({"log", "-1", "--format=%B"}).out.find("Avow-Tree-Size: 3\n") != std::string::npos, true);
  auto v = a.avow({"verify", "--tsa-cert", ca()});
  EXPECT_EQ(v.exit_code, 0) << v.out;
}

TEST_F(CliTimestamp, TokenForAnotherCheckpointIsRefused) {
  const std::string tsr = reply(tsa_dir, openssl_query("not the checkpoint\n", "other"), "other.tsr");
  const auto before = a.state();
  auto r = a.avow({"timestamp", "attach", tsr});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const std::string note = a.git_show("log/checkpoint");
  const std::string body_file = a.file("body", note.substr(0, note.find("\n\n") + 1));
  const std::string body_sha = run_process({"sha256sum", body_file}).out.substr(0, 64);
  const std::string other_sha = run_process({"sha256sum", (a.tmp() / "other.data").string()}).out.substr(0, 64);
  EXPECT_EQ(r.err, "avow: error: the time-stamp token is for another checkpoint: its imprint " + other_sha +
                       " is the SHA-256 of no checkpoint body in this archive's history (the current checkpoint, size "
                       "2, has body SHA-256 " + body_sha + ")\n");
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliTimestamp, RejectedRequestIsRefusedWithTheStatus) {
  // A policy the TSA does not offer: `openssl ts -reply` answers with a rejection.
  const std::string tsr = reply(tsa_dir, openssl_query("x\n", "policy", "1.9.9.9"), "rejected.tsr");
  const auto before = a.state();
  auto r = a.avow({"timestamp", "attach", tsr});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err, "avow: error: the time-stamp authority did not grant the request: rejection: Requested policy is "
                   "not supported.; unaccepted policy\n");
  EXPECT_EQ(a.state(), before);
  auto junk = a.avow({"timestamp", "attach", a.file("junk.tsr", "not DER at all")});
  EXPECT_EQ(junk.exit_code, 3);
  EXPECT_TRUE(junk.err.starts_with("avow: error: not a DER time-stamp response: ")) << junk.err;
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliTimestamp, TokenFromAnotherCaFailsTheCertificateCheck) {
  const fs::path other = a.tmp() / "other-tsa";
  make_tsa(other, "other CA");
  auto q = a.avow({"timestamp", "request", "-o", (a.tmp() / "q.tsq").string()});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const std::string tsr = reply(other, (a.tmp() / "q.tsq").string(), "r.tsr");
  const auto before = a.state();
  auto refused = a.avow({"timestamp", "attach", tsr, "--tsa-cert", ca()});
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_TRUE(refused.err.starts_with(
      "avow: error: the time-stamp token does not verify under the given TSA certificate: "))
      << refused.err;
  EXPECT_EQ(a.state(), before);

  // Without a certificate it is stored (it covers the checkpoint); verify with the wrong CA then fails.
  auto stored = a.avow({"timestamp", "attach", tsr});
  ASSERT_EQ(stored.exit_code, 0) << stored.err;
  EXPECT_NE(stored.out.find("the token was not checked against a TSA certificate"), std::string::npos);
  auto v = a.avow({"verify", "--tsa-cert", ca(), "--json"});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  const auto found = problems_of(v, "timestamp_invalid");
  ASSERT_EQ(found.size(), 1u) << v.out;
  EXPECT_EQ(found[0]["path"], "log/timestamps/2.tsr");
  EXPECT_EQ(v.json()["problems"].size(), 1u) << v.out;
  auto ok = a.avow({"verify", "--tsa-cert", (other / "ca.pem").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  auto bad_cert = a.avow({"verify", "--tsa-cert", a.file("empty.pem", "no certificate here\n")});
  EXPECT_EQ(bad_cert.exit_code, 1) << bad_cert.out;
  EXPECT_NE(bad_cert.out.find("the TSA certificate file holds no PEM certificate"), std::string::npos) << bad_cert.out;
}

TEST_F(CliTimestamp, UnreachableOrFailingTsaExitsSix) {
  const int port = closed_port();
  const auto before = a.state();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto r = a.avow({"timestamp", "fetch", "--tsa", url});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_TRUE(r.err.starts_with("avow: error: POST " + url + ": Failed to connect to 127.0.0.1 port " +
                                std::to_string(port)))
      << r.err;
  EXPECT_NE(r.err.find("Couldn't connect to server"), std::string::npos) << r.err;
  EXPECT_EQ(a.state(), before);

  LocalTsa tsa(tsa_dir);
  auto http = a.avow({"timestamp", "fetch", "--tsa", tsa.url() + "error"});
  EXPECT_EQ(http.exit_code, 6) << http.err;
  EXPECT_EQ(http.err, "avow: error: POST " + tsa.url() + "error: HTTP 500\n");
  auto redirect = a.avow({"timestamp", "fetch", "--tsa", tsa.url() + "redirect"});
  EXPECT_EQ(redirect.exit_code, 6) << redirect.err;
  EXPECT_EQ(redirect.err, "avow: error: POST " + tsa.url() +
                              "redirect: HTTP 302 (a redirect; avow does not follow redirects: give the final URL)\n");
  auto big = a.avow({"timestamp", "fetch", "--tsa", tsa.url() + "big"});
  EXPECT_EQ(big.exit_code, 6) << big.err;
  EXPECT_EQ(big.err, "avow: error: POST " + tsa.url() + "big: the reply is over 65536 bytes\n");
  auto scheme = a.avow({"timestamp", "fetch", "--tsa", "file:///etc/passwd"});
  EXPECT_EQ(scheme.exit_code, 3) << scheme.err;
  EXPECT_EQ(scheme.err, "avow: error: URL 'file:///etc/passwd' is not http:// or https://\n");
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliTimestamp, TamperedTokensAreReported) {
  LocalTsa tsa(tsa_dir);
  ASSERT_EQ(a.avow({"timestamp", "fetch", "--tsa", tsa.url()}).exit_code, 0);
  // A token over other data in place of the real one: the imprint no longer matches, even without a certificate.
  const std::string other = reply(tsa_dir, openssl_query("other\n", "other"), "other.tsr");
  a.git_replace("log/timestamps/2.tsr", read_file(other), "tamper: swap the token");
  auto v = a.avow({"verify", "--json"});
  EXPECT_EQ(v.exit_code, 1);
  auto mismatch = problems_of(v, "timestamp_mismatch");
  ASSERT_EQ(mismatch.size(), 1u) << v.out;
  EXPECT_EQ(mismatch[0]["path"], "log/timestamps/2.tsr");
  EXPECT_NE(mismatch[0]["message"].get<std::string>().find("does not cover checkpoint 2"), std::string::npos);
}

TEST_F(CliTimestamp, FlippedTokenByteFailsTheCertificateCheck) {
  LocalTsa tsa(tsa_dir);
  ASSERT_EQ(a.avow({"timestamp", "fetch", "--tsa", tsa.url()}).exit_code, 0);
  a.git_flip_byte("log/timestamps/2.tsr", -3); // inside the signature value
  auto v = a.avow({"verify", "--tsa-cert", ca(), "--json"});
  EXPECT_EQ(v.exit_code, 1);
  auto invalid = problems_of(v, "timestamp_invalid");
  ASSERT_EQ(invalid.size(), 1u) << v.out;
  EXPECT_EQ(invalid[0]["path"], "log/timestamps/2.tsr");
  // A fake token planted at a size no checkpoint had.
  a.git_replace("log/timestamps/9.tsr", a.git_show("log/timestamps/2.tsr"));
  auto w = a.avow({"verify", "--json"});
  auto planted = problems_of(w, "timestamp_mismatch");
  ASSERT_EQ(planted.size(), 1u) << w.out;
  EXPECT_EQ(planted[0]["path"], "log/timestamps/9.tsr");
}

TEST_F(CliTimestamp, CaptureLaterThanItsTokenIsReported) {
  // A statement recorded by a writer whose clock runs a day ahead, then time-stamped by the TSA at the real time.
  const std::string future = utc_in(std::chrono::hours(24));
  const std::string file = a.file("late.txt", "Captured with a clock a day ahead.\n");
  auto w = avow_env({"archive", file, "--source", "https://example.org/late"}, {{"AVOW_TEST_NOW", future}});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  LocalTsa tsa(tsa_dir);
  auto f = a.avow({"timestamp", "fetch", "--tsa", tsa.url(), "--json"});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  const std::string gen_time = f.json()["gen_time"];
  auto v = a.avow({"verify", "--json"});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  auto late = problems_of(v, "captured_after_timestamp");
  ASSERT_EQ(late.size(), 1u) << v.out;
  EXPECT_EQ(late[0]["entry"], 2);
  EXPECT_EQ(late[0]["message"], "entry 2 says it was captured at " + future + ", but token 'log/timestamps/3.tsr' "
                                "shows its checkpoint existed by " + gen_time + " (more than 10 minutes earlier)");
  EXPECT_EQ(v.json()["problems"].size(), 1u) << v.out;
}

TEST_F(CliTimestamp, LocalClockFarInThePastIsRefused) {
  LocalTsa tsa(tsa_dir);
  auto f = a.avow({"timestamp", "fetch", "--tsa", tsa.url(), "--json"});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  const auto before = a.state();
  const std::string past = "2001-01-01T00:00:00Z";
  const std::string file = a.file("s.txt", "Written with a stopped clock.\n");
  auto w = avow_env({"archive", file, "--source", "https://example.org/past"}, {{"AVOW_TEST_NOW", past}});
  EXPECT_EQ(w.exit_code, 4) << w.err;
  EXPECT_TRUE(w.err.starts_with("avow: error: the local clock (2001-01-01T00:00:00Z) is more than 10 minutes before "
                                "the archive's newest time ("))
      << w.err;
  EXPECT_EQ(a.state(), before);
  // Attach too (a request from before, answered now).
  auto q = a.avow({"timestamp", "request", "-o", (a.tmp() / "q.tsq").string()});
  ASSERT_EQ(q.exit_code, 0);
  const std::string tsr = reply(tsa_dir, (a.tmp() / "q.tsq").string(), "r.tsr");
  auto at = avow_env({"timestamp", "attach", tsr}, {{"AVOW_TEST_NOW", past}});
  EXPECT_EQ(at.exit_code, 4) << at.err;
  EXPECT_EQ(a.state(), before);
  // A token more than 10 minutes ahead of the local clock is refused as such.
  const std::string behind = utc_in(std::chrono::minutes(-15));
  auto ahead = avow_env({"timestamp", "attach", tsr}, {{"AVOW_TEST_NOW", behind}});
  EXPECT_EQ(ahead.exit_code, 4) << ahead.err;
  EXPECT_NE(ahead.err.find(" minutes after the local clock (" + behind + "); fix the clock"), std::string::npos)
      << ahead.err;
  EXPECT_EQ(a.state(), before);
  // Within the tolerance, a write goes through.
  auto ok = avow_env({"archive", file, "--source", "https://example.org/past"},
                     {{"AVOW_TEST_NOW", utc_in(std::chrono::minutes(-5))}});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

} // namespace
} // namespace avow::test
