#pragma once

#include <archive/record/layout.hpp>
#include <archive/store/git_store.hpp>
#include <archive/util/progress.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace avow::verify {

// One thing found wrong. `kind` is stable (docs/FORMAT.md lists them); the sentence is for people.
struct Problem {
  std::string kind;
  std::optional<std::uint64_t> entry;  // log index, when the problem is about one entry
  std::optional<std::string> commit;   // commit id (hex), when it is about one commit
  std::optional<std::string> path;     // path in the archive tree
  std::string message;
  std::vector<std::string> evidence;   // for a fork: the two signed checkpoints that cannot both be true
};

// What verify found. A bad archive is a report with problems, never an Error.
struct Report {
  std::vector<Problem> problems;
  std::uint64_t commits = 0;
  std::uint64_t entries = 0;
  std::uint64_t statements = 0;
  std::uint64_t texts = 0;
  std::uint64_t checkpoints = 0;
  std::string origin;
  std::string root_hex;   // root of the final checkpoint
  std::uint64_t size = 0; // tree size of the final checkpoint
  std::string checkpoint;  // the final signed checkpoint note, verbatim
  std::optional<store::Oid> commit; // the commit verified (main when the run started, or Options::tip)
  // Findings that are not problems and do not change ok(): the lock and temporary files an interrupted write left in
  // the git dir (kind "stale_lock" or "stale_temp", with `path` relative to .git), reported only while no writer
  // holds the archive lock; the next `avow archive` removes them.
  std::vector<Problem> notices;
  // RFC 3161 tokens under log/timestamps/: how many, the newest genTime among the good ones (RFC 3339, "" when
  // none), and whether they were checked against a TSA certificate (Options::tsa_cert_pem).
  std::uint64_t timestamps = 0;
  std::string newest_timestamp;
  bool timestamps_checked = false;
  bool ok() const { return problems.empty(); }
};

struct Options {
  bool quick = false;  // skip per-entry signatures and text re-hashing; still checks commits and the log
  unsigned jobs = 0;   // worker threads; 0 = all cores
  // A checkpoint this copy of the archive saw earlier (kept in .git/avow/seen-checkpoint): the log must still
  // contain it as a prefix, or the history was rewritten since, and that is reported as a fork.
  std::optional<std::string> seen_checkpoint;
  // PEM certificate(s) of the TSA CA: every time-stamp token must then verify under it (verify --tsa-cert).
  std::optional<std::string> tsa_cert_pem;
  // Verify the history ending at this commit instead of refs/heads/main (a clone checks what it fetched before it
  // becomes main).
  std::optional<store::Oid> tip;
  Progress progress; // entries checked of the tree size
  // Entries read and checked at a time (rounded up to a multiple of 256, the entries of a bundle). Memory grows with
  // it, not with the log; the report is the same whatever it is (tests check that with small windows).
  std::uint64_t window = 4096;
};

// Check everything SPEC section 7 lists (items 1 to 5) for the archive in `store`, reading each commit of main once
// and each entry once. Fails with an Error only when the archive cannot be read at all (not a git repository, no
// commit): anything that is merely wrong is a Problem in the report.
Expected<Report> run(const store::GitStore& store, const Options& options);

} // namespace avow::verify
