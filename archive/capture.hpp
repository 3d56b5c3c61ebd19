#pragma once

// What avow::Archive's web captures (archive/archive_capture.cpp) take and return: `avow capture URL`, `capture
// --batch` and `watch` (docs/FORMAT.md §21). Included at the end of archive/archive.hpp: these types use its
// AppendOptions and AppendResult.

#include <archive/archive.hpp>
#include <archive/text/diff.hpp>
#include <archive/util/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace avow {

// How pages are fetched (net::fetch): TLS certificates are always verified.
struct FetchSettings {
  std::chrono::seconds connect_timeout{15};
  std::chrono::seconds timeout{60};              // the whole fetch of one page, every hop
  std::size_t max_bytes = 20 * 1024 * 1024;      // a response body as received
  std::optional<std::filesystem::path> cacert;   // PEM CA certificates to trust instead of the system's
  std::vector<std::string> headers;              // extra request headers, "Name: value"
};

// One page to capture, and what the user says about it (each given field overrides what the page says).
struct CaptureRequest {
  std::string url;
  std::optional<std::string> selector;  // CSS selector of the main element; default: the scoring (avow-main-text/1)
  std::optional<std::string> publisher, title, published, tz, lang;
  std::optional<std::string> date_order;
  std::map<std::string, std::string> meta; // more meta; keys starting "capture." are refused (avow writes those)
  std::optional<std::string> text;      // --text-from: the text to record against the capture (any payload type)
  bool allow_status = false;            // archive a 4xx/5xx final response instead of failing
};

struct CaptureOptions {
  FetchSettings fetch;
  AppendOptions append;                 // key, passphrase, recapture, dry_run, lock_timeout... (jobs: signing)
  unsigned jobs = 4;                    // fetches at a time (capture_batch, watch)
  bool all_or_nothing = false;          // capture_batch: write nothing when a page failed
  // Called after each page is fetched and extracted (or failed), from the thread that did it, one call at a time:
  // pages done so far, the total, and the URL just done.
  std::function<void(std::size_t done, std::size_t total, const std::string& url)> progress;
};

// A metadata value used for the record, and where it came from: "flag", or what html::extract says ("json-ld",
// "opengraph", "title", "html-lang").
struct UsedValue {
  std::string value;
  std::string from;
};

// One page: what was fetched and extracted, or why it failed.
struct CapturedPage {
  std::string requested_uri;
  std::optional<Error> error;           // this page failed (nothing of it is recorded)
  std::string final_uri;                // after redirects: the record's source.uri
  long status = 0;                      // final HTTP status
  std::size_t hops = 0;                 // HTTP exchanges in the WARC
  std::string content_type;             // of the final response, as sent ("" when absent)
  std::string encoding;                 // the charset the payload was decoded with, or "binary" (--text-from)
  std::string charset_from;             // "BOM", "Content-Type", "meta", "default" ("" for --text-from)
  std::string extractor;                // "avow-main-text/1", "selector" or "text-from"
  std::map<std::string, UsedValue> metadata; // "title", "published", "publisher", "lang" when known
  std::string payload_sha256;           // of the final response's payload (transfer coding removed)
  std::string warc_sha256;              // of the WARC file, the record's original
  std::uint64_t warc_bytes = 0;
  std::string text;                     // the extracted text (before canonicalization)
  std::vector<std::string> warnings;    // page metadata not recorded (a lang that is no language tag...)
  std::optional<std::string> record_id; // when a record was written (or would be, in a dry run)
};

struct CaptureResult {
  std::vector<CapturedPage> pages;      // in the order requested
  AppendResult append;                  // records, commit ("" when nothing was written), notices
  std::size_t failed = 0;               // pages with an error
};

struct WatchOptions {
  std::vector<std::string> sources;     // exact source URIs to watch; empty: every http(s) source of the archive
  std::optional<std::string> publisher; // only the sources whose latest version has this publisher
  bool record_gone = false;             // record a capture of a 404/410 or redirect as a new version (meta capture.gone)
  CaptureOptions capture;               // fetch settings, append options (recapture: record unchanged pages again), jobs
};

struct WatchedSource {
  enum class Status { unchanged, changed, gone, moved, failed };
  std::string source;
  Status status = Status::failed;
  std::string previous_id;              // the latest version before this watch
  long http_status = 0;
  std::string moved_to;                 // the final URL of a moved source
  std::optional<Error> error;           // failed: why
  std::vector<text::DiffRun> diff;      // changed: from the previous version's text to the new one
  std::optional<std::string> record_id; // the new version recorded (changed, a recapture, or --record-gone)
};

struct WatchResult {
  std::vector<WatchedSource> sources;   // in source order
  AppendResult append;
  std::size_t unchanged = 0, changed = 0, gone = 0, moved = 0, failed = 0;
};

} // namespace avow
