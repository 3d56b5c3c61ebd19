#pragma once

#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <archive/record/key_state.hpp>
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
  // The key state at the checkpoint's size (log/keys at `commit`, parsed), and its JCS bytes; nullopt for an archive
  // written before log/keys existed (its checkpoints carry no avow-keys line).
  std::optional<record::KeyState> keys;
  std::optional<std::string> keys_jcs;
};
// Read log/checkpoint at `commit` and check it: when the tree holds log/keys, the checkpoint's avow-keys line must be
// its hash, its first key must be `genesis` (the log key of avow.json), each log-key rotation it names must be a
// key.add entry signed by the log key before it, and the checkpoint must verify under its log key in force; without
// log/keys (an older archive) it must carry no avow-keys line and verify under `genesis`. Its origin must be
// `origin`. invalid_input naming what is wrong.
Expected<SignedCheckpoint> read_checkpoint(const store::GitStore& store, const store::Oid& commit,
                                           const log::Verifier& genesis, std::string_view origin);

// The signed-note verifier of Ed25519 key `key` under the key name `origin`.
log::Verifier note_verifier(std::string_view origin, const crypto::PublicKey& key);

// Read log entry `i` of the log of `size` entries at `commit` (one entry bundle); invalid_input as read_entries.
Expected<std::string> read_entry(const store::GitStore& store, const store::Oid& commit, std::uint64_t size,
                                 std::uint64_t i);

// The key state at the checkpoint `cp` of `commit`: its log/keys, or, for an older archive without it, the state
// its key events make of the genesis state (read once from the whole log; key events whose signature does not verify
// under the log key in force are an error). failed_precondition when the log's key events are invalid.
Expected<record::KeyState> key_state_at(const store::GitStore& store, const store::Oid& commit,
                                        const SignedCheckpoint& cp, const log::Verifier& genesis);

// Read entries [`first`, `size`) of the log of `size` entries at `commit` from its entry bundles, in order (reading
// only the bundles that hold them); invalid_input if a bundle is missing, malformed or of the wrong length.
Expected<std::vector<std::string>> read_entries(const store::GitStore& store, const store::Oid& commit, std::uint64_t size,
                                                std::uint64_t first = 0);

} // namespace avow::verify
