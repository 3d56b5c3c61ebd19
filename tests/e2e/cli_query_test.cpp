// End-to-end: the derived index and the questions it answers: log, check, history, audit, reindex, and automatic
// revision links.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

const std::string k_source = "https://example.org/press/2019/03/29/statement";
const std::string k_v1 = "The office condemned the shelling of residential areas.\n";
const std::string k_v2 = "The office strongly condemned the shelling of residential areas.\n";
const std::string k_v3 = "The office strongly condemned the shelling of residential areas and schools.\n";
// "نطالب المجتمع الدولي بحماية المدنيين"
const std::string k_ar = "\xD9\x86\xD8\xB7\xD8\xA7\xD9\x84\xD8\xA8 \xD8\xA7\xD9\x84\xD9\x85\xD8\xAC\xD8\xAA\xD9\x85\xD8\xB9 "
                         "\xD8\xA7\xD9\x84\xD8\xAF\xD9\x88\xD9\x84\xD9\x8A \xD8\xA8\xD8\xAD\xD9\x85\xD8\xA7\xD9\x8A\xD8\xA9 "
                         "\xD8\xA7\xD9\x84\xD9\x85\xD8\xAF\xD9\x86\xD9\x8A\xD9\x8A\xD9\x86\n";
const std::string k_ar_publisher = "\xD9\x88\xD9\x83\xD8\xA7\xD9\x84\xD8\xA9 \xD8\xA7\xD9\x84\xD8\xA3\xD9\x86\xD8\xA8\xD8\xA7\xD8\xA1"; // وكالة الأنباء

class CliQuery : public ::testing::Test {
protected:
  TempArchive a;
  std::string v1, v2, v3;

  std::string archive(const std::string& text, std::vector<std::string> extra, RunResult* out = nullptr) {
    auto r = a.archive_file(text, extra);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (out) *out = r;
    return r.out.substr(0, r.out.find('\n'));
  }

  void SetUp() override {
    RunResult r;
    v1 = archive(k_v1, {"--source", k_source, "--publisher", "Coalition", "--published", "2019-03-29 18:36", "--tz",
                        "Europe/Istanbul", "--lang", "en"});
    v2 = archive(k_v2, {"--source", k_source, "--publisher", "Coalition", "--published", "2019-03-30 09:00", "--tz",
                        "Europe/Istanbul", "--lang", "en"},
                 &r);
    EXPECT_NE(r.err.find("avow: note: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("supersedes " + v1 + ", the previous version from this source"), std::string::npos) << r.err;
    v3 = archive(k_v3, {"--source", k_source, "--publisher", "Coalition", "--published", "2019-04-02 12:00", "--tz",
                        "Europe/Istanbul", "--lang", "en"});
    archive(k_ar, {"--source", "http://www.spa.gov.sa/1", "--publisher", k_ar_publisher, "--published",
                   "2015-08-01 10:00:00", "--lang", "ar"});
    archive("Reuters wire text.\n", {"--source", "urn:dataset:reuters21578:1", "--publisher", "Reuters", "--published",
                                     "26-FEB-1987 15:01:01.79", "--lang", "en"});
  }
};

TEST_F(CliQuery, RevisionsAreLinkedAndHistoryShowsDiffs) {
  const auto rec2 = a.avow({"show", v2, "--json"}).json()["record"];
  EXPECT_EQ(rec2["supersedes"], v1);
  const auto rec3 = a.avow({"show", v3, "--json"}).json()["record"];
  EXPECT_EQ(rec3["supersedes"], v2);
  auto h = a.avow({"history", "--source", k_source, "--json"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  const auto j = h.json();
  ASSERT_EQ(j["versions"].size(), 3u);
  EXPECT_EQ(j["versions"][0]["id"], v1);
  EXPECT_EQ(j["versions"][1]["id"], v2);
  EXPECT_EQ(j["versions"][2]["id"], v3);
  EXPECT_FALSE(j["versions"][0].contains("diff"));
  EXPECT_EQ(j["versions"][1]["diff"], "The office {+strongly +}condemned the shelling of residential areas.\n");
  EXPECT_EQ(j["versions"][2]["diff"],
            "The office strongly condemned the shelling of residential areas{+ and schools+}.\n");
  auto text = a.avow({"history", "--source", k_source});
  EXPECT_TRUE(text.out.starts_with("3 versions of " + k_source + "\n")) << text.out;
  EXPECT_NE(text.out.find("changes from version 1 ([-removed-] {+added+}):\nThe office {+strongly +}condemned"),
            std::string::npos)
      << text.out;
  EXPECT_EQ(a.avow({"history", "--source", "https://nowhere.example/"}).exit_code, 1);
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliQuery, CheckNamesTheMiddleVersionExactly) {
  write_file(a.tmp() / "copy.txt", k_v2);
  auto r = a.avow({"check", (a.tmp() / "copy.txt").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = r.json();
  ASSERT_EQ(j["matches"].size(), 1u);
  EXPECT_EQ(j["matches"][0]["id"], v2);
  EXPECT_EQ(j["matches"][0]["index"], 2);
  EXPECT_EQ(j["matches"][0]["match"], "byte-identical");
  EXPECT_EQ(j["matches"][0]["source"], k_source);
  // A CRLF copy is canonically identical.
  std::string crlf = k_v2;
  crlf.insert(crlf.size() - 1, "\r");
  write_file(a.tmp() / "crlf.txt", crlf + "\r\n");
  auto c = a.avow({"check", (a.tmp() / "crlf.txt").string()});
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_TRUE(c.out.starts_with("canonical match: entry 2, record " + v2)) << c.out;
  // No match: the closest version of the source, with a diff.
  write_file(a.tmp() / "edited.txt", "The office strongly condemned the shelling of schools.\n");
  auto n = a.avow({"check", (a.tmp() / "edited.txt").string(), "--source", k_source, "--json"});
  EXPECT_EQ(n.exit_code, 1);
  const auto nj = n.json();
  EXPECT_EQ(nj["found"], false);
  EXPECT_EQ(nj["closest"]["id"], v3); // "... of residential areas and schools." is the nearest
  EXPECT_EQ(nj["diff"], "The office strongly condemned the shelling of [-residential areas and -]schools.\n");
  auto none = a.avow({"check", (a.tmp() / "edited.txt").string()});
  EXPECT_EQ(none.exit_code, 1);
  // Without --source, the closest text in the whole archive.
  EXPECT_TRUE(none.out.starts_with("no match\nclosest text in the archive: entry 3, record " + v3 + ", source " +
                                   k_source + ", captured "))
      << none.out;
  EXPECT_TRUE(none.out.ends_with("The office strongly condemned the shelling of [-residential areas and -]schools.\n"))
      << none.out;
}

TEST_F(CliQuery, SameTextAgainIsNothingNewUnlessRecapture) {
  const auto before = a.git({"rev-parse", "main"}).out;
  RunResult r;
  write_file(a.tmp() / "again.txt", k_v3);
  r = a.avow({"archive", (a.tmp() / "again.txt").string(), "--source", k_source, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json()["records"].size(), 0u);
  EXPECT_NE(r.err.find("already archived as " + v3), std::string::npos) << r.err;
  EXPECT_EQ(a.git({"rev-parse", "main"}).out, before);
  auto re = a.avow({"archive", (a.tmp() / "again.txt").string(), "--source", k_source, "--recapture", "--json"});
  ASSERT_EQ(re.exit_code, 0) << re.err;
  ASSERT_EQ(re.json()["records"].size(), 1u);
  EXPECT_EQ(re.json()["records"][0]["index"], 6);
  EXPECT_EQ(a.avow({"history", "--source", k_source, "--json"}).json()["versions"].size(), 4u);
}

TEST_F(CliQuery, ATamperedIndexCannotShapeWhatIsSigned) {
  // Edit the cache so that it claims v3 came from another source; archiving a new text under that source must not
  // link to v3: the claim is checked against the signed log, and the index is rebuilt. (Both columns a source is
  // looked up by.)
  const auto idx = a.dir() / ".git" / "avow" / "index.sqlite";
  auto ed = run_process({"sqlite3", idx.string(),
                         "UPDATE entries SET source='https://elsewhere.example/x', "
                         "source_key='https://elsewhere.example/x' WHERE idx=3;"});
  if (ed.exit_code == 127) GTEST_SKIP() << "sqlite3 command not installed";
  ASSERT_EQ(ed.exit_code, 0) << ed.err;
  write_file(a.tmp() / "elsewhere.txt", "A statement from elsewhere.\n");
  auto r = a.avow({"archive", (a.tmp() / "elsewhere.txt").string(), "--source", "https://elsewhere.example/x", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("the index disagreed with the signed log; rebuilding it"), std::string::npos) << r.err;
  const std::string id = r.json()["records"][0]["id"];
  EXPECT_FALSE(a.avow({"show", id, "--json"}).json()["record"].contains("supersedes"));
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliQuery, LogFiltersAndFormats) {
  const auto ids = [&](const std::vector<std::string>& args) {
    std::vector<std::string> full{"log", "--json"};
    full.insert(full.end(), args.begin(), args.end());
    auto r = a.avow(full);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::uint64_t> out;
    const auto j = r.json();
    for (const auto& row : j) out.push_back(row["index"]);
    return out;
  };
  EXPECT_EQ(ids({}), (std::vector<std::uint64_t>{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(ids({"--oldest-first", "--limit", "2"}), (std::vector<std::uint64_t>{0, 1}));
  EXPECT_EQ(ids({"--publisher", "Coalition"}), (std::vector<std::uint64_t>{3, 2, 1}));
  EXPECT_EQ(ids({"--publisher", "Coalition", "--since", "2019-03-30"}), (std::vector<std::uint64_t>{3, 2}));
  EXPECT_EQ(ids({"--until", "2015-12-31"}), (std::vector<std::uint64_t>{5, 4}));
  EXPECT_EQ(ids({"--since", "2019-03-29T15:36:00Z", "--until", "2019-03-29T15:36:00Z"}), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(ids({"--captured", "--since", "2000-01-01"}).size(), 6u);
  EXPECT_EQ(ids({"--lang", "ar"}), (std::vector<std::uint64_t>{4}));
  EXPECT_EQ(ids({"--kind", "key.add"}), (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(ids({"--grep", "schools"}), (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(ids({"--grep", "\xD8\xA7\xD9\x84\xD9\x85\xD8\xAF\xD9\x86\xD9\x8A\xD9\x8A\xD9\x86"}), (std::vector<std::uint64_t>{4}));
  EXPECT_EQ(ids({"--source", k_source, "--grep", "strongly"}), (std::vector<std::uint64_t>{3, 2}));

  auto csv = a.avow({"log", "--publisher", "Reuters", "--since", "1987-01-01", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0);
  EXPECT_TRUE(csv.out.starts_with("id,index,kind,captured,archivist,source,publisher,title,lang,published.as_written,"
                                  "published.utc,published.local,published.tz,published.calendar,text.sha256,text.bytes,original.sha256,"
                                  "original.bytes,original.encoding,supersedes,meta,key.id,key.role,key.reason\r\n"))
      << csv.out;
  EXPECT_NE(csv.out.find(",5,statement,"), std::string::npos) << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 2);
  auto table = a.avow({"log", "--lang", "ar"});
  EXPECT_NE(table.out.find("\xE2\x81\xA8" + k_ar_publisher + "\xE2\x81\xA9"), std::string::npos) << table.out;

  auto bad = a.avow({"log", "--since", "2020-01-01", "--until", "2019-01-01"});
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("--since 2020-01-01 is after --until 2019-01-01"), std::string::npos) << bad.err;
  EXPECT_EQ(a.avow({"log", "--since", "yesterday-ish"}).exit_code, 3);
  EXPECT_EQ(a.avow({"log", "--format", "xml"}).exit_code, 3);
}

TEST_F(CliQuery, DeletedOrCorruptIndexIsRebuiltWithANotice) {
  const auto want = a.avow({"log", "--json"}).out;
  const auto idx = a.dir() / ".git" / "avow" / "index.sqlite";
  ASSERT_TRUE(fs::exists(idx));
  fs::remove(idx);
  auto r = a.avow({"log", "--json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, want);
  EXPECT_EQ(r.err, "avow: note: the index was missing; rebuilding it\n");
  fs::remove(idx.string() + "-wal");
  fs::remove(idx.string() + "-shm");
  write_file(idx, std::string(8192, 'x'));
  auto c = a.avow({"log", "--json"});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, want);
  EXPECT_TRUE(c.err.starts_with("avow: note: the index was unreadable")) << c.err;
  // verify never trusts the index: a garbage index does not matter to it.
  write_file(idx, "garbage");
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
  auto re = a.avow({"reindex"});
  EXPECT_EQ(re.exit_code, 0) << re.err;
  EXPECT_EQ(re.out, "index rebuilt: 6 entries\n");
}

// log --format csv/json stream their rows; the bytes are those of the whole document (print_json, render_csv).
TEST_F(CliQuery, StreamedLogIsTheWholeDocument) {
  auto j = a.avow({"log", "--format", "json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto doc = nlohmann::json::parse(j.out);
  ASSERT_EQ(doc.size(), 6u);
  EXPECT_EQ(j.out, doc.dump() + "\n"); // compact, one line, as print_json writes it
  EXPECT_EQ(a.avow({"--json", "log"}).out, j.out);
  auto none = a.avow({"log", "--publisher", "Nobody", "--format", "json"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "[]\n");
  EXPECT_EQ(none.err,
            "avow: note: no entries match: --publisher 'Nobody' matches none of the 6 entries that pass the other "
            "filters\n");
  auto csv_none = a.avow({"log", "--publisher", "Nobody", "--format", "csv"});
  EXPECT_EQ(csv_none.out, "id,index,kind,captured,archivist,source,publisher,title,lang,published.as_written,"
                          "published.utc,published.local,published.tz,published.calendar,text.sha256,text.bytes,"
                          "original.sha256,original.bytes,original.encoding,supersedes,meta,key.id,key.role,"
                          "key.reason\r\n");
  auto csv = a.avow({"log", "--format", "csv", "--oldest-first"});
  ASSERT_EQ(csv.exit_code, 0);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 7);
  EXPECT_TRUE(csv.out.starts_with(csv_none.out + doc[5]["id"].get<std::string>() + ",0,key.add,")) << csv.out;
  auto bad = a.avow({"log", "--since", "yesterday-ish", "--format", "json"});
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_EQ(bad.out, "");
}

// reindex builds a new file beside the index and renames it into place; a file left by a killed build is ignored
// until then and removed.
TEST_F(CliQuery, ReindexReplacesTheIndexAndItsLeftovers) {
  const auto want = a.avow({"log", "--json"}).out;
  const auto idx = a.dir() / ".git" / "avow" / "index.sqlite";
  write_file(fs::path(idx.string() + ".new"), "half a build");
  EXPECT_EQ(a.avow({"log", "--json"}).out, want);
  auto re = a.avow({"reindex"});
  EXPECT_EQ(re.exit_code, 0) << re.err;
  EXPECT_EQ(re.out, "index rebuilt: 6 entries\n");
  EXPECT_FALSE(fs::exists(idx.string() + ".new"));
  EXPECT_TRUE(fs::exists(idx));
  auto again = a.avow({"log", "--json"});
  EXPECT_EQ(again.out, want);
  EXPECT_EQ(again.err, "");
  EXPECT_EQ(a.avow({"log", "--grep", "schools", "--format", "csv"}).out,
            a.avow({"log", "--grep", "schools", "--format", "csv"}).out);
}

// A rebuild finds each text by the first 8 bytes of its SHA-256 in one listing of texts/, then takes a blob only if it
// hashes to the text's SHA-256: a stray file whose name shares those bytes (and sorts first) is never indexed as the
// statement's text, and the statement's own text still is.
TEST_F(CliQuery, ReindexTakesOnlyTheTextThatHashesToItsName) {
  const std::string sha = a.avow({"show", v1, "--json"}).json()["record"]["text"]["sha256"];
  ASSERT_EQ(sha.size(), 64u);
  const std::string decoy = sha.substr(0, 16) + std::string(48, '0');
  ASSERT_LT(decoy, sha);
  const std::string folder = "texts/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/";
  auto env = a.env();
  env["GIT_INDEX_FILE"] = (a.tmp() / "decoy.index").string();
  env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "avow";
  env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "avow@localhost";
  const auto git = [&](const std::vector<std::string>& args, const std::string& in = {}) {
    std::vector<std::string> argv{"git", "-C", a.dir().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv, in, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
  };
  git({"read-tree", "main"});
  const std::string blob = git({"hash-object", "-w", "--stdin"}, "Zanzibar decoy words.\n");
  git({"update-index", "--add", "--cacheinfo", "100644," + blob + "," + folder + decoy});
  const std::string tree = git({"write-tree"});
  git({"update-ref", "refs/heads/main", git({"commit-tree", tree, "-p", "main", "-m", "decoy"})});
  ASSERT_EQ(git({"ls-tree", "--name-only", "main", folder}).find(decoy), folder.size()) << "the decoy is first";

  auto re = a.avow({"reindex"});
  ASSERT_EQ(re.exit_code, 0) << re.err;
  EXPECT_EQ(re.out, "index rebuilt: 6 entries\n");
  auto none = a.avow({"log", "--grep", "Zanzibar", "--format", "csv"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(std::count(none.out.begin(), none.out.end(), '\n'), 1) << none.out; // the header alone
  auto found = a.avow({"log", "--grep", "residential", "--format", "csv"});
  EXPECT_EQ(found.exit_code, 0);
  EXPECT_EQ(std::count(found.out.begin(), found.out.end(), '\n'), 4) << found.out; // the header and v1, v2, v3
  EXPECT_NE(found.out.find(v1 + ","), std::string::npos) << found.out;
}

// The root page of the index on record ids in the index file (a new one when the secondary indexes were sorted anew).
std::int64_t id_index_root(const fs::path& file) {
  sqlite3* db = nullptr;
  std::int64_t root = -1;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_master WHERE name = 'entries_id'", -1, &s, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      root = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return root;
}

// Put the index saved in `saved` back (as a restored backup: no WAL beside it), then check that the log it follows on
// to is `want`, without a word on stderr.
void expect_follow_on_gives(TempArchive& a, const fs::path& saved, const std::string& want) {
  const auto idx = a.dir() / ".git" / "avow" / "index.sqlite";
  fs::remove(idx.string() + "-wal");
  fs::remove(idx.string() + "-shm");
  fs::copy_file(saved, idx, fs::copy_options::overwrite_existing);
  auto r = a.avow({"log", "--format", "csv", "--oldest-first"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(r.out == want) << "the log after following on differs from the log before";
}

// An index left behind by more than one chunk (4,096 entries), at a size that is not a multiple of 256 (a pull of many
// entries, or an index restored from a backup): the next command follows on. Its chunks used to end 4,096 entries
// after the old size, mid-bundle, so it asked for a partial entry bundle the tip no longer has and exited 3. So many
// entries against so small an index are added in one transaction with the secondary indexes sorted anew, both by the
// batch and by the follow-on (index::Index::sorts_indexes).
TEST_F(CliQuery, AnIndexFarBehindFollowsOnFromAnySize) {
  const auto idx = a.dir() / ".git" / "avow" / "index.sqlite";
  ASSERT_EQ(a.avow({"log", "--format", "csv"}).exit_code, 0);
  const auto saved = a.tmp() / "index-at-6.sqlite";
  fs::copy_file(idx, saved);
  const std::int64_t root_at_6 = id_index_root(saved);
  ASSERT_GT(root_at_6, 0);
  std::string manifest;
  for (int n = 0; n < 4300; ++n)
    manifest += nlohmann::json({{"text", "Follow-on statement " + std::to_string(n) + ".\n"},
                                {"source", "https://example.org/follow/" + std::to_string(n)}})
                    .dump() +
                "\n";
  auto batch = a.avow({"-q", "archive", "--batch", a.file("m.jsonl", manifest)});
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  const auto want = a.avow({"log", "--format", "csv", "--oldest-first"});
  ASSERT_EQ(std::count(want.out.begin(), want.out.end(), '\n'), 1 + 6 + 4300);
  EXPECT_NE(id_index_root(idx), root_at_6) << "the batch added its entries one by one";

  expect_follow_on_gives(a, saved, want.out);
  EXPECT_NE(id_index_root(idx), root_at_6) << "the follow-on added its entries one by one";
  auto grep = a.avow({"log", "--grep", "4299", "--format", "csv"});
  EXPECT_EQ(std::count(grep.out.begin(), grep.out.end(), '\n'), 2) << grep.out;
}

// An index behind by fewer entries than a chunk, but across a chunk's end (4,000 -> 4,306: [4000, 4096) and
// [4096, 4306)): the follow-on adds them a transaction a chunk, in place (not sorted anew: too few), and records the
// checkpoint with the last; the log, a search in each chunk and the next command are as if it had never been behind.
TEST_F(CliQuery, AnIndexBehindAcrossAChunkEndFollowsOnAChunkAtATime) {
  const auto idx = a.dir() / ".git" / "avow" / "index.sqlite";
  const auto batch_of = [&](int from, int to) {
    std::string manifest;
    for (int n = from; n < to; ++n)
      manifest += nlohmann::json({{"text", "Chunked statement " + std::to_string(n) + ", marked c" + std::to_string(n) + ".\n"},
                                  {"source", "https://example.org/chunked/" + std::to_string(n)}})
                      .dump() +
                  "\n";
    return a.avow({"-q", "archive", "--batch", a.file("m" + std::to_string(from) + ".jsonl", manifest)});
  };
  auto first = batch_of(0, 3994); // with the fixture's 6: 4,000 entries
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(a.avow({"log", "--limit", "1"}).exit_code, 0);
  const auto saved = a.tmp() / "index-at-4000.sqlite";
  fs::copy_file(idx, saved);
  const std::int64_t root_at_4000 = id_index_root(saved);
  ASSERT_GT(root_at_4000, 0);
  auto second = batch_of(3994, 4300);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const auto want = a.avow({"log", "--format", "csv", "--oldest-first"});
  ASSERT_EQ(std::count(want.out.begin(), want.out.end(), '\n'), 1 + 6 + 4300);

  expect_follow_on_gives(a, saved, want.out);
  EXPECT_EQ(id_index_root(idx), root_at_4000) << "the follow-on rebuilt the index or sorted its indexes anew";
  for (int n : {3994, 4089, 4090, 4299}) { // entries 4000, 4095 (first chunk), 4096, 4305 (second)
    auto grep = a.avow({"log", "--grep", "c" + std::to_string(n), "--json"});
    ASSERT_EQ(grep.exit_code, 0) << grep.err;
    const auto rows = grep.json();
    ASSERT_EQ(rows.size(), 1u) << n;
    EXPECT_EQ(rows[0]["index"], 6 + n);
  }
  auto again = a.avow({"log", "--limit", "1"}); // the checkpoint was recorded: nothing to follow on, nothing rebuilt
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.err, "");
  EXPECT_EQ(id_index_root(idx), root_at_4000);
}

// reindex reads and parses its chunks of 4,096 entries on several threads and hands them to the builder in log order:
// an index rebuilt over three chunks is the one the writes built, row for row, and each text is found under its own
// entry in every chunk (a chunk's texts attached to another chunk's entries, or chunks out of order, would show).
TEST_F(CliQuery, ReindexOverSeveralChunksGivesTheIndexTheWritesBuilt) {
  constexpr int n = 8600; // with the fixture's 6 entries: chunks [0, 4096), [4096, 8192), [8192, 8606)
  std::string manifest;
  for (int k = 0; k < n; ++k)
    manifest += nlohmann::json({{"text", "Rebuild statement " + std::to_string(k) + ", marked w" + std::to_string(k) + ".\n"},
                                {"source", "https://example.org/rebuild/" + std::to_string(k % 1000)},
                                {"publisher", "Publisher " + std::to_string(k % 7)},
                                {"title", "Title " + std::to_string(k)}})
                    .dump() +
                "\n";
  auto batch = a.avow({"-q", "archive", "--batch", a.file("m.jsonl", manifest)});
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  const auto marked = [&](int k) {
    auto r = a.avow({"log", "--grep", "w" + std::to_string(k), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::uint64_t> out;
    const auto j = r.json();
    for (const auto& row : j) out.push_back(row["index"]);
    return out;
  };
  const std::vector<int> probes{0, 4089, 4090, 8185, 8186, n - 1};
  std::vector<std::vector<std::uint64_t>> before;
  for (int k : probes) before.push_back(marked(k));
  const auto want = a.avow({"log", "--format", "csv", "--oldest-first"});
  ASSERT_EQ(std::count(want.out.begin(), want.out.end(), '\n'), 1 + 6 + n);

  auto re = a.avow({"reindex"});
  ASSERT_EQ(re.exit_code, 0) << re.err;
  EXPECT_EQ(re.out, "index rebuilt: " + std::to_string(6 + n) + " entries\n");
  const auto got = a.avow({"log", "--format", "csv", "--oldest-first"});
  EXPECT_EQ(got.exit_code, 0);
  EXPECT_TRUE(got.out == want.out) << "the rebuilt index's log differs from the log the writes built";
  for (std::size_t p = 0; p < probes.size(); ++p) {
    const auto after = marked(probes[p]);
    EXPECT_EQ(after, before[p]) << "w" << probes[p];
    EXPECT_EQ(after, (std::vector<std::uint64_t>{static_cast<std::uint64_t>(6 + probes[p])})) << "w" << probes[p];
  }
  auto sample = a.avow({"log", "--publisher", "Publisher 3", "--grep", "statement", "--format", "csv"});
  EXPECT_EQ(std::count(sample.out.begin(), sample.out.end(), '\n'), 1 + (n + 3) / 7) << sample.out.substr(0, 300);
}

TEST_F(CliQuery, AuditCountsDistinctTexts) {
  // The same text under another source: one statement more, no text more.
  archive("Reuters wire text.\n", {"--source", "urn:dataset:reuters21578:2", "--publisher", "Reuters"});
  auto r = a.avow({"audit", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json()["statements"], 6);
  EXPECT_EQ(r.json()["texts"], 5);
  auto f = a.avow({"audit", "--publisher", "Reuters", "--json"}).json();
  EXPECT_EQ(f["statements"], 2);
  EXPECT_EQ(f["texts"], 1);
}

TEST_F(CliQuery, AuditTextJsonAndHtml) {
  auto j = a.avow({"audit", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto r = j.json();
  EXPECT_EQ(r["entries"], 6);
  EXPECT_EQ(r["statements"], 5);
  EXPECT_EQ(r["texts"], 5); // distinct canonical texts, counted by the index
  EXPECT_EQ(r["publishers"][0], nlohmann::json({{"key", "Coalition"}, {"count", 3}}));
  EXPECT_EQ(r["languages"][0], nlohmann::json({{"key", "en"}, {"count", 4}}));
  EXPECT_EQ(r["most_revised"][0]["source"], k_source);
  EXPECT_EQ(r["most_revised"][0]["versions"], 3);
  EXPECT_EQ(r["key_events"].size(), 1u);
  EXPECT_EQ(r["problems"].size(), 0u);
  auto f = a.avow({"audit", "--publisher", "Coalition", "--json"}).json();
  EXPECT_EQ(f["statements"], 3);
  EXPECT_EQ(f["filter"], "publisher = Coalition");
  EXPECT_EQ(f["texts"], 3);
  // The distinct texts are those of the statements the other filters select, whatever --kind says.
  auto k = a.avow({"audit", "--kind", "key.add", "--json"}).json();
  EXPECT_EQ(k["statements"], 0);
  EXPECT_EQ(k["texts"], 5);
  auto text = a.avow({"audit"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_TRUE(text.out.starts_with("audit of archive 'test.avow.example/archive'")) << text.out;
  // The first audit checked the whole archive and remembered its tip: nothing was added since.
  EXPECT_EQ(r["check"]["scope"], "whole");
  const std::string tip = a.git({"rev-parse", "main"}).out.substr(0, 12);
  EXPECT_NE(text.out.find("\ncheck: nothing added since commit " + tip + " (verified on this machine; audit --full "
                          "checks everything): no problems found\n"),
            std::string::npos)
      << text.out;
  EXPECT_NE(a.avow({"audit", "--full"}).out.find("\nverify --quick: no problems found\n"), std::string::npos);
  auto html = a.avow({"audit", "--format", "html"});
  ASSERT_EQ(html.exit_code, 0);
  EXPECT_TRUE(html.out.starts_with("<!DOCTYPE html>")) << html.out.substr(0, 80);
  EXPECT_NE(html.out.find(k_ar_publisher), std::string::npos);
  EXPECT_NE(html.out.find("dir=\"auto\""), std::string::npos);
  // With chromium installed, the real report renders to a PNG.
  if (fs::exists("/usr/bin/chromium")) {
    write_file(a.tmp() / "audit.html", html.out);
    const auto png = a.tmp() / "audit.png";
    auto shot = run_process({"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                             "--no-first-run", "--disable-background-networking", "--disable-component-update",
                             "--disable-sync", "--user-data-dir=" + (a.tmp() / "chrome").string(),
                             "--window-size=1200,1600", "--screenshot=" + png.string(),
                             "file://" + (a.tmp() / "audit.html").string()});
    EXPECT_EQ(shot.exit_code, 0) << shot.err;
    EXPECT_GT(fs::file_size(png), 10000u);
    if (const char* keep = std::getenv("AVOW_SCREENSHOT_OUT")) fs::copy_file(png, keep, fs::copy_options::overwrite_existing);
  }
}

TEST(CliQueryLarge, ASourceWithAThousandVersions) {
  TempArchive a;
  std::string manifest;
  for (int i = 1; i <= 1000; ++i)
    manifest += "{\"text\":\"Version " + std::to_string(i) + " of the statement.\\n\",\"source\":\"https://e.org/s\"}\n";
  write_file(a.tmp() / "m.jsonl", manifest);
  auto r = a.avow({"archive", "--batch", (a.tmp() / "m.jsonl").string(), "--json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto records = r.json()["records"];
  ASSERT_EQ(records.size(), 1000u);
  // Each version supersedes the one before it, within one batch.
  EXPECT_EQ(a.avow({"show", records[999]["id"], "--json"}).json()["record"]["supersedes"], records[998]["id"]);
  auto h = a.avow({"history", "--source", "https://e.org/s", "--json"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  const auto j = h.json();
  ASSERT_EQ(j["versions"].size(), 1000u);
  EXPECT_EQ(j["versions"][999]["diff"], "Version [-999-]{+1000+} of the statement.\n");
  write_file(a.tmp() / "v500.txt", "Version 500 of the statement.\n");
  auto c = a.avow({"check", (a.tmp() / "v500.txt").string(), "--json"});
  ASSERT_EQ(c.exit_code, 0);
  EXPECT_EQ(c.json()["matches"][0]["id"], records[499]["id"]);
  auto audit = a.avow({"audit", "--json"}).json();
  EXPECT_EQ(audit["most_revised"][0]["versions"], 1000);
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

} // namespace
} // namespace avow::test
