#pragma once

// C2SP tlog-tiles storage of the Merkle log: hash tiles and entry bundles, tile height 8.
//
// Paths are relative to the log prefix (the archive stores them under "log/"):
//   tile/<L>/<N>[.p/<W>]        hash tile: W (1..256) concatenated 32-byte hashes at tree height 8L
//   tile/entries/<N>[.p/<W>]    entry bundle: W entries, each uint16 big-endian length || data
// N is written in 3-digit groups, all but the last prefixed with 'x': 1234067 -> x001/x234/067.
// A log of size s has, for every level L with s >> 8L > 0, the full tiles 0 .. (s >> 8(L+1)) - 1 and,
// when (s >> 8L) % 256 != 0, one partial tile of that width; entry bundles follow level 0.

#include <archive/log/merkle.hpp>
#include <archive/util/bytes.hpp>
#include <archive/util/error.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace avow::log {

constexpr unsigned k_tile_height = 8;
constexpr unsigned k_tile_width = 256;
// tlog-tiles allows levels 0..5, so a log holds at most 2^48 - 1 entries.
constexpr unsigned k_max_tile_levels = 6;
constexpr std::uint64_t k_max_log_size = (std::uint64_t{1} << (k_tile_height * k_max_tile_levels)) - 1;
// An entry is stored with a uint16 length prefix; avow entries are never empty.
constexpr std::size_t k_max_entry_size = 65535;

// Return the path of hash tile `index` at `level` with `width` hashes (1..256; 256 = full, no
// ".p/" suffix). Throws std::invalid_argument on a width or level out of range (a bug).
std::string tile_path(unsigned level, std::uint64_t index, unsigned width = k_tile_width);
// Return the path of entry bundle `index` with `width` entries (1..256), like tile_path.
std::string entries_path(std::uint64_t index, unsigned width = k_tile_width);

// Return the path of every hash tile and entry bundle of a log of `size` entries, full and partial:
// hash tiles level by level in index order, then the entry bundles. failed_precondition if `size`
// exceeds k_max_log_size.
Expected<std::vector<std::string>> tile_paths(std::uint64_t size);

// Return the concatenation of `hashes` (a hash tile's bytes).
Bytes encode_hash_tile(std::span<const Hash> hashes);
// Split hash tile bytes `data` into hashes; invalid_input if the size is not a multiple of 32 or the
// tile holds more than 256 hashes.
Expected<std::vector<Hash>> decode_hash_tile(ByteView data);

// Return the entry bundle of `entries`; invalid_input if an entry is empty or longer than 65535
// bytes, or if there are more than 256 entries.
Expected<Bytes> encode_entry_bundle(std::span<const std::string> entries);
// Split entry bundle `data` into its entries; invalid_input if it is truncated, holds an empty entry
// or more than 256 entries.
Expected<std::vector<std::string>> decode_entry_bundle(ByteView data);

struct TileWrite {
  std::string path; // relative to the log prefix: "tile/0/000"
  Bytes data;
  bool operator==(const TileWrite&) const = default;
};

struct AppendPlan {
  std::uint64_t old_size = 0;
  Hash old_root{};                    // root recomputed from the partial tiles that were read
  std::uint64_t new_size = 0;
  Hash root{};                        // root of the log after the append
  std::vector<TileWrite> writes;      // new full and partial tiles and bundles, to create or replace
  std::vector<std::string> removes;   // partial tiles and bundles superseded by a longer successor
};

// Read a tile by path (relative to the log prefix); ErrorCode::not_found if it does not exist.
using TileReader = std::function<Expected<Bytes>(const std::string& path)>;

// Streaming builder of the tiles of a log: feed entries (or leaf hashes) in order; every tile or
// bundle that becomes full is handed to the sink at once, and partial_tiles() gives the rest. Memory
// is O(256 * levels), so it suits a verifier walking a log of millions of entries.
class TileBuilder {
public:
  enum class Bundles { no, yes };
  using Sink = std::function<void(TileWrite&& tile)>;

  // Start an empty log. With Bundles::yes entry bundles are built too (append_entry only).
  explicit TileBuilder(Sink sink, Bundles bundles = Bundles::yes);

  // Resume a log of `size` entries by reading its rightmost partial tiles (one per level and, with
  // Bundles::yes, the partial entry bundle) through `read`. failed_precondition "log tile 'P' is
  // missing or has the wrong size" if one is absent or has the wrong size; other read errors pass
  // through; failed_precondition if `size` exceeds k_max_log_size.
  static Expected<TileBuilder> resume(std::uint64_t size, const TileReader& read, Sink sink,
                                      Bundles bundles = Bundles::yes);

  // Append one entry (leaf data); invalid_input if it is empty, longer than 65535 bytes, or the log
  // is full (k_max_log_size).
  Expected<void> append_entry(std::string_view entry);
  // Append one leaf hash. Only for Bundles::no (std::logic_error otherwise: a bug); failed_precondition
  // if the log is full.
  Expected<void> append_leaf_hash(const Hash& leaf);

  std::uint64_t size() const { return m_size; }
  // Return the Merkle root of the entries so far (from the tile state, O(256 * levels) hashes).
  Hash root() const;
  // Return the partial hash tiles (and partial entry bundle) of the current size.
  std::vector<TileWrite> partial_tiles() const;

private:
  void push_hash(unsigned level, const Hash& hash);

  Sink m_sink;
  Bundles m_bundles;
  std::uint64_t m_size = 0;
  std::vector<std::vector<Hash>> m_levels; // m_levels[L]: the hashes of the open (partial) tile at level L
  std::vector<std::string> m_bundle;       // entries of the open entry bundle
};

// Plan the append of `entries` (leaf data, in order) to a log of `old_size` entries whose tiles are
// readable through `read`. It reads only the rightmost partial tiles (at most one per level and one
// partial entry bundle), never the whole log, and returns every tile and bundle to write, the old
// partial paths to remove, the root before (recomputed from the tiles read: compare it with the last
// checkpoint) and after. Errors: as TileBuilder::resume and append_entry.
Expected<AppendPlan> plan_append(std::uint64_t old_size, std::span<const std::string> entries, const TileReader& read);

} // namespace avow::log
