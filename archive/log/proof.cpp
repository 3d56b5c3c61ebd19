#include <archive/log/proof.hpp>

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace avow::log {

namespace {

constexpr std::size_t k_hash_size = 32;
constexpr unsigned k_max_height = k_tile_height * k_max_tile_levels;

Expected<void> check_stored_size(std::uint64_t stored_size) {
  if (stored_size > k_max_log_size)
    return fail(ErrorCode::failed_precondition, "log size {} exceeds the maximum {}", stored_size, k_max_log_size);
  return {};
}

// The RFC 6962 PATH recursion over the subtree D[lo:hi], with `m` relative to lo.
Expected<void> path(std::uint64_t m, std::uint64_t lo, std::uint64_t hi, TileHashReader& hashes,
                    std::vector<Hash>& out) {
  const std::uint64_t n = hi - lo;
  if (n <= 1) return {};
  const std::uint64_t k = split_point(n);
  Expected<Hash> sibling;
  if (m < k) {
    if (auto ok = path(m, lo, lo + k, hashes, out); !ok) return ok;
    sibling = hashes.range_hash(lo + k, hi);
  } else {
    if (auto ok = path(m - k, lo + k, hi, hashes, out); !ok) return ok;
    sibling = hashes.range_hash(lo, lo + k);
  }
  if (!sibling) return std::unexpected(sibling.error());
  out.push_back(*sibling);
  return {};
}

// The RFC 6962 SUBPROOF recursion over D[lo:hi], with `m` relative to lo.
Expected<void> subproof(std::uint64_t m, std::uint64_t lo, std::uint64_t hi, bool whole, TileHashReader& hashes,
                        std::vector<Hash>& out) {
  const std::uint64_t n = hi - lo;
  if (m == n) {
    if (whole) return {};
    auto h = hashes.range_hash(lo, hi);
    if (!h) return std::unexpected(h.error());
    out.push_back(*h);
    return {};
  }
  const std::uint64_t k = split_point(n);
  Expected<Hash> h;
  if (m <= k) {
    if (auto ok = subproof(m, lo, lo + k, whole, hashes, out); !ok) return ok;
    h = hashes.range_hash(lo + k, hi);
  } else {
    if (auto ok = subproof(m - k, lo + k, hi, false, hashes, out); !ok) return ok;
    h = hashes.range_hash(lo, lo + k);
  }
  if (!h) return std::unexpected(h.error());
  out.push_back(*h);
  return {};
}

} // namespace

TileHashReader::TileHashReader(std::uint64_t stored_size, TileReader read)
    : m_stored_size(stored_size), m_read(std::move(read)) {}

Expected<const std::vector<Hash>*> TileHashReader::tile(unsigned level, std::uint64_t index) {
  if (const auto it = m_tiles.find({level, index}); it != m_tiles.end()) return &it->second;
  const std::uint64_t nodes = m_stored_size >> (k_tile_height * level);
  if (index >= nodes / k_tile_width + (nodes % k_tile_width != 0 ? 1 : 0))
    throw std::logic_error("TileHashReader::tile: tile beyond the stored log");
  const auto width = unsigned(std::min<std::uint64_t>(k_tile_width, nodes - index * k_tile_width));
  const std::string p = tile_path(level, index, width);
  auto data = m_read(p);
  if (!data) {
    if (data.error().code == ErrorCode::not_found)
      return fail(ErrorCode::failed_precondition, "log tile '{}' is missing or has the wrong size", p);
    return std::unexpected(data.error());
  }
  if (data->size() != std::size_t{width} * k_hash_size)
    return fail(ErrorCode::failed_precondition, "log tile '{}' is missing or has the wrong size", p);
  auto decoded = decode_hash_tile(*data);
  if (!decoded) return fail(ErrorCode::failed_precondition, "log tile '{}' is missing or has the wrong size", p);
  return &m_tiles.emplace(std::pair{level, index}, std::move(*decoded)).first->second;
}

Expected<Hash> TileHashReader::subtree_hash(unsigned height, std::uint64_t index) {
  if (auto ok = check_stored_size(m_stored_size); !ok) return std::unexpected(ok.error());
  if (height >= k_max_height || index >= (m_stored_size >> height))
    return fail(ErrorCode::invalid_input, "subtree {} of height {} is not complete in a log of {} entries", index,
                height, m_stored_size);
  const unsigned level = height / k_tile_height;
  const unsigned rest = height % k_tile_height;
  const std::uint64_t first = index << rest; // index of the first stored hash at `level`
  const std::size_t count = std::size_t{1} << rest;
  auto hashes = tile(level, first / k_tile_width);
  if (!hashes) return std::unexpected(hashes.error());
  const std::size_t offset = first % k_tile_width;
  // The tile has the width of the stored log, and the subtree is complete in it.
  if ((*hashes)->size() < offset + count) throw std::logic_error("TileHashReader: tile narrower than its size");
  std::vector<Hash> layer((*hashes)->begin() + std::ptrdiff_t(offset),
                          (*hashes)->begin() + std::ptrdiff_t(offset + count));
  while (layer.size() > 1) {
    for (std::size_t i = 0; i < layer.size() / 2; ++i) layer[i] = node_hash(layer[2 * i], layer[2 * i + 1]);
    layer.resize(layer.size() / 2);
  }
  return layer[0];
}

Expected<Hash> TileHashReader::range_hash(std::uint64_t begin, std::uint64_t end) {
  if (auto ok = check_stored_size(m_stored_size); !ok) return std::unexpected(ok.error());
  if (begin > end || end > m_stored_size)
    return fail(ErrorCode::invalid_input, "range [{}, {}) is not in a log of {} entries", begin, end, m_stored_size);
  if (begin == end) return empty_root();
  const std::uint64_t len = end - begin;
  if (begin != 0 && (begin & (std::bit_ceil(len) - 1)) != 0)
    return fail(ErrorCode::invalid_input, "range [{}, {}) is not a merkle subtree", begin, end);
  // The range splits into perfect subtrees, largest first, each aligned on its own size; MTH folds
  // them from the right (the split point of the range is always the largest one).
  std::vector<Hash> parts;
  std::uint64_t pos = begin;
  for (unsigned h = 64; h-- > 0;) {
    const std::uint64_t chunk = std::uint64_t{1} << h;
    if ((len & chunk) == 0) continue;
    auto part = subtree_hash(h, pos >> h);
    if (!part) return std::unexpected(part.error());
    parts.push_back(*part);
    pos += chunk;
  }
  Hash acc = parts.back();
  for (std::size_t i = parts.size() - 1; i-- > 0;) acc = node_hash(parts[i], acc);
  return acc;
}

Expected<std::vector<Hash>> inclusion_proof_from_tiles(std::uint64_t index, std::uint64_t size,
                                                       std::uint64_t stored_size, const TileReader& read) {
  if (auto ok = check_stored_size(stored_size); !ok) return std::unexpected(ok.error());
  if (size > stored_size)
    return fail(ErrorCode::invalid_input, "cannot prove inclusion in tree of size {}: the log has {} entries", size,
                stored_size);
  if (index >= size)
    return fail(ErrorCode::invalid_input, "cannot prove inclusion of leaf {}: tree size is {}", index, size);
  TileHashReader hashes(stored_size, read);
  std::vector<Hash> out;
  if (auto ok = path(index, 0, size, hashes, out); !ok) return std::unexpected(ok.error());
  return out;
}

Expected<std::vector<Hash>> consistency_proof_from_tiles(std::uint64_t size1, std::uint64_t size2,
                                                         std::uint64_t stored_size, const TileReader& read) {
  if (auto ok = check_stored_size(stored_size); !ok) return std::unexpected(ok.error());
  if (size1 == 0 || size1 > size2 || size2 > stored_size)
    return fail(ErrorCode::invalid_input, "cannot prove consistency from size {} to {} in a log of {} entries", size1,
                size2, stored_size);
  TileHashReader hashes(stored_size, read);
  std::vector<Hash> out;
  if (auto ok = subproof(size1, 0, size2, true, hashes, out); !ok) return std::unexpected(ok.error());
  return out;
}

Expected<Hash> root_from_tiles(std::uint64_t size, std::uint64_t stored_size, const TileReader& read) {
  if (auto ok = check_stored_size(stored_size); !ok) return std::unexpected(ok.error());
  if (size > stored_size)
    return fail(ErrorCode::invalid_input, "cannot compute the root of size {}: the log has {} entries", size,
                stored_size);
  TileHashReader hashes(stored_size, read);
  return hashes.range_hash(0, size);
}

} // namespace avow::log
