// End-to-end: key state in proof bundles (`avow proof`, `avow verify-proof`), `avow policy` after a log-key
// rotation, and `avow verify --policy`.
//
// The archive with a second archivist, a revocation and a rotation is written here as a key-state-keeping writer
// would (docs/FORMAT.md section 1 and 9: log/keys, the avow-keys checkpoint line, the hand-over checkpoint signed by
// both log keys), with the library's log and store pieces: the forged entry after the revocation is in the log, as a
// writer holding the log key could put it there. The last test drives the same scenario through `avow key add /
// revoke / rotate` and is skipped while the binary has no `key revoke`.

#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/crypto/sshsig.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <archive/log/tiles.hpp>
#include <archive/log/tlog_proof.hpp>
#include <archive/proof_bundle.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_state.hpp>
#include <archive/record/layout.hpp>
#include <archive/record/record.hpp>
#include <archive/store/git_store.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

template <class T> T must(Expected<T> r, const char* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

// Writes entries to an archive as a writer that keeps the key state would: tiles, log/keys, a checkpoint with the
// avow-keys line signed by the given log keys, the texts and key files, one signed commit per call.
class KeyedWriter {
public:
  explicit KeyedWriter(const TempArchive& a)
      : log0(config_key(a.dir(), "avow.logkey")), alice(config_key(a.dir(), "avow.key")),
        bob(must(crypto::PrivateKey::generate(), "bob")), log1(must(crypto::PrivateKey::generate(), "log1")),
        m_dir(a.dir()) {
    origin = nlohmann::json::parse(a.git_show("avow.json"))["origin"].get<std::string>();
    entries = log_entries(m_dir);
    state = record::initial_key_state(log0.public_key());
    for (std::uint64_t i = 0; i < entries.size(); ++i) {
      auto env = must(record::parse(entries[i]), "envelope");
      auto v = must(json::parse_canonical(env.payload), "payload");
      if (must(record::record_kind(v), "kind") == "statement") continue;
      auto ev = must(record::key_event_from_json(v), "key event");
      must_ok(record::apply(state, ev, env.signatures[0].keyid, i));
    }
  }

  crypto::PrivateKey log0, alice, bob, log1;
  std::string origin;
  std::vector<std::string> entries, texts; // texts[i]: the text of statement i ("" otherwise), for the ones added here
  record::KeyState state;

  std::string key_event(std::string kind, const crypto::PublicKey& key, std::string role, const crypto::PrivateKey& signer,
                        std::optional<std::string> reason = std::nullopt) {
    record::KeyEvent e;
    e.kind = std::move(kind);
    e.key_id = crypto::key_id(key);
    e.public_key = key;
    e.role = std::move(role);
    e.captured = "2026-11-30T10:00:00Z";
    e.archivist = crypto::key_id(signer.public_key());
    e.reason = std::move(reason);
    must_ok(record::apply(state, e, e.archivist, entries.size() + m_pending.size()));
    const std::string env = must(record::serialize(must(record::sign(must(record::payload(e), "payload"), signer), "sign")), "env");
    m_pending.push_back(env);
    if (e.role == "log" || e.role == "archivist") m_files[record::key_path(e.key_id)] = crypto::public_key_pem(key);
    return env;
  }

  // Returns the record id.
  std::string statement(const crypto::PrivateKey& signer, const std::string& text) {
    record::Statement s;
    s.text = {to_hex(crypto::sha256(text)), text.size(), std::nullopt};
    s.source = {"https://example.org/keys/" + std::to_string(entries.size() + m_pending.size()), std::nullopt};
    s.captured = "2026-11-30T10:00:00Z";
    s.archivist = crypto::key_id(signer.public_key());
    const std::string payload = must(record::payload(s), "payload");
    m_pending.push_back(must(record::serialize(must(record::sign(payload, signer), "sign")), "env"));
    m_files[record::text_path(s.text.sha256)] = text;
    return record::record_id(payload);
  }

  void commit(const std::vector<const crypto::PrivateKey*>& checkpoint_signers, const crypto::PrivateKey& commit_key) {
    auto store = must(store::GitStore::open(m_dir), "open");
    const store::Oid base = *must(store.head(), "head");
    const log::TileReader reader = [&](const std::string& path) -> Expected<Bytes> {
      auto data = store.read(base, std::string(record::k_log_prefix) + path);
      if (!data) return std::unexpected(data.error());
      return Bytes(data->begin(), data->end());
    };
    auto plan = must(log::plan_append(entries.size(), m_pending, reader), "plan");
    auto tx = must(store.begin(), "begin");
    for (const auto& path : plan.removes) must_ok(tx.remove(std::string(record::k_log_prefix) + path));
    for (const auto& w : plan.writes) must_ok(tx.put(std::string(record::k_log_prefix) + w.path, to_string(w.data)));
    for (const auto& [path, data] : m_files) must_ok(tx.put(path, data));
    const std::string keys = record::key_state_json(state);
    must_ok(tx.put("log/keys", keys));
    const log::Checkpoint cp{origin, plan.new_size, plan.root, {record::key_state_extension_for(keys)}};
    const std::string text = log::checkpoint_text(cp);
    log::Note note{text, {}};
    for (const auto* k : checkpoint_signers) note.signatures.push_back(must(log::note_signature(text, origin, *k), "sig"));
    must_ok(tx.put(record::k_checkpoint_path, must(log::format_note(note), "note")));
    must(tx.commit("avow: keyed append (test)\n\nAvow-Tree-Size: " + std::to_string(plan.new_size) + "\n",
                   [&](std::string_view buffer) { return crypto::sshsig_sign(commit_key, "git", as_bytes(buffer)); }),
         "commit");
    entries.insert(entries.end(), m_pending.begin(), m_pending.end());
    m_pending.clear();
    m_files.clear();
  }

private:
  static crypto::PrivateKey config_key(const fs::path& dir, const char* name) {
    auto store = must(store::GitStore::open(dir), "open");
    return must(crypto::read_private_key(fs::path(*must(store.config_get(name), name)), [] { return std::nullopt; }),
                name);
  }
  static void must_ok(Expected<void> r) {
    if (!r) throw std::runtime_error(r.error().message);
  }
  fs::path m_dir;
  std::vector<std::string> m_pending;
  std::map<std::string, std::string> m_files;
};

// entries: 0 key.add alice (init), 1 statement by alice, 2 key.add bob, 3 statement by bob, 4 key.revoke bob (laptop
// stolen), 5 statement by bob (forged: after the revocation), 6 rotation to log1, 7 statement by alice.
// Checkpoints with key state at sizes 4, 6, 7 (the hand-over: log1 and log0) and 8 (log1).
class CliProofKeys : public ::testing::Test {
protected:
  TempArchive a{"keys.proof.avow.example/log"};
  std::unique_ptr<KeyedWriter> w;
  std::string before_id, forged_id, after_id;
  std::string old_policy; // what `avow policy` printed before the rotation
  fs::path old_policy_file, new_policy_file, bundle_file;

  void SetUp() override {
    a.archive_text("Alice's first statement.\n");
    old_policy = a.avow({"policy"}).out;
    w = std::make_unique<KeyedWriter>(a);
    w->key_event("key.add", w->bob.public_key(), "archivist", w->log0);
    before_id = w->statement(w->bob, "Bob's statement, before the theft.\n");
    w->commit({&w->log0}, w->log0);
    w->key_event("key.revoke", w->bob.public_key(), "archivist", w->log0, std::string("laptop stolen"));
    forged_id = w->statement(w->bob, "Written with the stolen key.\n");
    w->commit({&w->log0}, w->log0);
    w->key_event("key.add", w->log1.public_key(), "log", w->log0);
    w->commit({&w->log1, &w->log0}, w->log0);
    after_id = w->statement(w->alice, "After the rotation.\n");
    w->commit({&w->log1}, w->log1);
    old_policy_file = a.tmp() / "old.policy";
    new_policy_file = a.tmp() / "new.policy";
    bundle_file = a.tmp() / "before.avow-proof";
    write_file(old_policy_file, old_policy);
    auto p = a.avow({"policy"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    write_file(new_policy_file, p.out);
  }

  RunResult verify_proof(const fs::path& bundle, const fs::path& policy, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{avow_bin(), "verify-proof", bundle.string(), "--policy", policy.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_process(args, {}, a.env());
  }

  std::string id16(const crypto::PrivateKey& k) { return crypto::key_id(k.public_key()).substr(0, 16); }
};

TEST_F(CliProofKeys, PolicyAfterRotationNamesTheNewLogKey) {
  const std::string origin = "keys.proof.avow.example/log";
  EXPECT_NE(old_policy.find("\nlog " + log::vkey(origin, w->log0.public_key()) + "\n"), std::string::npos) << old_policy;
  EXPECT_EQ(read_file(new_policy_file), "# Trust policy (C2SP tlog-policy) for the avow archive " + origin + "\nlog " +
                                            log::vkey(origin, w->log1.public_key()) + "\nquorum none\n");
  // avow checkpoint reads the checkpoint under the log key in force.
  auto cp = a.avow({"checkpoint"});
  EXPECT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_EQ(cp.out, a.git_show("log/checkpoint"));
}

TEST_F(CliProofKeys, EntryBeforeTheRevocationVerifiesThroughTheHandOverAndShowsTheKeyState) {
  auto p = a.avow({"proof", before_id.substr(0, 12), "-o", bundle_file.string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const auto bundle = nlohmann::json::parse(read_file(bundle_file));
  EXPECT_EQ(bundle["key_state"], a.git_show("log/keys"));
  ASSERT_EQ(bundle["handovers"].size(), 1u);
  fs::remove_all(a.dir()); // offline
  for (const auto& policy : {old_policy_file, new_policy_file}) {
    auto r = verify_proof(bundle_file, policy);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("key state at tree size 8: archivist key " + id16(w->bob) +
                         " in force at entry 3; key revoked later, by entry 4 (laptop stolen); this entry came before\n"),
              std::string::npos)
        << r.out;
  }
  auto old = verify_proof(bundle_file, old_policy_file);
  EXPECT_NE(old.out.find("log key handed over by entry 6 (checkpoint of tree size 7): " + id16(w->log0) + " -> " +
                         id16(w->log1) + "\n"),
            std::string::npos)
      << old.out;
  auto j = verify_proof(bundle_file, old_policy_file, {"--json"}).json();
  EXPECT_EQ(j["proven"], true);
  EXPECT_EQ(j["key_state"], (nlohmann::json{{"shown", true}, {"in_force", true}, {"revoked_at", 4}, {"reason", "laptop stolen"}}));
  EXPECT_EQ(j["log_key"], crypto::key_id(w->log1.public_key()));
  EXPECT_EQ(j["handovers"], (nlohmann::json::array({{{"tree_size", 7}, {"rotated_at", 6},
                                                     {"from", crypto::key_id(w->log0.public_key())},
                                                     {"to", crypto::key_id(w->log1.public_key())}}})));
  // A policy naming a third key: no.
  const std::string other = "log " + log::vkey("keys.proof.avow.example/log", must(crypto::PrivateKey::generate(), "k").public_key()) +
                            "\nquorum none\n";
  write_file(a.tmp() / "other.policy", other);
  auto bad = verify_proof(bundle_file, a.tmp() / "other.policy");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(bad.out.starts_with("NOT proven: ")) << bad.out;
}

TEST_F(CliProofKeys, EntryAfterTheRevocationIsRefused) {
  // avow proof never hands out a bundle that does not prove its entry.
  const std::string before = a.state();
  auto p = a.avow({"proof", forged_id.substr(0, 12)});
  EXPECT_EQ(p.exit_code, 4) << p.out << p.err;
  EXPECT_EQ(p.err, "avow: error: the archive does not prove entry 5: archivist key " + id16(w->bob) +
                       " was revoked by entry 4 (laptop stolen) before this entry 5 (run avow verify)\n");
  EXPECT_EQ(a.state(), before);
  // A bundle of it made by hand from a real one: its own envelope, text and inclusion proof at the same checkpoint.
  ASSERT_EQ(a.avow({"proof", before_id.substr(0, 12), "-o", bundle_file.string()}).exit_code, 0);
  auto bundle = nlohmann::json::parse(read_file(bundle_file));
  std::vector<log::Hash> leaves;
  for (const auto& e : w->entries) leaves.push_back(log::leaf_hash(e));
  const std::string note = log::parse_tlog_proof(bundle["proof"].get<std::string>())->checkpoint;
  bundle["envelope"] = w->entries[5];
  bundle["text"] = "Written with the stolen key.\n";
  bundle["proof"] = log::format_tlog_proof({std::nullopt, 5, must(log::inclusion_proof(5, 8, leaves), "path"), note});
  const fs::path forged = a.tmp() / "forged.avow-proof";
  write_file(forged, bundle.dump());
  for (const auto& policy : {old_policy_file, new_policy_file}) {
    auto r = verify_proof(forged, policy);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(r.out, "NOT proven: archivist key " + id16(w->bob) +
                         " was revoked by entry 4 (laptop stolen) before this entry 5\n");
  }
  // Dropping the key state does not make it an "older bundle": the checkpoint commits to one.
  bundle.erase("key_state");
  bundle.erase("handovers");
  write_file(forged, bundle.dump());
  auto stripped = verify_proof(forged, new_policy_file);
  EXPECT_EQ(stripped.exit_code, 1);
  EXPECT_EQ(stripped.out,
            "NOT proven: the checkpoint commits to a key state (avow-keys line) but the bundle does not carry it\n");
}

TEST_F(CliProofKeys, EveryFlippedBitIsNotProven) {
  auto p = a.avow({"proof", after_id.substr(0, 12), "-o", bundle_file.string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const std::string bundle = read_file(bundle_file);
  const auto j = nlohmann::json::parse(bundle);
  ASSERT_TRUE(j.contains("key_state") && j.contains("handovers"));
  RecordProperty("bundle_bytes", std::to_string(bundle.size()));
  for (const auto& file : {old_policy_file, new_policy_file}) {
    const std::string policy = read_file(file);
    auto good = verify_bundle(bundle, policy, std::nullopt);
    ASSERT_TRUE(good && good->proven) << (good ? good->reason : good.error().message);
    EXPECT_TRUE(good->key_state_shown);
    EXPECT_EQ(good->key_name, "");
    test::expect_every_bit_flip_unproven(bundle, policy);
  }
}

TEST_F(CliProofKeys, VerifyPolicyFollowsTheHandOver) {
  // The simulated writer is not the real one, so verify may find other problems; only the policy is asserted here.
  for (const auto& [file, handovers] : {std::pair{old_policy_file, 1}, std::pair{new_policy_file, 0}}) {
    auto r = a.avow({"verify", "--quick", "--policy", file.string(), "--json"});
    const auto j = r.json();
    EXPECT_EQ(j["policy"]["satisfied"], true) << r.out;
    EXPECT_EQ(j["policy"]["handovers"], handovers);
    EXPECT_EQ(j["policy"]["log_key"], crypto::key_id(w->log1.public_key()));
    for (const auto& problem : j["problems"]) EXPECT_NE(problem["kind"], "policy_unsatisfied") << problem;
  }
}

// --- verify --policy on an archive as this version writes it -------------------------------------------------------

class CliVerifyPolicy : public ::testing::Test {
protected:
  TempArchive a{"policy.avow.example/log"};
  void SetUp() override { a.archive_text("A statement.\n"); }
  RunResult verify_with(const std::string& policy, const std::vector<std::string>& extra = {}) {
    const std::string file = a.file("test.policy", policy);
    std::vector<std::string> args{"verify", "--policy", file};
    args.insert(args.end(), extra.begin(), extra.end());
    return a.avow(args);
  }
};

TEST_F(CliVerifyPolicy, OwnPolicyPasses) {
  auto r = verify_with(a.avow({"policy"}).out);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string log_key = nlohmann::json::parse(a.git_show("avow.json"))["log_key"]["id"].get<std::string>();
  EXPECT_NE(r.out.find("policy: the checkpoint of tree size 2 satisfies " + (a.tmp() / "test.policy").string() +
                       " (log key " + log_key.substr(0, 16) + ")\n"),
            std::string::npos)
      << r.out;
  auto j = verify_with(a.avow({"policy"}).out, {"--json"}).json();
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["policy"]["satisfied"], true);
  EXPECT_EQ(j["policy"]["tree_size"], 2);
  EXPECT_EQ(j["policy"]["witnesses"], nlohmann::json::array());
}

TEST_F(CliVerifyPolicy, WitnessQuorumTheArchiveCannotMeetFails) {
  const auto witness = must(crypto::PrivateKey::generate(), "witness");
  const std::string policy = a.avow({"policy"}).out;
  const std::string quorum = "witness w1 " + log::vkey("w1.example", witness.public_key(), log::k_sig_cosignature_v1) +
                             "\nquorum w1\n";
  const std::string with_witness = policy.substr(0, policy.find("quorum none\n")) + quorum;
  const std::string before = a.state();
  auto r = verify_with(with_witness);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("problem: policy_unsatisfied path log/checkpoint: the checkpoint does not satisfy the policy: "
                       "quorum not reached: witness 'w1' did not cosign\n"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(r.out.ends_with("NOT verified: archive 'policy.avow.example/log': 1 problem found\n")) << r.out;
  auto j = verify_with(with_witness, {"--json"}).json();
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["policy"]["satisfied"], false);
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_EQ(j["problems"][0]["kind"], "policy_unsatisfied");
  // Once the witness cosigns the archive's checkpoint, it is satisfied.
  const std::string note = a.git_show("log/checkpoint");
  auto parsed = must(log::parse_note(note), "note");
  parsed.signatures.push_back(must(log::cosign(parsed.text, "w1.example", witness, 1764496800), "cosign"));
  a.git_replace("log/checkpoint", must(log::format_note(parsed), "format"));
  auto cosigned = verify_with(with_witness, {"--json"}).json();
  EXPECT_EQ(cosigned["policy"]["satisfied"], true) << cosigned;
  EXPECT_EQ(cosigned["policy"]["witnesses"], nlohmann::json::array({"w1"}));
  (void)before;
}

TEST_F(CliVerifyPolicy, AnotherLogKeyOrOriginFails) {
  TempArchive twin("policy.avow.example/log");
  auto r = verify_with(twin.avow({"policy"}).out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("problem: policy_unsatisfied path log/checkpoint: the checkpoint does not satisfy the policy: "
                       "checkpoint has no signature by log 'policy.avow.example/log'\n"),
            std::string::npos)
      << r.out;
  TempArchive other("other.avow.example/log");
  auto o = verify_with(other.avow({"policy"}).out);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.out.find("checkpoint origin 'policy.avow.example/log' is not a log of the policy"), std::string::npos)
      << o.out;
}

TEST_F(CliVerifyPolicy, UnreadableOrMalformedPolicyIsExitThreeAndChangesNothing) {
  const std::string before = a.state();
  auto r = verify_with("log not-a-vkey\nquorum none\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(r.err.starts_with("avow: error: policy line 1: invalid log key: ")) << r.err;
  EXPECT_EQ(r.out, "");
  auto missing = a.avow({"verify", "--policy", (a.tmp() / "no-such.policy").string()});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_TRUE(missing.err.starts_with("avow: error: ")) << missing.err;
  EXPECT_EQ(a.state(), before);
}

// --- the same scenario through the keys CLI (issue 8, "What this issue must show") --------------------------------

TEST(CliProofKeysCommands, RevocationAndRotationThroughTheKeyCommands) {
  TempArchive a("cli.keys.avow.example/log");
  if (a.avow({"key", "revoke", "--help"}).exit_code != 0)
    GTEST_SKIP() << "this avow has no `key revoke` yet (keys branch of issue 8): the scenario is covered above with a "
                    "simulated key-state writer";
  a.archive_text("Alice's first statement.\n");
  const std::string old_policy = a.avow({"policy"}).out;
  // A second archivist, bob.
  auto gen = a.avow({"key", "generate", "-o", (a.tmp() / "bob.pem").string(), "--json"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const std::string bob_id = gen.json()["id"].get<std::string>();
  write_file(a.tmp() / "bob.pub.pem", gen.json()["public_key"].get<std::string>());
  auto add = a.avow({"key", "add", (a.tmp() / "bob.pub.pem").string(), "--name", "bob", "--role", "archivist"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string before_id = a.archive_text("Bob's statement, before the theft.\n", {"--key", (a.tmp() / "bob.pem").string()});
  auto revoke = a.avow({"key", "revoke", bob_id, "--reason", "laptop stolen"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  auto gen_log = a.avow({"key", "generate", "-o", (a.tmp() / "log1.pem").string()});
  ASSERT_EQ(gen_log.exit_code, 0) << gen_log.err;
  auto rotate = a.avow({"key", "rotate", "--log", (a.tmp() / "log1.pem").string()});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  a.archive_text("After the rotation.\n");
  ASSERT_EQ(a.avow({"verify"}).exit_code, 0);

  const std::string bundle = a.tmp() / "before.avow-proof";
  ASSERT_EQ(a.avow({"proof", before_id.substr(0, 12), "-o", bundle}).exit_code, 0);
  const std::string old_file = a.file("old.policy", old_policy);
  const std::string new_file = a.file("new.policy", a.avow({"policy"}).out);
  EXPECT_NE(read_file(new_file), old_policy);
  for (const auto& policy : {old_file, new_file}) {
    auto r = a.avow_raw({"verify-proof", bundle, "--policy", policy});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("key revoked later, by entry"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(laptop stolen); this entry came before"), std::string::npos) << r.out;
    auto v = a.avow({"verify", "--policy", policy});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  }
  // After the revocation the archive refuses bob's key; a bundle of a forged entry is covered above.
  auto refused = a.archive_file("Written with the stolen key.\n", {"--source", "https://example.org/x", "--key",
                                                                  (a.tmp() / "bob.pem").string()});
  EXPECT_NE(refused.exit_code, 0);
}

} // namespace
} // namespace avow::test
