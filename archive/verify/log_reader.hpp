#pragma once

#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <archive/record/layout.hpp>
#include <archive/store/git_store.hpp>

#include <cstdint>
#include <string>
#include <vector>

// Reading the log out of an archive's git tree; shared by the writer (to find where to append) and the verifier.
namespace avow::verify {

// Return the signed-note verifier of the archive's log key named in avow.json; invalid_input if the vkey is malformed
// or its name is not the origin.
Expected<log::Verifier> log_verifier(const record::ArchiveConfig& config);

// Read avow.json at `commit`.
Expected<record::ArchiveConfig> read_config(const store::GitStore& store, const store::Oid& commit);

struct SignedCheckpoint {
  log::Checkpoint checkpoint;
  std::string note; // the file's bytes
};
// Read log/checkpoint at `commit`, check its log-key signature and its origin; invalid_input naming what is wrong.
Expected<SignedCheckpoint> read_checkpoint(const store::GitStore& store, const store::Oid& commit,
                                           const log::Verifier& log_key, std::string_view origin);

// Read entries [`first`, `size`) of the log of `size` entries at `commit` from its entry bundles, in order (reading
// only the bundles that hold them); invalid_input if a bundle is missing, malformed or of the wrong length.
Expected<std::vector<std::string>> read_entries(const store::GitStore& store, const store::Oid& commit, std::uint64_t size,
                                                std::uint64_t first = 0);

} // namespace avow::verify
