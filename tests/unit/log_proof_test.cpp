#include <archive/log/proof.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace avow::log {
namespace {

using Files = std::map<std::string, Bytes>;

struct Log {
  std::vector<Hash> leaves;
  Files files;
  Hash root{};
};

Hash leaf_of(std::uint64_t i) { return leaf_hash(fmt::format("leaf {}", i)); }

// The tiles of a log of `size` leaves (full and partial), built with TileBuilder.
Log build_log(std::uint64_t size, bool keep_leaves = true) {
  Log log;
  TileBuilder builder([&log](TileWrite&& t) { log.files.emplace(std::move(t.path), std::move(t.data)); },
                      TileBuilder::Bundles::no);
  for (std::uint64_t i = 0; i < size; ++i) {
    const Hash h = leaf_of(i);
    if (keep_leaves) log.leaves.push_back(h);
    EXPECT_TRUE(builder.append_leaf_hash(h).has_value());
  }
  for (TileWrite& t : builder.partial_tiles()) log.files.emplace(std::move(t.path), std::move(t.data));
  log.root = builder.root();
  return log;
}

TileReader reader_of(const Files& files, std::vector<std::string>* reads = nullptr) {
  return [&files, reads](const std::string& p) -> Expected<Bytes> {
    if (reads != nullptr) reads->push_back(p);
    const auto it = files.find(p);
    if (it == files.end()) return fail(ErrorCode::not_found, "no file '{}'", p);
    return it->second;
  };
}

std::vector<Bytes> as_bytes_list(const std::vector<Hash>& hashes) {
  std::vector<Bytes> out;
  for (const Hash& h : hashes) out.emplace_back(h.begin(), h.end());
  return out;
}

// Sizes worth testing up to `max`: edges of tiles and powers of two, plus a few random ones.
std::vector<std::uint64_t> interesting_sizes(std::uint64_t max, std::mt19937_64& rng) {
  std::set<std::uint64_t> s;
  for (std::uint64_t v : {1, 2, 3, 4, 5, 7, 8, 9, 127, 128, 129, 255, 256, 257, 511, 512, 513, 767, 768, 1024, 1025,
                          2047, 2048, 2049, 2815, 2816, 2999, 3000})
    if (v <= max) s.insert(v);
  s.insert(max);
  if (max > 1) s.insert(max - 1);
  for (int i = 0; i < 6; ++i) s.insert(1 + rng() % max);
  return {s.begin(), s.end()};
}

std::vector<std::uint64_t> interesting_indices(std::uint64_t size, std::mt19937_64& rng) {
  std::set<std::uint64_t> s;
  if (size <= 40) {
    for (std::uint64_t i = 0; i < size; ++i) s.insert(i);
  } else {
    for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{255}, std::uint64_t{256},
                            std::uint64_t{257}, size / 2, size - 2, size - 1, size & ~std::uint64_t{255}})
      if (v < size) s.insert(v);
    for (int i = 0; i < 12; ++i) s.insert(rng() % size);
  }
  return {s.begin(), s.end()};
}

TEST(LogProof, InclusionMatchesFullLeavesAndVerifies) {
  std::mt19937_64 rng(1);
  const Log big = build_log(3000);
  for (std::uint64_t stored : {1, 2, 3, 8, 255, 256, 257, 300, 512, 513, 1000, 2048, 2816, 3000}) {
    const Log log = stored == 3000 ? big : build_log(stored);
    const TileReader read = reader_of(log.files);
    for (std::uint64_t size : interesting_sizes(stored, rng)) {
      const Hash root = root_of(std::span(log.leaves).first(size));
      auto tile_root = root_from_tiles(size, stored, read);
      ASSERT_TRUE(tile_root.has_value()) << tile_root.error().message;
      ASSERT_EQ(*tile_root, root) << "size " << size << " stored " << stored;
      for (std::uint64_t index : interesting_indices(size, rng)) {
        auto want = inclusion_proof(index, size, log.leaves);
        ASSERT_TRUE(want.has_value());
        auto got = inclusion_proof_from_tiles(index, size, stored, read);
        ASSERT_TRUE(got.has_value()) << got.error().message;
        ASSERT_EQ(*got, *want) << "index " << index << " size " << size << " stored " << stored;
        const Hash leaf = log.leaves[index];
        EXPECT_TRUE(verify_inclusion(index, size, leaf, as_bytes_list(*got), root).has_value());
      }
    }
  }
}

TEST(LogProof, ConsistencyMatchesFullLeavesAndVerifies) {
  std::mt19937_64 rng(2);
  for (std::uint64_t stored : {1, 2, 7, 256, 257, 1000, 3000}) {
    const Log log = build_log(stored);
    const TileReader read = reader_of(log.files);
    const auto sizes = interesting_sizes(stored, rng);
    for (std::uint64_t size2 : sizes) {
      const Hash root2 = root_of(std::span(log.leaves).first(size2));
      for (std::uint64_t size1 : sizes) {
        if (size1 > size2) continue;
        auto want = consistency_proof(size1, size2, log.leaves);
        ASSERT_TRUE(want.has_value());
        auto got = consistency_proof_from_tiles(size1, size2, stored, read);
        ASSERT_TRUE(got.has_value()) << got.error().message;
        ASSERT_EQ(*got, *want) << size1 << " -> " << size2 << " stored " << stored;
        const Hash root1 = root_of(std::span(log.leaves).first(size1));
        EXPECT_TRUE(verify_consistency(size1, size2, as_bytes_list(*got), root1, root2).has_value())
            << size1 << " -> " << size2;
      }
    }
  }
}

TEST(LogProof, EveryIndexOfASmallLog) {
  const Log log = build_log(600);
  const TileReader read = reader_of(log.files);
  for (std::uint64_t size : {std::uint64_t{513}, std::uint64_t{600}}) {
    for (std::uint64_t index = 0; index < size; ++index) {
      auto got = inclusion_proof_from_tiles(index, size, 600, read);
      ASSERT_TRUE(got.has_value()) << got.error().message;
      ASSERT_EQ(*got, *inclusion_proof(index, size, log.leaves)) << index << " in " << size;
    }
  }
}

TEST(LogProof, RangeAndSubtreeHashes) {
  const Log log = build_log(1000);
  TileHashReader hashes(1000, reader_of(log.files));
  for (unsigned h = 0; h <= 9; ++h) {
    for (std::uint64_t i = 0; i < (1000u >> h); ++i) {
      auto got = hashes.subtree_hash(h, i);
      ASSERT_TRUE(got.has_value()) << got.error().message;
      ASSERT_EQ(*got, root_of(std::span(log.leaves).subspan(i << h, std::size_t{1} << h))) << h << " " << i;
    }
  }
  EXPECT_EQ(hashes.tiles_read(), 5u); // level 0: tiles 0, 1, 2 and 3.p/232; level 1: 000.p/3
  // Right-edge ranges and the whole tree.
  EXPECT_EQ(*hashes.range_hash(512, 1000), root_of(std::span(log.leaves).subspan(512, 488)));
  EXPECT_EQ(*hashes.range_hash(768, 1000), root_of(std::span(log.leaves).subspan(768, 232)));
  EXPECT_EQ(*hashes.range_hash(0, 999), root_of(std::span(log.leaves).first(999)));
  EXPECT_EQ(*hashes.range_hash(5, 5), empty_root());
  EXPECT_EQ(*hashes.range_hash(0, 0), empty_root());
  // Not subtrees of the recursion, or beyond the log.
  EXPECT_EQ(hashes.range_hash(256, 1000).error().code, ErrorCode::invalid_input); // 744 leaves need 1024-alignment
  EXPECT_EQ(hashes.range_hash(3, 7).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(hashes.range_hash(0, 1001).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(hashes.range_hash(7, 3).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(hashes.subtree_hash(10, 0).error().code, ErrorCode::invalid_input); // 1024 > 1000
  EXPECT_EQ(hashes.subtree_hash(3, 125).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(hashes.subtree_hash(60, 0).error().code, ErrorCode::invalid_input);
}

TEST(LogProof, BadArguments) {
  const Log log = build_log(10);
  const TileReader read = reader_of(log.files);
  EXPECT_EQ(inclusion_proof_from_tiles(10, 10, 10, read).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(inclusion_proof_from_tiles(0, 11, 10, read).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(inclusion_proof_from_tiles(0, 0, 10, read).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(inclusion_proof_from_tiles(0, 1, k_max_log_size + 1, read).error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(consistency_proof_from_tiles(0, 5, 10, read).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(consistency_proof_from_tiles(6, 5, 10, read).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(consistency_proof_from_tiles(5, 11, 10, read).error().code, ErrorCode::invalid_input);
  EXPECT_TRUE(consistency_proof_from_tiles(5, 5, 10, read)->empty());
  EXPECT_EQ(root_from_tiles(11, 10, read).error().code, ErrorCode::invalid_input);
  EXPECT_EQ(*root_from_tiles(0, 10, read), empty_root());
  EXPECT_EQ(*root_from_tiles(10, 10, read), log.root);
  // A single leaf needs no tile at all.
  std::vector<std::string> reads;
  EXPECT_TRUE(inclusion_proof_from_tiles(0, 1, 10, reader_of(log.files, &reads))->empty());
  EXPECT_TRUE(reads.empty());
}

TEST(LogProof, MissingOrWrongTileIsAnError) {
  Log log = build_log(700);
  // 700 = 2 full level-0 tiles + 0.p... : tile/0/002.p/188 and tile/1/000.p/2.
  ASSERT_TRUE(log.files.contains("tile/0/002.p/188"));
  ASSERT_TRUE(log.files.contains("tile/1/000.p/2"));
  Files missing = log.files;
  missing.erase("tile/0/001");
  auto r = inclusion_proof_from_tiles(300, 700, 700, reader_of(missing));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(r.error().message, "log tile 'tile/0/001' is missing or has the wrong size");
  // A proof that does not need the missing tile still works.
  EXPECT_EQ(*inclusion_proof_from_tiles(600, 700, 700, reader_of(missing)), *inclusion_proof(600, 700, log.leaves));

  // The partial tile of the stored size is read, not a partial tile of the proof's size.
  Files partial_only = log.files;
  partial_only.erase("tile/0/002.p/188");
  partial_only["tile/0/002.p/100"] = Bytes(100 * 32, 0);
  r = inclusion_proof_from_tiles(520, 612, 700, reader_of(partial_only));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "log tile 'tile/0/002.p/188' is missing or has the wrong size");

  // A tile of the wrong length.
  Files truncated = log.files;
  truncated["tile/0/000"].resize(255 * 32);
  r = inclusion_proof_from_tiles(3, 700, 700, reader_of(truncated));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "log tile 'tile/0/000' is missing or has the wrong size");
  truncated["tile/0/000"].resize(255 * 32 + 7);
  EXPECT_FALSE(inclusion_proof_from_tiles(3, 700, 700, reader_of(truncated)).has_value());

  // Other read errors pass through.
  const TileReader broken = [](const std::string&) -> Expected<Bytes> { return fail(ErrorCode::io, "disk on fire"); };
  r = inclusion_proof_from_tiles(3, 700, 700, broken);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_EQ(r.error().message, "disk on fire");
  EXPECT_EQ(consistency_proof_from_tiles(3, 700, 700, broken).error().code, ErrorCode::io);
}

TEST(LogProof, TamperedTileGivesAProofThatDoesNotVerify) {
  Log log = build_log(1000);
  log.files["tile/0/001"][40] ^= 1; // hash 1 of tile 1 = leaf 257
  auto proof = inclusion_proof_from_tiles(256, 1000, 1000, reader_of(log.files));
  ASSERT_TRUE(proof.has_value());
  EXPECT_FALSE(verify_inclusion(256, 1000, log.leaves[256], as_bytes_list(*proof), log.root).has_value());
}

TEST(LogProof, MillionLeafLogReadsFewTiles) {
  constexpr std::uint64_t n = 1'000'000;
  const Log log = build_log(n);
  ASSERT_EQ(log.root, root_of(log.leaves));
  std::vector<std::string> reads;
  const TileReader read = reader_of(log.files, &reads);
  // Levels for 10^6 entries: 0, 1 and 2 (10^6 >> 16 = 15 nodes).
  constexpr std::size_t levels = 3;
  std::mt19937_64 rng(3);
  std::size_t max_reads = 0;
  std::vector<std::uint64_t> indices = {0, 1, 255, 256, 65535, 65536, n / 2, n - 257, n - 2, n - 1};
  for (int i = 0; i < 200; ++i) indices.push_back(rng() % n);
  for (std::uint64_t size : {n, n - 1, std::uint64_t{983'041}, std::uint64_t{65'536 * 15}}) {
    const Hash root = root_of(std::span(log.leaves).first(size));
    for (std::uint64_t index : indices) {
      if (index >= size) continue;
      reads.clear();
      auto proof = inclusion_proof_from_tiles(index, size, n, read);
      ASSERT_TRUE(proof.has_value()) << proof.error().message;
      max_reads = std::max(max_reads, reads.size());
      ASSERT_LE(reads.size(), 2 * levels + 2) << "index " << index;
      ASSERT_TRUE(verify_inclusion(index, size, log.leaves[index], as_bytes_list(*proof), root).has_value())
          << "index " << index << " size " << size;
    }
    if (size == n || size == n - 1) {
      for (std::uint64_t index : {std::uint64_t{0}, n / 3, size - 1})
        ASSERT_EQ(*inclusion_proof_from_tiles(index, size, n, read), *inclusion_proof(index, size, log.leaves));
    }
    // Consistency proofs to this size stay cheap too.
    for (std::uint64_t size1 : {std::uint64_t{1}, std::uint64_t{1000}, std::uint64_t{777'777}, size - 1}) {
      reads.clear();
      auto proof = consistency_proof_from_tiles(size1, size, n, read);
      ASSERT_TRUE(proof.has_value()) << proof.error().message;
      EXPECT_LE(reads.size(), 2 * levels + 2) << size1 << " -> " << size;
      const Hash root1 = root_of(std::span(log.leaves).first(size1));
      ASSERT_TRUE(verify_consistency(size1, size, as_bytes_list(*proof), root1, root).has_value());
    }
  }
  EXPECT_GE(max_reads, 2u);
  reads.clear();
  EXPECT_EQ(*root_from_tiles(n, n, read), log.root);
  EXPECT_LE(reads.size(), levels);
}

} // namespace
} // namespace avow::log
