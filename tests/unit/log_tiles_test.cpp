#include <archive/log/tiles.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>

namespace avow::log {
namespace {

using Files = std::map<std::string, Bytes>;

// RFC 6962 MTH written out recursively, independent of CompactRange.
Hash reference_root(std::span<const Hash> d) {
  if (d.empty()) return empty_root();
  if (d.size() == 1) return d[0];
  const std::size_t k = split_point(d.size());
  return node_hash(reference_root(d.first(k)), reference_root(d.subspan(k)));
}

std::string entry(std::uint64_t i) {
  // Varying lengths, including long ones, never empty.
  return fmt::format("entry {} {}", i, std::string(i % 97, char('a' + i % 26)));
}

TileReader reader_of(const Files& files, std::vector<std::string>* reads = nullptr) {
  return [&files, reads](const std::string& path) -> Expected<Bytes> {
    if (reads != nullptr) reads->push_back(path);
    const auto it = files.find(path);
    if (it == files.end()) return fail(ErrorCode::not_found, "no file '{}'", path);
    return it->second;
  };
}

// Every file of a log over `leaves`/`entries`, computed directly from the definition.
Files from_scratch(std::span<const Hash> leaves, std::span<const std::string> entries) {
  Files out;
  const std::uint64_t size = leaves.size();
  for (unsigned level = 0; (size >> (8 * level)) > 0; ++level) {
    const std::uint64_t span = std::uint64_t{1} << (8 * level);
    const std::uint64_t n = size >> (8 * level);
    for (std::uint64_t t = 0; t * 256 < n; ++t) {
      std::vector<Hash> hashes;
      for (std::uint64_t i = t * 256; i < std::min(n, (t + 1) * 256); ++i)
        hashes.push_back(reference_root(leaves.subspan(i * span, span)));
      out[tile_path(level, t, unsigned(hashes.size()))] = encode_hash_tile(hashes);
    }
  }
  for (std::uint64_t t = 0; t * 256 < size; ++t) {
    const auto count = std::min<std::uint64_t>(256, size - t * 256);
    auto bundle = encode_entry_bundle(entries.subspan(t * 256, count));
    EXPECT_TRUE(bundle.has_value());
    out[entries_path(t, unsigned(count))] = *bundle;
  }
  return out;
}

TEST(LogTiles, Paths) {
  EXPECT_EQ(tile_path(0, 1234067), "tile/0/x001/x234/067");
  EXPECT_EQ(tile_path(0, 67, 5), "tile/0/067.p/5");
  EXPECT_EQ(tile_path(1, 0, 256), "tile/1/000");
  EXPECT_EQ(tile_path(2, 1000, 255), "tile/2/x001/000.p/255");
  EXPECT_EQ(tile_path(5, 999), "tile/5/999");
  EXPECT_EQ(entries_path(1234067), "tile/entries/x001/x234/067");
  EXPECT_EQ(entries_path(0, 1), "tile/entries/000.p/1");
  EXPECT_EQ(entries_path(1000000), "tile/entries/x001/x000/000");
  EXPECT_THROW(tile_path(0, 0, 0), std::invalid_argument);
  EXPECT_THROW(tile_path(0, 0, 257), std::invalid_argument);
  EXPECT_THROW(tile_path(6, 0), std::invalid_argument);
}

TEST(LogTiles, TilePathsForSize) {
  EXPECT_EQ(tile_paths(0).value(), std::vector<std::string>{});
  EXPECT_EQ(tile_paths(1).value(), (std::vector<std::string>{"tile/0/000.p/1", "tile/entries/000.p/1"}));
  EXPECT_EQ(tile_paths(256).value(),
            (std::vector<std::string>{"tile/0/000", "tile/1/000.p/1", "tile/entries/000"}));
  EXPECT_EQ(tile_paths(513).value(), (std::vector<std::string>{"tile/0/000", "tile/0/001", "tile/0/002.p/1",
                                                               "tile/1/000.p/2", "tile/entries/000",
                                                               "tile/entries/001", "tile/entries/002.p/1"}));
  EXPECT_EQ(tile_paths(65536).value().size(), 256u + 1u + 1u + 256u);
  EXPECT_FALSE(tile_paths(k_max_log_size + 1).has_value());
}

TEST(LogTiles, HashTileCodec) {
  std::vector<Hash> hs = {leaf_hash(std::string_view("a")), leaf_hash(std::string_view("b"))};
  const Bytes b = encode_hash_tile(hs);
  ASSERT_EQ(b.size(), 64u);
  EXPECT_TRUE(std::equal(hs[1].begin(), hs[1].end(), b.begin() + 32));
  EXPECT_EQ(decode_hash_tile(b).value(), hs);
  EXPECT_FALSE(decode_hash_tile(ByteView(b).first(63)).has_value());
  EXPECT_FALSE(decode_hash_tile(Bytes(257 * 32)).has_value());
}

TEST(LogTiles, EntryBundleCodec) {
  const std::vector<std::string> e = {"a", "bc"};
  EXPECT_EQ(to_hex(encode_entry_bundle(e).value()), "000161000262" "63");
  EXPECT_EQ(decode_entry_bundle(encode_entry_bundle(e).value()).value(), e);
  EXPECT_EQ(decode_entry_bundle(Bytes{}).value(), std::vector<std::string>{});
  const std::vector<std::string> max = {std::string(65535, 'x')};
  auto big = encode_entry_bundle(max);
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ((*big)[0], 0xff);
  EXPECT_EQ((*big)[1], 0xff);
  EXPECT_EQ(decode_entry_bundle(*big).value(), max);

  EXPECT_FALSE(encode_entry_bundle(std::vector<std::string>{std::string(65536, 'x')}).has_value());
  EXPECT_FALSE(encode_entry_bundle(std::vector<std::string>{"a", ""}).has_value());
  EXPECT_FALSE(encode_entry_bundle(std::vector<std::string>(257, "a")).has_value());
  EXPECT_TRUE(encode_entry_bundle(std::vector<std::string>(256, "a")).has_value());

  EXPECT_FALSE(decode_entry_bundle(Bytes{0x00}).has_value());             // truncated length
  EXPECT_FALSE(decode_entry_bundle(Bytes{0x00, 0x02, 0x61}).has_value()); // truncated entry
  EXPECT_FALSE(decode_entry_bundle(Bytes{0x00, 0x00}).has_value());       // empty entry
  EXPECT_FALSE(decode_entry_bundle(Bytes{0x00, 0x01, 0x61, 0x00}).has_value());
  Bytes too_many;
  for (int i = 0; i < 257; ++i) too_many.insert(too_many.end(), {0x00, 0x01, 0x61});
  EXPECT_FALSE(decode_entry_bundle(too_many).has_value());
}

TEST(LogTiles, IncrementalAppendMatchesFromScratch) {
  Files files;
  std::vector<std::string> entries;
  std::vector<Hash> leaves;
  CompactRange reference;
  Hash last_root = empty_root();
  std::mt19937 rng(20240601);
  const std::uint64_t batch_sizes[] = {1, 3, 255, 256, 257, 1000};
  int appends = 0;
  while (entries.size() < 70000) {
    const std::uint64_t old_size = entries.size();
    std::uint64_t n = batch_sizes[rng() % std::size(batch_sizes)];
    if (appends < 6) n = batch_sizes[appends]; // every size at least once, from the empty log
    std::vector<std::string> batch;
    for (std::uint64_t i = 0; i < n; ++i) batch.push_back(entry(old_size + i));

    std::vector<std::string> reads;
    auto plan = plan_append(old_size, batch, reader_of(files, &reads));
    ASSERT_TRUE(plan.has_value()) << plan.error().message;
    ++appends;

    // It reads only partial tiles: one per level at most, plus one entry bundle.
    EXPECT_LE(reads.size(), 4u);
    for (const auto& r : reads) EXPECT_NE(r.find(".p/"), std::string::npos) << r;
    EXPECT_EQ(plan->old_size, old_size);
    EXPECT_EQ(plan->old_root, last_root);

    for (const auto& p : plan->removes) {
      EXPECT_NE(p.find(".p/"), std::string::npos) << p;
      EXPECT_EQ(files.erase(p), 1u) << "removed a file that did not exist: " << p;
    }
    for (auto& w : plan->writes) {
      // A full tile is written once and never changes; a partial one is replaced by a new path.
      EXPECT_FALSE(files.contains(w.path)) << "tile rewritten: " << w.path;
      files[w.path] = w.data;
    }

    for (auto& e : batch) {
      leaves.push_back(leaf_hash(e));
      reference.append(leaves.back());
      entries.push_back(std::move(e));
    }
    ASSERT_EQ(plan->new_size, entries.size());
    EXPECT_EQ(plan->root, reference.root()) << "size " << entries.size();
    last_root = plan->root;

    std::set<std::string> have;
    for (const auto& [path, data] : files) have.insert(path);
    const auto want_paths = tile_paths(entries.size()).value();
    EXPECT_EQ(have, std::set<std::string>(want_paths.begin(), want_paths.end())) << "size " << entries.size();
    if (appends <= 8 || appends % 40 == 0) {
      EXPECT_EQ(files, from_scratch(leaves, entries)) << "size " << entries.size();
    }
  }
  EXPECT_TRUE(files.contains("tile/2/000.p/1"));
  EXPECT_EQ(files, from_scratch(leaves, entries));
  EXPECT_EQ(last_root, reference_root(leaves));

  // An empty batch plans nothing and keeps the root.
  auto none = plan_append(entries.size(), {}, reader_of(files));
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->writes.empty());
  EXPECT_TRUE(none->removes.empty());
  EXPECT_EQ(none->root, last_root);

  // The streaming builder over leaf hashes alone gives the same hash tiles (the verifier's path).
  Files streamed;
  TileBuilder builder([&](TileWrite&& t) { streamed[t.path] = std::move(t.data); }, TileBuilder::Bundles::no);
  for (const Hash& h : leaves) ASSERT_TRUE(builder.append_leaf_hash(h).has_value());
  for (auto& t : builder.partial_tiles()) streamed[t.path] = std::move(t.data);
  EXPECT_EQ(builder.root(), last_root);
  Files hash_tiles;
  for (const auto& [path, data] : files)
    if (!path.starts_with("tile/entries/")) hash_tiles[path] = data;
  EXPECT_EQ(streamed, hash_tiles);
}

TEST(LogTiles, MissingOrWrongSizeTileIsAPrecondition) {
  Files files;
  std::vector<std::string> batch;
  for (int i = 0; i < 300; ++i) batch.push_back(entry(i));
  auto plan = plan_append(0, batch, reader_of(files));
  ASSERT_TRUE(plan.has_value());
  for (auto& w : plan->writes) files[w.path] = w.data;
  const std::vector<std::string> one = {"x"};
  ASSERT_TRUE(plan_append(300, one, reader_of(files)).has_value());

  Files broken = files;
  broken.erase("tile/1/000.p/1");
  auto r = plan_append(300, one, reader_of(broken));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(r.error().message, "log tile 'tile/1/000.p/1' is missing or has the wrong size");

  broken = files;
  broken["tile/0/001.p/44"].pop_back();
  r = plan_append(300, one, reader_of(broken));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "log tile 'tile/0/001.p/44' is missing or has the wrong size");

  broken = files;
  broken["tile/entries/001.p/44"].resize(10);
  r = plan_append(300, one, reader_of(broken));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "log tile 'tile/entries/001.p/44' is missing or has the wrong size");

  // A tampered partial tile is read as is: the caller detects it by comparing old_root.
  broken = files;
  broken["tile/0/001.p/44"][0] ^= 1;
  r = plan_append(300, one, reader_of(broken));
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->old_root, plan->root);

  // Other read errors pass through unchanged.
  r = plan_append(300, one, [](const std::string&) -> Expected<Bytes> { return fail(ErrorCode::io, "disk on fire"); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::io);

  // Bad entries are refused.
  const std::vector<std::string> empty_entry = {""};
  EXPECT_EQ(plan_append(300, empty_entry, reader_of(files)).error().code, ErrorCode::invalid_input);
  const std::vector<std::string> huge = {std::string(65536, 'x')};
  EXPECT_EQ(plan_append(300, huge, reader_of(files)).error().code, ErrorCode::invalid_input);
}

TEST(LogTiles, AppendOf14000EntriesIsFast) {
  Files files;
  std::vector<std::string> first;
  for (int i = 0; i < 100000; ++i) first.push_back(entry(i));
  auto plan = plan_append(0, first, reader_of(files));
  ASSERT_TRUE(plan.has_value());
  for (auto& w : plan->writes) files[w.path] = std::move(w.data);

  std::vector<std::string> batch;
  for (int i = 0; i < 14000; ++i) batch.push_back(std::string(600, char('a' + i % 26)) + std::to_string(i));
  const auto start = std::chrono::steady_clock::now();
  auto next = plan_append(100000, batch, reader_of(files));
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->new_size, 114000u);
  std::cout << "plan_append of 14000 entries of ~600 bytes onto 100000: " << ms << " ms\n";
  EXPECT_LT(ms, 500.0); // the target is well under 100 ms in an optimised build; slack for sanitizers
}

} // namespace
} // namespace avow::log
