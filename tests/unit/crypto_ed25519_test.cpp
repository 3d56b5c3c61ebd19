#include <archive/crypto/ed25519.hpp>
#include <archive/crypto/sha256.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

namespace avow::crypto {
namespace {

struct Case {
  std::string name;
  Bytes seed;
  Bytes public_key;
  Bytes message;
  Bytes signature;
};

Bytes unhex(const std::string& s) {
  auto b = from_hex(s);
  if (!b)
    throw std::runtime_error("bad hex in vector: " + s);
  return *b;
}

std::optional<std::vector<Case>> load_cases() {
  const auto file = std::filesystem::path(AVOW_VECTORS_DIR) / "ed25519" / "rfc8032.json";
  std::ifstream in(file);
  if (!in)
    return std::nullopt;
  const auto j = nlohmann::json::parse(in);
  std::vector<Case> out;
  for (const auto& c : j.at("cases"))
    out.push_back(Case{c.at("name").get<std::string>(), unhex(c.at("secret_key_hex").get<std::string>()),
                       unhex(c.at("public_key_hex").get<std::string>()), unhex(c.at("message_hex").get<std::string>()),
                       unhex(c.at("signature_hex").get<std::string>())});
  return out;
}

#define LOAD_CASES_OR_FAIL(var)                                                                                   \
  const auto var##_opt = load_cases();                                                                            \
  if (!var##_opt)                                                                                                 \
    FAIL() << "RFC 8032 vectors not found under " << AVOW_VECTORS_DIR << "/ed25519";                             \
  const auto& var = *var##_opt

TEST(Ed25519Rfc8032, HasFourCases) {
  LOAD_CASES_OR_FAIL(cases);
  EXPECT_EQ(cases.size(), 4u);
}

TEST(Ed25519Rfc8032, DerivesPublicKey) {
  LOAD_CASES_OR_FAIL(cases);
  for (const auto& c : cases) {
    auto key = PrivateKey::from_seed(c.seed);
    ASSERT_TRUE(key) << c.name << ": " << key.error().message;
    EXPECT_EQ(to_hex(key->public_key()), to_hex(c.public_key)) << c.name;
  }
}

TEST(Ed25519Rfc8032, SignsExactly) {
  LOAD_CASES_OR_FAIL(cases);
  for (const auto& c : cases) {
    auto key = PrivateKey::from_seed(c.seed);
    ASSERT_TRUE(key);
    auto sig = key->sign(c.message);
    ASSERT_TRUE(sig) << c.name << ": " << sig.error().message;
    EXPECT_EQ(to_hex(*sig), to_hex(c.signature)) << c.name;
  }
}

TEST(Ed25519Rfc8032, VerifiesAndRejectsEveryFlippedBit) {
  LOAD_CASES_OR_FAIL(cases);
  for (const auto& c : cases) {
    PublicKey pk{};
    ASSERT_EQ(c.public_key.size(), 32u);
    std::copy(c.public_key.begin(), c.public_key.end(), pk.begin());
    EXPECT_TRUE(verify(pk, c.message, c.signature)) << c.name;

    for (std::size_t i = 0; i < c.signature.size() * 8; ++i) {
      Bytes sig = c.signature;
      sig[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
      EXPECT_FALSE(verify(pk, c.message, sig)) << c.name << " signature bit " << i;
    }
    for (std::size_t i = 0; i < c.message.size() * 8; ++i) {
      Bytes msg = c.message;
      msg[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
      EXPECT_FALSE(verify(pk, msg, c.signature)) << c.name << " message bit " << i;
    }
    for (std::size_t i = 0; i < pk.size() * 8; ++i) {
      PublicKey bad = pk;
      bad[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
      EXPECT_FALSE(verify(bad, c.message, c.signature)) << c.name << " key bit " << i;
    }
    Bytes longer = c.message;
    longer.push_back(0);
    EXPECT_FALSE(verify(pk, longer, c.signature)) << c.name << " appended byte";
  }
}

TEST(Ed25519, VerifyRejectsWrongSizes) {
  auto key = PrivateKey::generate();
  ASSERT_TRUE(key);
  auto sig = key->sign(as_bytes("m"));
  ASSERT_TRUE(sig);
  Bytes s(sig->begin(), sig->end());
  EXPECT_TRUE(verify(key->public_key(), as_bytes("m"), s));
  Bytes shorter(s.begin(), s.end() - 1);
  EXPECT_FALSE(verify(key->public_key(), as_bytes("m"), shorter));
  Bytes longer = s;
  longer.push_back(0);
  EXPECT_FALSE(verify(key->public_key(), as_bytes("m"), longer));
  EXPECT_FALSE(verify(key->public_key(), as_bytes("m"), Bytes{}));
  EXPECT_FALSE(verify(PublicKey{}, as_bytes("m"), s));
}

TEST(Ed25519, FromSeedRejectsWrongSize) {
  const Bytes seed31(31, 1), seed33(33, 1);
  auto a = PrivateKey::from_seed(seed31);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(a.error().message, "cannot use ed25519 seed: expected 32 bytes, got 31");
  auto b = PrivateKey::from_seed(seed33);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::invalid_input);
}

TEST(Ed25519, GeneratedKeysDifferAndSignVerify) {
  auto a = PrivateKey::generate();
  auto b = PrivateKey::generate();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->public_key(), b->public_key());
  auto sig = a->sign(as_bytes("hello"));
  ASSERT_TRUE(sig);
  EXPECT_TRUE(verify(a->public_key(), as_bytes("hello"), *sig));
  EXPECT_FALSE(verify(b->public_key(), as_bytes("hello"), *sig));
}

TEST(Ed25519, KeyIdIsHexSha256OfRawPublicKey) {
  // RFC 8032 TEST 1 public key.
  PublicKey pk{};
  const auto raw = *from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  std::copy(raw.begin(), raw.end(), pk.begin());
  const auto d = sha256(ByteView{pk.data(), pk.size()});
  EXPECT_EQ(key_id(pk), to_hex(ByteView{d.data(), d.size()}));
  EXPECT_EQ(key_id(pk).size(), 64u);
  EXPECT_EQ(key_id(pk), "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9");
}

TEST(Ed25519, MoveLeavesSourceEmptyAndTargetUsable) {
  auto k = PrivateKey::generate();
  ASSERT_TRUE(k);
  const PublicKey pk = k->public_key();
  PrivateKey moved = std::move(*k);
  EXPECT_EQ(moved.public_key(), pk);
  EXPECT_EQ(k->native_handle(), nullptr);
  auto err = k->sign(as_bytes("x"));
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code, ErrorCode::internal);
  auto sig = moved.sign(as_bytes("x"));
  ASSERT_TRUE(sig);
  EXPECT_TRUE(verify(pk, as_bytes("x"), *sig));
}

TEST(Ed25519, SignIsThreadSafe) {
  auto k = PrivateKey::from_seed(*from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(k);
  const auto expected = k->sign(as_bytes("concurrent"));
  ASSERT_TRUE(expected);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto s = k->sign(as_bytes("concurrent"));
        if (!s || *s != *expected)
          ++bad;
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(SecretBytes, HoldsAndMoves) {
  SecretBytes s("hunter2");
  EXPECT_EQ(s.size(), 7u);
  EXPECT_EQ(to_string(s.view()), "hunter2");
  SecretBytes t = std::move(s);
  EXPECT_TRUE(s.empty()); // NOLINT(bugprone-use-after-move): moved-from is defined to be empty
  EXPECT_EQ(to_string(t.view()), "hunter2");
  SecretBytes u("other");
  u = std::move(t);
  EXPECT_TRUE(t.empty()); // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(to_string(u.view()), "hunter2");
}

TEST(Ed25519, AdoptNativeRefusesNull) {
  auto k = PrivateKey::adopt_native(nullptr);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code, ErrorCode::key);
}

} // namespace
} // namespace avow::crypto
