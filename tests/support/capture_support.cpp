#include <tests/support/capture_support.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace avow::test {

namespace fs = std::filesystem;

namespace {
const std::string k_support = std::string(AVOW_SOURCE_DIR) + "/tests/support";
const std::string k_data = std::string(AVOW_SOURCE_DIR) + "/tests/data/capture";

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
} // namespace

std::string capture_data(const std::string& name) { return test_data("capture/" + name); }

void make_test_ca(const fs::path& dir) {
  fs::create_directories(dir);
  const auto d = [&](const char* name) { return (dir / name).string(); };
  write_file(dir / "ext.cnf", "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n");
  const std::vector<std::vector<std::string>> steps = {
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
       d("ca.key"), "-out", d("ca.pem"), "-days", "2", "-subj", "/CN=avow test CA"},
      {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", d("server.key"),
       "-out", d("server.csr"), "-subj", "/CN=127.0.0.1"},
      {"openssl", "x509", "-req", "-in", d("server.csr"), "-CA", d("ca.pem"), "-CAkey", d("ca.key"),
       "-CAcreateserial", "-out", d("server.pem"), "-days", "2", "-extfile", d("ext.cnf")}};
  for (const auto& step : steps) {
    auto r = run_process(step);
    if (r.exit_code != 0) throw std::runtime_error("openssl failed: " + r.err);
  }
}

CaptureServer::CaptureServer(const fs::path& tls_dir) {
  const fs::path port_file = m_dir / "port";
  std::string cmd = "exec python3 " + shell_quote(k_support + "/capture_server.py") + " " + shell_quote(k_data) + " " +
                    shell_quote(port_file.string());
  if (!tls_dir.empty())
    cmd += " --tls " + shell_quote((tls_dir / "server.pem").string()) + " " + shell_quote((tls_dir / "server.key").string());
  cmd += " >/dev/null 2>&1";
  m_pipe = ::popen(cmd.c_str(), "w");
  if (!m_pipe) throw std::runtime_error("cannot start capture_server.py");
  for (int i = 0; i < 400 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  if (!fs::exists(port_file)) throw std::runtime_error("capture_server.py did not start");
  m_base = (tls_dir.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") + read_file(port_file);
}

CaptureServer::~CaptureServer() {
  if (m_pipe) ::pclose(m_pipe);
}

void CaptureServer::set(const std::string& query) const {
  auto r = run_process({"curl", "-sfk", "-o", "/dev/null", url("/_set?" + query)});
  if (r.exit_code != 0) throw std::runtime_error("cannot set " + query + ": " + r.err);
}

std::string sha256sum(const std::string& data) {
  auto r = run_process({"sha256sum"}, data);
  return r.out.substr(0, 64);
}

std::string warc_digest_of_hex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  static const char* k_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += k_alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += k_alphabet[(buffer << (5 - bits)) & 31];
  while (out.size() % 8 != 0) out += '=';
  return "sha256:" + out;
}

std::vector<std::string> warc_fields(const fs::path& file, const std::string& name) {
  auto r = run_process({"gzip", "-dc", file.string()});
  std::vector<std::string> values;
  std::istringstream lines(r.out);
  std::string line;
  const std::string prefix = name + ": ";
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with(prefix)) values.push_back(line.substr(prefix.size()));
  }
  return values;
}

} // namespace avow::test
