// The SSH agent client: message framing byte for byte, fingerprints as OpenSSH prints them, and replies from a
// hostile agent (truncated, oversized, lying about lengths, silent, or returning a signature that does not verify),
// each refused with a key error. The honest path against the real ssh-agent is in tests/e2e/cli_custody_test.cpp.

#include <archive/crypto/ssh_agent.hpp>

#include <archive/crypto/ed25519.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace avow::crypto {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Bytes bytes(std::initializer_list<int> v) {
  Bytes out;
  for (int b : v) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}
void u32(Bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void str(Bytes& out, std::string_view s) {
  u32(out, static_cast<std::uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}
void str(Bytes& out, ByteView s) {
  u32(out, static_cast<std::uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

PrivateKey rfc8032_key() {
  auto k = PrivateKey::from_seed(*from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  EXPECT_TRUE(k);
  return std::move(*k);
}

Bytes identities_body(const std::vector<std::pair<Bytes, std::string>>& keys) {
  Bytes b{agent_wire::k_identities_answer};
  u32(b, static_cast<std::uint32_t>(keys.size()));
  for (const auto& [blob, comment] : keys) {
    str(b, ByteView(blob));
    str(b, std::string_view(comment));
  }
  return b;
}

Bytes sign_body(std::string_view type, ByteView sig) {
  Bytes inner;
  str(inner, type);
  str(inner, sig);
  Bytes b{agent_wire::k_sign_response};
  str(b, ByteView(inner));
  return b;
}

TEST(AgentWire, RequestsAreFramedAsTheDraftSays) {
  EXPECT_EQ(agent_wire::request_identities(), bytes({0, 0, 0, 1, 11}));
  const Bytes req = agent_wire::sign_request(bytes({0xAA, 0xBB}), bytes({'h', 'i', '!'}), 0);
  EXPECT_EQ(req, bytes({0, 0, 0, 18, 13, 0, 0, 0, 2, 0xAA, 0xBB, 0, 0, 0, 3, 'h', 'i', '!', 0, 0, 0, 0}));
}

TEST(AgentWire, Ed25519BlobAndFingerprintMatchOpenssh) {
  const auto key = rfc8032_key();
  const Bytes blob = ssh_ed25519_blob(key.public_key());
  ASSERT_EQ(blob.size(), 4 + 11 + 4 + 32u);
  EXPECT_EQ(to_string(ByteView(blob).subspan(4, 11)), "ssh-ed25519");
  // Stock ssh-keygen fingerprints the same key the same way.
  char tmpl[] = "/tmp/avow-agent-fp-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path pub = fs::path(tmpl) / "k.pub";
  {
    std::FILE* f = std::fopen(pub.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f, "ssh-ed25519 %s test\n", base64_encode(blob).c_str());
    std::fclose(f);
  }
  const std::string cmd = "ssh-keygen -lf '" + pub.string() + "' 2>/dev/null";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char line[512] = {};
  const bool got = std::fgets(line, sizeof line, p) != nullptr;
  const int rc = ::pclose(p);
  fs::remove_all(tmpl);
  if (!got || rc != 0) GTEST_SKIP() << "ssh-keygen is not installed";
  EXPECT_EQ("256 " + ssh_fingerprint(blob) + " test (ED25519)\n", std::string(line));
}

TEST(AgentWire, SpecsAreCheckedStrictly) {
  const std::string fp = "SHA256:" + std::string(43, 'x');
  EXPECT_EQ(*parse_agent_spec("ssh-agent:" + fp), fp);
  EXPECT_TRUE(is_agent_spec("ssh-agent:"));
  EXPECT_FALSE(is_agent_spec("./ssh-agent:" + fp));
  for (const std::string& bad : {std::string("ssh-agent:"), "ssh-agent:" + fp + "=", "ssh-agent:" + fp.substr(0, 49),
                                "ssh-agent:sha256:" + std::string(43, 'x'), "ssh-agent:MD5:" + std::string(43, 'x'),
                                "ssh-agent:SHA256:" + std::string(42, 'x') + "-", "ssh-agent: " + fp}) {
    auto r = parse_agent_spec(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::key);
  }
}

TEST(AgentWire, IdentitiesAnswerIsParsedWithTypes) {
  const auto key = rfc8032_key();
  Bytes rsa;
  str(rsa, std::string_view("ssh-rsa"));
  str(rsa, std::string_view("\x01\x00\x01"));
  const auto ids = agent_wire::parse_identities_answer(
      identities_body({{ssh_ed25519_blob(key.public_key()), "alice@laptop"}, {rsa, ""}}));
  ASSERT_TRUE(ids) << ids.error().message;
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[0].type, "ssh-ed25519");
  EXPECT_EQ((*ids)[0].comment, "alice@laptop");
  EXPECT_EQ((*ids)[0].fingerprint, ssh_fingerprint(ssh_ed25519_blob(key.public_key())));
  EXPECT_EQ((*ids)[1].type, "ssh-rsa");
  const auto none = agent_wire::parse_identities_answer(identities_body({}));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(AgentWire, HostileIdentitiesAnswersAreRefused) {
  const auto key = rfc8032_key();
  const Bytes good = identities_body({{ssh_ed25519_blob(key.public_key()), "c"}});
  const auto refused = [](const Bytes& body, const std::string& why) -> std::string {
    auto r = agent_wire::parse_identities_answer(body);
    EXPECT_FALSE(r) << why;
    if (r) return {};
    EXPECT_EQ(r.error().code, ErrorCode::key) << why;
    return r.error().message;
  };
  // Every truncation of a good answer.
  for (std::size_t n = 0; n < good.size(); ++n) refused(Bytes(good.begin(), good.begin() + n), "cut at " + std::to_string(n));
  // Trailing bytes.
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(refused(trailing, "trailing"), "malformed reply from ssh-agent: trailing bytes after the key list");
  // A count the message cannot hold (no allocation of 4 billion entries).
  Bytes huge{agent_wire::k_identities_answer};
  u32(huge, 0xFFFFFFFF);
  EXPECT_EQ(refused(huge, "huge count"), "malformed reply from ssh-agent: it claims 4294967295 keys in a 5-byte message");
  // A string length past the end.
  Bytes lying{agent_wire::k_identities_answer};
  u32(lying, 1);
  u32(lying, 0x7FFFFFFF);
  u32(lying, 0);
  EXPECT_EQ(refused(lying, "long string"), "malformed reply from ssh-agent: key 0 is truncated");
  // Failure, and another message type.
  EXPECT_EQ(refused(bytes({5}), "failure"), "ssh-agent refused to list its keys");
  EXPECT_EQ(refused(bytes({14, 0, 0, 0, 0}), "wrong type"),
            "malformed reply from ssh-agent: message type 14 where 12 was expected");
  EXPECT_EQ(refused(Bytes{}, "empty"), "malformed reply from ssh-agent: empty message");
}

TEST(AgentWire, SignResponsesAreParsedStrictly) {
  const Bytes sig(64, 0x42);
  auto ok = agent_wire::parse_sign_response(sign_body("ssh-ed25519", sig));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(Bytes(ok->begin(), ok->end()), sig);
  const auto refused = [](const Bytes& body) {
    auto r = agent_wire::parse_sign_response(body);
    EXPECT_FALSE(r);
    return r ? std::string() : r.error().message;
  };
  const Bytes good = sign_body("ssh-ed25519", sig);
  for (std::size_t n = 0; n < good.size(); ++n) EXPECT_NE(refused(Bytes(good.begin(), good.begin() + n)), "") << n;
  EXPECT_EQ(refused(sign_body("rsa-sha2-512", sig)), "malformed reply from ssh-agent: signature is rsa-sha2-512, not ssh-ed25519");
  EXPECT_EQ(refused(sign_body("ssh-ed25519", Bytes(63, 1))), "malformed reply from ssh-agent: ed25519 signature is 63 bytes, not 64");
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(refused(trailing), "malformed reply from ssh-agent: signature is truncated or has trailing bytes");
  EXPECT_EQ(refused(bytes({5})), "ssh-agent refused to sign");
}

// A fake agent on a UNIX socket, for the replies a real agent never sends: it answers each request with `reply(n)`
// (n = 0, 1, ... per request), or stays silent when that returns nullopt.
class FakeAgent {
public:
  explicit FakeAgent(std::function<std::optional<Bytes>(int)> reply) : m_reply(std::move(reply)) {
    char tmpl[] = "/tmp/avow-fake-agent-XXXXXX";
    EXPECT_NE(::mkdtemp(tmpl), nullptr);
    m_dir = tmpl;
    m_path = (m_dir / "sock").string();
    m_listen = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", m_path.c_str());
    EXPECT_EQ(::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(m_listen, 4), 0);
    m_thread = std::thread([this] { serve(); });
  }
  ~FakeAgent() {
    ::shutdown(m_listen, SHUT_RDWR);
    if (m_client >= 0) ::shutdown(m_client, SHUT_RDWR);
    m_thread.join();
    ::close(m_listen);
    fs::remove_all(m_dir);
  }
  const std::string& path() const { return m_path; }

private:
  void serve() {
    m_client = ::accept(m_listen, nullptr, nullptr);
    if (m_client < 0) return;
    for (int n = 0;; ++n) {
      std::uint8_t len[4];
      if (::recv(m_client, len, 4, MSG_WAITALL) != 4) break;
      Bytes body((std::size_t{len[0]} << 24) | (len[1] << 16) | (len[2] << 8) | len[3]);
      if (::recv(m_client, body.data(), body.size(), MSG_WAITALL) != static_cast<ssize_t>(body.size())) break;
      auto reply = m_reply(n);
      if (!reply) continue; // silent: the client must time out, not hang
      ::send(m_client, reply->data(), reply->size(), MSG_NOSIGNAL);
    }
    ::close(m_client);
  }
  std::function<std::optional<Bytes>(int)> m_reply;
  fs::path m_dir;
  std::string m_path;
  int m_listen = -1;
  std::atomic<int> m_client{-1};
  std::thread m_thread;
};

Bytes framed(const Bytes& body) {
  Bytes out;
  u32(out, static_cast<std::uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

TEST(AgentClient, SignatureThatDoesNotVerifyIsRefused) {
  const auto key = rfc8032_key();
  const Bytes blob = ssh_ed25519_blob(key.public_key());
  FakeAgent agent([&](int n) -> std::optional<Bytes> {
    if (n == 0) return framed(identities_body({{blob, "k"}}));
    return framed(sign_body("ssh-ed25519", Bytes(64, 0))); // a well-formed signature that is wrong
  });
  auto signer = AgentSigner::open("ssh-agent:" + ssh_fingerprint(blob), agent.path());
  ASSERT_TRUE(signer) << signer.error().message;
  EXPECT_EQ((*signer)->public_key(), key.public_key());
  auto sig = (*signer)->sign(as_bytes("message"));
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().code, ErrorCode::key);
  EXPECT_EQ(sig.error().message,
            "ssh-agent returned a signature that does not verify under key " + ssh_fingerprint(blob));
}

TEST(AgentClient, RefusalToSignIsNamed) {
  const auto key = rfc8032_key();
  const Bytes blob = ssh_ed25519_blob(key.public_key());
  FakeAgent agent([&](int n) -> std::optional<Bytes> {
    if (n == 0) return framed(identities_body({{blob, "k"}}));
    return framed(bytes({agent_wire::k_failure})); // a declined confirmation (ssh-add -c) or a locked agent
  });
  auto signer = AgentSigner::open("ssh-agent:" + ssh_fingerprint(blob), agent.path());
  ASSERT_TRUE(signer) << signer.error().message;
  auto sig = (*signer)->sign(as_bytes("message"));
  ASSERT_FALSE(sig);
  EXPECT_EQ(sig.error().code, ErrorCode::key);
  EXPECT_EQ(sig.error().message, "ssh-agent refused to sign with key " + ssh_fingerprint(blob) +
                                     " (locked agent, or a confirmation declined?)");
}

TEST(AgentClient, HonestSignatureIsReturned) {
  const auto key = rfc8032_key();
  const Bytes blob = ssh_ed25519_blob(key.public_key());
  FakeAgent agent([&](int n) -> std::optional<Bytes> {
    if (n == 0) return framed(identities_body({{blob, "k"}}));
    auto s = key.sign(as_bytes("message"));
    return framed(sign_body("ssh-ed25519", ByteView(*s)));
  });
  auto signer = AgentSigner::open("ssh-agent:" + ssh_fingerprint(blob), agent.path());
  ASSERT_TRUE(signer) << signer.error().message;
  auto sig = (*signer)->sign(as_bytes("message"));
  ASSERT_TRUE(sig) << sig.error().message;
  EXPECT_TRUE(verify(key.public_key(), as_bytes("message"), *sig));
}

TEST(AgentClient, OversizedAndSilentRepliesAreRefused) {
  {
    FakeAgent agent([](int) -> std::optional<Bytes> { return bytes({0x7F, 0xFF, 0xFF, 0xFF, 12}); });
    auto conn = AgentConnection::connect(agent.path(), 1s);
    ASSERT_TRUE(conn) << conn.error().message;
    auto ids = conn->identities();
    ASSERT_FALSE(ids);
    EXPECT_EQ(ids.error().message, "malformed reply from ssh-agent: message of 2147483647 bytes (limit 262144)");
  }
  {
    FakeAgent agent([](int) -> std::optional<Bytes> { return std::nullopt; });
    auto conn = AgentConnection::connect(agent.path(), 1s);
    ASSERT_TRUE(conn) << conn.error().message;
    const auto start = std::chrono::steady_clock::now();
    auto reply = conn->round_trip(agent_wire::request_identities(), 300ms);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error().code, ErrorCode::key);
    EXPECT_EQ(reply.error().message, "ssh-agent did not answer in time (reading)");
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 5s);
  }
  {
    // A reply cut short by a closed connection.
    FakeAgent agent([](int) -> std::optional<Bytes> { return bytes({0, 0, 0, 9, 12, 0}); });
    auto conn = AgentConnection::connect(agent.path(), 1s);
    ASSERT_TRUE(conn);
    auto ids = conn->round_trip(agent_wire::request_identities(), 300ms);
    ASSERT_FALSE(ids);
  }
}

TEST(AgentClient, WrongTypeAndMissingKeyAreNamed) {
  const auto key = rfc8032_key();
  Bytes sk;
  str(sk, std::string_view("sk-ssh-ed25519@openssh.com"));
  str(sk, ByteView(key.public_key()));
  str(sk, std::string_view("ssh:"));
  FakeAgent agent([&](int) -> std::optional<Bytes> { return framed(identities_body({{sk, "token"}})); });
  auto signer = AgentSigner::open("ssh-agent:" + ssh_fingerprint(sk), agent.path());
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().message, "ssh-agent key " + ssh_fingerprint(sk) +
                                        " is sk-ssh-ed25519@openssh.com, not ssh-ed25519: avow signs with Ed25519 keys "
                                        "only");
}

} // namespace
} // namespace avow::crypto
