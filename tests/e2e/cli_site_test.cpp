// End-to-end: `avow site OUTDIR` (docs/FORMAT.md §20). The exact files written, the log data byte for byte as the
// archive holds it, deterministic output, hostile titles, texts and source URIs neutralised, and the refusals: a
// non-empty folder avow did not write, a file, a killed run (the previous site stays whole). The in-browser Verify
// is tested by tests/site/ (ctest site.browser, site.large, site.verify_unit).

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

// Every regular file under `dir` (relative path -> bytes), and nothing else: a folder snapshot to compare.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = read_file(e.path());
    else if (!e.is_directory()) out[fs::relative(e.path(), dir).string()] = "<not a file>";
  }
  return out;
}

std::string id_of(const RunResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string id = r.out;
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

class CliSite : public ::testing::Test {
protected:
  TempArchive a{"example.org/site"};
  std::string en1, en2, hostile;
  void SetUp() override {
    en1 = id_of(a.archive_file("The ministry announced a new budget today.\n",
                               {"--source", "https://example.org/budget", "--publisher", "Example Press", "--title",
                                "Budget", "--published", "2024-03-29T18:36:00Z"}));
    en2 = id_of(a.archive_file("The ministry announced a larger budget today.\n",
                               {"--source", "https://example.org/budget", "--publisher", "Example Press", "--title",
                                "Budget (updated)"}));
    hostile = id_of(a.archive_file("<img src=x onerror=alert(1)> & \"quoted\" </div>\n",
                                   {"--source", "javascript:alert(1)", "--publisher", "<b>Evil</b>", "--title",
                                    "<script>alert(1)</script>"}));
  }
  fs::path out() const { return a.tmp() / "site"; }
};

TEST_F(CliSite, WritesExactlyTheseFiles) {
  const auto r = a.avow({"site", out().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "site of example.org/site written to " + out().string() +
                       ": 3 record pages, 2 sources, 2 publishers, tree size 4 (30 files, " +
                       std::to_string([&] {
                         std::uint64_t n = 0;
                         for (const auto& [p, b] : snapshot(out())) n += b.size();
                         return n;
                       }()) +
                       " bytes)\n");
  EXPECT_EQ(r.err, "");
  const auto files = snapshot(out());
  std::vector<std::string> names;
  for (const auto& [p, b] : files) names.push_back(p);
  const auto sha = [](const std::string& s) {
    const auto r2 = run_process({"sha256sum"}, s);
    return r2.out.substr(0, 64);
  };
  const auto text_path = [&](const std::string& text) {
    const auto h = sha(text);
    return "texts/" + h.substr(0, 2) + "/" + h.substr(2, 2) + "/" + h;
  };
  std::vector<std::string> expected{
      ".avow-site",
      "assets/LICENSE.noble-ed25519.txt",
      "assets/avow.css",
      "assets/noble-ed25519.js",
      "assets/site.js",
      "assets/verify.js",
      "avow.json",
      "checkpoint",
      "data/avow.json.js",
      "data/checkpoint.js",
      "data/keys.json.js",
      "data/tile/0/000.p/4.js",
      "data/tile/entries/000.p/4.js",
      "index.html",
      "keys.json",
      "p/" + sha("<b>Evil</b>") + ".html",
      "p/" + sha("Example Press") + ".html",
      "publishers.html",
      "r/" + en1 + ".html",
      "r/" + en2 + ".html",
      "r/" + hostile + ".html",
      "s/" + sha("https://example.org/budget") + ".html",
      "s/" + sha("javascript:alert(1)") + ".html",
      "search-index.js",
      "sources.html",
      text_path("The ministry announced a new budget today.\n"),
      text_path("The ministry announced a larger budget today.\n"),
      text_path("<img src=x onerror=alert(1)> & \"quoted\" </div>\n"),
      "tile/0/000.p/4",
      "tile/entries/000.p/4",
  };
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names, expected);
  EXPECT_EQ(files.size(), 30u);

  // The log data is the archive's, byte for byte, under the same paths; the marker is fixed.
  EXPECT_EQ(files.at("checkpoint"), a.git_show("log/checkpoint"));
  EXPECT_EQ(files.at("keys.json"), a.git_show("log/keys"));
  EXPECT_EQ(files.at("avow.json"), a.git_show("avow.json"));
  EXPECT_EQ(files.at("tile/0/000.p/4"), a.git_show("log/tile/0/000.p/4"));
  EXPECT_EQ(files.at("tile/entries/000.p/4"), a.git_show("log/tile/entries/000.p/4"));
  EXPECT_EQ(files.at(".avow-site"), "avow.site/1\n");
  EXPECT_EQ(files.at(text_path("The ministry announced a new budget today.\n")),
            "The ministry announced a new budget today.\n");
  // The file:// form of a data file: the same bytes in base64 for the registered callback.
  const auto b64 = run_process({"base64", "-w0"}, files.at("checkpoint")).out;
  EXPECT_EQ(files.at("data/checkpoint.js"), "avowData(\"checkpoint\",\"" + b64 + "\");\n");
  // The assets are the embedded files of archive/site/, the fallback wrapped as a classic script.
  EXPECT_EQ(files.at("assets/verify.js"), read_file(fs::path(AVOW_SOURCE_DIR) / "archive/site/verify.js"));
  const auto noble = read_file(fs::path(AVOW_SOURCE_DIR) / "archive/site/vendor/noble-ed25519.js");
  const auto& wrapped = files.at("assets/noble-ed25519.js");
  EXPECT_NE(wrapped.find(noble.substr(0, noble.rfind("\nexport {"))), std::string::npos);
  EXPECT_EQ(wrapped.find("\nexport {"), std::string::npos);
  EXPECT_NE(wrapped.find("globalThis.nobleEd25519 = { etc, getPublicKey,"), std::string::npos);

  // The home page names the scripts' hashes, to compare with a release's.
  const auto verify_js = read_file(fs::path(AVOW_SOURCE_DIR) / "archive/site/verify.js");
  EXPECT_NE(files.at("index.html").find("<p>The Verify runs <a href=\"assets/verify.js\">assets/verify.js</a>, SHA-256 "
                                        "<code class=\"id\">" + sha(verify_js) + "</code>"),
            std::string::npos);

  // The record page carries what the Verify needs and the versions' word diff.
  const auto& page = files.at("r/" + en2 + ".html");
  EXPECT_NE(page.find("<article id=\"record\" data-id=\"" + en2 + "\" data-index=\"2\">"), std::string::npos);
  EXPECT_NE(page.find("<div id=\"text\" class=\"text\" dir=\"auto\">The ministry announced a larger budget today.\n"
                      "</div>"),
            std::string::npos);
  EXPECT_NE(page.find("announced a <del>new</del><ins>larger</ins> budget"), std::string::npos) << page;
  EXPECT_NE(page.find("<p id=\"verify-result\" class=\"result\" role=\"status\" aria-live=\"polite\"></p>"),
            std::string::npos);
  EXPECT_NE(page.find("<button type=\"button\" id=\"verify\">Verify this record</button>"), std::string::npos);
}

TEST_F(CliSite, SameArchiveGivesByteIdenticalSites) {
  ASSERT_EQ(a.avow({"site", out().string()}).exit_code, 0);
  const auto first = snapshot(out());
  const auto other = a.tmp() / "other";
  ASSERT_EQ(a.avow({"site", other.string()}).exit_code, 0);
  EXPECT_EQ(snapshot(other), first);
  // A mirror of the archive (git clone --bare) gives the same site too.
  const auto mirror = a.tmp() / "mirror.git";
  ASSERT_EQ(run_process({"git", "clone", "-q", "--bare", a.dir().string(), mirror.string()}, {}, a.env()).exit_code, 0);
  const auto from_mirror = a.tmp() / "from-mirror";
  const auto r = a.avow_raw({"-C", mirror.string(), "site", from_mirror.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(snapshot(from_mirror), first);
  // Rewriting over the previous site gives the same bytes again, and says it replaced it.
  const auto again = a.avow({"site", out().string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("; the previous site was replaced\n"), std::string::npos) << again.out;
  EXPECT_EQ(snapshot(out()), first);
}

TEST_F(CliSite, HostileTitlesTextsAndUrisAreNeutralised) {
  ASSERT_EQ(a.avow({"site", out().string()}).exit_code, 0);
  const auto files = snapshot(out());
  for (const auto& [path, bytes] : files) {
    if (!path.ends_with(".html")) continue;
    EXPECT_EQ(bytes.find("<script>alert"), std::string::npos) << path;
    EXPECT_EQ(bytes.find("<img"), std::string::npos) << path;
    EXPECT_EQ(bytes.find("<b>Evil"), std::string::npos) << path;
    EXPECT_EQ(bytes.find("href=\"javascript"), std::string::npos) << path;
    EXPECT_EQ(bytes.find("href=\"&#106;"), std::string::npos) << path;
  }
  const auto& page = files.at("r/" + hostile + ".html");
  EXPECT_NE(page.find("<h1 dir=\"auto\">&lt;script&gt;alert(1)&lt;/script&gt;</h1>"), std::string::npos) << page;
  EXPECT_NE(page.find(">&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot; &lt;/div&gt;\n</div>"),
            std::string::npos);
  EXPECT_NE(page.find("<dt>Source</dt><dd><bdi class=\"uri\">javascript:alert(1)</bdi>"), std::string::npos);
  EXPECT_NE(page.find("<title>&lt;script&gt;alert(1)&lt;/script&gt; \xC2\xB7 example.org/site</title>"),
            std::string::npos);
  const auto& good = files.at("r/" + en1 + ".html");
  EXPECT_NE(good.find("<a href=\"https://example.org/budget\" rel=\"nofollow noopener noreferrer\" dir=\"auto\">"),
            std::string::npos);
  // The search index is JSON strings inside a script file: a title cannot end the script or the string.
  const auto& index = files.at("search-index.js");
  EXPECT_NE(index.find("[\"" + hostile + "\",\"<script>alert(1)</script>\",\"<b>Evil</b>\",\"javascript:alert(1)\","
                       "\"<img src=x onerror=alert(1)> & \\\"quoted\\\" </div> \"]"),
            std::string::npos)
      << index;
}

TEST_F(CliSite, RefusesAFolderItDidNotWriteAndAFile) {
  const auto foreign = a.tmp() / "foreign";
  write_file(foreign / "notes.txt", "mine\n");
  const auto before = snapshot(foreign);
  auto r = a.avow({"site", foreign.string()});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "avow: error: '" + foreign.string() +
                       "' is not empty and is not a site avow wrote (no .avow-site file): refusing to replace it\n");
  EXPECT_EQ(snapshot(foreign), before);

  // A marker with other content is not ours either.
  write_file(foreign / ".avow-site", "something else\n");
  EXPECT_EQ(a.avow({"site", foreign.string()}).exit_code, 4);

  const auto file = a.tmp() / "a-file";
  write_file(file, "x");
  r = a.avow({"site", file.string()});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err, "avow: error: '" + file.string() + "' exists and is not a folder: refusing to write a site there\n");
  EXPECT_EQ(read_file(file), "x");

  // An empty folder is fine; no temporary folder is left beside it.
  const auto empty = a.tmp() / "empty";
  fs::create_directory(empty);
  ASSERT_EQ(a.avow({"site", empty.string()}).exit_code, 0);
  EXPECT_TRUE(fs::exists(empty / "index.html"));
  for (const auto& e : fs::directory_iterator(a.tmp().path()))
    EXPECT_EQ(e.path().filename().string().find(".avow-site-"), std::string::npos) << e.path();

  // Usage: OUTDIR is required (exit 2); not an archive (exit 4).
  EXPECT_EQ(a.avow({"site"}).exit_code, 2);
  EXPECT_EQ(a.avow_raw({"-C", (a.tmp() / "nowhere").string(), "site", (a.tmp() / "x").string()}).exit_code, 4);
  EXPECT_FALSE(fs::exists(a.tmp() / "x"));
}

TEST_F(CliSite, AKilledRunLeavesThePreviousSiteWhole) {
  ASSERT_EQ(a.avow({"site", out().string()}).exit_code, 0);
  const auto before = snapshot(out());
  ASSERT_EQ(a.archive_file("A fourth statement.\n", {"--source", "https://example.org/four"}).exit_code, 0);
  // A file size limit of 16 KiB: writing the 40 KiB fallback library kills avow with SIGXFSZ mid-site.
  const auto r = run_process({"bash", "-c", "ulimit -f 16; exec \"$0\" -C \"$1\" site \"$2\"", avow_bin(),
                              a.dir().string(), out().string()},
                             {}, a.env());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(snapshot(out()), before) << "the site was changed by a killed run";
  // The next run removes the killed run's temporary folder and writes the new site.
  const auto again = a.avow({"site", out().string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(snapshot(out()), before);
  EXPECT_EQ(snapshot(out()).at("checkpoint"), a.git_show("log/checkpoint"));
  for (const auto& e : fs::directory_iterator(a.tmp().path()))
    EXPECT_EQ(e.path().filename().string().find(".site.avow-site-"), std::string::npos) << e.path();
}

TEST_F(CliSite, JsonOutput) {
  const auto r = a.avow({"--json", "site", out().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = r.json();
  EXPECT_EQ(j["records"], 3);
  EXPECT_EQ(j["sources"], 2);
  EXPECT_EQ(j["publishers"], 2);
  EXPECT_EQ(j["tree_size"], 4);
  EXPECT_EQ(j["files"], 30);
  EXPECT_EQ(j["replaced"], false);
  EXPECT_EQ(j["outdir"], out().string());
}

TEST(CliSiteLegacy, AnArchiveWithoutKeyStateGetsTheRecomputedState) {
  // An archive as a version before key state wrote it (no log/keys): the site carries the state recomputed from the
  // log (its Verify then says the checkpoint commits to no key state; FORMAT.md §20.1).
  TempArchive a{"example.org/legacy"};
  const auto legacy = a.tmp() / "legacy";
  make_legacy_copy(a.dir(), legacy);
  const auto out = a.tmp() / "site";
  const auto r = a.avow_raw({"-C", legacy.string(), "site", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(out / "checkpoint").find("avow-keys"), std::string::npos);
  EXPECT_EQ(read_file(out / "keys.json"), a.git_show("log/keys")) << "the same state as the archive it was copied from";
  EXPECT_EQ(read_file(out / "checkpoint"), run_process({"git", "-C", legacy.string(), "cat-file", "blob",
                                                       "main:log/checkpoint"}).out);
}

} // namespace
} // namespace avow::test
