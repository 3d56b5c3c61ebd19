#pragma once

// The audit report of an archive (or of the entries a filter selects): what `avow audit` prints as text, JSON or a
// self-contained HTML page.

#include <archive/verify/verify.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace avow {

struct AuditReport {
  std::string origin;
  std::string generated;            // RFC 3339 UTC, when the report was made
  std::string filter;               // the filter in words, e.g. "publisher = Reuters, published since 1987-03-01"; empty for all
  std::uint64_t tree_size = 0;
  std::string root_hex;
  std::string checkpoint;           // the signed checkpoint note, verbatim
  std::uint64_t entries = 0;        // entries selected by the filter
  std::uint64_t statements = 0;
  std::uint64_t texts = 0;          // distinct canonical texts among them
  using Counts = std::vector<std::pair<std::string, std::uint64_t>>; // label, count; largest first
  Counts by_publisher;
  Counts by_archivist;              // key ids (shortened to 16 hex)
  Counts by_lang;                   // "" when none was given
  Counts by_month;                  // "YYYY-MM" of the publication time when known, else "unknown"; oldest first
  struct KeyEvent {
    std::uint64_t index = 0;
    std::string kind;               // key.add or key.revoke
    std::string key_id;
    std::string role;
    std::string captured;
  };
  std::vector<KeyEvent> key_events;
  struct Source {
    std::string source;
    std::uint64_t versions = 0;
    std::string first_captured, last_captured;
  };
  std::vector<Source> most_revised; // sources with more than one version, most versions first (top 20)
  // RFC 3161 tokens that match their checkpoint, smallest size first: each says the entries before its checkpoint's
  // size existed by its genTime (not checked against a TSA certificate: audit takes none).
  struct Timestamp {
    std::string path;               // log/timestamps/<size>.tsr
    std::uint64_t tree_size = 0;    // covers entries [0, tree_size)
    std::string gen_time;           // RFC 3339 UTC
    std::string tsa;                // the TSA name in the token, "" when absent
  };
  std::vector<Timestamp> timestamps;
  bool checked = false;             // verify --quick ran
  // What the check covered: the whole archive (verify --quick) when checked_since is empty; else the entries from
  // checked_from on, added since commit checked_since (hex), which this build of avow found without problems on this
  // machine earlier (.git/avow/verified). Those new entries get verify's full checks (signatures and texts too), and
  // the commits since checked_since the append-only rule; entries before checked_from are not read again.
  std::string checked_since;
  std::uint64_t checked_from = 0;
  std::uint64_t checked_commits = 0; // commits after checked_since that were checked (0: main is that commit)
  std::vector<verify::Problem> problems; // what it found
};

} // namespace avow
