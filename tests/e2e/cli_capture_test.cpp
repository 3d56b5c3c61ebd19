// End-to-end: `avow capture URL` and `avow capture --batch` against the fixture site of tests/support/capture_server.py
// on 127.0.0.1 (tests/data/capture). Texts are compared byte for byte with the fixtures' expected texts; the stored
// WARC is read back with `show --warc`, taken apart with stock gzip, and checked by the npm warcio checker
// (tests/capture/warcio_check.mjs) when node and its modules are there. Every refusal leaves the archive as it was.

#include <tests/support/capture_support.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

const std::string k_last_modified = "Sat, 14 Mar 2026 07:30:00 GMT";

class CliCapture : public ::testing::Test {
protected:
  static void SetUpTestSuite() { s_server = new CaptureServer(); }
  static void TearDownTestSuite() {
    delete s_server;
    s_server = nullptr;
  }
  static std::string url(const std::string& path) { return s_server->url(path); }

  TempArchive a;

  // Capture `path` (with `extra` options) and return the record id; the capture must succeed.
  std::string capture(const std::string& path, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"capture", url(path), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = a.avow(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) return {};
    return r.json()["id"].get<std::string>();
  }
  nlohmann::json show(const std::string& id) {
    auto r = a.avow({"show", id, "--json", "--text"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.json();
  }
  // Run a capture that must fail with `code` and `message` (one line) and leave the archive as it was.
  void refused(const std::vector<std::string>& args, int code, const std::string& message) {
    const std::string before = a.state();
    auto r = a.avow(args);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_EQ(r.err, "avow: error: " + message + "\n");
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(a.state(), before);
  }

  static CaptureServer* s_server;
};
CaptureServer* CliCapture::s_server = nullptr;

TEST_F(CliCapture, EnglishPressReleaseRecordsTheArticleTextAndItsJsonLd) {
  auto r = a.avow({"capture", url("/press-release"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = r.json();
  const std::string id = j["id"];
  const auto& c = j["captures"][0];
  EXPECT_EQ(c["final_uri"], url("/press-release"));
  EXPECT_EQ(c["status"], 200);
  EXPECT_EQ(c["hops"], 1);
  EXPECT_EQ(c["extractor"], "avow-main-text/1");
  EXPECT_EQ(c["encoding"], "UTF-8");
  EXPECT_EQ(c["charset_from"], "Content-Type");
  EXPECT_EQ(c["metadata"]["title"]["from"], "json-ld");
  EXPECT_EQ(c["metadata"]["published"]["from"], "json-ld");
  EXPECT_EQ(c["metadata"]["publisher"]["from"], "json-ld");

  // The text, byte for byte: `show --text` ends with it, and show --json holds exactly it.
  const std::string expected = capture_data("press-release.txt");
  ASSERT_FALSE(expected.empty());
  auto shown = a.avow({"show", id, "--text"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  ASSERT_GE(shown.out.size(), expected.size() + 2);
  EXPECT_EQ(shown.out.substr(shown.out.size() - expected.size() - 2), "\n\n" + expected);
  const auto s = show(id);
  EXPECT_EQ(s["text"], expected);
  const auto& rec = s["record"];
  EXPECT_EQ(rec["source"]["uri"], url("/press-release"));
  EXPECT_EQ(rec["title"], "Harbour authority publishes independent review of the March flooding");
  EXPECT_EQ(rec["source"]["publisher"], "Northport Harbour Authority");
  EXPECT_EQ(rec["text"]["lang"], "en-GB");
  EXPECT_EQ(c["metadata"]["title"]["value"], rec["title"]);
  EXPECT_EQ(rec["published"]["as_written"], "2026-03-14T09:30:00+02:00");
  EXPECT_EQ(rec["published"]["utc"], "2026-03-14T07:30:00Z");
  const auto& meta = rec["meta"];
  EXPECT_EQ(meta["capture.requested_uri"], url("/press-release"));
  EXPECT_EQ(meta["capture.status"], "200");
  EXPECT_EQ(meta["capture.hops"], "1");
  EXPECT_EQ(meta["capture.extractor"], "avow-main-text/1");
  EXPECT_EQ(meta["capture.charset_from"], "Content-Type");
  EXPECT_EQ(meta["capture.content_type"], "text/html; charset=utf-8");
  EXPECT_EQ(meta["capture.last_modified"], k_last_modified);
  EXPECT_TRUE(meta.contains("capture.http_date"));
  EXPECT_FALSE(meta.contains("capture.selector"));
  EXPECT_FALSE(meta.contains("capture.content_encoding"));
  // The payload is the fixture's bytes exactly (served without any coding).
  EXPECT_EQ(meta["capture.payload_sha256"], sha256sum(capture_data("press-release.html")));
  EXPECT_EQ(rec["original"]["type"], "application/warc");
  EXPECT_EQ(rec["original"]["encoding"], "UTF-8");

  // The WARC back out, byte for byte what the record names; its records as stock gzip shows them.
  const fs::path warc = a.tmp() / "capture.warc.gz";
  auto out = a.avow({"show", id, "--warc", warc.string()});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const std::string bytes = read_file(warc);
  EXPECT_EQ(sha256sum(bytes), rec["original"]["sha256"]);
  EXPECT_EQ(bytes.size(), rec["original"]["bytes"]);
  EXPECT_EQ(warc_fields(warc, "WARC-Type"), (std::vector<std::string>{"warcinfo", "request", "response"}));
  EXPECT_EQ(warc_fields(warc, "WARC-Target-URI"),
            (std::vector<std::string>{url("/press-release"), url("/press-release")}));
  const auto payload_digests = warc_fields(warc, "WARC-Payload-Digest");
  ASSERT_FALSE(payload_digests.empty());
  EXPECT_EQ(payload_digests.back(), warc_digest_of_hex(meta["capture.payload_sha256"]));

  auto v = a.avow({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(CliCapture, WarcioReadsTheStoredWarcAndItsPayloadDigestMatches) {
  const fs::path modules = fs::path(AVOW_BUILT_BIN).parent_path() / "tests" / "site-node";
  const std::string checker = std::string(AVOW_SOURCE_DIR) + "/tests/capture/warcio_check.mjs";
  if (run_process({"sh", "-c", "command -v node"}).exit_code != 0 || !fs::exists(modules / "node_modules" / "warcio") ||
      !fs::exists(checker))
    GTEST_SKIP() << "node, the npm warcio module (" << modules.string() << ", installed by the site.npm_ci test) or "
                 << checker << " not found: skipping the warcio check";
  const std::string id = capture("/redirect/1");
  ASSERT_FALSE(id.empty());
  const auto rec = show(id)["record"];
  const fs::path warc = a.tmp() / "capture.warc.gz";
  ASSERT_EQ(a.avow({"show", id, "--warc", warc.string()}).exit_code, 0);
  auto r = run_process({"node", checker, warc.string()}, {}, {{"AVOW_SITE_NODE_MODULES", modules.string()}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // One line per record; the last response's payload digest is the record's capture.payload_sha256.
  const std::string digest = warc_digest_of_hex(rec["meta"]["capture.payload_sha256"]);
  EXPECT_NE(r.out.find("response " + url("/press-release") + " " + digest + " ok\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("response " + url("/redirect/1") + " "), std::string::npos) << r.out;
  // A tampered copy is refused by the same checker.
  std::string plain = run_process({"gzip", "-dc", warc.string()}).out;
  const auto at = plain.find("Northport");
  ASSERT_NE(at, std::string::npos);
  plain[at] = 'n';
  write_file(a.tmp() / "tampered.warc", plain);
  auto bad = run_process({"node", checker, (a.tmp() / "tampered.warc").string()}, {},
                         {{"AVOW_SITE_NODE_MODULES", modules.string()}});
  EXPECT_NE(bad.exit_code, 0) << bad.out;
}

TEST_F(CliCapture, ArabicWindows1256PageBecomesUtf8NfcText) {
  const std::string id = capture("/arabic");
  ASSERT_FALSE(id.empty());
  const auto s = show(id);
  const std::string expected = capture_data("arabic-1256.txt");
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(s["text"], expected);
  EXPECT_EQ(s["record"]["text"]["lang"], "ar");
  EXPECT_EQ(s["record"]["original"]["encoding"], "windows-1256");
  EXPECT_EQ(s["record"]["meta"]["capture.charset_from"], "meta");
  EXPECT_EQ(s["record"]["meta"]["capture.content_type"], "text/html");
  EXPECT_EQ(s["record"]["meta"]["capture.payload_sha256"], sha256sum(capture_data("arabic-1256.html")));
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliCapture, RedirectChainKeepsEveryHopAndRecordsTheFinalUrl) {
  const std::string id = capture("/redirect/1");
  ASSERT_FALSE(id.empty());
  const auto s = show(id);
  EXPECT_EQ(s["record"]["source"]["uri"], url("/press-release"));
  EXPECT_EQ(s["record"]["meta"]["capture.requested_uri"], url("/redirect/1"));
  EXPECT_EQ(s["record"]["meta"]["capture.hops"], "4");
  EXPECT_EQ(s["text"], capture_data("press-release.txt"));
  const fs::path warc = a.tmp() / "chain.warc.gz";
  ASSERT_EQ(a.avow({"show", id, "--warc", warc.string()}).exit_code, 0);
  const std::vector<std::string> hops{url("/redirect/1"), url("/redirect/1"), url("/redirect/2"), url("/redirect/2"),
                                      url("/redirect/3"), url("/redirect/3"), url("/press-release"),
                                      url("/press-release")};
  EXPECT_EQ(warc_fields(warc, "WARC-Target-URI"), hops);
  EXPECT_EQ(warc_fields(warc, "WARC-Type").size(), 9u);
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliCapture, TenRedirectsAreFollowedElevenAreNot) {
  EXPECT_FALSE(capture("/many/10").empty());
  refused({"capture", url("/many/11")}, 6, "GET " + url("/many/11") + ": more than 10 redirects");
}

TEST_F(CliCapture, RedirectLoopIsRefused) {
  refused({"capture", url("/loop/a")}, 6,
          "GET " + url("/loop/a") + ": redirect loop: " + url("/loop/a") + " -> " + url("/loop/b") + " -> " +
              url("/loop/a"));
}

TEST_F(CliCapture, HttpErrorIsRefusedUnlessAllowed) {
  refused({"capture", url("/gone")}, 6,
          "GET " + url("/gone") + ": the server answered 404 Not Found (give --allow-status to archive the response "
                                  "anyway)");
  refused({"capture", url("/status/500")}, 6,
          "GET " + url("/status/500") + ": the server answered 500 Internal Server Error (give --allow-status to "
                                        "archive the response anyway)");
  const std::string id = capture("/gone", {"--allow-status"});
  ASSERT_FALSE(id.empty());
  const auto s = show(id);
  EXPECT_EQ(s["record"]["meta"]["capture.status"], "404");
  EXPECT_EQ(s["text"], "Not Found\n\nThe page you asked for is not on this server any more. It may have been moved or "
                       "removed by its publisher.\n");
}

TEST_F(CliCapture, TimeoutIsRefused) {
  const std::string before = a.state();
  const auto start = std::chrono::steady_clock::now();
  auto r = a.avow({"capture", url("/slow?s=5"), "--timeout", "1"});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_TRUE(r.err.starts_with("avow: error: GET " + url("/slow?s=5") + ": ")) << r.err;
  EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
  EXPECT_LT(took, std::chrono::seconds(4));
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliCapture, BodyOverMaxBytesIsRefused) {
  refused({"capture", url("/big?n=200000"), "--max-bytes", "100000"}, 6,
          "GET " + url("/big?n=200000") + ": response body over 100000 bytes (--max-bytes)");
  EXPECT_FALSE(capture("/big?n=50000", {"--max-bytes", "100000"}).empty());
}

TEST_F(CliCapture, UnreachableHostIsRefused) {
  const std::string dead = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  const std::string before = a.state();
  auto r = a.avow({"capture", dead});
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_TRUE(r.err.starts_with("avow: error: GET " + dead + ": ")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliCapture, NotHtmlIsRefusedUnlessTheTextIsGiven) {
  refused({"capture", url("/pdf")}, 3,
          url("/pdf") + ": the response is application/pdf, not HTML; give its text with --text-from FILE to archive "
                        "it against this capture");
  refused({"capture", url("/png")}, 3,
          url("/png") + ": the response is image/png, not HTML; give its text with --text-from FILE to archive it "
                        "against this capture");
  const std::string text = "Annual report 2025.\n\nThe text of the PDF, as read by the archivist.\n";
  const std::string file = a.file("report.txt", text);
  const std::string id = capture("/pdf", {"--text-from", file, "--title", "Annual report"});
  ASSERT_FALSE(id.empty());
  const auto s = show(id);
  EXPECT_EQ(s["text"], text);
  EXPECT_EQ(s["record"]["original"]["encoding"], "binary");
  EXPECT_EQ(s["record"]["original"]["type"], "application/warc");
  EXPECT_EQ(s["record"]["title"], "Annual report");
  EXPECT_EQ(s["record"]["meta"]["capture.extractor"], "text-from");
  EXPECT_EQ(s["record"]["meta"]["capture.content_type"], "application/pdf");
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliCapture, UnknownCharsetIsRefused) {
  const std::string before = a.state();
  auto r = a.avow({"capture", url("/unknown-charset")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(r.err.starts_with("avow: error: " + url("/unknown-charset") + ": unknown charset 'x-klingon'")) << r.err;
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliCapture, WrongCharsetIsRefused) {
  const std::string before = a.state();
  auto r = a.avow({"capture", url("/bad-utf8")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(r.err.starts_with("avow: error: " + url("/bad-utf8") + ": the page is not valid UTF-8")) << r.err;
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliCapture, PageWithoutTextIsRefusedSuggestingSelector) {
  refused({"capture", url("/empty")}, 3,
          url("/empty") + ": no text could be extracted from the page; name the element with --selector");
}

TEST_F(CliCapture, SelectorNamesTheElement) {
  const std::string id = capture("/selector", {"--selector", "#statement"});
  ASSERT_FALSE(id.empty());
  const auto s = show(id);
  EXPECT_EQ(s["text"], capture_data("selector.txt"));
  EXPECT_EQ(s["record"]["meta"]["capture.extractor"], "selector");
  EXPECT_EQ(s["record"]["meta"]["capture.selector"], "#statement");
  refused({"capture", url("/selector"), "--selector", "#nothing-here"}, 3,
          url("/selector") + ": selector '#nothing-here' matches no element");
}

TEST_F(CliCapture, FlagsOverrideWhatThePageSays) {
  auto r = a.avow({"capture", url("/press-release"), "--json", "--title", "Our title", "--publisher", "Our Publisher",
                   "--published", "2020-01-02 10:00", "--tz", "Europe/Istanbul", "--lang", "en-GB", "--meta",
                   "case=42"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = r.json();
  for (const char* k : {"title", "publisher", "published", "lang"}) EXPECT_EQ(j["captures"][0]["metadata"][k]["from"], "flag") << k;
  const auto rec = show(j["id"])["record"];
  EXPECT_EQ(rec["title"], "Our title");
  EXPECT_EQ(rec["source"]["publisher"], "Our Publisher");
  EXPECT_EQ(rec["published"]["as_written"], "2020-01-02 10:00");
  EXPECT_EQ(rec["published"]["utc"], "2020-01-02T07:00:00Z");
  EXPECT_EQ(rec["text"]["lang"], "en-GB");
  EXPECT_EQ(rec["meta"]["case"], "42");
  refused({"capture", url("/press-release"), "--meta", "capture.status=200"}, 3,
          "--meta 'capture.status': keys starting 'capture.' are written by avow only");
}

TEST_F(CliCapture, HeadersAreSentWithAnAvowUserAgent) {
  const std::string version = a.avow_raw({"version", "--json"}).json()["version"];
  const std::string id = capture("/headers", {"--header", "X-Avow-Test: yes please", "--selector", "main"});
  ASSERT_FALSE(id.empty());
  const std::string text = show(id)["text"];
  EXPECT_NE(text.find("\nX-Avow-Test: yes please\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nUser-Agent: avow/" + version + " (+https://avow.invalid/capture)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nAccept-Encoding: identity\n"), std::string::npos) << text;
  refused({"capture", url("/headers"), "--header", "no colon"}, 3, "--header 'no colon' is not 'Name: value'");
}

TEST_F(CliCapture, ChunkedAndGzipResponsesAreDecodedForTheTextAndKeptAsSent) {
  const std::string chunked = capture("/chunked");
  ASSERT_FALSE(chunked.empty());
  auto s = show(chunked);
  EXPECT_EQ(s["text"], capture_data("press-release.txt"));
  // The payload digest is of the body with the transfer coding removed: the fixture's bytes.
  EXPECT_EQ(s["record"]["meta"]["capture.payload_sha256"], sha256sum(capture_data("press-release.html")));
  const std::string gz = capture("/gzip");
  ASSERT_FALSE(gz.empty());
  s = show(gz);
  EXPECT_EQ(s["text"], capture_data("press-release.txt"));
  EXPECT_EQ(s["record"]["meta"]["capture.content_encoding"], "gzip");
  EXPECT_NE(s["record"]["meta"]["capture.payload_sha256"], sha256sum(capture_data("press-release.html")));
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliCapture, DryRunWritesNothing) {
  const std::string before = a.state();
  auto r = a.avow({"capture", url("/press-release"), "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("dry run: nothing was written; 1 record would be signed\n")) << r.out;
  EXPECT_TRUE(r.out.ends_with("canonical text:\n" + capture_data("press-release.txt"))) << r.out;
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliCapture, BadUrlIsRefused) {
  const std::string before = a.state();
  auto r = a.avow({"capture", "ftp://127.0.0.1/x"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliCapture, SameTextAgainRecordsNothingUnlessRecaptured) {
  const std::string first = capture("/press-release");
  ASSERT_FALSE(first.empty());
  const std::string before = a.state();
  auto r = a.avow({"capture", url("/press-release")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("already archived as " + first), std::string::npos) << r.err;
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliCapture, HttpsIsRefusedWithoutTheCaAndAcceptedWithIt) {
  const fs::path ca = a.tmp() / "ca";
  make_test_ca(ca);
  CaptureServer tls(ca);
  const std::string before = a.state();
  auto r = a.avow({"capture", tls.url("/press-release")});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_TRUE(r.err.starts_with("avow: error: GET " + tls.url("/press-release") + ": ")) << r.err;
  EXPECT_NE(r.err.find("SSL certificate problem"), std::string::npos) << r.err;
  EXPECT_EQ(a.state(), before);
  auto ok = a.avow({"capture", tls.url("/press-release"), "--cacert", (ca / "ca.pem").string(), "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto s = show(ok.json()["id"]);
  EXPECT_EQ(s["record"]["source"]["uri"], tls.url("/press-release"));
  EXPECT_EQ(s["text"], capture_data("press-release.txt"));
}

TEST_F(CliCapture, BatchArchivesTheGoodPagesInOneCommitAndListsFailures) {
  const std::string list = a.file("urls.txt", "# press pages\n" + url("/press-release") + "\n\n" + url("/gone") + "\n" +
                                                  url("/arabic") + "\n  " + url("/jsonld") + "  \n");
  const std::string commits_before = a.git({"rev-list", "--count", "main"}).out;
  auto r = a.avow({"capture", "--batch", list});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  const std::string gone_line = "avow: error: GET " + url("/gone") +
                                ": the server answered 404 Not Found (give --allow-status to archive the response anyway)\n";
  EXPECT_NE(r.err.find(gone_line), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.ends_with("avow: 1 of 4 URLs failed; 3 records in one commit, log size 4\n")) << r.err;
  // Three ids, one commit.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;
  EXPECT_EQ(std::stoi(a.git({"rev-list", "--count", "main"}).out), std::stoi(commits_before) + 1);
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);

  // --all-or-nothing: the same list writes nothing.
  TempArchive b;
  const std::string before = b.state();
  auto n = b.avow({"capture", "--batch", list, "--all-or-nothing", "--json"});
  EXPECT_EQ(n.exit_code, 6) << n.err;
  const auto j = n.json();
  EXPECT_EQ(j["commit"], "");
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["captures"][1]["ok"], false);
  EXPECT_EQ(j["captures"][1]["error"]["exit_code"], 6);
  EXPECT_EQ(j["captures"][0]["ok"], true);
  EXPECT_EQ(j["captures"][0]["id"], nullptr);
  EXPECT_EQ(b.state(), before);
  auto t = b.avow({"capture", "--batch", list, "--all-or-nothing"});
  EXPECT_TRUE(t.err.ends_with("avow: 1 of 4 URLs failed; nothing written (--all-or-nothing)\n")) << t.err;
  EXPECT_EQ(b.state(), before);
}

TEST_F(CliCapture, BatchOfGoodPagesExitsZero) {
  const std::string list = a.file("urls.txt", url("/press-release") + "\n" + url("/jsonld") + "\n");
  auto r = a.avow({"capture", "--batch", list, "--jobs", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
  EXPECT_TRUE(r.err.ends_with("avow: captured 2 URLs; 2 records in one commit, log size 3\n")) << r.err;
}

} // namespace
} // namespace avow::test
