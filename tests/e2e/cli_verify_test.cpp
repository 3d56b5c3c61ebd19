// End-to-end: `avow verify` on clean and tampered archives. Tampering is done with stock git plumbing and
// committed on main, as an attacker with write access to the repository (but not the keys) would.

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

namespace avow::test {
namespace {

class CliVerify : public ::testing::Test {
protected:
  TempArchive a;
  std::string first_id, second_id;

  void SetUp() override {
    first_id = a.archive_text("First statement.\n");
    second_id = a.archive_text("Second statement, \xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7.\r\n");
    ASSERT_EQ(first_id.size(), 64u);
  }

  std::string text_path(const std::string& id) {
    const std::string sha = a.avow({"show", id, "--json"}).json()["record"]["text"]["sha256"];
    return "texts/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha;
  }

  // Run verify --json, expect exit 1, and return the problem kinds.
  std::vector<std::string> problems() {
    auto r = a.avow({"verify", "--json"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    std::vector<std::string> kinds;
    const auto j = r.json();
    for (const auto& p : j["problems"]) kinds.push_back(p["kind"]);
    return kinds;
  }
  static bool has(const std::vector<std::string>& kinds, const std::string& k) {
    return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
  }
};

TEST_F(CliVerify, CleanArchiveVerifies) {
  auto r = a.avow({"verify", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = r.json();
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["problems"].size(), 0u);
  EXPECT_EQ(j["entries"], 3);
  EXPECT_EQ(j["statements"], 2);
  EXPECT_EQ(j["commits"], 3);
  EXPECT_EQ(j["tree_size"], 3);
  EXPECT_EQ(j["checkpoints"], 3);
  auto q = a.avow({"verify", "--quick"});
  EXPECT_EQ(q.exit_code, 0) << q.out;
  auto t = a.avow({"verify"});
  EXPECT_TRUE(t.out.starts_with("verified: archive 'test.avow.example/archive': 3 entries")) << t.out;
}

TEST_F(CliVerify, FlippedTextByteIsReported) {
  const auto path = text_path(first_id);
  a.git_flip_byte(path, 3);
  auto r = a.avow({"verify", "--json"});
  ASSERT_EQ(r.exit_code, 1);
  bool found = false;
  const auto j = r.json();
  for (const auto& p : j["problems"])
    if (p["kind"] == "text_mismatch") {
      found = true;
      EXPECT_EQ(p["path"], path);
      EXPECT_EQ(p["entry"], 1);
    }
  EXPECT_TRUE(found) << r.out;
  const auto kinds = problems();
  EXPECT_TRUE(has(kinds, "commit_unsigned")); // the tamper commit is not signed by the log key
  auto text = a.avow({"verify"});
  EXPECT_NE(text.out.find("problem: text_mismatch entry 1 path " + path), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("NOT verified"), std::string::npos) << text.out;
}

// --quick reads no text: it checks each text's length against its object header, read when the entry that names it
// is checked. A text one byte longer is caught; a flipped byte is not its job.
TEST_F(CliVerify, QuickCheckFindsATextOfTheWrongLength) {
  const auto path = text_path(first_id);
  a.git_replace(path, a.git_show(path) + "x");
  auto q = a.avow({"verify", "--quick", "--json"});
  ASSERT_EQ(q.exit_code, 1) << q.out << q.err;
  bool found = false;
  const auto j = q.json();
  for (const auto& p : j["problems"])
    if (p["kind"] == "text_mismatch") {
      found = true;
      EXPECT_EQ(p["path"], path);
      EXPECT_EQ(p["message"], "text '" + path + "' has the wrong length");
    }
  EXPECT_TRUE(found) << q.out;
}

// A tree that names a text whose object is not in the object store (removed after the tamper commit): --quick, which
// then cannot read that object's header, and a full check both report the text missing at its entry, not only an
// unreadable archive.
TEST_F(CliVerify, QuickCheckFindsATextWhoseObjectIsGone) {
  const auto path = text_path(first_id);
  const std::string data = a.git_show(path) + "x";
  a.git_replace(path, data);
  const auto blob = a.git({"rev-parse", "main:" + path});
  ASSERT_EQ(blob.exit_code, 0) << blob.err;
  const std::string id = blob.out.substr(0, 40);
  const auto loose = a.dir() / ".git" / "objects" / id.substr(0, 2) / id.substr(2);
  ASSERT_TRUE(std::filesystem::remove(loose)) << loose; // git_replace wrote it loose
  for (const bool quick : {true, false}) {
    std::vector<std::string> args{"verify", "--json"};
    if (quick) args.insert(args.begin() + 1, "--quick");
    auto r = a.avow(args);
    ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
    bool found = false;
    const auto j = r.json();
    for (const auto& p : j["problems"])
      if (p["kind"] == "text_missing") {
        found = true;
        EXPECT_EQ(p["path"], path);
        EXPECT_EQ(p["entry"], 1);
        EXPECT_EQ(p["message"], "text of entry 1 is missing");
      }
    EXPECT_TRUE(found) << "quick " << quick << ": " << r.out;
  }
}

TEST_F(CliVerify, FlippedOriginalByteIsReported) {
  const auto rec = a.avow({"show", second_id, "--json"}).json()["record"];
  const std::string sha = rec["original"]["sha256"];
  a.git_flip_byte("originals/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha, 0);
  EXPECT_TRUE(has(problems(), "original_mismatch"));
}

TEST_F(CliVerify, FlippedEntryByteIsReported) {
  // Flip a byte inside the signature of entry 2 (the last bytes of the bundle are the envelope's tail).
  a.git_flip_byte("log/tile/entries/000.p/3", -20);
  auto r = a.avow({"verify", "--json"});
  ASSERT_EQ(r.exit_code, 1);
  const auto j = r.json();
  std::vector<std::string> kinds;
  for (const auto& p : j["problems"]) kinds.push_back(p["kind"]);
  EXPECT_TRUE(has(kinds, "tile_mismatch")) << r.out;
  EXPECT_TRUE(has(kinds, "root_mismatch")) << r.out;
  EXPECT_TRUE(has(kinds, "entry_invalid") || has(kinds, "signature_invalid")) << r.out;
}

TEST_F(CliVerify, FlippedTileByteIsReported) {
  a.git_flip_byte("log/tile/0/000.p/3", 5);
  auto r = a.avow({"verify", "--json"});
  ASSERT_EQ(r.exit_code, 1);
  bool found = false;
  const auto j = r.json();
  for (const auto& p : j["problems"])
    if (p["kind"] == "tile_mismatch") {
      found = true;
      EXPECT_EQ(p["path"], "log/tile/0/000.p/3");
    }
  EXPECT_TRUE(found) << r.out;
}

TEST_F(CliVerify, FlippedCheckpointByteIsReported) {
  const std::string cp = a.git_show("log/checkpoint");
  // Flip a byte of the root hash line (third line).
  const auto third = cp.find('\n', cp.find('\n') + 1) + 1;
  a.git_flip_byte("log/checkpoint", static_cast<long>(third + 2));
  const auto kinds = problems();
  EXPECT_TRUE(has(kinds, "checkpoint_invalid"));
}

TEST_F(CliVerify, ForgedStatementWithoutKeysIsReported) {
  // Replace the text with another one: the record's hash no longer matches.
  const auto path = text_path(first_id);
  a.git_replace(path, "A different statement.\n");
  EXPECT_TRUE(has(problems(), "text_mismatch"));
}

TEST_F(CliVerify, DamagedConfigIsReportedNotAnError) {
  a.git_replace("avow.json", "{\"format\":\"avow.archive/1\"}\n");
  auto r = a.avow({"verify", "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto j = r.json();
  ASSERT_EQ(j["problems"].size(), 1u) << r.out;
  EXPECT_EQ(j["problems"][0]["kind"], "config_invalid");
  EXPECT_EQ(j["problems"][0]["path"], "avow.json");
}

TEST_F(CliVerify, TimestampFilesAreNotAcceptedUnchecked) {
  a.git_replace("log/timestamps/3.tsr", "not a token");
  auto r = a.avow({"verify", "--json"});
  ASSERT_EQ(r.exit_code, 1);
  bool found = false;
  const auto j = r.json();
  for (const auto& p : j["problems"])
    if (p["kind"] == "timestamp_invalid" && p["path"] == "log/timestamps/3.tsr") found = true;
  EXPECT_TRUE(found) << r.out;
}

TEST_F(CliVerify, TamperCommitWithoutTrailersIsNamed) {
  a.git_replace("notes.txt", "x\n", "an innocent-looking commit");
  const auto kinds = problems();
  EXPECT_TRUE(has(kinds, "commit_message_mismatch"));
  EXPECT_TRUE(has(kinds, "commit_unsigned"));
}

TEST_F(CliVerify, StrayFileIsReported) {
  a.git_replace("notes.txt", "hello\n");
  const auto kinds = problems();
  EXPECT_TRUE(has(kinds, "stray_file"));
}

TEST_F(CliVerify, DeletedFileBreaksAppendOnly) {
  const auto path = text_path(first_id);
  auto env = a.env();
  env["GIT_INDEX_FILE"] = (a.tmp() / "del.index").string();
  const auto g = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv{"git", "-C", a.dir().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv, {}, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  };
  g({"read-tree", "main"});
  // --index-info with mode 0 drops the entry, and works without a working tree (the archive has none).
  {
    std::vector<std::string> argv{"git", "-C", a.dir().string(), "update-index", "--index-info"};
    auto r = run_process(argv, "0 0000000000000000000000000000000000000000\t" + path + "\n", env);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const auto tree = g({"write-tree"});
  const auto commit = g({"commit-tree", tree, "-p", "main", "-m", "drop a text"});
  g({"update-ref", "refs/heads/main", commit});
  const auto kinds = problems();
  EXPECT_TRUE(has(kinds, "history_not_append_only"));
  EXPECT_TRUE(has(kinds, "text_missing"));
}

TEST_F(CliVerify, DroppedCommitIsAForkAgainstTheSeenCheckpoint) {
  // Reset main one commit back with stock git: the log loses an entry. The archive is self-consistent, but this
  // copy remembers the checkpoint of size 3 it wrote, so verify reports a fork with both checkpoints.
  const std::string old_cp = a.git_show("log/checkpoint");
  ASSERT_EQ(a.git({"update-ref", "refs/heads/main", "main~1"}).exit_code, 0);
  auto r = a.avow({"verify", "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.out;
  const auto j = r.json();
  ASSERT_EQ(j["problems"].size(), 1u) << r.out;
  EXPECT_EQ(j["problems"][0]["kind"], "fork");
  ASSERT_EQ(j["problems"][0]["evidence"].size(), 2u);
  EXPECT_EQ(j["problems"][0]["evidence"][0], old_cp);
  EXPECT_EQ(j["problems"][0]["evidence"][1], a.git_show("log/checkpoint"));
  EXPECT_EQ(a.avow({"show", second_id}).exit_code, 1);
}

TEST_F(CliVerify, AppendRefusesToBuryARewrite) {
  ASSERT_EQ(a.git({"update-ref", "refs/heads/main", "main~1"}).exit_code, 0);
  const std::string before = a.state();
  write_file(a.tmp() / "n.txt", "New statement.\n");
  auto r = a.avow({"archive", (a.tmp() / "n.txt").string(), "--source", "https://e.org/n"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("shorter than the checkpoint this copy saw"), std::string::npos) << r.err;
  EXPECT_EQ(a.state(), before);
}

TEST_F(CliVerify, RewriteWithTheLogKeyIsCaughtByAMirrorThatSawTheOldCheckpoint) {
  a.archive_text("Third statement.\n");
  const auto mirror = a.tmp() / "mirror.git";
  ASSERT_EQ(run_process({"git", "clone", "-q", "--bare", a.dir().string(), mirror.string()}, {}, a.env()).exit_code, 0);
  const auto verify_mirror = [&] {
    return run_process({avow_bin(), "-C", mirror.string(), "verify", "--json"}, {}, a.env());
  };
  ASSERT_EQ(verify_mirror().exit_code, 0); // the mirror now remembers the checkpoint of size 4
  const std::string seen = a.git_show("log/checkpoint");

  // The operator, holding the log key, resets two commits back, forgets what it saw, and re-grows the log with
  // different statements: a validly signed history that contradicts the one the mirror saw.
  ASSERT_EQ(a.git({"update-ref", "refs/heads/main", "main~2"}).exit_code, 0);
  std::filesystem::remove(a.dir() / ".git" / "avow" / "seen-checkpoint");
  a.archive_text("A different second statement.\n");
  a.archive_text("A different third statement.\n");
  ASSERT_EQ(a.avow({"verify"}).exit_code, 0); // self-consistent on its own
  EXPECT_NE(a.git_show("log/checkpoint"), seen);

  auto fetch = run_process({"git", "-C", mirror.string(), "fetch", "-q", "-f", a.dir().string(), "+main:main"}, {}, a.env());
  ASSERT_EQ(fetch.exit_code, 0) << fetch.err;
  auto r = verify_mirror();
  ASSERT_EQ(r.exit_code, 1) << r.out;
  const auto j = r.json();
  ASSERT_EQ(j["problems"].size(), 1u) << r.out;
  EXPECT_EQ(j["problems"][0]["kind"], "fork");
  EXPECT_EQ(j["problems"][0]["evidence"][0], seen);
  EXPECT_EQ(j["problems"][0]["evidence"][1], a.git_show("log/checkpoint"));
}

} // namespace
} // namespace avow::test
