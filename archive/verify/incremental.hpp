#pragma once

#include <archive/log/merkle.hpp>
#include <archive/store/git_store.hpp>
#include <archive/verify/verify.hpp>

#include <cstdint>
#include <string>
#include <vector>

// Verifying only what a fetched history adds to a verified one (`avow pull`): work proportional to the new commits
// and entries, not to the archive.
namespace avow::verify {

struct IncrementalReport {
  std::vector<Problem> problems;
  std::uint64_t commits = 0;   // new commits checked
  std::uint64_t entries = 0;   // new entries verified (parsed, key state, signature)
  std::uint64_t texts = 0;     // text claims of new statements checked
  std::uint64_t tiles = 0;     // tiles and bundles recomputed and compared
  std::uint64_t old_size = 0;
  std::uint64_t new_size = 0;
  std::string old_checkpoint;  // the base's signed checkpoint, verbatim
  std::string new_checkpoint;  // the tip's signed checkpoint, verbatim
  // The tip's checkpoint is signed by the log key in force but is not a consistent extension of the base's: a split
  // view (the caller writes the evidence).
  bool inconsistent = false;
  // What only the entries before the base can settle (the caller asks its index): the record id of each new entry,
  // and each `supersedes` of a new statement that names no earlier new statement.
  std::vector<std::pair<std::uint64_t, std::string>> record_ids;
  struct SupersedesBefore {
    std::uint64_t entry;
    std::string id;     // the record id it names
    std::string source; // the superseding statement's source.uri
  };
  std::vector<SupersedesBefore> supersedes_before;
  bool ok() const { return problems.empty(); }
};

// Check that commit `tip` extends commit `base` of the same archive, where `base` is a history this copy has verified
// (its main) and `base` is an ancestor of `tip`. Checked: the commits after `base` form a single line from it; each
// is SSHSIG-signed by the log key in force at its parent's checkpoint and only adds files (the append-only rule of a
// full verify); each checkpoint is of the origin, signed by the log key in force at its size (a hand-over checkpoint
// by the old key too), never shrinks, matches its commit's Avow-Tree-Size, commits to the recomputed key state
// (avow-keys line and log/keys) and is the root of a prefix of the tip's tiles; the tip's checkpoint is consistent
// with the base's (RFC 9162 consistency proof from the tip's tiles, verified against both roots). The new entries are
// read from the tip's bundles, parsed and schema-checked, judged with the key state carried forward from the base
// (record::apply) and their DSSE signatures verified; the tiles and bundles they make are recomputed from the base's
// partial tiles and compared with the tip's; the tip adds no file but those; the new texts and originals are hashed.
// Left to the caller (record_ids, supersedes_before): a record repeated from before `base`, a `supersedes` naming a
// statement before `base`. Not rechecked: time-stamp tokens (a full verify checks them). Errors only when the archive cannot be read; anything wrong is a Problem.
Expected<IncrementalReport> verify_extension(const store::GitStore& store, const store::Oid& base, const store::Oid& tip,
                                             const Options& options);

} // namespace avow::verify
