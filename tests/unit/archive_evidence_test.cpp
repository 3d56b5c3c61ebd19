// Split-view evidence (avow.split-view/1): what proves a split view and what does not, on synthetic logs.

#include <archive/evidence.hpp>

#include <archive/crypto/ed25519.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/merkle.hpp>
#include <archive/log/note.hpp>

#include <gtest/gtest.h>

#include <bit>

namespace avow {
namespace {

constexpr std::string_view k_origin = "evidence.example/log";

crypto::PrivateKey key(std::uint8_t seed) { return *crypto::PrivateKey::from_seed(Bytes(32, seed)); }

std::vector<log::Hash> leaves(std::size_t n, const std::string& tag, std::size_t shared) {
  std::vector<log::Hash> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(log::leaf_hash((i < shared ? std::string("shared") : tag) + std::to_string(i)));
  return out;
}

std::string note_of(std::span<const log::Hash> tree, const crypto::PrivateKey& signer) {
  const log::Checkpoint cp{std::string(k_origin), tree.size(), log::root_of(tree), {}};
  return *log::sign_note(log::checkpoint_text(cp), k_origin, signer);
}

// Evidence of log `a` (its first `size_a` leaves) against log `b`, with the seeded proof from b's tree.
SplitViewEvidence evidence(std::span<const log::Hash> a, std::span<const log::Hash> b, const crypto::PrivateKey& signer) {
  SplitViewEvidence e;
  e.origin = std::string(k_origin);
  e.log_key = log::vkey(k_origin, signer.public_key());
  e.a = {note_of(a, signer), "local"};
  e.b = {note_of(b, signer), "https://mirror.example/archive.git"};
  e.detected = "2026-11-30T12:00:00Z";
  e.detail = "test";
  if (a.size() < b.size()) {
    if (std::has_single_bit(a.size())) e.proof.push_back(log::root_of(b.first(a.size())));
    auto p = log::consistency_proof(a.size(), b.size(), b).value();
    e.proof.insert(e.proof.end(), p.begin(), p.end());
  }
  return e;
}

TEST(Evidence, ForkedLogsAreProvenAtEverySize) {
  const auto log_key = key(7);
  const auto a = leaves(20, "a", 3);
  const auto b = leaves(20, "b", 3);
  for (std::size_t m = 4; m < 20; ++m)
    for (std::size_t n = m + 1; n <= 20; ++n) {
      auto e = evidence(std::span(a).first(m), std::span(b).first(n), log_key);
      auto v = verify_evidence(e, std::nullopt);
      ASSERT_TRUE(v.has_value());
      EXPECT_TRUE(v->proven) << m << "->" << n << ": " << v->reason;
      // Round trip through the file format.
      auto text = format_evidence(e);
      ASSERT_TRUE(text.has_value());
      EXPECT_TRUE(text->ends_with("}\n"));
      auto parsed = parse_evidence(*text);
      ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
      EXPECT_TRUE(verify_evidence(*parsed, e.log_key)->proven);
    }
}

TEST(Evidence, AConsistentPairIsNotProven) {
  const auto log_key = key(7);
  const auto a = leaves(20, "a", 20);
  for (std::size_t m = 1; m < 20; ++m) {
    auto v = verify_evidence(evidence(std::span(a).first(m), std::span(a), log_key), std::nullopt);
    ASSERT_TRUE(v.has_value());
    EXPECT_FALSE(v->proven) << m;
    EXPECT_EQ(v->reason, fmt::format("the proof shows checkpoint b (size 20) extends checkpoint a (size {})", m));
  }
}

TEST(Evidence, EqualSizesProveOnlyWithDifferentRootsAndNoProof) {
  const auto log_key = key(7);
  const auto a = leaves(8, "a", 5);
  const auto b = leaves(8, "b", 5);
  auto e = evidence(a, b, log_key);
  EXPECT_TRUE(e.proof.empty());
  auto v = verify_evidence(e, std::nullopt);
  EXPECT_TRUE(v->proven) << v->reason;
  EXPECT_EQ(v->reason, "the log key signed two different trees of size 8");
  e.proof.push_back(log::root_of(a));
  EXPECT_FALSE(verify_evidence(e, std::nullopt)->proven);
  auto same = evidence(a, a, log_key);
  EXPECT_EQ(verify_evidence(same, std::nullopt)->reason, "both checkpoints have the same root");
}

TEST(Evidence, TamperedProofsKeysAndNotesAreNotProven) {
  const auto log_key = key(7);
  const auto a = leaves(13, "a", 4);
  const auto b = leaves(21, "b", 4);
  const auto good = evidence(std::span(a), std::span(b), log_key);
  ASSERT_TRUE(verify_evidence(good, std::nullopt)->proven);
  for (std::size_t k = 0; k < good.proof.size(); ++k) {
    auto e = good;
    e.proof[k][0] ^= 1;
    EXPECT_FALSE(verify_evidence(e, std::nullopt)->proven) << k;
  }
  auto shorter = good;
  shorter.proof.pop_back();
  EXPECT_FALSE(verify_evidence(shorter, std::nullopt)->proven);
  // Another key signed both: proven only under that key, and pinning the real one refuses it.
  const auto impostor = key(8);
  const auto forged = evidence(std::span(a), std::span(b), impostor);
  EXPECT_TRUE(verify_evidence(forged, std::nullopt)->proven);
  auto pinned = verify_evidence(forged, log::vkey(k_origin, log_key.public_key()));
  EXPECT_FALSE(pinned->proven);
  EXPECT_TRUE(pinned->key_pinned);
  // One note signed by another key; the size line changed; swapped sides; an empty first tree.
  auto e = good;
  e.a.checkpoint = note_of(a, impostor);
  EXPECT_FALSE(verify_evidence(e, std::nullopt)->proven);
  e = good;
  e.b.checkpoint.replace(e.b.checkpoint.find("\n21\n"), 4, "\n22\n");
  EXPECT_FALSE(verify_evidence(e, std::nullopt)->proven);
  e = good;
  std::swap(e.a, e.b);
  EXPECT_FALSE(verify_evidence(e, std::nullopt)->proven);
  EXPECT_FALSE(verify_evidence(good, "not a vkey").has_value());
}

TEST(Evidence, UnusableFilesAreErrors) {
  const auto log_key = key(7);
  const auto text = *format_evidence(evidence(leaves(5, "a", 2), leaves(9, "b", 2), log_key));
  EXPECT_TRUE(parse_evidence(text).has_value());
  for (const std::string bad : {std::string("{}"), std::string("not json"),
                                text.substr(0, text.size() / 2),
                                std::string(text).replace(text.find("avow.split-view/1"), 17, "avow.split-view/2"),
                                std::string(text).replace(text.find("\"detail\""), 8, "\"details\"")}) {
    auto p = parse_evidence(bad);
    ASSERT_FALSE(p.has_value()) << bad;
    EXPECT_EQ(p.error().code, ErrorCode::invalid_input);
  }
}

} // namespace
} // namespace avow
