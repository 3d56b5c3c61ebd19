#include <archive/crypto/ssh_agent.hpp>

#include <archive/crypto/ed25519.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/crypto/ssh_wire.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>

namespace avow::crypto {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view k_ed25519_type = ssh_wire::k_ed25519_type;
// 32 bytes of SHA-256 are 43 characters of unpadded base64.
constexpr std::size_t k_fingerprint_chars = 43;

std::string errno_text(int e) {
  std::string s = std::strerror(e);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

using ssh_wire::put_string;
using ssh_wire::put_u32;

std::uint32_t get_u32_at(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

// Frame `body` (type byte and contents) with its uint32 length.
Bytes frame(const Bytes& body) {
  Bytes out;
  out.reserve(4 + body.size());
  put_u32(out, static_cast<std::uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// A bounds-checked reader over an agent reply: every length is checked against the bytes that are left.
class Reader {
public:
  explicit Reader(ByteView data) : m_data(data) {}
  bool u32(std::uint32_t& v) {
    if (m_data.size() - m_pos < 4) return false;
    v = get_u32_at(m_data.data() + m_pos);
    m_pos += 4;
    return true;
  }
  bool string(ByteView& v) {
    std::uint32_t n = 0;
    if (!u32(n) || n > m_data.size() - m_pos) return false;
    v = m_data.subspan(m_pos, n);
    m_pos += n;
    return true;
  }
  bool done() const { return m_pos == m_data.size(); }
  std::size_t left() const { return m_data.size() - m_pos; }

private:
  ByteView m_data;
  std::size_t m_pos = 0;
};

bool is_failure(std::uint8_t type) {
  // SSH_AGENT_FAILURE, and the two legacy failure codes OpenSSH's client also treats as failure.
  return type == agent_wire::k_failure || type == 30 || type == 102;
}

Expected<void> expect_type(ByteView body, std::uint8_t want, std::string_view what) {
  if (body.empty()) return fail(ErrorCode::key, "malformed reply from ssh-agent: empty message");
  if (is_failure(body[0])) return fail(ErrorCode::key, "ssh-agent refused {}", what);
  if (body[0] != want)
    return fail(ErrorCode::key, "malformed reply from ssh-agent: message type {} where {} was expected", body[0], want);
  return {};
}

// Printable form of an untrusted key type name for messages (at most 64 characters, printable ASCII).
std::string printable(ByteView s) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < 64; ++i)
    out += (s[i] >= 0x21 && s[i] < 0x7f) ? static_cast<char>(s[i]) : '?';
  if (s.size() > 64) out += "...";
  return out.empty() ? std::string("(empty)") : out;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// Wait until `fd` is ready for `events` or the deadline passes.
Expected<void> wait_for(int fd, short events, Clock::time_point deadline, std::string_view what) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return fail(ErrorCode::key, "ssh-agent did not answer in time ({})", what);
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (rc < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::key, "cannot talk to ssh-agent: {}", errno_text(errno));
    }
    if (rc > 0) return {};
  }
}

} // namespace

// ---- specs and fingerprints -----------------------------------------------------------------

bool is_agent_spec(std::string_view spec) { return spec.starts_with(k_agent_spec_prefix); }

Expected<std::string> parse_agent_spec(std::string_view spec) {
  const auto bad = [&] {
    return fail(ErrorCode::key, "invalid key spec '{}': want ssh-agent:SHA256:<fingerprint> as ssh-add -l prints it",
                printable(as_bytes(spec)));
  };
  if (!is_agent_spec(spec)) return bad();
  const std::string_view fp = spec.substr(k_agent_spec_prefix.size());
  if (!fp.starts_with("SHA256:")) return bad();
  const std::string_view b64 = fp.substr(7);
  if (b64.size() != k_fingerprint_chars) return bad();
  for (char c : b64)
    if (!is_base64_char(c)) return bad();
  return std::string(fp);
}

std::string ssh_fingerprint(ByteView key_blob) {
  std::string b64 = base64_encode(sha256(key_blob));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

Bytes ssh_ed25519_blob(const PublicKey& key) { return ssh_wire::ed25519_key_blob(key); }

// ---- framing --------------------------------------------------------------------------------

namespace agent_wire {

Bytes request_identities() { return frame(Bytes{k_request_identities}); }

Bytes sign_request(ByteView key_blob, ByteView data, std::uint32_t flags) {
  Bytes body{k_sign_request};
  put_string(body, key_blob);
  put_string(body, data);
  put_u32(body, flags);
  return frame(body);
}

Expected<std::vector<AgentIdentity>> parse_identities_answer(ByteView body) {
  if (auto ok = expect_type(body, k_identities_answer, "to list its keys"); !ok) return std::unexpected(ok.error());
  Reader r(body.subspan(1));
  const auto bad = [](std::string_view why) { return fail(ErrorCode::key, "malformed reply from ssh-agent: {}", why); };
  std::uint32_t n = 0;
  if (!r.u32(n)) return bad("key list is truncated");
  // Each key takes at least 8 bytes (two string lengths): a count the message cannot hold is refused up front.
  if (n > k_agent_max_identities || n > r.left() / 8)
    return bad(fmt::format("it claims {} keys in a {}-byte message", n, body.size()));
  std::vector<AgentIdentity> out;
  out.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    ByteView blob, comment;
    if (!r.string(blob) || !r.string(comment)) return bad(fmt::format("key {} is truncated", i));
    AgentIdentity id;
    id.blob.assign(blob.begin(), blob.end());
    id.comment = to_string(comment);
    Reader kr(blob);
    ByteView type;
    id.type = kr.string(type) ? printable(type) : std::string("(malformed)");
    id.fingerprint = ssh_fingerprint(blob);
    out.push_back(std::move(id));
  }
  if (!r.done()) return bad("trailing bytes after the key list");
  return out;
}

Expected<Signature> parse_sign_response(ByteView body) {
  if (auto ok = expect_type(body, k_sign_response, "to sign"); !ok) return std::unexpected(ok.error());
  const auto bad = [](std::string_view why) { return fail(ErrorCode::key, "malformed reply from ssh-agent: {}", why); };
  Reader r(body.subspan(1));
  ByteView sig_blob;
  if (!r.string(sig_blob) || !r.done()) return bad("signature is truncated or has trailing bytes");
  Reader sr(sig_blob);
  ByteView type, raw;
  if (!sr.string(type) || !sr.string(raw) || !sr.done()) return bad("signature blob is malformed");
  if (to_string(type) != k_ed25519_type)
    return bad(fmt::format("signature is {}, not {}", printable(type), k_ed25519_type));
  Signature sig{};
  if (raw.size() != sig.size()) return bad(fmt::format("ed25519 signature is {} bytes, not 64", raw.size()));
  std::copy(raw.begin(), raw.end(), sig.begin());
  return sig;
}

} // namespace agent_wire

// ---- connection -----------------------------------------------------------------------------

Expected<AgentConnection> AgentConnection::connect(const std::string& socket_path, std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path)
    return fail(ErrorCode::key, "no ssh-agent at '{}' (SSH_AUTH_SOCK): not a usable socket path", socket_path);
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(ErrorCode::key, "cannot open a socket for ssh-agent: {}", errno_text(errno));
  AgentConnection c(fd, socket_path);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN)
      return fail(ErrorCode::key, "no ssh-agent at '{}' (SSH_AUTH_SOCK): {}", socket_path, errno_text(errno));
    if (auto ok = wait_for(fd, POLLOUT, Clock::now() + timeout, "connect"); !ok) return std::unexpected(ok.error());
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
      return fail(ErrorCode::key, "no ssh-agent at '{}' (SSH_AUTH_SOCK): {}", socket_path, errno_text(err ? err : errno));
  }
  return c;
}

AgentConnection::AgentConnection(AgentConnection&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_path(std::move(other.m_path)) {}

AgentConnection& AgentConnection::operator=(AgentConnection&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
    m_path = std::move(other.m_path);
  }
  return *this;
}

AgentConnection::~AgentConnection() {
  if (m_fd >= 0) ::close(m_fd);
}

Expected<Bytes> AgentConnection::round_trip(ByteView request, std::chrono::milliseconds timeout) {
  if (m_fd < 0) return fail(ErrorCode::internal, "ssh-agent connection was moved from");
  const auto deadline = Clock::now() + timeout;
  std::size_t sent = 0;
  while (sent < request.size()) {
    if (auto ok = wait_for(m_fd, POLLOUT, deadline, "sending"); !ok) return std::unexpected(ok.error());
    const ssize_t n = ::send(m_fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return fail(ErrorCode::key, "cannot talk to ssh-agent at '{}': {}", m_path, errno_text(errno));
    }
    sent += static_cast<std::size_t>(n);
  }
  // Read exactly `want` bytes into `out` from offset `have`.
  const auto read_exact = [&](std::uint8_t* out, std::size_t want) -> Expected<void> {
    std::size_t have = 0;
    while (have < want) {
      if (auto ok = wait_for(m_fd, POLLIN, deadline, "reading"); !ok) return std::unexpected(ok.error());
      const ssize_t n = ::recv(m_fd, out + have, want - have, 0);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        return fail(ErrorCode::key, "cannot talk to ssh-agent at '{}': {}", m_path, errno_text(errno));
      }
      if (n == 0) return fail(ErrorCode::key, "ssh-agent at '{}' closed the connection mid-reply", m_path);
      have += static_cast<std::size_t>(n);
    }
    return {};
  };
  std::uint8_t len_bytes[4];
  if (auto ok = read_exact(len_bytes, 4); !ok) return std::unexpected(ok.error());
  const std::uint32_t len = get_u32_at(len_bytes);
  if (len == 0 || len > k_agent_max_message)
    return fail(ErrorCode::key, "malformed reply from ssh-agent: message of {} bytes (limit {})", len,
                k_agent_max_message);
  Bytes body(len);
  if (auto ok = read_exact(body.data(), len); !ok) return std::unexpected(ok.error());
  return body;
}

Expected<std::vector<AgentIdentity>> AgentConnection::identities() {
  auto reply = round_trip(agent_wire::request_identities(), k_agent_request_timeout);
  if (!reply) return std::unexpected(reply.error());
  return agent_wire::parse_identities_answer(*reply);
}

Expected<Signature> AgentConnection::sign(ByteView key_blob, ByteView data) {
  const Bytes request = agent_wire::sign_request(key_blob, data, 0);
  if (request.size() > k_agent_max_message)
    return fail(ErrorCode::key, "cannot sign with ssh-agent: the message is {} bytes, over the agent's limit of {}",
                data.size(), k_agent_max_message);
  auto reply = round_trip(request, k_agent_sign_timeout);
  if (!reply) return std::unexpected(reply.error());
  return agent_wire::parse_sign_response(*reply);
}

// ---- signer ---------------------------------------------------------------------------------

Expected<std::unique_ptr<AgentSigner>> AgentSigner::open(std::string_view spec) {
  auto fp = parse_agent_spec(spec);
  if (!fp) return std::unexpected(fp.error());
  const char* sock = std::getenv("SSH_AUTH_SOCK");
  if (sock == nullptr || *sock == '\0') return fail(ErrorCode::key, "no ssh-agent: SSH_AUTH_SOCK is not set");
  return open(spec, sock);
}

Expected<std::unique_ptr<AgentSigner>> AgentSigner::open(std::string_view spec, const std::string& socket_path) {
  auto fp = parse_agent_spec(spec);
  if (!fp) return std::unexpected(fp.error());
  auto conn = AgentConnection::connect(socket_path, k_agent_request_timeout);
  if (!conn) return std::unexpected(conn.error());
  auto ids = conn->identities();
  if (!ids) return std::unexpected(ids.error());
  const auto it = std::find_if(ids->begin(), ids->end(), [&](const AgentIdentity& id) { return id.fingerprint == *fp; });
  if (it == ids->end())
    return fail(ErrorCode::key, "ssh-agent at '{}' holds no key {} (ssh-add -l lists the keys it holds)", socket_path,
                *fp);
  // Only a plain ssh-ed25519 key signs exactly as a key file would. A FIDO key (sk-ssh-ed25519@openssh.com) signs
  // a digest with flags and a counter, which no Ed25519 verifier of a DSSE envelope would accept.
  if (it->type != k_ed25519_type)
    return fail(ErrorCode::key, "ssh-agent key {} is {}, not ssh-ed25519: avow signs with Ed25519 keys only", *fp,
                it->type);
  Reader r(it->blob);
  ByteView type, raw;
  PublicKey pk{};
  if (!r.string(type) || !r.string(raw) || !r.done() || raw.size() != pk.size())
    return fail(ErrorCode::key, "malformed reply from ssh-agent: key {} is not a valid ssh-ed25519 key blob", *fp);
  std::copy(raw.begin(), raw.end(), pk.begin());
  return std::unique_ptr<AgentSigner>(new AgentSigner(std::move(*conn), pk, *fp));
}

Expected<Signature> AgentSigner::sign(ByteView message) const {
  const Bytes blob = ssh_ed25519_blob(m_public);
  Expected<Signature> sig = [&] {
    const std::lock_guard lock(m_mutex);
    return m_connection.sign(blob, message);
  }();
  if (!sig) {
    if (sig.error().message == "ssh-agent refused to sign")
      return fail(ErrorCode::key, "ssh-agent refused to sign with key {} (locked agent, or a confirmation declined?)",
                  m_fingerprint);
    return sig;
  }
  // The agent is outside avow: take nothing it says on trust.
  if (!crypto::verify(m_public, message, *sig))
    return fail(ErrorCode::key, "ssh-agent returned a signature that does not verify under key {}", m_fingerprint);
  return sig;
}

} // namespace avow::crypto
