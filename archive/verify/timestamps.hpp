#pragma once

// RFC 3161 time-stamp tokens over checkpoints: log/timestamps/<size>.tsr (docs/FORMAT.md "Time-stamp tokens").
// Shared by verify (every token checked) and the façade (attach, show, audit).

#include <archive/crypto/sha256.hpp>
#include <archive/crypto/timestamp.hpp>
#include <archive/store/git_store.hpp>
#include <archive/verify/verify.hpp>

#include <chrono>
#include <climits>
#include <functional>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace avow::verify {

// How far a record's `captured` may be after the genTime of a token covering it, and how far the local clock may be
// behind the archive's newest time when writing: clocks drift, a TSA answers within seconds.
inline constexpr std::chrono::minutes k_timestamp_tolerance{10};

// "log/timestamps/<size>.tsr"
std::string timestamp_path(std::uint64_t size);
// The size a path of that form names (decimal, no leading zero); nullopt for any other path.
std::optional<std::uint64_t> timestamp_path_size(std::string_view path);

// The SHA-256 a token over a checkpoint must carry: of the checkpoint note's text (up to and excluding the blank line
// before the signatures). invalid_input when `note` is not a signed note.
Expected<crypto::Digest> checkpoint_body_digest(std::string_view note);

// One distinct checkpoint body found on main.
struct CheckpointBody {
  std::uint64_t size = 0;
  crypto::Digest digest{};
  std::string commit; // hex of the first commit that holds it
};
// Every distinct checkpoint body of main's history, oldest first (checkpoints that do not parse are skipped; verify
// reports them). One blob read per commit.
Expected<std::vector<CheckpointBody>> checkpoint_bodies(const store::GitStore& store);

// A token stored in the tree.
struct StoredToken {
  std::uint64_t size = 0;
  std::string path;
  crypto::TimestampInfo info;
  bool matches = false;  // granted, and its imprint is the body of a checkpoint of that size in the history
  bool verified = false; // and it verifies under the TSA certificate given
  std::string problem;   // why not, when !matches or (a certificate was given and) !verified
};
// Read and check every log/timestamps/<n>.tsr at `commit`, smallest size first. Paths of another form under
// log/timestamps/ are skipped (verify reports them as stray). With `tsa_cert_pem`, each matching token is also
// checked against it.
Expected<std::vector<StoredToken>> read_tokens(const store::GitStore& store, const store::Oid& commit,
                                               const std::vector<CheckpointBody>& bodies,
                                               const std::optional<std::string>& tsa_cert_pem);

// The earliest genTime among `tokens` that cover log entry `index` (a token covers the entries before its size);
// only tokens that match (and verify, when `verified_only`). Returns the token, or nullptr.
const StoredToken* earliest_covering(const std::vector<StoredToken>& tokens, std::uint64_t index, bool verified_only);

// What verify gives the token check.
struct TimestampInput {
  // Per log entry: a statement's `captured` in seconds since the epoch, k_no_capture for a key event or a time that
  // does not parse (the record check reports that). Eight bytes an entry, so a log of millions fits.
  static constexpr std::int64_t k_no_capture = INT64_MIN;
  std::vector<std::int64_t> captured;
  // The verbatim `captured` of entry i, for the message of a problem (read again only then).
  std::function<std::string(std::uint64_t)> captured_text;
};
// Check every token at `head` (called once by verify::run): problems timestamp_invalid, timestamp_mismatch,
// captured_after_timestamp; the token files are added to `expected_files`; the report's token summary is filled.
void check_timestamps(const store::GitStore& store, const store::Oid& head, const TimestampInput& input,
                      const Options& options, Report& report, std::set<std::string>& expected_files);

} // namespace avow::verify
