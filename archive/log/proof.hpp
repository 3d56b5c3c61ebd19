#pragma once

// RFC 9162 inclusion and consistency proofs computed from the C2SP tlog-tiles of a log, reading
// O(log n) tiles instead of the whole log.
//
// The tiles are those of a log of `stored_size` entries (the size of the latest checkpoint); proofs
// can be computed for any tree size up to `stored_size`, since every complete node of a smaller tree
// is also a node of the larger one. A level-L tile holds the Merkle nodes at height 8L; a perfect
// subtree of height h is rebuilt from 2^(h mod 8) hashes of one tile at level h / 8.

#include <archive/log/merkle.hpp>
#include <archive/log/tiles.hpp>
#include <archive/util/error.hpp>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace avow::log {

// Reads subtree hashes of a tiled log of `stored_size` entries through a TileReader, keeping every
// tile it has read (so one object reads each tile at most once). Not thread-safe.
//
// Errors of every method: failed_precondition "log tile 'P' is missing or has the wrong size" when
// the reader answers not_found for a tile that the log must have, or the tile does not hold the
// width the log's size implies; other read errors pass through unchanged.
class TileHashReader {
public:
  // Keep a copy of `read`. `stored_size` is checked by the methods (failed_precondition if it
  // exceeds k_max_log_size).
  TileHashReader(std::uint64_t stored_size, TileReader read);

  // Return the root of the perfect subtree of 2^`height` leaves that starts at leaf
  // `index` << `height`. invalid_input if that subtree is not complete in the stored log.
  Expected<Hash> subtree_hash(unsigned height, std::uint64_t index);

  // Return MTH(D[`begin`:`end`]) for a range that is a subtree of the RFC 6962 recursion: `begin` is
  // 0 or a multiple of the smallest power of two >= `end` - `begin` (so the range is a perfect subtree
  // or the right edge of one). The empty range gives empty_root(). invalid_input if `end` is beyond
  // the stored log or the range is not of that form.
  Expected<Hash> range_hash(std::uint64_t begin, std::uint64_t end);

  // Return the number of tiles read so far (each distinct tile once).
  std::size_t tiles_read() const { return m_tiles.size(); }

private:
  Expected<const std::vector<Hash>*> tile(unsigned level, std::uint64_t index);

  std::uint64_t m_stored_size;
  TileReader m_read;
  std::map<std::pair<unsigned, std::uint64_t>, std::vector<Hash>> m_tiles;
};

// Return the RFC 9162 inclusion proof (audit path, leaf sibling first) for leaf `index` in the tree
// of the first `size` entries of the log of `stored_size` entries whose tiles `read` returns.
// invalid_input unless index < size <= stored_size; failed_precondition if stored_size exceeds
// k_max_log_size; tile errors as TileHashReader. Reads at most two tiles per tile level.
Expected<std::vector<Hash>> inclusion_proof_from_tiles(std::uint64_t index, std::uint64_t size,
                                                       std::uint64_t stored_size, const TileReader& read);

// Return the RFC 9162 consistency proof from tree size `size1` to `size2` over the tiles of a log of
// `stored_size` entries. invalid_input unless 0 < size1 <= size2 <= stored_size (size1 == size2 gives
// an empty proof); other errors as inclusion_proof_from_tiles.
Expected<std::vector<Hash>> consistency_proof_from_tiles(std::uint64_t size1, std::uint64_t size2,
                                                         std::uint64_t stored_size, const TileReader& read);

// Return MTH of the first `size` entries (empty_root() for 0) of the log of `stored_size` entries.
// invalid_input if size > stored_size; other errors as inclusion_proof_from_tiles.
Expected<Hash> root_from_tiles(std::uint64_t size, std::uint64_t stored_size, const TileReader& read);

} // namespace avow::log
