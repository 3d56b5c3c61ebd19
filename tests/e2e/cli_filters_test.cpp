// End-to-end: filters that say why (issue 7): --archivist by prefix, language tags in any case, the near source
// suggested for an empty answer, the filter that removed everything named, check without --source, history of a
// recapture, verify-proof naming who said what, and log output that is whole (pipes) and complete (CSV, JSON).

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

const std::string k_source = "https://e.org/x";
const std::string k_v1 = "The ministry announced the reopening of the northern crossing.\n";
const std::string k_v2 = "The ministry announced the reopening of the northern and southern crossings.\n";

// Split RFC 4180 CSV (CRLF records, quoted fields with doubled quotes) into records of fields.
std::vector<std::vector<std::string>> parse_csv(const std::string& csv) {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < csv.size(); ++i) {
    const char c = csv[i];
    if (quoted) {
      if (c == '"' && i + 1 < csv.size() && csv[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < csv.size() && csv[i + 1] == '\n') {
      record.push_back(std::move(field));
      field.clear();
      out.push_back(std::move(record));
      record.clear();
      ++i;
    } else {
      field += c;
    }
  }
  return out;
}

class CliFilters : public ::testing::Test {
protected:
  TempArchive a;
  std::string v1, v2, gb, fr, archivist;

  std::string archive(const std::string& text, std::vector<std::string> extra, RunResult* out = nullptr) {
    auto r = a.archive_file(text, extra);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (out) *out = r;
    return r.out.substr(0, r.out.find('\n'));
  }

  void SetUp() override {
    v1 = archive(k_v1, {"--source", k_source, "--publisher", "Ministry", "--lang", "en", "--published",
                        "2019-03-29T18:36:00+03:00"});
    v2 = archive(k_v2, {"--source", k_source, "--publisher", "Ministry", "--lang", "en", "--published",
                        "2019-03-30T09:00:00+03:00"});
    gb = archive("The council met on Tuesday to discuss the harbour.\n",
                 {"--source", "https://e.org/gb", "--publisher", "Council", "--lang", "en-GB"});
    fr = archive("Le conseil s'est r\xC3\xA9uni mardi.\n",
                 {"--source", "https://e.org/fr", "--publisher", "Conseil", "--lang", "fr"});
    archivist = a.avow({"show", v1, "--json"}).json()["record"]["archivist"];
    ASSERT_EQ(archivist.size(), 64u);
  }

  std::vector<std::uint64_t> indexes(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::uint64_t> out;
    for (const auto& row : r.json()) out.push_back(row["index"]);
    return out;
  }
};

TEST_F(CliFilters, ArchivistTakesTheIdThatInitShowAndKeyListPrint) {
  const std::vector<std::uint64_t> statements{4, 3, 2, 1};
  const auto full = a.avow({"log", "--archivist", archivist, "--json"});
  EXPECT_EQ(indexes(full), statements);
  EXPECT_EQ(full.err, "");
  // The 16 hex that init, show and key list print; 8 hex; upper case.
  EXPECT_EQ(indexes(a.avow({"log", "--archivist", archivist.substr(0, 16), "--json"})), statements);
  EXPECT_EQ(indexes(a.avow({"log", "--archivist", archivist.substr(0, 8), "--json"})), statements);
  std::string upper = archivist.substr(0, 16);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(indexes(a.avow({"log", "--archivist", upper, "--json"})), statements);
  // Audit takes it too.
  auto audit = a.avow({"audit", "--archivist", archivist.substr(0, 16), "--json"});
  EXPECT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_EQ(audit.json()["statements"], 4);
  EXPECT_EQ(audit.json()["filter"], "archivist = " + archivist);

  // Too short, not hex: exit 3, one line, nothing on stdout.
  auto short7 = a.avow({"log", "--archivist", archivist.substr(0, 7)});
  EXPECT_EQ(short7.exit_code, 3);
  EXPECT_EQ(short7.out, "");
  EXPECT_EQ(short7.err,
            "avow: error: --archivist '" + archivist.substr(0, 7) + "' is not a key id: expected 8 to 64 hex digits\n");
  auto nothex = a.avow({"log", "--archivist", "33eaca3g519d3bbd"});
  EXPECT_EQ(nothex.exit_code, 3);
  EXPECT_EQ(nothex.err, "avow: error: --archivist '33eaca3g519d3bbd' is not a key id: expected 8 to 64 hex digits\n");

  // A prefix of no key of this archive: an empty answer that says which filter removed everything.
  const std::string other = archivist[0] == '0' ? "10000000" : "00000000";
  auto none = a.avow({"log", "--archivist", other, "--json"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "[]\n");
  EXPECT_EQ(none.err, "avow: note: no entries match: --archivist '" + other +
                          "' matches none of the 5 entries that pass the other filters\n");
}

TEST_F(CliFilters, LanguageTagsCompareInAnyCaseAndBySubtag) {
  EXPECT_EQ(indexes(a.avow({"log", "--lang", "EN", "--json"})), (std::vector<std::uint64_t>{3, 2, 1}));
  EXPECT_EQ(indexes(a.avow({"log", "--lang", "en", "--json"})), (std::vector<std::uint64_t>{3, 2, 1}));
  EXPECT_EQ(indexes(a.avow({"log", "--lang", "en-gb", "--json"})), (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(indexes(a.avow({"log", "--lang", "EN-GB", "--json"})), (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(indexes(a.avow({"log", "--lang", "Fr", "--json"})), (std::vector<std::uint64_t>{4}));
  // "e" is not a subtag of "en".
  auto e = a.avow({"log", "--lang", "e", "--json"});
  EXPECT_EQ(e.out, "[]\n");
  EXPECT_EQ(e.err, "avow: note: no entries match: --lang 'e' matches none of the 5 entries that pass the other "
                   "filters\n");
  EXPECT_EQ(a.avow({"audit", "--lang", "EN", "--json"}).json()["statements"], 3);
}

TEST_F(CliFilters, ANearSourceIsSuggestedNeverMerged) {
  // log: table with its header only, CSV with its header only, JSON []; the note on stderr; exit 0.
  const std::string note =
      "avow: note: no entries match --source 'https://e.org/x/'; did you mean 'https://e.org/x' (2 entries)?\n";
  auto table = a.avow({"log", "--source", "https://e.org/x/"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_EQ(table.out, "index  id  published  captured  publisher  source  title\n");
  EXPECT_EQ(table.err, note);
  auto json = a.avow({"log", "--source", "https://e.org/x/", "--json"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(json.out, "[]\n");
  EXPECT_EQ(json.err, note);
  auto csv = a.avow({"log", "--source", "https://e.org/x/", "--format", "csv"});
  EXPECT_EQ(csv.exit_code, 0);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 1);
  EXPECT_TRUE(csv.out.starts_with("id,index,kind,")) << csv.out;
  // Fragment, default port, scheme and host case.
  EXPECT_EQ(a.avow({"log", "--source", "HTTPS://E.ORG:443/x#top", "--json"}).err,
            "avow: note: no entries match --source 'HTTPS://E.ORG:443/x#top'; did you mean 'https://e.org/x' (2 "
            "entries)?\n");
  // history: still "no statement" (exit 1), with the suggestion.
  auto h = a.avow({"history", "--source", "https://e.org/x/"});
  EXPECT_EQ(h.exit_code, 1);
  EXPECT_EQ(h.out, "");
  EXPECT_EQ(h.err, note + "avow: error: no statement from source 'https://e.org/x/'\n");
  // check --source and audit --source.
  write_file(a.tmp() / "c.txt", "Something never archived at all.\n");
  auto c = a.avow({"check", (a.tmp() / "c.txt").string(), "--source", "https://e.org/x/"});
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_EQ(c.out, "no match\nthe archive has no version of https://e.org/x/\n");
  EXPECT_EQ(c.err, note);
  auto audit = a.avow({"audit", "--source", "https://e.org/x/", "--json"});
  EXPECT_EQ(audit.exit_code, 0);
  EXPECT_EQ(audit.json()["entries"], 0);
  EXPECT_EQ(audit.err, note);
  // A source with no near spelling: the filter is named instead.
  auto far = a.avow({"log", "--source", "https://elsewhere.example/", "--json"});
  EXPECT_EQ(far.err, "avow: note: no entries match: --source 'https://elsewhere.example/' matches none of the 5 "
                     "entries that pass the other filters\n");
  // What a note quotes cannot drive the terminal.
  auto esc = a.avow({"log", "--source", "https://e.org/\x1b[2J", "--json"});
  EXPECT_EQ(esc.err, "avow: note: no entries match: --source 'https://e.org/\xE2\x90\x9B[2J' matches none of the 5 "
                     "entries that pass the other filters\n");
}

TEST_F(CliFilters, AnEmptyAnswerNamesTheFilterThatRemovedEverything) {
  auto r = a.avow({"log", "--publisher", "Ministry", "--lang", "xx", "--json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "[]\n");
  EXPECT_EQ(r.err, "avow: note: no entries match: --lang 'xx' matches none of the 2 entries that pass the other "
                   "filters\n");
  auto since = a.avow({"log", "--publisher", "Council", "--since", "2030-01-01", "--captured", "--json"});
  EXPECT_EQ(since.out, "[]\n");
  EXPECT_EQ(since.err, "avow: note: no entries match: --since '2030-01-01' matches none of the 1 entry that passes "
                       "the other filters\n");
  // Two filters that each leave something but nothing together.
  auto both = a.avow({"log", "--publisher", "Council", "--lang", "fr", "--json"});
  EXPECT_EQ(both.out, "[]\n");
  EXPECT_EQ(both.err, "avow: note: no entries match: --publisher 'Council' matches none of the 1 entry that passes "
                      "the other filters\n");
  // Each of two filters excludes everything on its own.
  auto neither = a.avow({"log", "--publisher", "Nobody", "--lang", "xx", "--json"});
  EXPECT_EQ(neither.err, "avow: note: no entries match: the filters exclude everything together (dropping any one "
                         "still leaves none)\n");
  // -q silences the note, not the answer.
  auto quiet = a.avow({"-q", "log", "--lang", "xx", "--json"});
  EXPECT_EQ(quiet.out, "[]\n");
  EXPECT_EQ(quiet.err, "");
  // A non-empty answer has no note.
  EXPECT_EQ(a.avow({"log", "--lang", "fr"}).err, "");
}

TEST_F(CliFilters, CheckWithoutSourceGivesTheClosestText) {
  write_file(a.tmp() / "edited.txt", "The ministry announced the reopening of the southern crossing.\n");
  auto r = a.avow({"check", (a.tmp() / "edited.txt").string()});
  EXPECT_EQ(r.exit_code, 1);
  const std::string captured = a.avow({"show", v1, "--json"}).json()["record"]["captured"];
  EXPECT_EQ(r.out, "no match\nclosest text in the archive: entry 1, record " + v1 + ", source " + k_source +
                       ", captured " + captured + " (87% alike)\n"
                       "word diff from that text to the given text ([-removed-] {+added+}):\n"
                       "The ministry announced the reopening of the [-northern-]{+southern+} crossing.\n");
  auto j = a.avow({"check", (a.tmp() / "edited.txt").string(), "--json"});
  EXPECT_EQ(j.exit_code, 1);
  EXPECT_EQ(j.json()["closest"]["id"], v1);
  // No word in common: nothing to compare with.
  write_file(a.tmp() / "alien.txt", "Zzyzx qwertyuiop.\n");
  auto alien = a.avow({"check", (a.tmp() / "alien.txt").string()});
  EXPECT_EQ(alien.exit_code, 1);
  EXPECT_EQ(alien.out, "no match\n");
}

TEST_F(CliFilters, HistoryShowsNoChangeForARecapture) {
  const std::string v3 = archive(k_v2, {"--source", k_source, "--publisher", "Ministry", "--lang", "en", "--recapture"});
  auto h = a.avow({"history", "--source", k_source});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_NE(h.out.find("\nversion 3: entry 5, record " + v3 + "\n"), std::string::npos) << h.out;
  EXPECT_TRUE(h.out.ends_with("\nversion 3: entry 5, record " + v3 + "\n  captured  " +
                              a.avow({"show", v3, "--json"}).json()["record"]["captured"].get<std::string>() +
                              "\n  published (not given)\n  no change (recapture): the same text as version 2\n"))
      << h.out;
  EXPECT_NE(h.out.find("  changes from version 1 ([-removed-] {+added+}):\n"), std::string::npos) << h.out;
  const auto j = a.avow({"history", "--source", k_source, "--json"}).json();
  ASSERT_EQ(j["versions"].size(), 3u);
  EXPECT_FALSE(j["versions"][0].contains("same_as_previous"));
  EXPECT_EQ(j["versions"][1]["same_as_previous"], false);
  EXPECT_EQ(j["versions"][1]["diff"],
            "The ministry announced the reopening of the northern [-crossing-]{+and southern crossings+}.\n");
  EXPECT_EQ(j["versions"][2]["same_as_previous"], true);
  EXPECT_FALSE(j["versions"][2].contains("diff"));
}

TEST_F(CliFilters, PipedLogNeverTruncates) {
  const std::string title(200, 'T');
  archive("A statement with a long title.\n",
                                 {"--source", "https://e.org/long/" + std::string(150, 'p'), "--title", title});
  auto r = a.avow({"log", "--limit", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(title + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("https://e.org/long/" + std::string(150, 'p') + "  "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\xE2\x80\xA6"), std::string::npos) << r.out; // no "…"
  // Even with COLUMNS set: it describes a terminal, and stdout is not one.
  auto c = run_process({avow_bin(), "-C", a.dir().string(), "log", "--limit", "1"}, {}, [&] {
    auto env = a.env();
    env["COLUMNS"] = "80";
    return env;
  }());
  EXPECT_EQ(c.out, r.out);
}

TEST_F(CliFilters, CsvAndJsonHaveEveryField) {
  const std::string meta_value = "said \"hold\", then left";
  write_file(a.tmp() / "legacy.txt", "caf\xE9 cr\xE8me\n"); // Latin-1
  auto legacy = a.avow({"archive", (a.tmp() / "legacy.txt").string(), "--source", "urn:x:legacy", "--encoding",
                        "ISO-8859-1", "--title", "Legacy, quoted", "--published", "29 March 2019 18:36", "--tz",
                        "Europe/Istanbul", "--meta", "note=" + meta_value, "--meta", "desk=Beirut", "--lang", "fr",
                        "--json"});
  ASSERT_EQ(legacy.exit_code, 0) << legacy.err;
  const std::string id = legacy.json()["records"][0]["id"];
  const auto rec = a.avow({"show", id, "--json"}).json()["record"];

  auto csv = a.avow({"log", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  const auto records = parse_csv(csv.out);
  ASSERT_EQ(records.size(), 7u); // header, 6 entries
  const std::vector<std::string> header{
      "id", "index", "kind", "captured", "archivist", "source", "publisher", "title", "lang", "published.as_written",
      "published.utc", "published.local", "published.tz", "published.calendar", "text.sha256", "text.bytes", "original.sha256",
      "original.bytes", "original.encoding", "supersedes", "meta", "key.id", "key.role", "key.reason"};
  EXPECT_EQ(records[0], header);
  const std::vector<std::string> want{id,
                                      "5",
                                      "statement",
                                      rec["captured"],
                                      archivist,
                                      "urn:x:legacy",
                                      "",
                                      "Legacy, quoted",
                                      "fr",
                                      "29 March 2019 18:36",
                                      "2019-03-29T15:36:00Z",
                                      "2019-03-29T18:36:00",
                                      "Europe/Istanbul",
                                      "",
                                      rec["text"]["sha256"],
                                      "13",
                                      rec["original"]["sha256"],
                                      "11",
                                      rec["original"]["encoding"],
                                      "",
                                      "{\"desk\":\"Beirut\",\"note\":\"said \\\"hold\\\", then left\"}",
                                      "",
                                      "",
                                      ""};
  EXPECT_EQ(records[1], want);
  EXPECT_EQ(nlohmann::json::parse(records[1][20]), rec["meta"]);
  // The key.add entry: its key columns filled, the statement columns empty.
  EXPECT_EQ(records[6][2], "key.add");
  EXPECT_EQ(records[6][21], archivist);
  EXPECT_EQ(records[6][22], "archivist");
  EXPECT_EQ(records[6][15], "");
  EXPECT_EQ(records[4][0], v2);
  EXPECT_EQ(records[4][19], v1); // v2 supersedes v1

  auto j = a.avow({"log", "--limit", "1", "--json"}).json()[0];
  EXPECT_EQ(j["meta"], rec["meta"]);
  EXPECT_EQ(j["published_local"], "2019-03-29T18:36:00");
  EXPECT_EQ(j["published_tz"], "Europe/Istanbul");
  EXPECT_EQ(j["text_bytes"], 13);
  EXPECT_EQ(j["original"], rec["original"]);
}

TEST_F(CliFilters, VerifyProofSaysWhoSaidWhatWhenAndFromWhere) {
  // A source and a publisher with a right-to-left override: isolated in the text output, so the override cannot
  // reorder the rest of the line.
  const std::string hostile = "Evil\xE2\x80\xAE" "cod.exe";
  const std::string source = "https://e.org/\xE2\x80\xAE" "tegdub";
  const std::string id = archive("The committee approved the budget.\n",
                                 {"--source", source, "--publisher", hostile, "--title", "Budget",
                                  "--published", "Friday, 29 March 2019 18:36", "--tz", "Europe/Istanbul", "--lang",
                                  "en"});
  const auto rec = a.avow({"show", id, "--json"}).json()["record"];
  ASSERT_EQ(a.avow({"proof", id, "-o", (a.tmp() / "p").string()}).exit_code, 0);
  write_file(a.tmp() / "policy", a.avow({"policy"}).out);
  fs::remove_all(a.dir());
  auto r = run_process({avow_bin(), "verify-proof", (a.tmp() / "p").string(), "--policy", (a.tmp() / "policy").string()},
                       {}, a.env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string body = r.out.substr(r.out.find('\n') + 1);
  // The key state line: bundles of archives that keep a key state (log/keys) show it; older ones say so.
  const bool keyed = nlohmann::json::parse(read_file(a.tmp() / "p")).contains("key_state");
  const std::string key_line = keyed ? "key state at tree size 6: archivist key " + archivist.substr(0, 16) +
                                           " in force at entry 5; not revoked\n"
                                     : "key state: not shown (older bundle); a revocation of the key is not checked\n";
  EXPECT_TRUE(r.out.starts_with("proven: record " + id + " is entry 5 of log 'test.avow.example/archive' (tree size 6,"))
      << r.out;
  EXPECT_EQ(body, "statement:\n"
                  "  source     \xE2\x81\xA8" + source + "\xE2\x81\xA9\n"
                  "  publisher  \xE2\x81\xA8" + hostile + "\xE2\x81\xA9\n"
                  "  title      Budget\n"
                  "  published  Friday, 29 March 2019 18:36 (2019-03-29T15:36:00Z)\n"
                  "  captured   " + rec["captured"].get<std::string>() + "\n"
                  "  language   en\n"
                  "  text       35 bytes, sha256 " + rec["text"]["sha256"].get<std::string>() + "\n"
                  "signed by archivist key " + archivist.substr(0, 16) + ", added by the log key at entry 0\n" + key_line);
}

} // namespace
} // namespace avow::test
