// Proof bundles with key state and log-key hand-overs (docs/FORMAT.md section 15.7), checked on a synthetic log
// built here with the library's own pieces (keys from fixed seeds, DSSE envelopes, Merkle proofs, signed notes), so
// every case, including ones no honest writer produces, is at hand.

#include <archive/proof_bundle.hpp>
#include <tests/support/support.hpp>

#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <archive/log/tlog_proof.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/record.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace avow {
namespace {

const std::string k_origin = "keys.avow.example/log";

crypto::PrivateKey key(std::uint8_t seed) { return *crypto::PrivateKey::from_seed(Bytes(32, seed)); }

std::string envelope(std::string_view payload, const crypto::PrivateKey& signer) {
  return *record::serialize(*record::sign(payload, signer));
}

// A log of statements and key events, with the key state after every prefix.
struct SyntheticLog {
  crypto::PrivateKey log0 = key(1), alice = key(2), bob = key(3), log1 = key(4);
  std::vector<std::string> entries, texts;
  std::vector<log::Hash> leaves;
  std::vector<record::KeyState> states{record::initial_key_state(log0.public_key())}; // states[s]: after [0, s)

  void push(std::string entry, std::string text = {}) {
    leaves.push_back(log::leaf_hash(entry));
    entries.push_back(std::move(entry));
    texts.push_back(std::move(text));
  }

  void key_event(std::string kind, const crypto::PublicKey& k, std::string role, const crypto::PrivateKey& signer,
                 std::optional<std::string> reason = std::nullopt, std::optional<std::string> name = std::nullopt) {
    record::KeyEvent e;
    e.kind = std::move(kind);
    e.key_id = crypto::key_id(k);
    e.public_key = k;
    e.role = std::move(role);
    e.captured = "2026-11-30T10:00:00Z";
    e.archivist = crypto::key_id(signer.public_key());
    e.reason = std::move(reason);
    e.name = std::move(name);
    record::KeyState next = states.back();
    auto ok = record::apply(next, e, e.archivist, entries.size());
    ASSERT_TRUE(ok) << ok.error().message;
    push(envelope(*record::payload(e), signer));
    states.push_back(std::move(next));
  }

  void statement(const crypto::PrivateKey& signer, std::string text) {
    record::Statement s;
    s.text = {to_hex(crypto::sha256(text)), text.size(), std::nullopt};
    s.source = {"https://example.org/s/" + std::to_string(entries.size()), std::nullopt};
    s.captured = "2026-11-30T10:00:00Z";
    s.archivist = crypto::key_id(signer.public_key());
    push(envelope(*record::payload(s), signer), std::move(text));
    states.push_back(states.back());
  }

  std::string state_json(std::uint64_t size) const { return record::key_state_json(states[size]); }

  log::Checkpoint checkpoint(std::uint64_t size, bool with_state = true) const {
    log::Checkpoint cp{k_origin, size, log::root_of(std::span(leaves).first(size)), {}};
    if (with_state) cp.extensions.push_back(record::key_state_extension(states[size]));
    return cp;
  }
  // The checkpoint note of `size`, signed by each of `signers` in order.
  std::string note(std::uint64_t size, const std::vector<const crypto::PrivateKey*>& signers, bool with_state = true) const {
    const std::string text = log::checkpoint_text(checkpoint(size, with_state));
    log::Note n{text, {}};
    for (const auto* k : signers) n.signatures.push_back(*log::note_signature(text, k_origin, *k));
    return *log::format_note(n);
  }

  std::string tlog_proof(std::uint64_t index, const std::string& cp_note) const {
    auto cp = log::parse_checkpoint_text(log::parse_note(cp_note)->text);
    return log::format_tlog_proof({std::nullopt, index, *log::inclusion_proof(index, cp->size, leaves), cp_note});
  }

  nlohmann::json handover(std::uint64_t size, std::uint64_t next_size, const std::vector<const crypto::PrivateKey*>& signers) const {
    nlohmann::json cons = nlohmann::json::array();
    const auto proof = log::consistency_proof(size, next_size, leaves);
    for (const auto& h : *proof) cons.push_back(base64_encode(h));
    return {{"checkpoint", note(size, signers)}, {"key_state", state_json(size)}, {"consistency", cons}};
  }

  // A bundle of entry `i` (whose key was added at `k`, by `key_add_signer`) at the checkpoint `cp_note` of `size`.
  nlohmann::json bundle(std::uint64_t i, std::uint64_t k, const std::string& cp_note, std::uint64_t size,
                        const crypto::PrivateKey& signer, const crypto::PrivateKey& key_add_signer) const {
    nlohmann::json b = {{"format", "avow.proof/1"},
                        {"envelope", entries[i]},
                        {"text", texts[i]},
                        {"proof", tlog_proof(i, cp_note)},
                        {"key", {{"envelope", entries[k]}, {"proof", tlog_proof(k, cp_note)}}},
                        {"keys",
                         {{crypto::key_id(signer.public_key()), crypto::public_key_pem(signer.public_key())},
                          {crypto::key_id(key_add_signer.public_key()), crypto::public_key_pem(key_add_signer.public_key())}}}};
    b["key_state"] = state_json(size);
    return b;
  }
};

std::string policy_for(const crypto::PrivateKey& k, const std::string& extra = "") {
  return "log " + log::vkey(k_origin, k.public_key()) + "\n" + extra + "quorum none\n";
}

// entries: 0 key.add alice, 1 key.add bob, 2 statement by alice, 3 statement by bob, 4 key.revoke bob (laptop
// stolen), 5 statement by bob (after the revocation), 6 rotation to log1 (signed by log0), 7 statement by alice.
// Hand-over checkpoint: size 7 (log1 and log0); the bundles' checkpoint: size 8 (log1).
class ProofBundleKeys : public ::testing::Test {
protected:
  SyntheticLog l;
  std::string final_note;

  void SetUp() override {
    l.key_event("key.add", l.alice.public_key(), "archivist", l.log0, std::nullopt, std::string("alice"));
    l.key_event("key.add", l.bob.public_key(), "archivist", l.log0);
    l.statement(l.alice, "Alice's first statement.\n");
    l.statement(l.bob, "Bob's statement, before the theft.\n");
    l.key_event("key.revoke", l.bob.public_key(), "archivist", l.log0, std::string("laptop stolen"));
    l.statement(l.bob, "Written with the stolen key.\n");
    l.key_event("key.add", l.log1.public_key(), "log", l.log0);
    l.statement(l.alice, "After the rotation.\n");
    final_note = l.note(8, {&l.log1});
  }

  nlohmann::json rotated_bundle(std::uint64_t i, std::uint64_t k, const crypto::PrivateKey& signer) {
    auto b = l.bundle(i, k, final_note, 8, signer, l.log0);
    b["handovers"] = nlohmann::json::array({l.handover(7, 8, {&l.log1, &l.log0})});
    return b;
  }
};

BundleResult check(const nlohmann::json& bundle, const std::string& policy) {
  auto r = verify_bundle(bundle.dump(), policy, std::nullopt);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : BundleResult{};
}

TEST_F(ProofBundleKeys, EntryBeforeTheRevocationIsProvenAndSaysTheKeyWasRevokedLater) {
  const auto r = check(rotated_bundle(3, 1, l.bob), policy_for(l.log0));
  ASSERT_TRUE(r.proven) << r.reason;
  EXPECT_EQ(r.index, 3u);
  EXPECT_TRUE(r.key_state_shown);
  EXPECT_EQ(r.key_revoked_at, std::optional<std::uint64_t>(4));
  EXPECT_EQ(r.key_revoked_reason, "laptop stolen");
  EXPECT_EQ(r.key_added_at, 1u);
  EXPECT_EQ(r.log_key, crypto::key_id(l.log1.public_key()));
  ASSERT_EQ(r.handovers.size(), 1u);
  EXPECT_EQ(r.handovers[0].tree_size, 7u);
  EXPECT_EQ(r.handovers[0].rotated_at, 6u);
  EXPECT_EQ(r.handovers[0].from_key, crypto::key_id(l.log0.public_key()));
  EXPECT_EQ(r.handovers[0].to_key, crypto::key_id(l.log1.public_key()));
}

TEST_F(ProofBundleKeys, EntryAfterTheRevocationIsNotProvenNamingKeyEntryAndReason) {
  const auto r = check(rotated_bundle(5, 1, l.bob), policy_for(l.log0));
  EXPECT_FALSE(r.proven);
  EXPECT_EQ(r.reason, "archivist key " + crypto::key_id(l.bob.public_key()).substr(0, 16) +
                          " was revoked by entry 4 (laptop stolen) before this entry 5");
}

TEST_F(ProofBundleKeys, KeyInForceShowsItsNameAndNoRevocation) {
  const auto r = check(rotated_bundle(7, 0, l.alice), policy_for(l.log0));
  ASSERT_TRUE(r.proven) << r.reason;
  EXPECT_TRUE(r.key_state_shown);
  EXPECT_EQ(r.key_name, "alice");
  EXPECT_FALSE(r.key_revoked_at.has_value());
}

TEST_F(ProofBundleKeys, PolicyNamingTheNewKeyNeedsNoHandOverButChecksIt) {
  const auto with = check(rotated_bundle(2, 0, l.alice), policy_for(l.log1));
  ASSERT_TRUE(with.proven) << with.reason;
  EXPECT_TRUE(with.handovers.empty()); // nothing followed: the policy already trusts log1
  auto without = l.bundle(2, 0, final_note, 8, l.alice, l.log0);
  const auto r = check(without, policy_for(l.log1));
  EXPECT_TRUE(r.proven) << r.reason;
  // Without the hand-over, the old key's policy cannot reach the new key.
  const auto old = check(without, policy_for(l.log0));
  EXPECT_FALSE(old.proven);
  EXPECT_EQ(old.reason, "the entry is not proven in the log: checkpoint has no signature by log '" + k_origin + "'");
}

TEST_F(ProofBundleKeys, AnotherLogKeyIsRefused) {
  const auto r = check(rotated_bundle(2, 0, l.alice), policy_for(key(9)));
  EXPECT_FALSE(r.proven);
  EXPECT_NE(r.reason.find("is not among the log keys the bundle's hand-overs lead through"), std::string::npos)
      << r.reason;
}

TEST_F(ProofBundleKeys, HandOverMustBeSignedByBothKeysAndCommitToItsState) {
  for (const auto& signers : std::vector<std::vector<const crypto::PrivateKey*>>{{&l.log1}, {&l.log0}}) {
    auto b = rotated_bundle(2, 0, l.alice);
    b["handovers"][0] = l.handover(7, 8, signers);
    const auto r = check(b, policy_for(l.log0));
    EXPECT_FALSE(r.proven);
    EXPECT_NE(r.reason.find("log-key hand-over 1 of 1: no valid signature by the"), std::string::npos) << r.reason;
  }
  // A hand-over whose key state is another (valid) state: the checkpoint's avow-keys line does not match it.
  auto b = rotated_bundle(2, 0, l.alice);
  b["handovers"][0]["key_state"] = l.state_json(6);
  const auto r = check(b, policy_for(l.log0));
  EXPECT_FALSE(r.proven);
  EXPECT_NE(r.reason.find("its key state does not hash to its checkpoint's avow-keys line"), std::string::npos) << r.reason;
  // A hand-over at a checkpoint before the rotation entry shows no rotation.
  auto early = rotated_bundle(2, 0, l.alice);
  early["handovers"][0] = l.handover(6, 8, {&l.log1, &l.log0});
  EXPECT_FALSE(check(early, policy_for(l.log0)).proven);
}

TEST_F(ProofBundleKeys, KeyStateMustBeTheOneTheCheckpointCommitsTo) {
  // Stripping the key state from a bundle whose checkpoint commits to one is refused: no downgrade to "older".
  auto stripped = l.bundle(2, 0, l.note(4, {&l.log0}), 4, l.alice, l.log0);
  stripped.erase("key_state");
  auto r = check(stripped, policy_for(l.log0));
  EXPECT_FALSE(r.proven);
  EXPECT_EQ(r.reason, "the checkpoint commits to a key state (avow-keys line) but the bundle does not carry it");
  // The state at another size (before bob's revocation) does not hash to the line.
  auto swapped = l.bundle(5, 1, l.note(6, {&l.log0}), 6, l.bob, l.log0);
  swapped["key_state"] = l.state_json(4);
  r = check(swapped, policy_for(l.log0));
  EXPECT_FALSE(r.proven);
  EXPECT_EQ(r.reason, "the bundle's key state does not hash to its checkpoint's avow-keys line");
  // A key state with a checkpoint that does not commit to one.
  auto unbacked = l.bundle(2, 0, l.note(4, {&l.log0}, false), 4, l.alice, l.log0);
  r = check(unbacked, policy_for(l.log0));
  EXPECT_FALSE(r.proven);
  EXPECT_EQ(r.reason, "the bundle carries a key state but its checkpoint does not commit to one");
  // Hand-overs without a key state are malformed.
  auto lone = rotated_bundle(2, 0, l.alice);
  lone.erase("key_state");
  EXPECT_FALSE(check(lone, policy_for(l.log0)).proven);
}

TEST_F(ProofBundleKeys, OlderBundleVerifiesAsBeforeWithoutKeyState) {
  // A checkpoint written before key states (no avow-keys line) and a bundle without key_state: the old checks only,
  // so even the entry after the revocation is proven; the result says the key state is not shown.
  auto b = l.bundle(5, 1, l.note(6, {&l.log0}, false), 6, l.bob, l.log0);
  b.erase("key_state");
  const auto r = check(b, policy_for(l.log0));
  ASSERT_TRUE(r.proven) << r.reason;
  EXPECT_FALSE(r.key_state_shown);
  EXPECT_FALSE(r.key_revoked_at.has_value());
  EXPECT_TRUE(r.handovers.empty());
  EXPECT_EQ(r.log_key, crypto::key_id(l.log0.public_key()));
}

TEST_F(ProofBundleKeys, BundleAtTheHandOverCheckpointItself) {
  // The bundle's checkpoint is the hand-over checkpoint (size 7): the consistency proof is empty.
  const std::string h = l.note(7, {&l.log1, &l.log0});
  auto b = l.bundle(3, 1, h, 7, l.bob, l.log0);
  b["handovers"] = nlohmann::json::array({l.handover(7, 7, {&l.log1, &l.log0})});
  for (const auto* p : {&l.log0, &l.log1}) {
    const auto r = check(b, policy_for(*p));
    EXPECT_TRUE(r.proven) << r.reason;
  }
}

TEST_F(ProofBundleKeys, TwoRotationsFollowedFromAnyKeyOfTheChain) {
  const crypto::PrivateKey log2 = key(5);
  l.key_event("key.add", log2.public_key(), "log", l.log1); // entry 8
  l.statement(l.alice, "After the second rotation.\n");     // entry 9
  const std::string note10 = l.note(10, {&log2});
  auto b = l.bundle(3, 1, note10, 10, l.bob, l.log0);
  b["handovers"] = nlohmann::json::array({l.handover(7, 9, {&l.log1, &l.log0}), l.handover(9, 10, {&log2, &l.log1})});
  auto from0 = check(b, policy_for(l.log0));
  ASSERT_TRUE(from0.proven) << from0.reason;
  EXPECT_EQ(from0.handovers.size(), 2u);
  auto from1 = check(b, policy_for(l.log1));
  ASSERT_TRUE(from1.proven) << from1.reason;
  ASSERT_EQ(from1.handovers.size(), 1u);
  EXPECT_EQ(from1.handovers[0].to_key, crypto::key_id(log2.public_key()));
  EXPECT_TRUE(check(b, policy_for(log2)).proven);
  // Out of order, or one missing: refused.
  auto swapped = b;
  std::swap(swapped["handovers"][0], swapped["handovers"][1]);
  EXPECT_FALSE(check(swapped, policy_for(l.log0)).proven);
  auto missing = b;
  missing["handovers"].erase(0);
  EXPECT_FALSE(check(missing, policy_for(l.log0)).proven);
  EXPECT_TRUE(check(missing, policy_for(l.log1)).proven);
}

TEST_F(ProofBundleKeys, WitnessQuorumAppliesToTheFinalCheckpointAfterTheHandOver) {
  const crypto::PrivateKey w = key(7);
  const std::string witness = "witness w1 " + log::vkey("w1.example", w.public_key(), log::k_sig_cosignature_v1) + "\n";
  const std::string policy = "log " + log::vkey(k_origin, l.log0.public_key()) + "\n" + witness + "quorum w1\n";
  auto b = rotated_bundle(2, 0, l.alice);
  auto r = check(b, policy);
  EXPECT_FALSE(r.proven);
  EXPECT_NE(r.reason.find("quorum not reached: witness 'w1' did not cosign"), std::string::npos) << r.reason;
  // Cosign the final checkpoint (both proofs carry it).
  const std::string text = log::checkpoint_text(l.checkpoint(8));
  auto n = *log::parse_note(final_note);
  n.signatures.push_back(*log::cosign(text, "w1.example", w, 1764496800));
  const std::string cosigned = *log::format_note(n);
  b["proof"] = l.tlog_proof(2, cosigned);
  b["key"]["proof"] = l.tlog_proof(0, cosigned);
  r = check(b, policy);
  ASSERT_TRUE(r.proven) << r.reason;
  EXPECT_EQ(r.witnesses, std::vector<std::string>{"w1"});
}

TEST_F(ProofBundleKeys, EveryFlippedBitIsNotProven) {
  const std::string bundle = rotated_bundle(3, 1, l.bob).dump();
  for (const auto* p : {&l.log0, &l.log1}) {
    const std::string policy = policy_for(*p);
    ASSERT_TRUE(verify_bundle(bundle, policy, std::nullopt)->proven);
    test::expect_every_bit_flip_unproven(bundle, policy);
  }
}

} // namespace
} // namespace avow
