// End-to-end: the life of keys. Two archivists (the second added by `avow key add`), one revoked at entry 50, a
// log-key rotation at entry 80; `avow verify` and stock `git verify-commit` accept all of it; a later statement signed
// with the revoked key, forged by someone who holds the log key (written with the library's plumbing, as
// append_raw_entries does), is reported by name and entry. Plus every refusal of key add, revoke and rotate.

#include <tests/support/support.hpp>

#include <archive/archive.hpp>

#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/crypto/sshsig.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/record.hpp>
#include <archive/util/bytes.hpp>
#include <archive/util/time.hpp>

#include <gtest/gtest.h>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

class CliKeys : public ::testing::Test {
protected:
  TempArchive a;
  int batches = 0;

  // Archive `n` statements in one commit (a --batch manifest), signed by `key` (the configured archivist if empty).
  void batch(int n, const std::string& key = {}) {
    std::string manifest;
    for (int i = 0; i < n; ++i)
      manifest += fmt::format(R"({{"text":"Statement {} of batch {}.\n","source":"urn:test:{}:{}"}})", i, batches, batches, i) +
                  "\n";
    const auto m = a.file(fmt::format("batch{}.jsonl", batches++), manifest);
    std::vector<std::string> args{"archive", "--batch", m};
    if (!key.empty()) args.insert(args.end(), {"--key", key});
    auto r = a.avow(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::uint64_t size() { return a.avow({"verify", "--json"}).json()["tree_size"]; }
  // A new Ed25519 key pair: the private key file and its SPKI public key file.
  std::pair<std::string, std::string> new_key(const std::string& name) {
    const std::string priv = (a.tmp() / (name + ".pem")).string();
    auto g = a.avow_raw({"key", "generate", "-o", priv});
    EXPECT_EQ(g.exit_code, 0) << g.err;
    const std::string pub = (a.tmp() / (name + ".pub.pem")).string();
    auto p = run_process({"openssl", "pkey", "-in", priv, "-pubout", "-out", pub});
    EXPECT_EQ(p.exit_code, 0) << p.err;
    return {priv, pub};
  }
  static std::string key_id_of(const std::string& priv) {
    auto key = crypto::read_private_key(priv, [] { return std::nullopt; });
    return key ? crypto::key_id(key->public_key()) : std::string();
  }
  std::string config(const std::string& name) {
    const std::string v = a.git({"config", name}).out;
    return v.substr(0, v.find('\n'));
  }
  std::string log_key_file() { return config("avow.logkey"); }
  nlohmann::json verify_json() { return a.avow({"verify", "--json"}).json(); }
  // Every commit of main passes stock `git verify-commit` with the allowed_signers file of the tree.
  void expect_git_verifies_every_commit() {
    const std::string allowed = a.file("allowed_signers", a.git_show("keys/allowed_signers"));
    std::istringstream commits(a.git({"rev-list", "main"}).out);
    int n = 0;
    for (std::string c; std::getline(commits, c);) {
      auto r = a.git({"-c", "gpg.ssh.allowedSignersFile=" + allowed, "verify-commit", c});
      EXPECT_EQ(r.exit_code, 0) << "commit " << c << ": " << r.err;
      EXPECT_NE(r.err.find("Good \"git\" signature for test.avow.example/archive"), std::string::npos) << r.err;
      ++n;
    }
    EXPECT_GT(n, 5);
  }
};

// A statement record for `text`, signed by the archivist key `priv` (as `avow archive` would make it).
std::pair<std::string, std::string> forged_statement(const std::string& priv, const std::string& text) {
  auto key = crypto::read_private_key(priv, [] { return std::nullopt; });
  if (!key) throw std::runtime_error(key.error().message);
  record::Statement s;
  const std::string sha = to_hex(crypto::sha256(text));
  s.text = {sha, text.size(), std::nullopt};
  s.source = {"urn:test:forged", std::nullopt};
  s.captured = format_rfc3339_utc(now_seconds());
  s.archivist = crypto::key_id(key->public_key());
  auto payload = record::payload(s);
  if (!payload) throw std::runtime_error(payload.error().message);
  auto env = record::sign(*payload, *key);
  if (!env) throw std::runtime_error(env.error().message);
  auto jcs = record::serialize(*env);
  if (!jcs) throw std::runtime_error(jcs.error().message);
  return {*jcs, "texts/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha};
}

TEST_F(CliKeys, RevocationAndRotationVerifyAndAForgedEntryIsNamed) {
  const auto [bob, bob_pub] = new_key("bob");
  const std::string bob_id = key_id_of(bob);
  batch(20); // entries 1..20 by the first archivist (entry 0 is its key.add)
  auto add = a.avow({"key", "add", bob_pub, "--name", "bob", "--role", "archivist", "--json"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(add.json()["entry"], 21);
  EXPECT_EQ(add.json()["key"], bob_id);
  EXPECT_TRUE(a.git_show("keys/" + bob_id + ".pem").starts_with("-----BEGIN PUBLIC KEY-----"));
  batch(14, bob); // 22..35 by bob
  batch(14);      // 36..49
  auto revoke = a.avow({"key", "revoke", bob_id.substr(0, 10), "--reason", "laptop stolen"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_EQ(revoke.out, "revoked key " + bob_id.substr(0, 16) + " at entry 50 (commit " +
                            a.git({"rev-parse", "--short=12", "main"}).out.substr(0, 12) + ")\n");
  // The writer refuses the revoked key, and the archive is unchanged.
  const auto before = a.state();
  auto refused = a.avow({"archive", a.file("late.txt", "Too late.\n"), "--source", "urn:late", "--key", bob});
  EXPECT_EQ(refused.exit_code, 5);
  EXPECT_EQ(refused.err, "avow: error: archivist key " + bob_id.substr(0, 16) +
                             " was revoked by entry 50 (laptop stolen); it signs no more statements\n");
  EXPECT_EQ(a.state(), before);
  batch(29); // 51..79
  const std::string old_log = log_key_file();
  const std::string old_log_id = key_id_of(old_log);
  const auto [new_log, new_log_pub] = new_key("newlog");
  const std::string new_log_id = key_id_of(new_log);
  auto rotate = a.avow({"key", "rotate", "--log", new_log, "--json"});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_EQ(rotate.json()["entry"], 80);
  EXPECT_EQ(rotate.json()["old_key"], old_log_id);
  EXPECT_EQ(log_key_file(), fs::absolute(new_log).string());
  batch(10); // 81..90
  EXPECT_EQ(size(), 91u);

  // The hand-over checkpoint (size 81) is signed by the new key, then the old one; allowed_signers bounds both keys
  // at the rotation commit's time.
  const std::string rotation_commit = a.git({"rev-parse", "main~1"}).out.substr(0, 40);
  const std::string handover = a.git({"cat-file", "blob", rotation_commit + ":log/checkpoint"}).out;
  EXPECT_TRUE(handover.starts_with("test.avow.example/archive\n81\n")) << handover;
  EXPECT_EQ(std::count(handover.begin(), handover.end(), '\n'), 7) << handover; // 3 + avow-keys, blank, 2 signatures
  const std::string t = a.git({"log", "-1", "--format=%cd", "--date=format-local:%Y%m%d%H%M%SZ", rotation_commit}).out;
  const std::string allowed = a.git_show("keys/allowed_signers");
  auto old_key = crypto::read_private_key(old_log, [] { return std::nullopt; });
  auto new_key_ = crypto::read_private_key(new_log, [] { return std::nullopt; });
  ASSERT_TRUE(old_key && new_key_);
  EXPECT_EQ(allowed, "test.avow.example/archive namespaces=\"git\",valid-before=\"" + t.substr(0, 15) + "\" " +
                         crypto::openssh_public_key(old_key->public_key()) + "\n" +
                         "test.avow.example/archive namespaces=\"git\",valid-after=\"" + t.substr(0, 15) + "\" " +
                         crypto::openssh_public_key(new_key_->public_key()) + "\n");

  // avow verify and stock git accept every commit, old key and new.
  auto v = a.avow({"verify"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  expect_git_verifies_every_commit();

  // key list: every key, who added it, who revoked it and why; the log key in force and the rotated one.
  auto list = a.avow({"key", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const auto keys = list.json()["archive"];
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[0], nlohmann::json({{"id", old_log_id}, {"role", "log"}, {"status", "rotated"}, {"revoked_at", 80},
                                     {"reason", "rotated"}}));
  EXPECT_EQ(keys[1]["added_at"], 0);
  EXPECT_EQ(keys[1]["status"], "active");
  EXPECT_EQ(keys[2], nlohmann::json({{"id", bob_id}, {"role", "archivist"}, {"status", "revoked"}, {"name", "bob"},
                                     {"added_at", 21}, {"revoked_at", 50}, {"reason", "laptop stolen"}}));
  EXPECT_EQ(keys[3], nlohmann::json({{"id", new_log_id}, {"role", "log"}, {"status", "active"}, {"added_at", 80}}));
  EXPECT_EQ(list.json()["log_key"], new_log_id);
  auto table = a.avow({"key", "list"});
  EXPECT_NE(table.out.find("  " + bob_id.substr(0, 16) + "  archivist  revoked  entry 21   entry 50    bob; reason: laptop stolen\n"),
            std::string::npos) << table.out;
  EXPECT_NE(table.out.find("log key in force: " + new_log_id + "\n"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("rotated log key: " + old_log_id + " (until entry 80)\n"), std::string::npos) << table.out;

  // What a proof bundle needs from the façade: the key state at the checkpoint, and the hand-over.
  {
    auto opened = Archive::open(a.dir());
    ASSERT_TRUE(opened) << opened.error().message;
    auto state = opened->key_state();
    ASSERT_TRUE(state) << state.error().message;
    EXPECT_EQ(state->jcs, a.git_show("log/keys"));
    EXPECT_EQ(state->size, 91u);
    EXPECT_EQ(state->checkpoint, a.git_show("log/checkpoint"));
    EXPECT_EQ(state->state.log_key()->id, new_log_id);
    auto handovers = opened->handovers();
    ASSERT_TRUE(handovers) << handovers.error().message;
    ASSERT_EQ(handovers->size(), 1u);
    const auto& h = handovers->front();
    EXPECT_EQ(h.rotation_index, 80u);
    EXPECT_EQ(h.size, 81u);
    EXPECT_EQ(h.old_key_id, old_log_id);
    EXPECT_EQ(h.new_key_id, new_log_id);
    EXPECT_EQ(h.commit, rotation_commit);
    EXPECT_EQ(h.checkpoint, handover);
    EXPECT_EQ(h.key_state, a.git({"cat-file", "blob", rotation_commit + ":log/keys"}).out);
  }

  // A forger who holds the (new) log key appends a statement signed with bob's revoked key: tiles, key state,
  // checkpoint and commit are all well formed and signed; only the key state of the log says no.
  const std::string text = "Forged after the revocation.\n";
  const auto [envelope, text_path] = forged_statement(bob, text);
  append_raw_entries(a.dir(), {envelope}, RawAppend{std::nullopt, true, {{text_path, text}}});
  auto forged = a.avow({"verify", "--json"});
  EXPECT_EQ(forged.exit_code, 1) << forged.out;
  const auto problems = forged.json()["problems"];
  ASSERT_EQ(problems.size(), 1u) << problems.dump();
  EXPECT_EQ(problems[0]["kind"], "signature_untrusted");
  EXPECT_EQ(problems[0]["entry"], 91);
  EXPECT_EQ(problems[0]["message"], "entry 91 is signed by key " + bob_id.substr(0, 16) +
                                        ", which was revoked by entry 50 (laptop stolen)");
  // Entries bob signed before the revocation stay valid: nothing else is reported (above), and stock git still
  // accepts every commit, the forged one too (it is signed by the log key: git cannot know about revocation).
  expect_git_verifies_every_commit();
}

TEST_F(CliKeys, RevokeRefusalsLeaveTheArchiveUnchanged) {
  const auto [bob, bob_pub] = new_key("bob");
  const std::string bob_id = key_id_of(bob);
  const std::string first_id = a.avow({"key", "list", "--json"}).json()["archive"][1]["id"];
  const std::string log_id = a.avow({"key", "list", "--json"}).json()["archive"][0]["id"];
  const auto refused = [&](const std::vector<std::string>& args, int code, const std::string& err) {
    const auto before = a.state();
    auto r = a.avow(args);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_EQ(r.err, "avow: error: " + err + "\n");
    EXPECT_EQ(a.state(), before);
  };
  refused({"key", "revoke", "0123456789abcdef", "--reason", "x"}, 3, "no key 0123456789abcdef in this archive");
  refused({"key", "revoke", "0123", "--reason", "x"}, 3, "invalid key id '0123': want 8 to 64 hex digits");
  refused({"key", "revoke", first_id.substr(0, 8), "--reason", "x"}, 4,
          "key " + first_id.substr(0, 16) + " is the last archivist key in force; add another archivist first (avow key add)");
  refused({"key", "revoke", log_id, "--reason", "x"}, 4,
          "key " + log_id.substr(0, 16) + " is a log key: a log key is not revoked but rotated (avow key rotate)");
  refused({"key", "revoke", first_id, "--reason", "two\nlines"}, 3, "reason contains a line break at byte 3");
  ASSERT_EQ(a.avow({"key", "add", bob_pub, "--name", "bob", "--role", "archivist"}).exit_code, 0);
  ASSERT_EQ(a.avow({"key", "revoke", bob_id, "--reason", "lost"}).exit_code, 0);
  refused({"key", "revoke", bob_id, "--reason", "again"}, 4,
          "key " + bob_id.substr(0, 16) + " was already revoked by entry 2 (lost)");
  refused({"key", "add", bob_pub, "--name", "bob", "--role", "archivist"}, 4,
          "key " + bob_id.substr(0, 16) + " was revoked by entry 2; a key is never added again");
  refused({"key", "add", a.file("first.pub", a.git_show("keys/" + first_id + ".pem")), "--name", "x", "--role",
           "witness"},
          4, "key " + first_id.substr(0, 16) + " is already in this archive (archivist, added by entry 0)");
  // A key the log never added signs nothing.
  const auto [carol, carol_pub] = new_key("carol");
  refused({"archive", a.file("c.txt", "By carol.\n"), "--source", "urn:c", "--key", carol}, 5,
          "archivist key " + key_id_of(carol).substr(0, 16) +
              " is not trusted by this archive (no key.add entry adds it: avow key add)");
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliKeys, KeyAddTakesPemOrSshLinesAndRefusesOtherTypes) {
  const auto refused_type = [&](const std::string& file, const std::string& type) {
    const auto before = a.state();
    auto r = a.avow({"key", "add", file, "--name", "x", "--role", "archivist"});
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_NE(r.err.find(" is an " + type + " key; avow keys are Ed25519"), std::string::npos) << r.err;
    EXPECT_EQ(a.state(), before);
  };
  for (const auto& [alg, type] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"}, "RSA"},
           {{"-algorithm", "X25519"}, "X25519"},
           {{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}, "EC"},
           {{"-algorithm", "ED448"}, "ED448"}}) {
    const std::string priv = (a.tmp() / (type + ".pem")).string();
    std::vector<std::string> gen{"openssl", "genpkey", "-out", priv};
    gen.insert(gen.end(), alg.begin(), alg.end());
    ASSERT_EQ(run_process(gen).exit_code, 0);
    const std::string pub = (a.tmp() / (type + ".pub")).string();
    ASSERT_EQ(run_process({"openssl", "pkey", "-in", priv, "-pubout", "-out", pub}).exit_code, 0);
    refused_type(pub, type);
  }
  refused_type(a.file("rsa.ssh", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== me@host\n"), "ssh-rsa");
  auto priv = a.avow({"key", "add", (a.config_home() / "avow").string(), "--name", "x", "--role", "archivist"});
  EXPECT_EQ(priv.exit_code, 5) << priv.err;

  // An OpenSSH public key line (as in ~/.ssh/id_ed25519.pub) is a witness here.
  const std::string w = (a.tmp() / "w.pem").string();
  ASSERT_EQ(a.avow_raw({"key", "generate", "-o", w}).exit_code, 0);
  auto wk = crypto::read_private_key(w, [] { return std::nullopt; });
  ASSERT_TRUE(wk);
  const auto line = a.file("w.pub", crypto::openssh_public_key(wk->public_key()) + " witness@example.org\n");
  auto r = a.avow({"key", "add", line, "--name", "Witness One", "--role", "witness", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json()["key"], crypto::key_id(wk->public_key()));
  const auto keys = a.avow({"key", "list", "--json"}).json()["archive"];
  EXPECT_EQ(keys[2]["role"], "witness");
  EXPECT_EQ(keys[2]["name"], "Witness One");
  // A witness key signs no statements.
  auto st = a.avow({"archive", a.file("w.txt", "By a witness.\n"), "--source", "urn:w", "--key", w});
  EXPECT_EQ(st.exit_code, 5);
  EXPECT_EQ(st.err, "avow: error: key " + crypto::key_id(wk->public_key()).substr(0, 16) +
                        " is a witness key, not an archivist key\n");
  EXPECT_EQ(a.avow({"verify"}).exit_code, 0);
}

TEST_F(CliKeys, AfterRotationTheOldLogKeyIsRefusedAndItsCheckpointsAreReported) {
  a.archive_text("Before the rotation.\n");
  const std::string old_log = log_key_file();
  auto rotate = a.avow({"key", "rotate", "--generate", "--json"});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_EQ(rotate.json()["generated"], true);
  EXPECT_EQ(rotate.json()["entry"], 2);
  const std::string new_log = rotate.json()["file"];
  a.archive_text("After the rotation.\n");
  ASSERT_EQ(a.avow({"verify"}).exit_code, 0);
  // A seen checkpoint signed by the old key (verify remembered one before) stays valid: the next write goes through.
  a.archive_text("After the rotation, again.\n");
  ASSERT_EQ(a.avow({"verify"}).exit_code, 0);

  // The old log key no longer writes.
  ASSERT_EQ(a.git({"config", "avow.logkey", old_log}).exit_code, 0);
  const auto before = a.state();
  auto r = a.avow({"archive", a.file("x.txt", "With the old log key.\n"), "--source", "urn:x"});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(r.err, "avow: error: log key " + key_id_of(old_log).substr(0, 16) + " ('" + old_log +
                       "') was rotated out at entry 2; the log key in force is " + key_id_of(new_log).substr(0, 16) +
                       " (set avow.logkey to its file)\n");
  auto k = a.avow({"key", "rotate", "--generate"});
  EXPECT_EQ(k.exit_code, 5);
  EXPECT_EQ(a.state(), before);

  // Whoever still holds the old log key forges a checkpoint (and commit) after the rotation: reported.
  const auto entries = log_entries(a.dir());
  const auto [envelope, path] = forged_statement(config("avow.key"), "Forged with the old log key.\n");
  append_raw_entries(a.dir(), {envelope}, RawAppend{fs::path(old_log), true, {{path, "Forged with the old log key.\n"}}});
  auto v = a.avow({"verify", "--json"});
  EXPECT_EQ(v.exit_code, 1);
  std::vector<std::string> kinds;
  const auto report = v.json();
  for (const auto& p : report["problems"]) kinds.push_back(p["kind"]);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "checkpoint_invalid"), kinds.end()) << v.out;
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "commit_signature_invalid"), kinds.end()) << v.out;
  EXPECT_NE(v.out.find("was rotated out at entry 2"), std::string::npos) << v.out;
}

TEST_F(CliKeys, AHandOverCheckpointWithoutTheOldKeysSignatureIsReported) {
  // Rotate by hand, as a writer that forgot the old key's signature: the key.add of the new log key, signed by the
  // old key, appended with a checkpoint signed by the new key only.
  const auto [new_log, new_log_pub] = new_key("newlog");
  auto old_log = crypto::read_private_key(log_key_file(), [] { return std::nullopt; });
  auto next = crypto::read_private_key(new_log, [] { return std::nullopt; });
  ASSERT_TRUE(old_log && next);
  record::KeyEvent e;
  e.kind = "key.add";
  e.key_id = crypto::key_id(next->public_key());
  e.public_key = next->public_key();
  e.role = "log";
  e.captured = format_rfc3339_utc(now_seconds());
  e.archivist = crypto::key_id(old_log->public_key());
  auto payload = record::payload(e);
  ASSERT_TRUE(payload);
  auto env = record::sign(*payload, *old_log);
  ASSERT_TRUE(env);
  append_raw_entries(a.dir(), {*record::serialize(*env)},
                     RawAppend{fs::path(new_log), true, {{"keys/" + e.key_id + ".pem", crypto::public_key_pem(e.public_key)}}});
  auto v = a.avow({"verify", "--json"});
  EXPECT_EQ(v.exit_code, 1);
  std::vector<std::string> kinds;
  const auto report = v.json();
  for (const auto& p : report["problems"]) kinds.push_back(p["kind"]);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "handover_unsigned"), kinds.end()) << v.out;
  // The commit was signed by the new key although its parent's checkpoint is the old key's; allowed_signers was not
  // rewritten either.
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "commit_signature_invalid"), kinds.end()) << v.out;
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "allowed_signers_mismatch"), kinds.end()) << v.out;
}

TEST_F(CliKeys, AStaleKeyStateIsAMismatch) {
  // A writer holding the log key that leaves log/keys and the avow-keys line as they were while adding a key: the
  // checkpoint commits to a key state the log contradicts.
  const auto [bob, bob_pub] = new_key("bob");
  auto log_key = crypto::read_private_key(log_key_file(), [] { return std::nullopt; });
  auto bob_key = crypto::read_private_key(bob, [] { return std::nullopt; });
  ASSERT_TRUE(log_key && bob_key);
  record::KeyEvent e;
  e.kind = "key.add";
  e.key_id = crypto::key_id(bob_key->public_key());
  e.public_key = bob_key->public_key();
  e.role = "archivist";
  e.captured = format_rfc3339_utc(now_seconds());
  e.archivist = crypto::key_id(log_key->public_key());
  auto env = record::sign(*record::payload(e), *log_key);
  ASSERT_TRUE(env);
  // Keep the state of before: the extension of the old state, and log/keys unchanged.
  const std::string old_keys = a.git_show("log/keys");
  append_raw_entries(a.dir(), {*record::serialize(*env)},
                     RawAppend{std::nullopt, true, {{"keys/" + e.key_id + ".pem", crypto::public_key_pem(e.public_key)},
                                                    {"log/keys", old_keys}}});
  auto v = a.avow({"verify", "--json"});
  EXPECT_EQ(v.exit_code, 1);
  std::vector<std::string> kinds;
  const auto report = v.json();
  for (const auto& p : report["problems"]) kinds.push_back(p["kind"]);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "key_state_mismatch"), kinds.end()) << v.out;
}

TEST_F(CliKeys, AnOlderArchiveVerifiesAndItsNextWriteAddsTheKeyState) {
  // An archive as a version before key state wrote it: no log/keys, checkpoints without the avow-keys line.
  const fs::path legacy = a.tmp() / "legacy";
  make_legacy_copy(a.dir(), legacy);
  const std::string text = "From the old days.\n";
  const auto [envelope, path] = forged_statement(config("avow.key"), text);
  append_raw_entries(legacy, {envelope}, RawAppend{std::nullopt, false, {{path, text}}});
  const auto in = [&](const std::vector<std::string>& args) {
    std::vector<std::string> all{"-C", legacy.string()};
    all.insert(all.end(), args.begin(), args.end());
    return a.avow_raw(all);
  };
  const auto show = [&](const std::string& p) {
    return run_process({"git", "-C", legacy.string(), "cat-file", "blob", "main:" + p}).out;
  };
  EXPECT_EQ(run_process({"git", "-C", legacy.string(), "cat-file", "-e", "main:log/keys"}).exit_code, 128);
  EXPECT_EQ(show("log/checkpoint").find("avow-keys"), std::string::npos);
  auto v = in({"verify"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  auto keys = in({"key", "list", "--json"});
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  const auto listed = keys.json();
  EXPECT_EQ(listed["archive"].size(), 2u);

  // The next write upgrades it: log/keys and the avow-keys line from now on; everything still verifies.
  auto w = a.avow_raw({"-C", legacy.string(), "archive", a.file("new.txt", "A new statement.\n"), "--source", "urn:new"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_NE(show("log/checkpoint").find("\navow-keys "), std::string::npos);
  EXPECT_TRUE(show("log/keys").starts_with("{\"format\":\"avow.keys/1\""));
  auto v2 = in({"verify"});
  EXPECT_EQ(v2.exit_code, 0) << v2.out << v2.err;

  // From then on a checkpoint without the line (log/keys left in the tree) is a mismatch.
  append_raw_entries(legacy, {forged_statement(config("avow.key"), "Later.\n").first},
                     RawAppend{std::nullopt, false, {{forged_statement(config("avow.key"), "Later.\n").second, "Later.\n"}}});
  auto v3 = in({"verify", "--json"});
  EXPECT_EQ(v3.exit_code, 1);
  const auto report = v3.json();
  std::vector<std::string> kinds;
  for (const auto& p : report["problems"]) kinds.push_back(p["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"key_state_mismatch", "key_state_mismatch"}))
      << v3.out;
}

} // namespace
} // namespace avow::test
