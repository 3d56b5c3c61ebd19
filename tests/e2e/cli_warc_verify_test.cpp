// End-to-end: `verify` of web captures (original.type application/warc) and `show --warc`. Captures come from the
// real `avow capture` against a small local server (tests/support/fetch_server.py); records whose WARC is broken or whose
// capture.payload_sha256 does not match are written through the library (Archive::append with a captured original),
// signed like any record, since no command writes them; tampering with a stored WARC goes through git plumbing.

#include <archive/archive.hpp>
#include <archive/warc/warc.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

const std::string k_request = "GET /p HTTP/1.1\r\nHost: example.test\r\nAccept-Encoding: identity\r\n\r\n";
const std::string k_response = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 21\r\n\r\n"
                               "<p>Hello, capture</p>";
// sha256("<p>Hello, capture</p>"), by Python's hashlib.
const std::string k_payload_sha = "f763ba1d8cbf83ff56eda55f72f9df17f25c22ceb21e326271b2eb7bf2a27810";

std::string plain_warc() {
  warc::Capture c;
  c.software = "avow/test";
  c.date = "2026-11-30T12:00:00Z";
  c.exchanges = {{"http://example.test/p", "127.0.0.1", "2026-11-30T12:00:00Z", k_request, k_response}};
  auto gz = warc::write_capture(c);
  if (!gz) throw std::runtime_error(gz.error().message);
  auto p = warc::decode_content(*gz, "gzip", 1 << 20);
  if (!p) throw std::runtime_error(p.error().message);
  return *p;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  if (at == std::string::npos) throw std::runtime_error("'" + from + "' not found");
  return s.replace(at, from.size(), to);
}

// tests/support/fetch_server.py on 127.0.0.1; stops when destroyed (its stdin is closed).
class FetchServer {
public:
  FetchServer() {
    const fs::path port_file = m_dir / "port";
    const std::string cmd = "exec python3 '" + std::string(AVOW_SOURCE_DIR) + "/tests/support/fetch_server.py' '" +
                            port_file.string() + "' >/dev/null 2>&1";
    m_pipe = ::popen(cmd.c_str(), "w");
    if (!m_pipe) throw std::runtime_error("cannot start fetch_server.py");
    for (int i = 0; i < 200 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(port_file)) throw std::runtime_error("fetch_server.py did not start");
    m_base = "http://127.0.0.1:" + read_file(port_file);
  }
  ~FetchServer() {
    if (m_pipe) ::pclose(m_pipe);
  }
  std::string url(const std::string& path) const { return m_base + path; }

private:
  TempDir m_dir;
  FILE* m_pipe = nullptr;
  std::string m_base;
};

std::string sha256sum(const std::string& data) {
  TempDir d;
  write_file(d / "f", data);
  return run_process({"sha256sum", (d / "f").string()}).out.substr(0, 64);
}

std::string original_path(const std::string& sha) {
  return "originals/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha;
}

class CliWarcVerify : public ::testing::Test {
protected:
  static void SetUpTestSuite() { s_server = new FetchServer(); }
  static void TearDownTestSuite() {
    delete s_server;
    s_server = nullptr;
  }
  static std::string url(const std::string& path) { return s_server->url(path); }

  TempArchive a;

  std::string capture(const std::string& path) {
    auto r = a.avow({"capture", url(path), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? r.json()["id"].get<std::string>() : std::string();
  }
  nlohmann::json record(const std::string& id) {
    auto r = a.avow({"show", id, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.json()["record"];
  }
  // Append, through the library with the archive's own key, a statement whose original is the WARC `bytes`.
  std::string append_capture(const std::string& bytes, std::map<std::string, std::string> meta,
                             const std::string& source = "http://example.test/p") {
    for (const auto& [k, v] : a.env()) ::setenv(k.c_str(), v.c_str(), 1);
    auto archive = Archive::open(a.dir());
    if (!archive) throw std::runtime_error(archive.error().message);
    StatementInput in;
    in.label = "capture";
    in.bytes = "Hello, capture\n";
    in.source = source;
    in.meta = std::move(meta);
    in.captured_original = StatementInput::CapturedOriginal{bytes, "application/warc", "UTF-8"};
    auto r = archive->append({in}, AppendOptions{});
    if (!r) throw std::runtime_error(r.error().message);
    return r->records.at(0).id;
  }
  // verify --json: exit 1; returns the problems of kind original_mismatch.
  nlohmann::json original_mismatches() {
    auto r = a.avow({"verify", "--json"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    nlohmann::json out = nlohmann::json::array();
    const auto j = r.json();
    for (const auto& p : j["problems"])
      if (p["kind"] == "original_mismatch") out.push_back(p);
    return out;
  }

  static FetchServer* s_server;
};
FetchServer* CliWarcVerify::s_server = nullptr;

TEST_F(CliWarcVerify, CapturesVerifyAndTheirWarcsParse) {
  ASSERT_FALSE(capture("/r1").empty());           // three hops, the last one /page
  ASSERT_FALSE(capture("/chunked-html").empty()); // the same page, chunked
  auto r = a.avow({"verify", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.json()["problems"], nlohmann::json::array());
  EXPECT_EQ(r.json()["statements"], 2);
}

TEST_F(CliWarcVerify, AChangedWarcBlobDoesNotHashToItsName) {
  const std::string id = capture("/page");
  ASSERT_FALSE(id.empty());
  const std::string path = original_path(record(id)["original"]["sha256"]);
  a.git_flip_byte(path, 40);
  auto problems = original_mismatches();
  ASSERT_EQ(problems.size(), 1U) << problems.dump(2);
  EXPECT_EQ(problems[0]["path"], path);
  EXPECT_EQ(problems[0]["message"], "original '" + path + "' does not hash to its name (altered)");
  // --quick checks presence only.
  const auto quick = a.avow({"verify", "--quick", "--json"}).json();
  for (const auto& p : quick["problems"]) EXPECT_NE(p["kind"], "original_mismatch");
}

TEST_F(CliWarcVerify, AWarcReplacedByAnotherCaptureIsCaught) {
  const std::string id = capture("/page");
  ASSERT_FALSE(id.empty());
  const std::string path = original_path(record(id)["original"]["sha256"]);
  // Another capture's WARC, itself valid, put where this record's original is.
  a.git_replace(path, plain_warc());
  auto problems = original_mismatches();
  ASSERT_EQ(problems.size(), 1U) << problems.dump(2);
  EXPECT_EQ(problems[0]["message"], "original '" + path + "' does not hash to its name (altered)");
}

TEST_F(CliWarcVerify, ASignedRecordWhoseWarcPayloadWasChangedIsCaught) {
  // The response body changed and its block digest recomputed: only WARC-Payload-Digest still tells.
  const std::string good = plain_warc();
  std::string bad = replace(good, "<p>Hello, capture</p>", "<p>Hello, Capture</p>");
  bad = replace(bad, warc::digest(k_response), warc::digest(replace(k_response, "Hello, capture", "Hello, Capture")));
  const std::string id = append_capture(bad, {{"capture.payload_sha256", k_payload_sha}});
  const std::string sha = record(id)["original"]["sha256"];
  auto problems = original_mismatches();
  ASSERT_EQ(problems.size(), 1U) << problems.dump(2);
  EXPECT_EQ(problems[0]["path"], original_path(sha));
  EXPECT_EQ(problems[0]["message"],
            "original '" + original_path(sha) + "' is not a valid WARC: record 3: WARC-Payload-Digest does not match");
  auto text = a.avow({"verify"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("is not a valid WARC: record 3: WARC-Payload-Digest does not match"), std::string::npos)
      << text.out;
  // The quick check does not read originals.
  EXPECT_EQ(a.avow({"verify", "--quick"}).exit_code, 0);
}

TEST_F(CliWarcVerify, ASignedRecordWithAGarbledWarcIsCaught) {
  std::string bad = replace(plain_warc(), "<p>Hello, capture</p>", "<p>Hello, Capture</p>");
  const std::string id = append_capture(bad, {{"capture.payload_sha256", k_payload_sha}});
  const std::string path = original_path(record(id)["original"]["sha256"]);
  auto problems = original_mismatches();
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0]["message"], "original '" + path + "' is not a valid WARC: record 3: WARC-Block-Digest does not match");
}

TEST_F(CliWarcVerify, APayloadThatIsNotTheOneTheRecordNamesIsCaught) {
  const std::string other(64, 'e');
  const std::string id = append_capture(plain_warc(), {{"capture.payload_sha256", other}});
  const std::string path = original_path(record(id)["original"]["sha256"]);
  auto problems = original_mismatches();
  ASSERT_EQ(problems.size(), 1U) << problems.dump(2);
  EXPECT_EQ(problems[0]["message"], "original '" + path + "': the final response payload is sha256 " + k_payload_sha +
                                        ", the record says " + other);
}

TEST_F(CliWarcVerify, AValidLibraryCaptureVerifies) {
  // The control for the three above: the same path with an intact WARC and the right payload hash.
  append_capture(plain_warc(), {{"capture.payload_sha256", k_payload_sha}});
  // No payload hash in meta: the WARC is parsed and its digests checked, nothing more.
  append_capture(plain_warc(), {{"capture.requested_uri", "http://example.test/p"}}, "http://example.test/q");
  auto r = a.avow({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(CliWarcVerify, TwoRecordsOfOneWarcAreCheckedEachAgainstTheirOwnPayloadHash) {
  // The same WARC (one original blob) named by two records: the one whose payload hash is wrong is reported.
  append_capture(plain_warc(), {{"capture.payload_sha256", k_payload_sha}}, "http://example.test/p");
  const std::string bad = append_capture(plain_warc(), {{"capture.payload_sha256", std::string(64, '0')}},
                                         "http://example.test/q");
  auto r = a.avow({"verify", "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.out;
  const auto j = r.json();
  ASSERT_EQ(j["problems"].size(), 1U) << j["problems"].dump(2);
  EXPECT_EQ(j["problems"][0]["kind"], "original_mismatch");
  EXPECT_EQ(j["problems"][0]["entry"], a.avow({"show", bad, "--json"}).json()["index"]);
}

TEST_F(CliWarcVerify, NotAWarcAtAllIsCaught) {
  const std::string id = append_capture("<html>not a warc</html>", {});
  const std::string path = original_path(record(id)["original"]["sha256"]);
  auto problems = original_mismatches();
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0]["message"],
            "original '" + path + "' is not a valid WARC: record 1: version line is not WARC/1.1 or WARC/1.0");
}

TEST_F(CliWarcVerify, ShowWarcWritesTheOriginalByteForByte) {
  const std::string id = capture("/page");
  ASSERT_FALSE(id.empty());
  const auto rec = record(id);
  const fs::path out = a.tmp() / "page.warc.gz";
  write_file(out, "an older file is replaced, as proof -o does");
  auto r = a.avow({"show", id.substr(0, 12), "--warc", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string bytes = read_file(out);
  EXPECT_EQ(r.out, "WARC of record " + id + " written to " + out.string() + " (" + std::to_string(bytes.size()) +
                       " bytes)\n");
  EXPECT_EQ(sha256sum(bytes), rec["original"]["sha256"]);
  EXPECT_EQ(bytes.size(), rec["original"]["bytes"]);
  EXPECT_EQ(bytes.substr(0, 2), "\x1f\x8b");
  auto j = a.avow({"--json", "show", id, "--warc", out.string()});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(j.json(), (nlohmann::json{{"file", out.string()}, {"id", id}, {"bytes", bytes.size()},
                                      {"sha256", rec["original"]["sha256"]}}));
  EXPECT_EQ(a.avow({"-q", "show", id, "--warc", out.string()}).out, "");
}

TEST_F(CliWarcVerify, ShowWarcRefusesARecordWithoutAWarcOriginal) {
  const std::string plain = a.archive_text("A statement typed in.\n");
  const fs::path out = a.tmp() / "none.warc.gz";
  auto r = a.avow({"show", plain, "--warc", out.string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "avow: error: record " + plain.substr(0, 16) + " has no WARC original (it is not a web capture)\n");
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(out));
  // An original that is not a WARC (a legacy encoding) is refused the same way.
  const auto f = a.file("ar.txt", "\xc8\xc7\xe4\n");
  auto ar = a.avow({"archive", f, "--encoding", "windows-1256", "--source", "https://example.org/ar", "--json"});
  ASSERT_EQ(ar.exit_code, 0) << ar.err;
  const std::string id = ar.json()["records"][0]["id"];
  r = a.avow({"show", id, "--warc", out.string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "avow: error: record " + id.substr(0, 16) + " has no WARC original (it is not a web capture)\n");
  EXPECT_FALSE(fs::exists(out));
  // A folder that does not exist: an I/O failure.
  const std::string cap = capture("/page");
  r = a.avow({"show", cap, "--warc", (a.tmp() / "no" / "such" / "dir" / "x.warc.gz").string()});
  EXPECT_EQ(r.exit_code, 6) << r.err;
}

} // namespace
} // namespace avow::test
