#include <archive/log/merkle.hpp>

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace avow::log {

namespace {

constexpr std::uint8_t k_leaf_prefix = 0x00;
constexpr std::uint8_t k_node_prefix = 0x01;

// Return `b` as a Hash when it is exactly 32 bytes.
bool to_hash(ByteView b, Hash& out) {
  if (b.size() != out.size()) return false;
  std::copy(b.begin(), b.end(), out.begin());
  return true;
}

bool same(const Hash& a, ByteView b) { return crypto::equal_constant_time(a, b); }

// MTH over leaves[begin, end).
Hash subtree_root(std::span<const Hash> leaves) {
  CompactRange range;
  for (const Hash& h : leaves) range.append(h);
  return range.root();
}

void path(std::uint64_t m, std::span<const Hash> d, std::vector<Hash>& out) {
  const std::uint64_t n = d.size();
  if (n <= 1) return;
  const std::uint64_t k = split_point(n);
  if (m < k) {
    path(m, d.subspan(0, k), out);
    out.push_back(subtree_root(d.subspan(k)));
  } else {
    path(m - k, d.subspan(k), out);
    out.push_back(subtree_root(d.subspan(0, k)));
  }
}

void subproof(std::uint64_t m, std::span<const Hash> d, bool b, std::vector<Hash>& out) {
  const std::uint64_t n = d.size();
  if (m == n) {
    if (!b) out.push_back(subtree_root(d));
    return;
  }
  const std::uint64_t k = split_point(n);
  if (m <= k) {
    subproof(m, d.subspan(0, k), b, out);
    out.push_back(subtree_root(d.subspan(k)));
  } else {
    subproof(m - k, d.subspan(k), false, out);
    out.push_back(subtree_root(d.subspan(0, k)));
  }
}

} // namespace

Hash leaf_hash(ByteView data) {
  crypto::Sha256 h;
  const std::uint8_t prefix = k_leaf_prefix;
  h.update(ByteView{&prefix, 1});
  h.update(data);
  return h.finish();
}

Hash node_hash(const Hash& left, const Hash& right) {
  std::array<std::uint8_t, 65> buf{};
  buf[0] = k_node_prefix;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 33);
  return crypto::sha256(ByteView{buf});
}

Hash empty_root() { return crypto::sha256(ByteView{}); }

std::uint64_t split_point(std::uint64_t n) {
  if (n < 2) throw std::invalid_argument("split_point needs n >= 2");
  return std::bit_floor(n - 1);
}

void CompactRange::append(const Hash& leaf) { append_subtree(leaf, 0); }

void CompactRange::append_subtree(const Hash& hash, unsigned height) {
  if (height >= 64 || (m_size & ((std::uint64_t{1} << height) - 1)) != 0)
    throw std::invalid_argument("CompactRange::append_subtree: size is not a multiple of the subtree");
  Hash h = hash;
  std::uint64_t s = m_size >> height;
  while ((s & 1) != 0) { // merge with the equal-sized subtree on the left
    h = node_hash(m_border.back(), h);
    m_border.pop_back();
    s >>= 1;
  }
  m_border.push_back(h);
  m_size += std::uint64_t{1} << height;
}

Hash CompactRange::root() const {
  if (m_border.empty()) return empty_root();
  Hash r = m_border.back();
  for (auto it = m_border.rbegin() + 1; it != m_border.rend(); ++it) r = node_hash(*it, r);
  return r;
}

Hash root_of(std::span<const Hash> leaves) { return subtree_root(leaves); }

Expected<std::vector<Hash>> inclusion_proof(std::uint64_t index, std::uint64_t size, std::span<const Hash> leaves) {
  if (size > leaves.size())
    return fail(ErrorCode::invalid_input, "cannot prove inclusion in tree of size {}: only {} leaves", size,
                leaves.size());
  if (index >= size)
    return fail(ErrorCode::invalid_input, "cannot prove inclusion of leaf {}: tree size is {}", index, size);
  std::vector<Hash> out;
  path(index, leaves.subspan(0, size), out);
  return out;
}

Expected<std::vector<Hash>> consistency_proof(std::uint64_t size1, std::uint64_t size2, std::span<const Hash> leaves) {
  if (size1 == 0 || size1 > size2 || size2 > leaves.size())
    return fail(ErrorCode::invalid_input, "cannot prove consistency from size {} to {} over {} leaves", size1, size2,
                leaves.size());
  std::vector<Hash> out;
  subproof(size1, leaves.subspan(0, size2), true, out);
  return out;
}

Expected<void> verify_inclusion(std::uint64_t index, std::uint64_t size, ByteView leaf, std::span<const Bytes> proof,
                                ByteView root) {
  if (index >= size)
    return fail(ErrorCode::invalid_input, "inclusion proof for leaf {} does not verify: tree size is {}", index, size);
  Hash r{};
  if (!to_hash(leaf, r))
    return fail(ErrorCode::invalid_input, "inclusion proof for leaf {} does not verify: leaf hash has {} bytes", index,
                leaf.size());
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  for (const Bytes& element : proof) {
    Hash p{};
    if (sn == 0 || !to_hash(element, p))
      return fail(ErrorCode::invalid_input, "inclusion proof for leaf {} does not verify: malformed proof", index);
    if ((fn & 1) != 0 || fn == sn) {
      r = node_hash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0)
    return fail(ErrorCode::invalid_input, "inclusion proof for leaf {} does not verify: proof too short", index);
  if (!same(r, root))
    return fail(ErrorCode::invalid_input, "inclusion proof for leaf {} does not verify: root mismatch", index);
  return {};
}

Expected<std::pair<Hash, Hash>> consistency_roots(std::uint64_t size1, std::uint64_t size2,
                                                  std::span<const Bytes> proof) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::invalid_input, "consistency proof from size {} to {} does not verify: {}", size1, size2,
                why);
  };
  if (size1 == 0 || size2 <= size1) return bad("want 0 < first size < second size");
  if (proof.empty()) return bad("empty proof");
  std::vector<Hash> path;
  path.reserve(proof.size());
  for (const Bytes& element : proof) {
    Hash h{};
    if (!to_hash(element, h)) return bad("proof hash is not 32 bytes");
    path.push_back(h);
  }
  std::uint64_t fn = size1 - 1;
  std::uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return bad("proof too long");
    if ((fn & 1) != 0 || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return bad("proof too short");
  return std::pair<Hash, Hash>{fr, sr};
}

Expected<void> verify_consistency(std::uint64_t size1, std::uint64_t size2, std::span<const Bytes> proof,
                                  ByteView root1, ByteView root2) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::invalid_input, "consistency proof from size {} to {} does not verify: {}", size1, size2,
                why);
  };
  if (size2 < size1) return bad("second tree is smaller");
  if (size1 == 0) return bad("a proof from the empty tree is meaningless");
  if (size1 == size2) {
    if (!proof.empty()) return bad("proof must be empty for equal sizes");
    if (root1.size() != root2.size() || !crypto::equal_constant_time(root1, root2)) return bad("roots differ");
    return {};
  }
  if (proof.empty()) return bad("empty proof");
  // For a first size that is a power of two the proof omits the first root: the verifier seeds the walk with it.
  std::vector<Bytes> seeded;
  if (std::has_single_bit(size1)) {
    if (root1.size() != Hash{}.size()) return bad("first root is not 32 bytes");
    seeded.reserve(proof.size() + 1);
    seeded.emplace_back(root1.begin(), root1.end());
    seeded.insert(seeded.end(), proof.begin(), proof.end());
    proof = seeded;
  }
  auto roots = consistency_roots(size1, size2, proof);
  if (!roots) return std::unexpected(roots.error());
  if (!same(roots->first, root1)) return bad("first root mismatch");
  if (!same(roots->second, root2)) return bad("second root mismatch");
  return {};
}

} // namespace avow::log
