// End-to-end: what a statement may be made of before it is signed. Manifests confined to their folder, private
// key material refused whatever its origin, member/meta clashes, --dry-run, legacy encodings (hints, wrong-decoding
// refusal, --force, check/history --encoding), and a new version equal to an older one.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

namespace avow::test {
namespace {
namespace fs = std::filesystem;

// Real Arabic and German sentences, transcoded with iconv (UTF-8 forms in tests/unit/text_encoding_test.cpp).
const std::string k_arabic_1256 = test::test_data("encodings/ar-windows-1256.txt");
const std::string k_german_latin9 = test::test_data("encodings/de-iso-8859-15.txt");
const std::string k_french_latin9 = test::test_data("encodings/fr-iso-8859-15.txt");

const std::string k_arabic_utf8_start = "\xD8\xA3\xD8\xB9\xD9\x84\xD9\x86\xD8\xAA "; // أعلنت

class CliInput : public ::testing::Test {
protected:
  TempArchive a;

  std::string file(const std::string& name, const std::string& data) { return a.file(name, data); }

  std::string git_snapshot() const { return a.git_snapshot(); }

  // Assert `args` fails with `code` and exactly the one error line `line`, and changes nothing.
  void expect_refused(const std::vector<std::string>& args, int code, const std::string& line,
                      const std::string& stdin_data = {}) {
    const std::string before = git_snapshot();
    const auto r = a.avow(args, stdin_data);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "avow: error: " + line + "\n");
    EXPECT_EQ(git_snapshot(), before) << "the archive changed";
  }

  std::string private_key_file() const {
    for (const auto& e : fs::directory_iterator(a.config_home() / "avow" / "keys"))
      if (e.path().extension() == ".pem") return e.path().string();
    ADD_FAILURE() << "no private key in the test's key folder";
    return {};
  }

  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
};

// ---- 1. Manifests cannot reach outside --------------------------------------------------------------------------

TEST_F(CliInput, ManifestPathToThePrivateKeyIsRefused) {
  const std::string key = private_key_file();
  const auto m = file("m.jsonl", R"({"path": ")" + key + R"(", "source": "https://e.org/x"})" "\n");
  expect_refused({"archive", "--batch", m}, 3,
                 m + ":1: path '" + key + "' is outside the manifest's folder (use --allow-paths-outside to allow it)");
  // Even when outside paths are allowed, the key itself is never archived.
  expect_refused({"archive", "--batch", m, "--allow-paths-outside"}, 3,
                 "'" + m + ":1': the text holds private key material (a PEM 'PRIVATE KEY' block); private keys are "
                 "never archived");
}

TEST_F(CliInput, ManifestPathsEscapingTheFolderAreRefused) {
  fs::create_directories(a.tmp() / "batch" / "sub");
  write_file(a.tmp() / "outside.txt", "A statement kept outside the manifest's folder.\n");
  write_file(a.tmp() / "batch" / "sub" / "in.txt", "A statement inside the manifest's folder.\n");
  fs::create_symlink(a.tmp() / "outside.txt", a.tmp() / "batch" / "link.txt");
  fs::create_symlink(a.tmp().path(), a.tmp() / "batch" / "up");
  const auto m = (a.tmp() / "batch" / "m.jsonl").string();
  const auto refused = [&](const std::string& path) {
    write_file(m, R"({"path": ")" + path + R"(", "source": "https://e.org/x"})" "\n");
    expect_refused({"archive", "--batch", m}, 3,
                   m + ":1: path '" + path + "' is outside the manifest's folder (use --allow-paths-outside to allow it)");
  };
  refused("../../../../etc/passwd");
  refused("/etc/passwd");
  refused("../outside.txt");
  refused("sub/../../outside.txt");
  refused("link.txt");        // a symlink to a file outside
  refused("up/outside.txt");  // a symlinked folder on the way
  refused(".");

  // Inside is fine, also through `..` that stays inside; outside works with the flag.
  write_file(m, R"({"path": "sub/../sub/in.txt", "source": "https://e.org/in"})" "\n");
  auto r = a.avow({"archive", "--batch", m, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  write_file(m, R"({"path": "../outside.txt", "source": "https://e.org/out"})" "\n"
                R"({"path": "link.txt", "source": "https://e.org/out2"})" "\n");
  r = a.avow({"archive", "--batch", m, "--allow-paths-outside", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json()["records"].size(), 2u);
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliInput, ManifestFromTheCurrentFolderResolvesAgainstIt) {
  // A manifest named without a folder: paths are relative to the current directory, and confined to it.
  fs::create_directories(a.tmp() / "work");
  write_file(a.tmp() / "work" / "s.txt", "A statement next to the manifest.\n");
  write_file(a.tmp() / "work" / "m.jsonl", R"({"path": "s.txt", "source": "https://e.org/cwd"})" "\n"
                                           R"({"path": "../x.txt", "source": "https://e.org/cwd2"})" "\n");
  auto r = run_process({avow_bin(), "-C", a.dir().string(), "archive", "--batch", "m.jsonl"}, {}, a.env(),
                       a.tmp() / "work");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "avow: error: m.jsonl:2: path '../x.txt' is outside the manifest's folder (use "
                   "--allow-paths-outside to allow it)\n");
  write_file(a.tmp() / "work" / "m.jsonl", R"({"path": "s.txt", "source": "https://e.org/cwd"})" "\n");
  r = run_process({avow_bin(), "-C", a.dir().string(), "archive", "--batch", "m.jsonl"}, {}, a.env(), a.tmp() / "work");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CliInput, PrivateKeyMaterialIsRefusedWhateverItsOrigin) {
  const std::string pem = read_file(private_key_file());
  ASSERT_TRUE(pem.starts_with("-----BEGIN ")) << pem.substr(0, 40);
  const auto f = file("key.txt", "Our new key, for the record:\n" + pem);
  const std::string why = "the text holds private key material (a PEM 'PRIVATE KEY' block); private keys are never archived";
  expect_refused({"archive", f, "--source", "urn:x"}, 3, "'" + f + "': " + why);
  expect_refused({"archive", "-", "--source", "urn:x"}, 3, "'-': " + why, pem);
  const auto m = file("k.jsonl", nlohmann::json({{"text", pem}, {"source", "urn:x"}}).dump() + "\n");
  expect_refused({"archive", "--batch", m}, 3, "'" + m + ":1': " + why);
  const auto ssh = file("ssh.txt", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n"
                                   "-----END OPENSSH PRIVATE KEY-----\n");
  expect_refused({"archive", ssh, "--source", "urn:x", "--dry-run"}, 3,
                 "'" + ssh + "': the text holds private key material (a PEM 'OPENSSH PRIVATE KEY' block); private keys "
                 "are never archived");
  // In UTF-16 it is still a key once decoded.
  std::string utf16;
  for (const char c : pem) utf16 += std::string{c, '\0'};
  const auto wide = file("key16.txt", utf16);
  expect_refused({"archive", wide, "--source", "urn:x", "--encoding", "UTF-16LE"}, 3, "'" + wide + "': " + why);
}

TEST_F(CliInput, NameGivenAsMemberAndInMetaIsRefusedInAnyOrder) {
  const auto refused = [&](const std::string& line, const std::string& why) {
    const auto m = file("clash.jsonl", line + "\n");
    expect_refused({"archive", "--batch", m}, 3, m + ":1: " + why);
  };
  // The issue's line: "id" sorts before "meta", which used to sign b silently.
  refused(R"({"text": "t", "source": "urn:x", "id": "a", "meta": {"id": "b"}})", "'id' is given both as a member and in meta");
  refused(R"({"meta": {"zz": "b"}, "zz": "a", "text": "t", "source": "urn:x"})", "'zz' is given both as a member and in meta");
  refused(R"({"text": "t", "source": "urn:x", "ID": "a", "meta": {"id": "b"}})", "'ID' and meta.id differ only in case");
  refused(R"({"text": "t", "source": "urn:x", "Id": "a", "id": "b"})", "members 'Id' and 'id' differ only in case");
  refused(R"({"text": "t", "source": "urn:x", "meta": {"source": "urn:y"}})",
          "meta.source names a manifest field ('source'): give it as that member");
  refused(R"({"text": "t", "source": "urn:x", "meta": {"Title": "T"}})",
          "meta.Title names a manifest field ('title'): give it as that member");
  refused(R"({"text": "t", "Source": "urn:x", "source": "urn:x"})", "member 'Source' differs from the field 'source' only in case");
  // No clash: kept as given.
  const auto m = file("ok.jsonl", R"({"text": "t", "source": "urn:x", "id": "a", "meta": {"dataset": "d"}})" "\n");
  auto r = a.avow({"archive", "--batch", m, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rec = a.avow({"show", r.json()["records"][0]["id"], "--json"}).json()["record"];
  EXPECT_EQ(rec["meta"], nlohmann::json({{"dataset", "d"}, {"id", "a"}}));
}

// ---- 2. --dry-run ------------------------------------------------------------------------------------------------

TEST_F(CliInput, DryRunWritesNothingAndPrintsThePayloadARealRunSigns) {
  const auto f = file("pr.txt", "Press release\r\n\r\nThe coalition condemned the shelling.  \r\n");
  const std::vector<std::string> args{"archive", f, "--source", "https://e.org/pr/1", "--publisher", "Ministry",
                                      "--published", "Friday, 29 March 2019 18:36", "--tz", "Europe/Istanbul",
                                      "--title", "Statement", "--lang", "en", "--meta", "case=17"};
  const std::string before = git_snapshot();
  const bool had_lock = fs::exists(a.dir() / ".git" / "avow" / "lock");
  auto dry_args = args;
  dry_args.insert(dry_args.end(), {"--dry-run", "--json"});
  const auto dry = a.avow(dry_args);
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.err, "");
  EXPECT_EQ(git_snapshot(), before) << "a dry run changed the archive";
  EXPECT_EQ(fs::exists(a.dir() / ".git" / "avow" / "lock"), had_lock);
  const auto j = dry.json();
  EXPECT_EQ(j["dry_run"], true);
  ASSERT_EQ(j["records"].size(), 1u);
  const auto& d = j["records"][0];
  EXPECT_EQ(d["index"], 1);
  EXPECT_EQ(d["text"]["bytes"], 53);
  EXPECT_EQ(d["text"]["encoding"], "UTF-8");
  EXPECT_EQ(d["text"]["preview"], "Press release\n\nThe coalition condemned the shelling.\n");
  EXPECT_EQ(d["published"]["utc"], "2019-03-29T15:36:00Z");
  EXPECT_EQ(d["captured"]["note"], "at the real run: the time of that run");

  // The real run signs the same record, but for its own capture time.
  const auto real = a.avow(args);
  ASSERT_EQ(real.exit_code, 0) << real.err;
  const std::string id = first_line(real.out);
  const auto shown = a.avow({"show", id, "--json"}).json();
  auto signed_record = shown["record"];
  auto dry_record = nlohmann::json::parse(d["payload"].get<std::string>());
  EXPECT_EQ(d["record"], dry_record);
  EXPECT_EQ(d["text"]["sha256"], signed_record["text"]["sha256"]);
  signed_record.erase("captured");
  dry_record.erase("captured");
  EXPECT_EQ(dry_record, signed_record);
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliInput, DryRunShowsRevisionsBatchesAndTheErrorsARealRunGives) {
  const auto v1 = file("v1.txt", "First version.\n");
  auto r = a.avow({"archive", v1, "--source", "https://e.org/s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id1 = first_line(r.out);
  const std::string before = git_snapshot();

  // Text form: the supersedes link and the note, a preview, the payload line.
  const auto v2 = file("v2.txt", "Second version.\n");
  r = a.avow({"archive", v2, "--source", "https://e.org/s", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dry run: nothing was written; 1 record would be signed\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  supersedes  " + id1 + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  note: supersedes " + id1 + ", the previous version from this source\n"), std::string::npos);
  EXPECT_NE(r.out.find("    | Second version.\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(at the real run: the time of that run)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n{\"archivist\":"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "avow: note: " + v2 + ": supersedes " + id1 + ", the previous version from this source\n");

  // The same text again: nothing would be recorded, as the real run says.
  r = a.avow({"archive", v1, "--source", "https://e.org/s", "--dry-run", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json()["records"].size(), 0u);
  EXPECT_NE(r.json()["notices"][0].get<std::string>().find("already archived as " + id1), std::string::npos);

  // Standard input and a batch.
  r = a.avow({"archive", "-", "--source", "urn:stdin", "--dry-run", "--json"}, "From standard input.\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json()["records"][0]["input"], "-");
  const auto m = file("m.jsonl", R"({"text": "One.\n", "source": "urn:b:1"})" "\n" R"({"text": "Two.\n", "source": "urn:b:2"})" "\n");
  r = a.avow({"archive", "--batch", m, "--dry-run", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.json()["records"].size(), 2u);
  EXPECT_EQ(r.json()["records"][1]["index"], 3);

  // The errors a real run gives, with their exit codes.
  const auto bad = file("bad.jsonl", R"({"text":"x\n","source":"no scheme here"})" "\n");
  const auto real_bad = a.avow({"archive", "--batch", bad});
  const auto dry_bad = a.avow({"archive", "--batch", bad, "--dry-run"});
  EXPECT_EQ(dry_bad.exit_code, 3);
  EXPECT_EQ(dry_bad.exit_code, real_bad.exit_code);
  EXPECT_EQ(dry_bad.err, real_bad.err);
  const auto unknown = a.avow({"archive", v2, "--source", "urn:y", "--supersedes", std::string(64, 'a'), "--dry-run"});
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_NE(unknown.err.find("supersedes names no statement in this archive"), std::string::npos) << unknown.err;
  EXPECT_EQ(git_snapshot(), before) << "a dry run changed the archive";
}

// ---- 3. Encodings -------------------------------------------------------------------------------------------------

TEST_F(CliInput, InvalidUtf8NamesTheLikelyEncoding) {
  const auto f = file("legacy.txt", k_arabic_1256);
  expect_refused({"archive", f, "--source", "urn:x"}, 3,
                 "'" + f + "': invalid UTF-8 at byte offset 0; it looks like windows-1256: try --encoding windows-1256");
  auto r = a.avow({"check", f});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "avow: error: invalid UTF-8 at byte offset 0; it looks like windows-1256: try --encoding windows-1256\n");
}

TEST_F(CliInput, WrongEncodingIsRefusedUnlessForced) {
  const auto f = file("legacy.txt", k_arabic_1256);
  expect_refused({"archive", f, "--source", "urn:x", "--encoding", "latin9"}, 3,
                 "'" + f + "': decoded as ISO-8859-15 it does not look right: ICU charset detection says windows-1256, "
                 "language 'ar' (confidence 89%); check --encoding, or give --force to archive it as decoded");
  const auto de = file("de.txt", k_german_latin9);
  expect_refused({"archive", de, "--source", "urn:de", "--encoding", "windows-1256"}, 3,
                 "'" + de + "': decoded as windows-1256 it does not look right: ICU charset detection says ISO-8859-1, "
                 "language 'de' (confidence 79%); check --encoding, or give --force to archive it as decoded");
  // --force: archived as decoded, with the doubt as a warning.
  auto r = a.avow({"archive", f, "--source", "urn:x", "--encoding", "latin9", "--force", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "avow: warning: " + f + ": decoded as ISO-8859-15 it does not look right: ICU charset detection "
                   "says windows-1256, language 'ar' (confidence 89%); archived as decoded (--force)\n");
  const auto rec = a.avow({"show", r.json()["records"][0]["id"], "--json"}).json();
  EXPECT_EQ(rec["record"]["original"]["encoding"], "ISO-8859-15");
}

TEST_F(CliInput, CorrectLegacyEncodingsAreAccepted) {
  const auto ar = file("ar.txt", k_arabic_1256);
  auto r = a.avow({"archive", ar, "--source", "urn:ar", "--encoding", "windows-1256", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  auto shown = a.avow({"show", r.json()["records"][0]["id"], "--text", "--json"}).json();
  EXPECT_TRUE(shown["text"].get<std::string>().starts_with(k_arabic_utf8_start));
  const auto fr = file("fr.txt", k_french_latin9);
  r = a.avow({"archive", fr, "--source", "urn:fr", "--encoding", "latin9", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  shown = a.avow({"show", r.json()["records"][0]["id"], "--text", "--json"}).json();
  EXPECT_NE(shown["text"].get<std::string>().find("d'\xE2\x82\xAC ; l'\xC5\x93uvre"), std::string::npos); // d'€ ; l'œuvre
  const auto de = file("de.txt", k_german_latin9);
  r = a.avow({"archive", de, "--source", "urn:de", "--encoding", "ISO-8859-15"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliInput, CheckAndHistoryTakeAnEncoding) {
  const auto ar = file("ar.txt", k_arabic_1256);
  auto r = a.avow({"archive", ar, "--source", "urn:ar", "--encoding", "windows-1256"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = first_line(r.out);
  r = a.avow({"check", ar, "--encoding", "windows-1256"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("byte-identical match: entry 1, record " + id)) << r.out;
  // The same text saved as UTF-8 matches canonically.
  const std::string utf8 = a.avow({"show", id, "--text", "--json"}).json()["text"];
  const auto copy = file("copy.txt", utf8);
  r = a.avow({"check", copy, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json()["matches"][0]["match"], "byte-identical");
  // A wrong encoding for check is a note, not a refusal (check writes nothing); these bytes are still the original.
  r = a.avow({"check", ar, "--encoding", "latin9"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.out.starts_with("byte-identical match: entry 1, record " + id)) << r.out;
  EXPECT_NE(r.err.find("avow: note: decoded as ISO-8859-15 it does not look right"), std::string::npos) << r.err;

  r = a.avow({"history", "--source", "urn:ar", "--text", ar, "--encoding", "windows-1256"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\ngiven text " + ar + ": version 1 (record " + id + ", byte-identical match)\n"), std::string::npos)
      << r.out;
  r = a.avow({"history", "--source", "urn:ar", "--text", ar, "--json"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("try --encoding windows-1256"), std::string::npos) << r.err;
  r = a.avow({"history", "--source", "urn:ar", "--encoding", "windows-1256"});
  EXPECT_EQ(r.exit_code, 2) << "--encoding needs --text";
}

// ---- 4. A new version equal to an older one -----------------------------------------------------------------------

TEST_F(CliInput, NewVersionEqualToAnOlderOneSaysSo) {
  const auto v1 = file("v1.txt", "The ceasefire holds.\n");
  const auto v2 = file("v2.txt", "The ceasefire has collapsed.\n");
  auto r = a.avow({"archive", v1, "--source", "https://e.org/c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id1 = first_line(r.out);
  r = a.avow({"archive", v2, "--source", "https://e.org/c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id2 = first_line(r.out);
  r = a.avow({"archive", v1, "--source", "https://e.org/c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id3 = first_line(r.out);
  EXPECT_NE(id3, id1);
  EXPECT_EQ(r.err, "avow: note: " + v1 + ": supersedes " + id2 + ", the previous version from this source\n"
                   "avow: note: " + v1 + ": same text as version 1 (record " + id1 + ")\n");
  const auto rec = a.avow({"show", id3, "--json"}).json()["record"];
  EXPECT_EQ(rec["supersedes"], id2);
  const auto h = a.avow({"history", "--source", "https://e.org/c", "--json"}).json();
  ASSERT_EQ(h["versions"].size(), 3u);
  EXPECT_EQ(h["versions"][2]["id"], id3);
  EXPECT_EQ(h["versions"][2]["text_sha256"], h["versions"][0]["text_sha256"]);
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

} // namespace
} // namespace avow::test
