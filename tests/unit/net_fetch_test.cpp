// net::fetch against a throw-away HTTP(S) server on 127.0.0.1 (tests/support/fetch_server.py): every hop kept byte for
// byte, redirect loops and limits, timeouts, 4xx returned as results, raw chunked bodies, and TLS with a self-signed
// certificate made by stock `openssl req` (refused without --cacert, accepted with it).

#include <archive/net/fetch.hpp>

#include <archive/warc/warc.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace avow::net {
namespace {

namespace fs = std::filesystem;

const std::string k_support = std::string(AVOW_SOURCE_DIR) + "/tests/support";

class Server {
public:
  explicit Server(const fs::path& dir, const std::string& tls_args = "") {
    const fs::path port_file = dir / "port";
    const std::string cmd = "exec python3 '" + k_support + "/fetch_server.py' '" + port_file.string() + "' " +
                            tls_args + " >/dev/null 2>&1";
    m_pipe = ::popen(cmd.c_str(), "w");
    if (!m_pipe) throw std::runtime_error("cannot start fetch_server.py");
    for (int i = 0; i < 200 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(port_file)) throw std::runtime_error("fetch_server.py did not start");
    m_port = test::read_file(port_file);
  }
  ~Server() {
    if (m_pipe) ::pclose(m_pipe);
  }
  std::string url(const std::string& scheme, const std::string& path) const {
    return scheme + "://127.0.0.1:" + m_port + path;
  }

private:
  FILE* m_pipe = nullptr;
  std::string m_port;
};

class NetFetch : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    s_dir = new test::TempDir();
    s_server = new Server(s_dir->path());
  }
  static void TearDownTestSuite() {
    delete s_server;
    delete s_dir;
  }
  static std::string url(const std::string& path) { return s_server->url("http", path); }
  static FetchOptions options() {
    FetchOptions o;
    o.user_agent = "avow/test";
    o.timeout = std::chrono::seconds(20);
    return o;
  }
  static std::string error_of(const Expected<FetchResult>& r) { return r ? "(no error)" : r.error().message; }
  static inline test::TempDir* s_dir = nullptr;
  static inline Server* s_server = nullptr;
};

TEST_F(NetFetch, KeepsTheRequestAndResponseAsOnTheWire) {
  auto r = fetch(url("/page"), options());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->hops.size(), 1U);
  const auto& h = r->final_hop();
  EXPECT_EQ(h.url, url("/page"));
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.ip, "127.0.0.1");
  EXPECT_EQ(h.redirect_url, std::nullopt);
  EXPECT_EQ(h.date.size(), 20U);
  EXPECT_TRUE(h.request.starts_with("GET /page HTTP/1.1\r\nHost: 127.0.0.1:")) << h.request;
  EXPECT_NE(h.request.find("\r\nUser-Agent: avow/test\r\n"), std::string::npos) << h.request;
  EXPECT_NE(h.request.find("\r\nAccept-Encoding: identity\r\n"), std::string::npos) << h.request;
  EXPECT_TRUE(h.request.ends_with("\r\n\r\n"));
  EXPECT_TRUE(h.response.starts_with("HTTP/1.1 200 OK\r\n")) << h.response;
  EXPECT_TRUE(h.response.ends_with("\r\nContent-Length: 44\r\n\r\n<!doctype html><title>T</title><p>Hello</p>\n"))
      << h.response;
  // The WARC reader takes what fetch keeps.
  auto m = warc::parse_http_response(h.response);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload, "<!doctype html><title>T</title><p>Hello</p>\n");
}

TEST_F(NetFetch, SendsExtraHeadersAndWhatTheServerReceivedMatchesTheKeptRequest) {
  auto o = options();
  o.headers = {"X-Test: one", "Accept-Language: ar"};
  auto r = fetch(url("/echo"), o);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const auto& h = r->final_hop();
  EXPECT_NE(h.request.find("\r\nX-Test: one\r\n"), std::string::npos);
  auto m = warc::parse_http_response(h.response);
  ASSERT_TRUE(m.has_value());
  // The server echoes the head it parsed: the same lines as the request fetch kept.
  EXPECT_EQ(m->payload, h.request.substr(0, h.request.size() - 2));
  o.headers = {"Broken header"};
  auto bad = fetch(url("/echo"), o);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(bad.error().message, "header 'Broken header' is not 'Name: value'");
}

TEST_F(NetFetch, KeepsAChunkedBodyRawWithItsTrailer) {
  auto r = fetch(url("/chunked"), options());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const auto& resp = r->final_hop().response;
  EXPECT_TRUE(resp.ends_with("\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n"
                             "X-Trailer: t\r\n\r\n"))
      << resp;
  auto m = warc::parse_http_response(resp);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->payload, "Wikipedia");
}

TEST_F(NetFetch, KeepsAContentCodingAndDropsAnInterimResponse) {
  auto r = fetch(url("/gzip"), options());
  ASSERT_TRUE(r.has_value());
  auto m = warc::parse_http_response(r->final_hop().response);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->header("Content-Encoding"), "gzip");
  EXPECT_EQ(warc::decode_content(m->payload, "gzip", 1000), "<!doctype html><title>T</title><p>Hello</p>\n");
  r = fetch(url("/interim"), options());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->final_hop().response.starts_with("HTTP/1.1 200 OK\r\n")) << r->final_hop().response;
  EXPECT_EQ(r->final_hop().status, 200);
}

TEST_F(NetFetch, FollowsRedirectsItselfKeepingEveryHop) {
  auto r = fetch(url("/r1"), options());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->hops.size(), 3U);
  EXPECT_EQ(r->hops[0].url, url("/r1"));
  EXPECT_EQ(r->hops[0].status, 302);
  EXPECT_EQ(r->hops[0].redirect_url, url("/r2"));
  EXPECT_TRUE(r->hops[0].response.starts_with("HTTP/1.1 302 Found\r\n"));
  EXPECT_EQ(r->hops[1].url, url("/r2"));
  EXPECT_EQ(r->hops[1].status, 301);
  EXPECT_EQ(r->hops[2].url, url("/page"));
  EXPECT_EQ(r->hops[2].status, 200);
  EXPECT_TRUE(r->hops[2].request.starts_with("GET /page HTTP/1.1\r\n"));
}

TEST_F(NetFetch, RefusesRedirectLoopsAndTooManyHops) {
  EXPECT_EQ(error_of(fetch(url("/loop-a"), options())),
            "GET " + url("/loop-a") + ": redirect loop: " + url("/loop-a") + " -> " + url("/loop-b") + " -> " +
                url("/loop-a"));
  auto ten = fetch(url("/hops/10"), options());
  ASSERT_TRUE(ten.has_value()) << ten.error().message;
  EXPECT_EQ(ten->hops.size(), 11U);
  auto eleven = fetch(url("/hops/11"), options());
  ASSERT_FALSE(eleven.has_value());
  EXPECT_EQ(eleven.error().code, ErrorCode::io);
  EXPECT_EQ(eleven.error().message, "GET " + url("/hops/11") + ": more than 10 redirects");
  auto o = options();
  o.max_redirects = 1;
  EXPECT_EQ(error_of(fetch(url("/hops/2"), o)), "GET " + url("/hops/2") + ": more than 1 redirects");
  EXPECT_EQ(error_of(fetch(url("/ftp"), options())),
            "GET " + url("/ftp") + ": redirect to 'ftp://127.0.0.1/x', which is not http:// or https://");
}

TEST_F(NetFetch, ReturnsA404AsAResult) {
  auto r = fetch(url("/404"), options());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->final_hop().status, 404);
  EXPECT_TRUE(r->final_hop().response.ends_with("\r\n\r\nnot here\n"));
}

TEST_F(NetFetch, RefusesABodyOverMaxBytes) {
  auto o = options();
  o.max_bytes = 100000;
  EXPECT_TRUE(fetch(url("/big"), o).has_value());
  o.max_bytes = 99999;
  auto r = fetch(url("/big"), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_EQ(r.error().message, "GET " + url("/big") + ": response body over 99999 bytes (--max-bytes)");
}

TEST_F(NetFetch, TimesOut) {
  auto o = options();
  o.timeout = std::chrono::seconds(1);
  const auto start = std::chrono::steady_clock::now();
  auto r = fetch(url("/slow"), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_TRUE(r.error().message.starts_with("GET " + url("/slow") + ": Operation timed out after"))
      << r.error().message;
}

TEST(NetFetchErrors, RefusedConnectionsUnknownHostsAndBadUrls) {
  const std::string closed = "http://127.0.0.1:" + std::to_string(avow::test::closed_port()) + "/";
  auto r = fetch(closed);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_TRUE(r.error().message.starts_with("GET " + closed + ": Failed to connect to 127.0.0.1 port"))
      << r.error().message;
  r = fetch("http://no-such-host.invalid/");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_TRUE(r.error().message.starts_with("GET http://no-such-host.invalid/: Could not resolve host"))
      << r.error().message;
  for (const auto& [bad, why] : std::vector<std::pair<std::string, std::string>>{
           {"ftp://example.test/", "URL 'ftp://example.test/' is not http:// or https://"},
           {"example.test", "URL 'example.test' is not http:// or https://"},
           {"http://exa mple.test/", "URL 'http://exa mple.test/' holds a space or control character"},
           {"http://a:99999/", "URL 'http://a:99999/' does not parse: Port number was not a decimal number between 0 and 65535"},
           {"http://[::1/", "URL 'http://[::1/' does not parse: Bad IPv6 address"}}) {
    auto e = fetch(bad);
    ASSERT_FALSE(e.has_value()) << bad;
    EXPECT_EQ(e.error().code, ErrorCode::invalid_input) << bad;
    EXPECT_EQ(e.error().message, why);
  }
}

TEST(NetFetchTls, VerifiesCertificatesAndTrustsOnlyWhatCacertNames) {
  test::TempDir dir;
  const auto cert = dir / "cert.pem";
  const auto key = dir / "key.pem";
  auto made = test::run_process({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                 "-nodes", "-keyout", key.string(), "-out", cert.string(), "-days", "2", "-subj",
                                 "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  Server server(dir.path(), "'" + cert.string() + "' '" + key.string() + "'");
  const std::string url = server.url("https", "/r1");
  auto refused = fetch(url);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::io);
  EXPECT_TRUE(refused.error().message.starts_with("GET " + url + ": SSL certificate problem: self-signed certificate"))
      << refused.error().message;
  FetchOptions o;
  o.cacert = cert;
  auto ok = fetch(url, o);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  ASSERT_EQ(ok->hops.size(), 3U);
  EXPECT_EQ(ok->final_hop().url, server.url("https", "/page"));
  EXPECT_EQ(ok->final_hop().status, 200);
  EXPECT_TRUE(ok->final_hop().request.starts_with("GET /page HTTP/1.1\r\n"));
  // A CA file that does not hold the server's certificate is refused too.
  auto other = dir / "other.pem";
  made = test::run_process({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-keyout", (dir / "k2.pem").string(), "-out", other.string(), "-days", "2",
                            "-subj", "/CN=other"});
  ASSERT_EQ(made.exit_code, 0);
  o.cacert = other;
  auto wrong = fetch(url, o);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_TRUE(wrong.error().message.starts_with("GET " + url + ": SSL certificate problem:")) << wrong.error().message;
}

} // namespace
} // namespace avow::net
