#include <archive/log/merkle.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <bit>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace avow::log {
namespace {

namespace fs = std::filesystem;

fs::path vectors_dir() { return fs::path(AVOW_VECTORS_DIR); }

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

Hash hash_hex(const std::string& hex) {
  auto b = from_hex(hex);
  EXPECT_TRUE(b.has_value());
  Hash h{};
  EXPECT_EQ(b->size(), 32u);
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

Bytes b64(const nlohmann::json& j) {
  auto b = base64_decode(j.get<std::string>());
  EXPECT_TRUE(b.has_value()) << j;
  return b.value_or(Bytes{});
}

std::vector<Bytes> proof_of(const nlohmann::json& j) {
  std::vector<Bytes> out;
  if (j.is_null()) return out;
  for (const auto& e : j) out.push_back(b64(e));
  return out;
}

std::vector<Bytes> to_bytes(const std::vector<Hash>& hs) {
  std::vector<Bytes> out;
  for (const Hash& h : hs) out.emplace_back(h.begin(), h.end());
  return out;
}

std::vector<Hash> make_leaves(std::size_t n) {
  std::vector<Hash> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(leaf_hash(fmt::format("leaf {}", i)));
  return out;
}

TEST(Merkle, KnownHashes) {
  EXPECT_EQ(to_hex(empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(leaf_hash(std::string_view{})),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(root_of({}), empty_root());
}

TEST(Merkle, Tree8Vectors) {
  const fs::path p = vectors_dir() / "merkle" / "tree8.json";
  ASSERT_TRUE(fs::exists(p)) << "vectors not found at " << p;
  const auto j = read_json(p);
  std::vector<Hash> leaves;
  for (std::size_t i = 0; i < 8; ++i) {
    auto data = from_hex(j["leaf_inputs_hex"][i].get<std::string>());
    ASSERT_TRUE(data.has_value());
    leaves.push_back(leaf_hash(*data));
    EXPECT_EQ(to_hex(leaves.back()), j["leaf_hashes_hex"][i].get<std::string>()) << i;
  }
  CompactRange range;
  for (std::size_t n = 0; n <= 8; ++n) {
    const std::string want = j["roots_hex_by_size"][std::to_string(n)].get<std::string>();
    EXPECT_EQ(to_hex(root_of(std::span(leaves).first(n))), want) << n;
    EXPECT_EQ(range.size(), n);
    EXPECT_EQ(to_hex(range.root()), want) << n;
    EXPECT_EQ(range.border().size(), std::size_t(std::popcount(n)));
    if (n < 8) range.append(leaves[n]);
  }
  for (int level = 0; level <= 3; ++level) {
    const auto& nodes = j["node_hashes_hex_by_level"][std::to_string(level)];
    ASSERT_EQ(nodes.size(), 8u >> level);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const std::size_t w = std::size_t{1} << level;
      EXPECT_EQ(to_hex(root_of(std::span(leaves).subspan(i * w, w))), nodes[i].get<std::string>()) << level << i;
    }
  }
  // Level-1 node hashes are node_hash of two leaves.
  EXPECT_EQ(to_hex(node_hash(leaves[0], leaves[1])), j["node_hashes_hex_by_level"]["1"][0].get<std::string>());
}

TEST(Merkle, CompactRangeSubtrees) {
  const auto leaves = make_leaves(100);
  CompactRange a;
  a.append_subtree(root_of(std::span(leaves).first(64)), 6);
  a.append_subtree(root_of(std::span(leaves).subspan(64, 32)), 5);
  a.append(leaves[96]);
  EXPECT_EQ(a.size(), 97u);
  EXPECT_EQ(a.root(), root_of(std::span(leaves).first(97)));
  EXPECT_THROW(a.append_subtree(leaves[0], 1), std::invalid_argument);
}

std::vector<fs::path> json_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Merkle, InclusionVectors) {
  const fs::path dir = vectors_dir() / "merkle" / "inclusion";
  ASSERT_TRUE(fs::exists(dir)) << "vectors not found at " << dir;
  int accepted = 0;
  int rejected = 0;
  for (const fs::path& p : json_files(dir)) {
    const auto j = read_json(p);
    const auto proof = proof_of(j["proof"]);
    const auto r = verify_inclusion(j["leafIdx"].get<std::uint64_t>(), j["treeSize"].get<std::uint64_t>(),
                                    b64(j["leafHash"]), proof, b64(j["root"]));
    const bool want_err = j["wantErr"].get<bool>();
    EXPECT_EQ(!r.has_value(), want_err) << p << ": " << j["desc"];
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    }
    (r ? accepted : rejected)++;
  }
  EXPECT_EQ(accepted, 6);
  EXPECT_EQ(rejected, 92);
}

TEST(Merkle, ConsistencyVectors) {
  const fs::path dir = vectors_dir() / "merkle" / "consistency";
  ASSERT_TRUE(fs::exists(dir)) << "vectors not found at " << dir;
  int accepted = 0;
  int rejected = 0;
  for (const fs::path& p : json_files(dir)) {
    const auto j = read_json(p);
    const auto proof = proof_of(j["proof"]);
    const auto r = verify_consistency(j["size1"].get<std::uint64_t>(), j["size2"].get<std::uint64_t>(), proof,
                                      b64(j["root1"]), b64(j["root2"]));
    const bool want_err = j["wantErr"].get<bool>();
    EXPECT_EQ(!r.has_value(), want_err) << p << ": " << j["desc"];
    (r ? accepted : rejected)++;
  }
  EXPECT_EQ(accepted, 6);
  EXPECT_EQ(rejected, 92);
}

TEST(Merkle, HappyPathProofsAreGeneratedExactly) {
  const fs::path p = vectors_dir() / "merkle" / "tree8.json";
  ASSERT_TRUE(fs::exists(p)) << "vectors not found at " << p;
  const auto j = read_json(p);
  std::vector<Hash> leaves;
  for (const auto& h : j["leaf_hashes_hex"]) leaves.push_back(hash_hex(h.get<std::string>()));
  const auto incl = read_json(vectors_dir() / "merkle" / "inclusion" / "1" / "happy-path.json");
  auto ip = inclusion_proof(incl["leafIdx"].get<std::uint64_t>(), incl["treeSize"].get<std::uint64_t>(), leaves);
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(to_bytes(*ip), proof_of(incl["proof"]));
  const auto cons = read_json(vectors_dir() / "merkle" / "consistency" / "1" / "happy-path.json");
  auto cp = consistency_proof(cons["size1"].get<std::uint64_t>(), cons["size2"].get<std::uint64_t>(), leaves);
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(to_bytes(*cp), proof_of(cons["proof"]));
}

TEST(Merkle, GeneratedProofsVerifyUpTo64) {
  const auto leaves = make_leaves(64);
  std::vector<Hash> roots;
  for (std::size_t n = 0; n <= 64; ++n) roots.push_back(root_of(std::span(leaves).first(n)));
  for (std::uint64_t n = 1; n <= 64; ++n) {
    for (std::uint64_t i = 0; i < n; ++i) {
      auto proof = inclusion_proof(i, n, leaves);
      ASSERT_TRUE(proof.has_value());
      EXPECT_LE(proof->size(), std::size_t(std::bit_width(n - 1)));
      auto bytes = to_bytes(*proof);
      ASSERT_TRUE(verify_inclusion(i, n, leaves[i], bytes, roots[n]).has_value()) << i << "/" << n;
      EXPECT_FALSE(verify_inclusion(i, n, leaves[(i + 1) % 64], bytes, roots[n]).has_value());
      if (!bytes.empty()) {
        bytes.back()[0] ^= 1;
        EXPECT_FALSE(verify_inclusion(i, n, leaves[i], bytes, roots[n]).has_value());
        bytes.pop_back();
        EXPECT_FALSE(verify_inclusion(i, n, leaves[i], bytes, roots[n]).has_value());
      }
    }
    for (std::uint64_t m = 1; m <= n; ++m) {
      auto proof = consistency_proof(m, n, leaves);
      ASSERT_TRUE(proof.has_value());
      auto bytes = to_bytes(*proof);
      ASSERT_TRUE(verify_consistency(m, n, bytes, roots[m], roots[n]).has_value()) << m << "->" << n;
      if (m < n) {
        EXPECT_FALSE(verify_consistency(m, n, bytes, roots[m - 1], roots[n]).has_value());
        EXPECT_FALSE(verify_consistency(m, n, bytes, roots[m], roots[n - 1]).has_value());
        bytes.front()[31] ^= 0x80;
        EXPECT_FALSE(verify_consistency(m, n, bytes, roots[m], roots[n]).has_value());
      }
    }
  }
}

// The proof with the first root in front when size1 is a power of two (the RFC proof omits it).
std::vector<Bytes> seeded(std::uint64_t m, std::span<const Hash> leaves) {
  auto bytes = to_bytes(consistency_proof(m, leaves.size(), leaves).value());
  if (std::has_single_bit(m)) {
    const Hash first = root_of(leaves.first(m));
    bytes.insert(bytes.begin(), Bytes(first.begin(), first.end()));
  }
  return bytes;
}

TEST(Merkle, ConsistencyRootsGivesBothRootsOfTheProversTree) {
  const auto leaves = make_leaves(20);
  for (std::uint64_t n = 2; n <= 20; ++n) {
    const std::span<const Hash> tree(leaves.data(), n);
    for (std::uint64_t m = 1; m < n; ++m) {
      auto roots = consistency_roots(m, n, seeded(m, tree));
      ASSERT_TRUE(roots.has_value()) << m << "->" << n;
      EXPECT_EQ(roots->first, root_of(tree.first(m))) << m << "->" << n;
      EXPECT_EQ(roots->second, root_of(tree)) << m << "->" << n;
    }
  }
}

TEST(Merkle, ConsistencyRootsExposesASplitView) {
  // Two logs that share 3 entries, then differ: a proof from log B's tree gives B's own roots, so its first root is
  // not A's root at that size, while its second root is B's signed root.
  auto a = make_leaves(12);
  auto b = a;
  for (std::size_t i = 3; i < b.size(); ++i) b[i] = leaf_hash(std::string("other ") + std::to_string(i));
  for (std::uint64_t m = 4; m < 12; ++m) {
    auto roots = consistency_roots(m, 12, seeded(m, b));
    ASSERT_TRUE(roots.has_value());
    EXPECT_EQ(roots->second, root_of(b));
    EXPECT_NE(roots->first, root_of(std::span<const Hash>(a).first(m)));
    // And the RFC check refuses A's root.
    auto rfc = to_bytes(consistency_proof(m, 12, b).value());
    EXPECT_FALSE(verify_consistency(m, 12, rfc, root_of(std::span<const Hash>(a).first(m)), root_of(b)).has_value());
  }
}

TEST(Merkle, ConsistencyRootsOfATamperedProofMissTheSignedRoot) {
  const auto leaves = make_leaves(13);
  for (std::uint64_t m = 1; m < 13; ++m) {
    auto proof = seeded(m, leaves);
    for (std::size_t k = 0; k < proof.size(); ++k) {
      auto bad = proof;
      bad[k][0] ^= 1;
      auto roots = consistency_roots(m, 13, bad);
      ASSERT_TRUE(roots.has_value());
      EXPECT_NE(roots->second, root_of(leaves)) << m << " element " << k;
    }
    auto shorter = proof;
    shorter.pop_back();
    EXPECT_FALSE(consistency_roots(m, 13, shorter).has_value());
    auto longer = proof;
    longer.push_back(proof.back());
    EXPECT_FALSE(consistency_roots(m, 13, longer).has_value());
  }
  EXPECT_FALSE(consistency_roots(0, 13, seeded(1, leaves)).has_value());
  EXPECT_FALSE(consistency_roots(5, 5, {}).has_value());
  std::vector<Bytes> short_hash{Bytes(31, 0)};
  EXPECT_FALSE(consistency_roots(3, 4, short_hash).has_value());
}

TEST(Merkle, ProofGenerationRejectsBadArguments) {
  const auto leaves = make_leaves(4);
  EXPECT_FALSE(inclusion_proof(4, 4, leaves).has_value());
  EXPECT_FALSE(inclusion_proof(0, 5, leaves).has_value());
  EXPECT_FALSE(consistency_proof(0, 4, leaves).has_value());
  EXPECT_FALSE(consistency_proof(3, 2, leaves).has_value());
  EXPECT_FALSE(consistency_proof(1, 5, leaves).has_value());
}

} // namespace
} // namespace avow::log
