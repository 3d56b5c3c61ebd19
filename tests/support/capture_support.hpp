#pragma once

// Test support for `avow capture` and `avow watch`: the fixture web site of tests/support/capture_server.py on
// 127.0.0.1 (HTTP, or HTTPS with a throw-away CA made by stock openssl), and the WARC checks done with stock tools.

#include <tests/support/support.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

namespace avow::test {

// tests/data/capture/<name>, the fixture pages and their expected texts.
std::string capture_data(const std::string& name);

// A certificate authority and a server certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1), made in `dir` with
// stock `openssl req`/`openssl x509`: dir/ca.pem, dir/server.pem, dir/server.key.
void make_test_ca(const std::filesystem::path& dir);

// The fixture site, serving tests/data/capture; stops when destroyed (its stdin is closed).
class CaptureServer {
public:
  // `tls_dir`: serve HTTPS with tls_dir/server.pem and server.key (make_test_ca).
  explicit CaptureServer(const std::filesystem::path& tls_dir = {});
  ~CaptureServer();
  CaptureServer(const CaptureServer&) = delete;
  CaptureServer& operator=(const CaptureServer&) = delete;
  // "http://127.0.0.1:PORT" + path
  std::string url(const std::string& path) const { return m_base + path; }
  // GET /_set?query (the routes' state), with curl.
  void set(const std::string& query) const;

private:
  TempDir m_dir;
  FILE* m_pipe = nullptr;
  std::string m_base;
};


// SHA-256 of `data`, lowercase hex, by stock sha256sum.
std::string sha256sum(const std::string& data);

// "sha256:" + RFC 4648 base32 of the SHA-256 whose lowercase hex is `hex`, as WARC digests are written.
std::string warc_digest_of_hex(const std::string& hex);

// The records of a .warc.gz file decompressed by stock gzip: the values of every `name:` header line, in order.
std::vector<std::string> warc_fields(const std::filesystem::path& file, const std::string& name);

} // namespace avow::test
