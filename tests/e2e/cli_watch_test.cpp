// End-to-end: `avow watch` against the fixture site of tests/support/capture_server.py, whose pages change, vanish or
// move when the test says so (GET /_set?...). A changed page is a new version linked by supersedes with the word diff
// printed as `history` prints it; an unchanged one records nothing; a gone or moved one is reported (exit 1) and
// recorded only with --record-gone.

#include <tests/support/capture_support.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace avow::test {
namespace {

class CliWatch : public ::testing::Test {
protected:
  CaptureServer server;
  TempArchive a;

  std::string capture(const std::string& path) {
    auto r = a.avow({"capture", server.url(path), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) return {};
    return r.json()["id"].get<std::string>();
  }
  nlohmann::json show(const std::string& id) {
    auto r = a.avow({"show", id, "--json", "--text"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.json();
  }
  // What `history` prints as the changes from version `k` to the next, the diff block only.
  std::string history_diff(const std::string& source, int k) {
    auto h = a.avow({"history", "--source", source});
    EXPECT_EQ(h.exit_code, 0) << h.err;
    const std::string head = "  changes from version " + std::to_string(k) + " ([-removed-] {+added+}):\n";
    const auto at = h.out.find(head);
    if (at == std::string::npos) return "(no diff in history: " + h.out + ")";
    return h.out.substr(at + head.size());
  }
};

TEST_F(CliWatch, ChangedPageIsANewVersionWithItsWordDiff) {
  const std::string first = capture("/changing");
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(show(first)["text"], capture_data("changing-v1.txt"));
  server.set("changing=2");
  auto r = a.avow({"watch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string source = server.url("/changing");
  const auto history = a.avow({"history", "--source", source, "--json"}).json();
  ASSERT_EQ(history["versions"].size(), 2u);
  const std::string second = history["versions"][1]["id"];
  const auto s = show(second);
  EXPECT_EQ(s["record"]["supersedes"], first);
  EXPECT_EQ(s["text"], capture_data("changing-v2.txt"));
  const std::string diff = history_diff(source, 1);
  EXPECT_EQ(r.out, "changed    " + source + "; recorded " + second + " (supersedes " + first + ")\n" +
                       "  changes from the previous version ([-removed-] {+added+}):\n" + diff +
                       "checked 1: 0 unchanged, 1 changed, 0 gone, 0 moved, 0 failed\n");
  EXPECT_NE(diff.find("{+"), std::string::npos) << diff;
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);

  // Watched again: now unchanged, nothing recorded.
  const std::string before = a.state();
  auto again = a.avow({"watch"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "unchanged  " + source + "\nchecked 1: 1 unchanged, 0 changed, 0 gone, 0 moved, 0 failed\n");
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliWatch, UnchangedPageRecordsNothingUnlessRecaptured) {
  const std::string first = capture("/press-release");
  ASSERT_FALSE(first.empty());
  const std::string before = a.state();
  auto r = a.avow({"watch"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "unchanged  " + server.url("/press-release") +
                       "\nchecked 1: 1 unchanged, 0 changed, 0 gone, 0 moved, 0 failed\n");
  EXPECT_EQ(a.state(), before);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100)); // a new capture second: a new record id
  auto re = a.avow({"watch", "--recapture", "--json"});
  ASSERT_EQ(re.exit_code, 0) << re.err;
  const auto j = re.json();
  EXPECT_EQ(j["sources"][0]["status"], "unchanged");
  ASSERT_TRUE(j["sources"][0]["record"].is_string()) << re.out;
  EXPECT_NE(j["commit"], "");
}

TEST_F(CliWatch, GonePageIsReportedAndNothingRecorded) {
  const std::string first = capture("/vanishing");
  ASSERT_FALSE(first.empty());
  server.set("vanishing=404");
  const std::string before = a.state();
  auto r = a.avow({"watch"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "gone       " + server.url("/vanishing") +
                       " (HTTP 404)\nchecked 1: 0 unchanged, 0 changed, 1 gone, 0 moved, 0 failed\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliWatch, RecordGoneRecordsTheErrorResponseAsANewVersion) {
  const std::string first = capture("/vanishing");
  ASSERT_FALSE(first.empty());
  server.set("vanishing=410");
  auto r = a.avow({"watch", "--record-gone", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto j = r.json();
  EXPECT_EQ(j["summary"], "checked 1: 0 unchanged, 0 changed, 1 gone, 0 moved, 0 failed");
  EXPECT_EQ(j["sources"][0]["status"], "gone");
  EXPECT_EQ(j["sources"][0]["http_status"], 410);
  ASSERT_TRUE(j["sources"][0]["record"].is_string()) << r.out;
  const auto s = show(j["sources"][0]["record"]);
  EXPECT_EQ(s["record"]["supersedes"], first);
  EXPECT_EQ(s["record"]["source"]["uri"], server.url("/vanishing"));
  EXPECT_EQ(s["record"]["meta"]["capture.gone"], "410");
  EXPECT_EQ(s["record"]["meta"]["capture.status"], "410");
  EXPECT_EQ(s["text"], "Gone\n\nThe page you asked for is not on this server any more. It may have been moved or "
                       "removed by its publisher.\n");
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliWatch, MovedPageIsReported) {
  const std::string first = capture("/moved");
  ASSERT_FALSE(first.empty());
  server.set("moved=1");
  const std::string before = a.state();
  auto r = a.avow({"watch"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "moved      " + server.url("/moved") + " -> " + server.url("/press-release") +
                       "\nchecked 1: 0 unchanged, 0 changed, 0 gone, 1 moved, 0 failed\n");
  EXPECT_EQ(a.state(), before);
  auto rec = a.avow({"watch", "--record-gone", "--json"});
  EXPECT_EQ(rec.exit_code, 1) << rec.err;
  const auto s = show(rec.json()["sources"][0]["record"]);
  EXPECT_EQ(s["record"]["meta"]["capture.gone"], "moved");
  EXPECT_EQ(s["record"]["meta"]["capture.hops"], "2");
  EXPECT_EQ(s["text"], "HTTP/1.1 301 Moved Permanently\nLocation: " + server.url("/press-release") + "\n");
}

TEST_F(CliWatch, TextGivenByTheUserIsComparedByPayload) {
  const std::string text = "Annual report 2025.\n\nThe text of the PDF, as read by the archivist.\n";
  auto r = a.avow({"capture", server.url("/pdf"), "--text-from", a.file("report.txt", text), "--title", "Annual report",
                   "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string first = r.json()["id"];
  const std::string before = a.state();
  auto w = a.avow({"watch"});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(w.out, "unchanged  " + server.url("/pdf") + "\nchecked 1: 1 unchanged, 0 changed, 0 gone, 0 moved, 0 failed\n");
  EXPECT_EQ(a.state(), before);
  // A recapture keeps the given text and, as the PDF says none, the title of the version before.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto re = a.avow({"watch", "--recapture", "--json"});
  ASSERT_EQ(re.exit_code, 0) << re.err;
  const auto s = show(re.json()["sources"][0]["record"]);
  EXPECT_EQ(s["text"], text);
  EXPECT_EQ(s["record"]["title"], "Annual report");
  EXPECT_EQ(s["record"]["meta"]["capture.extractor"], "text-from");
  EXPECT_FALSE(s["record"].contains("supersedes")); // the same text: a recapture, not a new version
}

TEST_F(CliWatch, SummaryCountsEveryOutcomeAndOneCommitHoldsTheNewVersions) {
  for (const char* path : {"/press-release", "/changing", "/vanishing", "/moved", "/flaky"}) ASSERT_FALSE(capture(path).empty());
  ASSERT_EQ(a.archive_file("Not a web page.\n", {"--source", "urn:example:not-web"}).exit_code, 0);
  server.set("changing=2");
  server.set("vanishing=404");
  server.set("moved=1");
  server.set("flaky=503");
  const std::string commits = a.git({"rev-list", "--count", "main"}).out;
  auto r = a.avow({"watch"});
  EXPECT_EQ(r.exit_code, 6) << r.err; // a source that could not be read outranks gone and moved
  EXPECT_TRUE(r.out.ends_with("checked 5: 1 unchanged, 1 changed, 1 gone, 1 moved, 1 failed\n")) << r.out;
  EXPECT_NE(r.out.find("failed     " + server.url("/flaky") + ": GET " + server.url("/flaky") +
                       ": the server answered 503 Service Unavailable\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(std::stoi(a.git({"rev-list", "--count", "main"}).out), std::stoi(commits) + 1);

  // --source and --publisher choose what is watched.
  auto one = a.avow({"watch", "--source", server.url("/press-release")});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, "unchanged  " + server.url("/press-release") +
                         "\nchecked 1: 1 unchanged, 0 changed, 0 gone, 0 moved, 0 failed\n");
  auto none = a.avow({"watch", "--publisher", "Nobody at all"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "checked 0: 0 unchanged, 0 changed, 0 gone, 0 moved, 0 failed\n");
  auto unknown = a.avow({"watch", "--source", server.url("/never-captured")});
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_EQ(unknown.err, "avow: error: no http(s) statement from source '" + server.url("/never-captured") +
                             "' in this archive\n");
}

} // namespace
} // namespace avow::test
