#pragma once

// RFC 6962 / RFC 9162 Merkle tree hashing (SHA-256), streaming roots and proofs.

#include <archive/crypto/sha256.hpp>
#include <archive/util/bytes.hpp>
#include <archive/util/error.hpp>

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace avow::log {

using Hash = crypto::Digest;

// Return the RFC 6962 leaf hash SHA-256(0x00 || `data`).
Hash leaf_hash(ByteView data);
inline Hash leaf_hash(std::string_view data) { return leaf_hash(as_bytes(data)); }
// Return the RFC 6962 interior node hash SHA-256(0x01 || `left` || `right`).
Hash node_hash(const Hash& left, const Hash& right);
// Return the root of the empty tree, SHA-256("").
Hash empty_root();

// Return the largest power of two strictly less than `n` (n >= 2).
std::uint64_t split_point(std::uint64_t n);

// Streaming Merkle tree hash over leaf hashes appended in order, in O(log n) memory.
// It keeps the right border of the tree: one perfect subtree root per set bit of size(), the
// largest (leftmost) first.
class CompactRange {
public:
  // Append the leaf hash `leaf` (already SHA-256(0x00 || data)).
  void append(const Hash& leaf);
  // Append the root `hash` of a perfect subtree of 2^`height` leaves; the current size must be a
  // multiple of 2^`height` (std::invalid_argument otherwise: a bug in the caller).
  void append_subtree(const Hash& hash, unsigned height);
  // Return MTH of the leaves appended so far (empty_root() when there are none).
  Hash root() const;
  std::uint64_t size() const { return m_size; }
  // Return the right-border hashes: the roots of the perfect subtrees that make up the tree,
  // from the largest (leftmost) to the smallest; their heights are the set bits of size().
  const std::vector<Hash>& border() const { return m_border; }

private:
  std::uint64_t m_size = 0;
  std::vector<Hash> m_border;
};

// Return MTH(`leaves`) (the Merkle tree hash over leaf hashes).
Hash root_of(std::span<const Hash> leaves);

// Return the RFC 9162 inclusion proof (audit path) for leaf `index` in the tree made of the first
// `size` entries of `leaves`; invalid_input if index >= size or size > leaves.size().
Expected<std::vector<Hash>> inclusion_proof(std::uint64_t index, std::uint64_t size, std::span<const Hash> leaves);
// Return the RFC 9162 consistency proof from size `size1` to `size2` over `leaves`; invalid_input if
// 0 < size1 <= size2 <= leaves.size() does not hold. size1 == size2 gives an empty proof.
Expected<std::vector<Hash>> consistency_proof(std::uint64_t size1, std::uint64_t size2, std::span<const Hash> leaves);

// Verify that `leaf_hash` is leaf `index` of the tree of `size` leaves with root `root`, following
// RFC 9162 section 2.1.3.2. invalid_input if index >= size, if the leaf hash is not 32 bytes, if a
// proof element is not 32 bytes, if the proof has the wrong length or if the recomputed root differs.
Expected<void> verify_inclusion(std::uint64_t index, std::uint64_t size, ByteView leaf_hash,
                                std::span<const Bytes> proof, ByteView root);
// Verify that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves with
// root `root1`, following RFC 9162 section 2.1.4.2. invalid_input if size2 < size1, if size1 == 0
// (a proof from the empty tree is meaningless), if size1 == size2 and the proof is not empty or the
// roots differ, if the proof is empty otherwise, if a hash is not 32 bytes or a root does not match.
Expected<void> verify_consistency(std::uint64_t size1, std::uint64_t size2, std::span<const Bytes> proof,
                                  ByteView root1, ByteView root2);

// Run the RFC 9162 section 2.1.4.2 consistency verification over `proof` from `size1` to `size2` leaves
// (0 < size1 < size2) and return the two roots it computes: the root of the first `size1` leaves and the root of all
// `size2` leaves of the tree the proof's hashes were taken from. When `size1` is a power of two the RFC proof omits
// the first root (a verifier seeds the walk with its own); here `proof` must then start with it (a "seeded" proof),
// so that both roots come from the prover's tree: a split view shows as a second root that matches the prover's
// signed root and a first root that differs from the other signed root. invalid_input for a proof of the wrong
// length or a hash that is not 32 bytes.
Expected<std::pair<Hash, Hash>> consistency_roots(std::uint64_t size1, std::uint64_t size2, std::span<const Bytes> proof);

} // namespace avow::log
