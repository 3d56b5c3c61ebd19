#include <archive/crypto/sha256.hpp>
#include <archive/crypto/sshsig.hpp>
#include <archive/record/key_state.hpp>
#include <archive/util/bytes.hpp>

#include <gtest/gtest.h>

#include <string>

namespace avow::record {
namespace {

crypto::PublicKey pub(std::uint8_t seed) {
  auto k = crypto::PrivateKey::from_seed(Bytes(32, seed));
  return k->public_key();
}

KeyEvent event(std::string kind, const crypto::PublicKey& key, std::string role, const crypto::PublicKey& signer) {
  KeyEvent e;
  e.kind = std::move(kind);
  e.key_id = crypto::key_id(key);
  e.public_key = key;
  e.role = std::move(role);
  e.captured = "2026-11-30T10:00:00Z";
  e.archivist = crypto::key_id(signer);
  return e;
}

TEST(KeyState, TracksAddRevokeAndRotationByLogPosition) {
  const auto log1 = pub(1), log2 = pub(2), alice = pub(3), bob = pub(4);
  KeyState s = initial_key_state(log1);
  ASSERT_TRUE(apply(s, event("key.add", alice, "archivist", log1), crypto::key_id(log1), 0));
  auto add_bob = event("key.add", bob, "archivist", log1);
  add_bob.name = "Bob";
  ASSERT_TRUE(apply(s, add_bob, crypto::key_id(log1), 10));
  auto revoke = event("key.revoke", alice, "archivist", log1);
  revoke.reason = "laptop stolen";
  ASSERT_TRUE(apply(s, revoke, crypto::key_id(log1), 50));
  ASSERT_TRUE(apply(s, event("key.add", log2, "log", log1), crypto::key_id(log1), 80));

  const KeyEntry* a = s.find(crypto::key_id(alice));
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->in_force_at(49));
  EXPECT_FALSE(a->in_force_at(51));
  EXPECT_FALSE(a->in_force_at(0)); // added by entry 0: in force after it
  EXPECT_TRUE(a->in_force_at(1));
  ASSERT_NE(s.log_key(), nullptr);
  EXPECT_EQ(s.log_key()->id, crypto::key_id(log2));
  EXPECT_EQ(s.genesis_log_key()->id, crypto::key_id(log1));
  const KeyEntry* old = s.find(crypto::key_id(log1));
  EXPECT_TRUE(old->in_force_at(80));  // it signs the rotation entry
  EXPECT_FALSE(old->in_force_at(81));
  EXPECT_EQ(old->reason, "rotated");

  // The exact bytes, and back.
  const std::string jcs = key_state_json(s);
  const std::string want =
      R"({"format":"avow.keys/1","keys":[{"id":")" + crypto::key_id(log1) + R"(","public_key":")" + base64_encode(log1) +
      R"(","reason":"rotated","revoked_at":80,"role":"log"},{"added_at":0,"id":")" + crypto::key_id(alice) +
      R"(","public_key":")" + base64_encode(alice) + R"(","reason":"laptop stolen","revoked_at":50,"role":"archivist"},)" +
      R"({"added_at":10,"id":")" + crypto::key_id(bob) + R"(","name":"Bob","public_key":")" + base64_encode(bob) +
      R"(","role":"archivist"},{"added_at":80,"id":")" + crypto::key_id(log2) + R"(","public_key":")" +
      base64_encode(log2) + R"(","role":"log"}]})";
  EXPECT_EQ(jcs, want);
  auto back = parse_key_state(jcs);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, s);
  EXPECT_EQ(key_state_extension(s), "avow-keys " + base64_encode(crypto::sha256(jcs)));
}

TEST(KeyState, RefusesWhatTheWriterMustNotSign) {
  const auto log1 = pub(1), alice = pub(3), bob = pub(4), other = pub(9);
  KeyState s = initial_key_state(log1);
  ASSERT_TRUE(apply(s, event("key.add", alice, "archivist", log1), crypto::key_id(log1), 0));
  const KeyState before = s;
  auto revoke_alice = event("key.revoke", alice, "archivist", log1);
  revoke_alice.reason = "x";
  auto last = apply(s, revoke_alice, crypto::key_id(log1), 1);
  ASSERT_FALSE(last);
  EXPECT_NE(last.error().message.find("last archivist"), std::string::npos) << last.error().message;
  auto unknown = event("key.revoke", bob, "archivist", log1);
  EXPECT_FALSE(apply(s, unknown, crypto::key_id(log1), 1));
  EXPECT_FALSE(apply(s, event("key.add", alice, "archivist", log1), crypto::key_id(log1), 1)); // twice
  EXPECT_FALSE(apply(s, event("key.add", bob, "archivist", other), crypto::key_id(other), 1)); // not the log key
  EXPECT_FALSE(apply(s, event("key.add", bob, "archivist", log1), crypto::key_id(alice), 1)); // signed by alice
  EXPECT_EQ(s, before);
  ASSERT_TRUE(apply(s, event("key.add", bob, "archivist", log1), crypto::key_id(log1), 1));
  ASSERT_TRUE(apply(s, revoke_alice, crypto::key_id(log1), 2));
  auto again = apply(s, revoke_alice, crypto::key_id(log1), 3);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already revoked by entry 2"), std::string::npos) << again.error().message;
  EXPECT_FALSE(apply(s, event("key.add", alice, "archivist", log1), crypto::key_id(log1), 3)); // revoked: never again
}

TEST(KeyState, ParsesStrictly) {
  const auto log1 = pub(1);
  const std::string good = key_state_json(initial_key_state(log1));
  ASSERT_TRUE(parse_key_state(good));
  EXPECT_FALSE(parse_key_state(good + "\n"));
  EXPECT_FALSE(parse_key_state(R"({"format":"avow.keys/1","keys":[]})"));
  std::string wrong_id = good;
  wrong_id[wrong_id.find("\"id\":\"") + 6] ^= 1;
  EXPECT_FALSE(parse_key_state(wrong_id));
  std::string extra = good;
  extra.insert(extra.find("\"role\""), R"("added_at":3,)");
  EXPECT_FALSE(parse_key_state(extra)); // genesis key has no added_at

  const std::string line = key_state_extension_for(good);
  auto found = find_key_state_extension({"other ext", line});
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, line);
  auto none = find_key_state_extension({"other ext"});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(find_key_state_extension({line, line}));
  EXPECT_FALSE(find_key_state_extension({"avow-keys notbase64!"}));
}

TEST(KeyState, AllowedSignersBoundEachLogKeyAtItsRotationCommitTime) {
  const auto log1 = pub(1), log2 = pub(2), log3 = pub(3), alice = pub(4);
  KeyState s = initial_key_state(log1);
  ASSERT_TRUE(apply(s, event("key.add", alice, "archivist", log1), crypto::key_id(log1), 0));
  const std::string origin = "example.org/a";
  // Without rotation: one line, namespaces only (what every archive had before).
  EXPECT_EQ(allowed_signers(origin, s, {}), origin + " namespaces=\"git\" " + crypto::openssh_public_key(log1) + "\n");
  ASSERT_TRUE(apply(s, event("key.add", log2, "log", log1), crypto::key_id(log1), 5));
  ASSERT_TRUE(apply(s, event("key.add", log3, "log", log2), crypto::key_id(log2), 9));
  EXPECT_EQ(ssh_time(0), "19700101000000Z");
  EXPECT_EQ(ssh_time(1795905435), "20261128223715Z");
  const std::map<std::uint64_t, std::int64_t> times{{5, 1795905435}, {9, 1795905500}};
  EXPECT_EQ(allowed_signers(origin, s, times),
            origin + " namespaces=\"git\",valid-before=\"20261128223715Z\" " + crypto::openssh_public_key(log1) + "\n" +
                origin + " namespaces=\"git\",valid-after=\"20261128223715Z\",valid-before=\"20261128223820Z\" " +
                crypto::openssh_public_key(log2) + "\n" + origin + " namespaces=\"git\",valid-after=\"20261128223820Z\" " +
                crypto::openssh_public_key(log3) + "\n");
}

} // namespace
} // namespace avow::record
