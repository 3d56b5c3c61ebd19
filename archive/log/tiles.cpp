#include <archive/log/tiles.hpp>

#include <algorithm>
#include <stdexcept>
#include <unordered_set>
#include <utility>

namespace avow::log {

namespace {

constexpr std::size_t k_hash_size = 32;

// Number of complete nodes at tree height 8 * `level` in a log of `size` entries.
std::uint64_t nodes_at(std::uint64_t size, unsigned level) { return size >> (k_tile_height * level); }

std::string encode_index(std::uint64_t index) {
  std::string out = fmt::format("{:03}", index % 1000);
  while (index >= 1000) {
    index /= 1000;
    out = fmt::format("x{:03}/{}", index % 1000, out);
  }
  return out;
}

std::string with_width(std::string path, unsigned width) {
  if (width == 0 || width > k_tile_width) throw std::invalid_argument("tile width out of range");
  if (width < k_tile_width) path += fmt::format(".p/{}", width);
  return path;
}

std::unexpected<Error> missing(const std::string& path) {
  return fail(ErrorCode::failed_precondition, "log tile '{}' is missing or has the wrong size", path);
}

} // namespace

std::string tile_path(unsigned level, std::uint64_t index, unsigned width) {
  if (level >= k_max_tile_levels) throw std::invalid_argument("tile level out of range");
  return with_width(fmt::format("tile/{}/{}", level, encode_index(index)), width);
}

std::string entries_path(std::uint64_t index, unsigned width) {
  return with_width("tile/entries/" + encode_index(index), width);
}

Expected<std::vector<std::string>> tile_paths(std::uint64_t size) {
  if (size > k_max_log_size)
    return fail(ErrorCode::failed_precondition, "log size {} exceeds the maximum {}", size, k_max_log_size);
  std::vector<std::string> out;
  for (unsigned level = 0; level < k_max_tile_levels && nodes_at(size, level) > 0; ++level) {
    const std::uint64_t n = nodes_at(size, level);
    for (std::uint64_t i = 0; i < n / k_tile_width; ++i) out.push_back(tile_path(level, i));
    if (n % k_tile_width != 0) out.push_back(tile_path(level, n / k_tile_width, unsigned(n % k_tile_width)));
  }
  for (std::uint64_t i = 0; i < size / k_tile_width; ++i) out.push_back(entries_path(i));
  if (size % k_tile_width != 0) out.push_back(entries_path(size / k_tile_width, unsigned(size % k_tile_width)));
  return out;
}

Bytes encode_hash_tile(std::span<const Hash> hashes) {
  Bytes out;
  out.reserve(hashes.size() * k_hash_size);
  for (const Hash& h : hashes) out.insert(out.end(), h.begin(), h.end());
  return out;
}

Expected<std::vector<Hash>> decode_hash_tile(ByteView data) {
  if (data.size() % k_hash_size != 0 || data.size() > k_tile_width * k_hash_size)
    return fail(ErrorCode::invalid_input, "cannot decode hash tile: {} bytes", data.size());
  std::vector<Hash> out(data.size() / k_hash_size);
  for (std::size_t i = 0; i < out.size(); ++i)
    std::copy_n(data.begin() + std::ptrdiff_t(i * k_hash_size), k_hash_size, out[i].begin());
  return out;
}

Expected<Bytes> encode_entry_bundle(std::span<const std::string> entries) {
  if (entries.size() > k_tile_width)
    return fail(ErrorCode::invalid_input, "cannot encode entry bundle: {} entries", entries.size());
  Bytes out;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string& e = entries[i];
    if (e.empty() || e.size() > k_max_entry_size)
      return fail(ErrorCode::invalid_input, "cannot encode entry bundle: entry {} has {} bytes", i, e.size());
    out.push_back(std::uint8_t(e.size() >> 8));
    out.push_back(std::uint8_t(e.size() & 0xff));
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

Expected<std::vector<std::string>> decode_entry_bundle(ByteView data) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (out.size() == k_tile_width)
      return fail(ErrorCode::invalid_input, "cannot decode entry bundle: more than {} entries", k_tile_width);
    if (data.size() - pos < 2)
      return fail(ErrorCode::invalid_input, "cannot decode entry bundle: truncated length at byte {}", pos);
    const std::size_t len = (std::size_t{data[pos]} << 8) | data[pos + 1];
    pos += 2;
    if (len == 0) return fail(ErrorCode::invalid_input, "cannot decode entry bundle: empty entry {}", out.size());
    if (data.size() - pos < len)
      return fail(ErrorCode::invalid_input, "cannot decode entry bundle: entry {} is truncated", out.size());
    out.push_back(to_string(data.subspan(pos, len)));
    pos += len;
  }
  return out;
}

TileBuilder::TileBuilder(Sink sink, Bundles bundles) : m_sink(std::move(sink)), m_bundles(bundles) {}

Expected<TileBuilder> TileBuilder::resume(std::uint64_t size, const TileReader& read, Sink sink, Bundles bundles) {
  if (size > k_max_log_size)
    return fail(ErrorCode::failed_precondition, "log size {} exceeds the maximum {}", size, k_max_log_size);
  TileBuilder b(std::move(sink), bundles);
  b.m_size = size;
  for (unsigned level = 0; level < k_max_tile_levels && nodes_at(size, level) > 0; ++level) {
    const std::uint64_t n = nodes_at(size, level);
    const auto width = unsigned(n % k_tile_width);
    auto& hashes = b.m_levels.emplace_back();
    if (width == 0) continue;
    const std::string path = tile_path(level, n / k_tile_width, width);
    auto data = read(path);
    if (!data) {
      if (data.error().code == ErrorCode::not_found) return missing(path);
      return std::unexpected(data.error());
    }
    if (data->size() != width * k_hash_size) return missing(path);
    auto decoded = decode_hash_tile(*data);
    if (!decoded) return missing(path);
    hashes = std::move(*decoded);
  }
  if (bundles == Bundles::yes && size % k_tile_width != 0) {
    const auto width = unsigned(size % k_tile_width);
    const std::string path = entries_path(size / k_tile_width, width);
    auto data = read(path);
    if (!data) {
      if (data.error().code == ErrorCode::not_found) return missing(path);
      return std::unexpected(data.error());
    }
    auto decoded = decode_entry_bundle(*data);
    if (!decoded || decoded->size() != width) return missing(path);
    b.m_bundle = std::move(*decoded);
  }
  return b;
}

void TileBuilder::push_hash(unsigned level, const Hash& hash) {
  if (m_levels.size() <= level) m_levels.resize(level + 1);
  auto& hashes = m_levels[level];
  hashes.push_back(hash);
  if (hashes.size() < k_tile_width) return;
  // The tile is complete: m_size already counts the entry that completed it.
  const std::uint64_t index = (nodes_at(m_size, level) - 1) / k_tile_width;
  CompactRange range;
  for (const Hash& h : hashes) range.append(h);
  const Hash top = range.root();
  if (m_sink) m_sink(TileWrite{tile_path(level, index), encode_hash_tile(hashes)});
  hashes.clear();
  push_hash(level + 1, top); // level + 1 < k_max_tile_levels because m_size <= k_max_log_size
}

Expected<void> TileBuilder::append_entry(std::string_view entry) {
  if (entry.empty() || entry.size() > k_max_entry_size)
    return fail(ErrorCode::invalid_input, "cannot append log entry {}: it has {} bytes (1 to {} allowed)", m_size,
                entry.size(), k_max_entry_size);
  if (m_size >= k_max_log_size)
    return fail(ErrorCode::failed_precondition, "cannot append log entry: the log is full ({} entries)", m_size);
  const Hash leaf = leaf_hash(entry);
  ++m_size;
  if (m_bundles == Bundles::yes) {
    m_bundle.emplace_back(entry);
    if (m_bundle.size() == k_tile_width) {
      auto bundle = encode_entry_bundle(m_bundle);
      if (!bundle) throw std::logic_error("entry bundle of checked entries failed to encode");
      if (m_sink) m_sink(TileWrite{entries_path((m_size - 1) / k_tile_width), std::move(*bundle)});
      m_bundle.clear();
    }
  }
  push_hash(0, leaf);
  return {};
}

Expected<void> TileBuilder::append_leaf_hash(const Hash& leaf) {
  if (m_bundles == Bundles::yes) throw std::logic_error("TileBuilder::append_leaf_hash needs Bundles::no");
  if (m_size >= k_max_log_size)
    return fail(ErrorCode::failed_precondition, "cannot append log entry: the log is full ({} entries)", m_size);
  ++m_size;
  push_hash(0, leaf);
  return {};
}

Hash TileBuilder::root() const {
  CompactRange range;
  for (std::size_t level = m_levels.size(); level-- > 0;)
    for (const Hash& h : m_levels[level]) range.append_subtree(h, unsigned(level * k_tile_height));
  if (range.size() != m_size) throw std::logic_error("TileBuilder state does not match its size");
  return range.root();
}

std::vector<TileWrite> TileBuilder::partial_tiles() const {
  std::vector<TileWrite> out;
  for (unsigned level = 0; level < m_levels.size(); ++level) {
    const auto& hashes = m_levels[level];
    if (hashes.empty()) continue;
    out.push_back(TileWrite{tile_path(level, nodes_at(m_size, level) / k_tile_width, unsigned(hashes.size())),
                            encode_hash_tile(hashes)});
  }
  if (!m_bundle.empty()) {
    auto bundle = encode_entry_bundle(m_bundle);
    if (!bundle) throw std::logic_error("entry bundle of checked entries failed to encode");
    out.push_back(TileWrite{entries_path(m_size / k_tile_width, unsigned(m_bundle.size())), std::move(*bundle)});
  }
  return out;
}

Expected<AppendPlan> plan_append(std::uint64_t old_size, std::span<const std::string> entries, const TileReader& read) {
  AppendPlan plan;
  plan.old_size = old_size;
  auto builder = TileBuilder::resume(
      old_size, read, [&plan](TileWrite&& t) { plan.writes.push_back(std::move(t)); }, TileBuilder::Bundles::yes);
  if (!builder) return std::unexpected(builder.error());
  plan.old_root = builder->root();
  const std::vector<TileWrite> old_partials = builder->partial_tiles();
  for (const std::string& e : entries)
    if (auto ok = builder->append_entry(e); !ok) return std::unexpected(ok.error());
  plan.new_size = builder->size();
  plan.root = builder->root();

  std::unordered_set<std::string> old_paths;
  for (const TileWrite& t : old_partials) old_paths.insert(t.path);
  std::unordered_set<std::string> new_paths;
  for (TileWrite& t : builder->partial_tiles()) {
    new_paths.insert(t.path);
    if (!old_paths.contains(t.path)) plan.writes.push_back(std::move(t));
  }
  for (const TileWrite& t : old_partials)
    if (!new_paths.contains(t.path)) plan.removes.push_back(t.path);
  return plan;
}

} // namespace avow::log
