// Inclusion proofs from tiles: tile reads and time per proof must stay O(log n) as the log grows.
//
//   proof_bench [PROOFS]      (default 1000 random indices per log size)
//
// For logs of 10,000, 100,000 and 1,000,000 entries it builds the tiles in memory (TileBuilder,
// leaf hashes of small entries, Bundles::no), then computes an inclusion proof for PROOFS random
// indices at the full size through an in-memory TileReader that counts its reads, checks every proof
// against the root, and prints a table: tile reads per proof (max, mean) and time per proof (median,
// 99th percentile). Exit status 1 if a proof does not verify.

#include <archive/log/merkle.hpp>
#include <archive/log/proof.hpp>
#include <archive/log/tiles.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using avow::Bytes;
using avow::Expected;
using namespace avow::log;
using Clock = std::chrono::steady_clock;

struct Row {
  std::uint64_t size = 0;
  std::size_t tiles = 0;
  double build_s = 0;
  std::size_t reads_max = 0;
  double reads_mean = 0;
  double median_us = 0;
  double p99_us = 0;
  std::size_t proof_len_max = 0;
};

Expected<Row> run(std::uint64_t size, std::size_t proofs, std::mt19937_64& rng) {
  Row row;
  row.size = size;
  std::unordered_map<std::string, Bytes> files;
  const auto t0 = Clock::now();
  TileBuilder builder([&files](TileWrite&& t) { files.emplace(std::move(t.path), std::move(t.data)); },
                      TileBuilder::Bundles::no);
  std::vector<Hash> leaves;
  leaves.reserve(size);
  for (std::uint64_t i = 0; i < size; ++i) {
    leaves.push_back(leaf_hash(fmt::format("entry {}", i)));
    if (auto ok = builder.append_leaf_hash(leaves.back()); !ok) return std::unexpected(ok.error());
  }
  for (TileWrite& t : builder.partial_tiles()) files.emplace(std::move(t.path), std::move(t.data));
  row.build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  row.tiles = files.size();
  const Hash root = builder.root();

  std::size_t reads = 0;
  const TileReader read = [&files, &reads](const std::string& path) -> Expected<Bytes> {
    ++reads;
    const auto it = files.find(path);
    if (it == files.end()) return avow::fail(avow::ErrorCode::not_found, "no tile '{}'", path);
    return it->second;
  };

  std::vector<double> times_us;
  std::size_t total_reads = 0;
  for (std::size_t n = 0; n < proofs; ++n) {
    const std::uint64_t index = rng() % size;
    reads = 0;
    const auto start = Clock::now();
    auto proof = inclusion_proof_from_tiles(index, size, size, read);
    const auto stop = Clock::now();
    if (!proof) return std::unexpected(proof.error());
    times_us.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
    row.reads_max = std::max(row.reads_max, reads);
    total_reads += reads;
    row.proof_len_max = std::max(row.proof_len_max, proof->size());
    std::vector<Bytes> path;
    for (const Hash& h : *proof) path.emplace_back(h.begin(), h.end());
    if (auto ok = verify_inclusion(index, size, leaves[index], path, root); !ok) return std::unexpected(ok.error());
  }
  row.reads_mean = double(total_reads) / double(proofs);
  std::sort(times_us.begin(), times_us.end());
  row.median_us = times_us[times_us.size() / 2];
  row.p99_us = times_us[std::min(times_us.size() - 1, times_us.size() * 99 / 100)];
  return row;
}

} // namespace

int main(int argc, char** argv) {
  std::size_t proofs = 1000;
  if (argc > 1) proofs = std::max<std::size_t>(1, std::strtoull(argv[1], nullptr, 10));
  std::mt19937_64 rng(20260722);
  fmt::print("inclusion proofs from tiles, {} random indices per size\n\n", proofs);
  fmt::print("| entries   | tiles | build s | proof hashes | reads max | reads mean | median us | p99 us |\n");
  fmt::print("|-----------|-------|---------|--------------|-----------|------------|-----------|--------|\n");
  for (std::uint64_t size : {std::uint64_t{10'000}, std::uint64_t{100'000}, std::uint64_t{1'000'000}}) {
    auto row = run(size, proofs, rng);
    if (!row) {
      fmt::print(stderr, "proof_bench: error: {}\n", row.error().message);
      return 1;
    }
    fmt::print("| {:>9} | {:>5} | {:>7.2f} | {:>12} | {:>9} | {:>10.2f} | {:>9.1f} | {:>6.1f} |\n", row->size,
               row->tiles, row->build_s, row->proof_len_max, row->reads_max, row->reads_mean, row->median_us,
               row->p99_us);
  }
  return 0;
}
