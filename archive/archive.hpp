#pragma once

// The one header tool/ needs: avow::Archive and what its operations take and return.

#include <archive/audit.hpp>
#include <archive/crypto/keyfile.hpp>
#include <archive/crypto/timestamp.hpp>
#include <archive/index/index.hpp>
#include <archive/record/key_state.hpp>
#include <archive/replica.hpp>
#include <archive/store/git_store.hpp>
#include <archive/text/diff.hpp>
#include <archive/util/error.hpp>
#include <archive/util/time.hpp>
#include <archive/verify/verify.hpp>
#include <archive/witness/witness.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace avow {

// Largest statement accepted, in bytes as captured (before canonicalization). Larger ones are refused with
// invalid_input: a statement is a press release or a speech, not a data dump, and each one is held in memory.
inline constexpr std::uint64_t k_max_statement_bytes = 16 * 1024 * 1024;

// Return the default folder for private keys: $XDG_CONFIG_HOME/avow/keys, or ~/.config/avow/keys.
std::filesystem::path default_key_dir();

// Generate a key pair, write the private half to `dir/<first 16 hex of key id>.pem` (or to `out` when given), 0600.
struct GeneratedKey {
  std::string key_id;
  std::filesystem::path private_key_file;
  std::string public_key_pem;
};
Expected<GeneratedKey> generate_key(const std::filesystem::path& dir, const std::optional<std::filesystem::path>& out,
                                    const crypto::SecretBytes& passphrase);

// --- Witnesses (archive/archive_cosign.cpp; docs/FORMAT.md section 19) ---

// Create a witness folder (witness::init): its key, vkey, public key and the config of the logs it trusts.
Expected<witness::InitResult> witness_init(const witness::InitOptions& options);
struct WitnessServeOptions {
  std::filesystem::path dir;
  std::string listen;                                          // HOST:PORT; port 0 picks a free one
  std::function<void(const std::string& host, int port)> on_listening;
  std::function<void(const std::string& line)> log;            // one line per request
  bool crash_after_persist = false;                            // test hook: _exit(137) after persisting, before replying
};
// Load the witness folder (failed_precondition when it or a state file is unusable) and serve add-checkpoint on
// `listen` until SIGTERM or SIGINT (witness::serve).
Expected<void> witness_serve(const WitnessServeOptions& options);

struct InitOptions {
  std::filesystem::path dir;
  std::string origin;
  std::optional<std::filesystem::path> archivist_key; // existing private key file; generated when absent
  std::optional<std::filesystem::path> log_key;       // existing private key file; generated when absent
  std::filesystem::path key_dir;                      // where generated private keys go
  crypto::PassphraseSource passphrase;
};
struct InitResult {
  std::string origin;
  std::string log_key_id;
  std::string archivist_key_id;
  std::filesystem::path log_key_file;
  std::filesystem::path archivist_key_file;
  bool generated_log_key = false;
  bool generated_archivist_key = false;
  std::string commit;
};

// One statement to archive, as the user gave it.
struct StatementInput {
  std::string label;                         // for messages: "press.txt", "-", "manifest.jsonl:12"
  std::string bytes;                         // the bytes as captured
  std::optional<std::string> encoding;       // legacy encoding name; UTF-8 when absent
  std::string source;                        // URI/IRI
  std::optional<std::string> publisher;
  std::optional<std::string> title;
  std::optional<std::string> lang;
  std::optional<std::string> published;      // as written
  std::optional<std::string> tz;             // IANA zone for `published`
  std::optional<std::string> date_order;     // "dmy", "mdy" or "ymd" for numeric `published`; default from lang/locale
  std::optional<std::string> supersedes;     // record id
  std::map<std::string, std::string> meta;
  // A web capture (Archive::capture): `bytes` is then the text extracted from the page (UTF-8, `encoding` absent), and
  // the original stored is `captured_original.bytes` (a WARC file), recorded as original {sha256, bytes,
  // encoding = captured_original.encoding, type = captured_original.type}.
  struct CapturedOriginal {
    std::string bytes;
    std::string type;     // "application/warc"
    std::string encoding; // the charset the page was decoded with ("UTF-8", "windows-1256"...), or "binary"
  };
  std::optional<CapturedOriginal> captured_original;
};

// Where Archive::append takes its statements from, one at a time and in order: a list in memory, or a manifest read a
// line at a time (ManifestReader, archive/manifest.hpp), so that a large batch is never all in memory at once.
class InputSource {
 public:
  virtual ~InputSource() = default;
  // The next input, or nullopt after the last; invalid_input (naming the input) for one that cannot be read.
  virtual Expected<std::optional<StatementInput>> next() = 0;
  // The number of inputs in all, for progress (and to prepare a large write: Archive::append).
  virtual std::uint64_t count() const = 0;
};

struct AppendOptions {
  std::optional<std::filesystem::path> key;  // archivist private key; default from the archive's local config
  crypto::PassphraseSource passphrase;
  bool strict_dates = false;                 // a `published` no parser understands is an error, not a warning
  bool recapture = false;                    // record the same text from the same source again, as a new capture
  unsigned jobs = 0;                         // 0 = all cores
  std::chrono::milliseconds lock_timeout{10000};
  // Do everything but write: keys, checks, revision decisions against the index; then return the records as they
  // would be signed (AppendedRecord::payload, text...) with the index they would get. No lock, no commit, nothing
  // written to the archive (the derived index may be brought up to date, as any read does).
  bool dry_run = false;
  // Archive a text decoded with `encoding` even when it looks like the wrong decoding (a warning instead of
  // invalid_input).
  bool force = false;
  Progress progress; // statements prepared/written of the batch
};

// What a dry run shows of a record besides its id: what would be signed.
struct DryRunRecord {
  std::string payload;     // the JCS record (DSSE payload), as it would be signed
  std::string text_sha256; // of the canonical text
  std::string text;        // the canonical text
};
struct AppendedRecord {
  std::string id;
  std::uint64_t index = 0;
  std::string label;
  std::vector<std::string> warnings; // about the input: bidi controls, an unparsed date...
  std::vector<std::string> notes;    // what the archive did: "supersedes <id>, the previous version from this source"
  std::uint64_t text_bytes = 0;      // of the canonical text
  std::string encoding;              // of the input as captured: "UTF-8" or the --encoding it was decoded from
  // Filled by a dry run only (held apart: a batch of 100,000 keeps a record each, 80 bytes less a record without it).
  std::shared_ptr<const DryRunRecord> dry_run;
};
struct AppendResult {
  // Empty when every input was already archived. A deque: a batch of 100,000 statements grows it a window at a time,
  // and a vector's doubling held up to twice its 25 MB, and both copies while it moved.
  std::deque<AppendedRecord> records;
  std::uint64_t tree_size = 0;
  std::string commit;                  // empty when nothing was written
  std::vector<std::string> notices;    // inputs recorded as nothing new; index rebuilds
};

// A record found by id or prefix, with what the log says about it.
struct RecordView {
  std::string id;
  std::uint64_t index = 0;
  std::string kind;
  std::string payload;       // JCS record
  std::string envelope;      // JCS DSSE envelope (the leaf data)
  bool signature_valid = false;
  std::string signer;        // key id of the signature checked
  std::optional<std::string> text; // canonical text, when asked for
};

// Web captures (archive/capture.hpp, included at the end of this header: its types use the ones above).
struct CaptureRequest;
struct CaptureOptions;
struct CaptureResult;
struct WatchOptions;
struct WatchResult;

class Archive {
public:
  Archive(Archive&&) noexcept;
  Archive& operator=(Archive&&) noexcept;
  ~Archive();

  // Create an archive in `options.dir` (which must not hold one): keys, avow.json and the first commit, whose log
  // holds one entry: the key.add of the archivist key, signed by the log key. already_exists if `dir` is a git
  // repository or a non-empty folder; key errors for unusable key files.
  static Expected<InitResult> init(const InitOptions& options);
  // Open the archive at `dir`; failed_precondition "'DIR' is not an avow archive" otherwise.
  static Expected<Archive> open(const std::filesystem::path& dir);
  // Report to `progress` whenever a call on this handle brings the derived index up to date (the first query of a
  // fresh clone rebuilds it; a pull of many entries leaves it far behind): entries indexed of those to index, a chunk
  // of up to 4,096 at a time. reindex() reports to its own argument instead.
  void set_index_progress(Progress progress);

  // Canonicalize, record, sign and append `inputs` in one commit. One bad input fails the whole call and leaves the
  // archive as it was. failed_precondition when locked past the timeout or when another writer moved the branch.
  Expected<AppendResult> append(const std::vector<StatementInput>& inputs, const AppendOptions& options);
  // The same, with the inputs read from `inputs` as the write goes, a window of detail::k_write_chunk at a time (the
  // first one before the writer lock is taken): memory stays bounded whatever the batch's size. An input found bad
  // after earlier windows were packed to disk abandons the write, and the packs it wrote are removed.
  Expected<AppendResult> append(InputSource& inputs, const AppendOptions& options);

  // Check everything (SPEC section 7); see verify::run.
  Expected<verify::Report> verify(const verify::Options& options) const;
  // Verify the archive at `dir` without opening it as a writer would: a damaged avow.json or checkpoint is a
  // problem in the report, not an error. failed_precondition when `dir` is not an archive at all.
  static Expected<verify::Report> verify_dir(const std::filesystem::path& dir, const verify::Options& options);

  // Check the latest checkpoint of the archive at `dir` against the C2SP tlog-policy text `policy` (`verify
  // --policy`): signed by the policy's log key for the archive's origin, or by a key it hands over to through the
  // archive's log-key hand-overs, and cosigned to the policy's witness quorum by the cosignature lines of
  // log/checkpoint. A checkpoint the policy does not accept, or an archive whose checkpoint or key state cannot be read,
  // is `problem` (kind "policy_unsatisfied", with the reason); invalid_input for an unusable policy.
  struct PolicyCheck {
    std::optional<verify::Problem> problem;
    std::uint64_t tree_size = 0;
    std::string log_key;                  // key id of the log key that signed the checkpoint
    std::vector<std::string> witnesses;   // policy names of the witnesses whose cosignatures verified
    std::size_t handovers = 0;            // log-key hand-overs followed from the policy's key
  };
  static Expected<PolicyCheck> check_policy(const std::filesystem::path& dir, std::string_view policy);

  // Find the records whose id starts with `prefix` (at least 8 hex digits); not_found when none, invalid_input
  // for a malformed prefix. More than one match is returned as such (the caller lists the candidates).
  Expected<std::vector<RecordView>> find(std::string_view prefix, bool with_text) const;

  // The original a statement names (a record `find` returned), read from the tree of main: nullopt when it has none;
  // invalid_input when the record is not a statement; failed_precondition when the stored bytes do not hash to its
  // original.sha256 (archive/archive_original.cpp).
  struct Original {
    record::OriginalRef ref;
    std::string bytes;
  };
  Expected<std::optional<Original>> original(const RecordView& record) const;

  // --- Keys (archive/archive_keys.cpp; docs/FORMAT.md "Key state") ---

  // Every key the archive's key state names, in the order they were added: the genesis log key first.
  struct KeyInfo {
    std::string key_id;
    std::string role;                        // "log", "archivist" or "witness"
    std::string status;                      // "active", "revoked" or (a replaced log key) "rotated"
    std::optional<std::string> name;
    std::optional<std::uint64_t> added_at;   // log index of its key.add; absent for the genesis log key
    std::optional<std::uint64_t> revoked_at; // log index of its key.revoke, or of the rotation that replaced it
    std::optional<std::string> reason;
  };
  // The keys of the key state at the current checkpoint (log/keys, or recomputed for an older archive).
  Expected<std::vector<KeyInfo>> keys() const;

  struct KeyChange {
    std::string key_id;        // the key added, revoked or rotated in
    std::uint64_t index = 0;   // log index of the key event
    std::uint64_t tree_size = 0;
    std::string commit;
  };
  // Append a key.add of the Ed25519 public key in `public_key_file` (SPKI PEM, or an OpenSSH "ssh-ed25519 ..." line)
  // with `role` "archivist" or "witness", signed by the log key in force (avow.logkey), as a commit of its own that
  // also adds keys/<id>.pem. key error (exit 5) for another key type, naming it; invalid_input for a bad role or
  // name; already_exists for a key already added, failed_precondition for one revoked before (never added again).
  struct KeyAddOptions {
    std::filesystem::path public_key_file;
    std::string role;
    std::optional<std::string> name;
    crypto::PassphraseSource passphrase;
    std::chrono::milliseconds lock_timeout{10000};
  };
  Expected<KeyChange> add_key(const KeyAddOptions& options);
  // Append a key.revoke of the archivist or witness key `key` (a unique prefix of its id, 8+ hex digits) with
  // `reason` (one line), signed by the log key in force. not_found for an unknown key; failed_precondition for one
  // already revoked, the last archivist in force, or a log key (rotate it instead); the archive is then unchanged.
  struct KeyRevokeOptions {
    std::string key;
    std::string reason;
    crypto::PassphraseSource passphrase;
    std::chrono::milliseconds lock_timeout{10000};
  };
  Expected<KeyChange> revoke_key(const KeyRevokeOptions& options);
  // Replace the log key: a key.add with role log for the new key, signed by the old one, in a commit of its own signed
  // by the old key, whose checkpoint (the hand-over checkpoint) is signed by both; keys/allowed_signers gets
  // valid-before/valid-after at that commit's time; the local avow.logkey then names the new key file. The new
  // private key is `new_key` (a private key file), or generated into `key_dir` when absent.
  struct RotateOptions {
    std::optional<std::filesystem::path> new_key;
    std::filesystem::path key_dir;
    crypto::PassphraseSource passphrase;
    std::chrono::milliseconds lock_timeout{10000};
  };
  struct Rotation {
    KeyChange change;
    std::string old_key_id;
    std::filesystem::path new_key_file;
    bool generated = false;
  };
  Expected<Rotation> rotate_log_key(const RotateOptions& options);

  // The key state at the current checkpoint, for proof bundles: the state, its JCS bytes (log/keys: their SHA-256 is
  // the checkpoint's avow-keys line) and the checkpoint note. `jcs` is empty for an older archive whose checkpoint
  // carries no avow-keys line (the state is then recomputed from the log).
  struct KeyStateView {
    record::KeyState state;
    std::string jcs;
    std::uint64_t size = 0;
    std::string checkpoint;
  };
  Expected<KeyStateView> key_state() const;
  // One hand-over per log-key rotation, oldest first: the rotation's commit, its checkpoint note (signed by the new
  // log key, then the old one) and the key state JCS it commits to.
  struct Handover {
    std::uint64_t rotation_index = 0; // log index of the rotation's key.add
    std::string old_key_id;
    std::string new_key_id;
    std::string commit;
    std::uint64_t size = 0;           // the hand-over checkpoint's tree size (rotation_index + 1)
    std::string checkpoint;
    std::string key_state;            // log/keys at that commit
  };
  Expected<std::vector<Handover>> handovers() const;

  // An offline proof bundle (avow.proof/1, see docs/FORMAT.md) for the statement `prefix` names, at the current
  // checkpoint: the envelope, the canonical text, a C2SP tlog-proof, the key.add entry of its archivist key with its
  // own tlog-proof, and the public key files; when the archive keeps a key state (log/keys), that state and every
  // log-key hand-over with a consistency proof to the checkpoint. Proofs are computed from the tiles (O(log n) tile reads).
  struct Proof {
    std::string bundle;
    std::string id;
    std::uint64_t index = 0;
    std::uint64_t tree_size = 0;
    std::size_t tiles_read = 0;
  };
  Expected<Proof> proof(std::string_view prefix) const;
  // The current signed checkpoint, verbatim.
  Expected<std::string> checkpoint() const;
  // A C2SP tlog-policy that trusts this archive's log key in force (after a rotation, the new key; no witnesses yet).
  Expected<std::string> policy() const;
  // The same policy with `witness` lines for the witness keys named (by their key name, in the key state and not
  // revoked; a URL is optional) and a group "witnesses" of them with threshold `quorum` ("any", "all" or a number;
  // empty: a majority, floor(n/2)+1) as the quorum. not_found naming an unknown witness; invalid_input for a bad
  // quorum or a witness named twice.
  struct PolicyWitness {
    std::string name;
    std::string url;  // empty when absent
  };
  Expected<std::string> policy(const std::vector<PolicyWitness>& witnesses, std::string_view quorum) const;

  // Ask witnesses to cosign the current checkpoint (C2SP tlog-witness add-checkpoint) and add the cosignatures that
  // verify under the witness keys of the key state to log/checkpoint, in a commit of its own signed by the log key in
  // force (docs/FORMAT.md section 19). Each witness is asked with old size 0 first; a 409 gives its size, and the
  // request is repeated once with a consistency proof from that size (computed from the tiles). A witness that
  // cannot be reached, answers an error or returns no valid cosignature has failed; one that holds a checkpoint this
  // log does not extend (a 409 or 422 after the retry, or a size larger than the log's) is a conflict. Errors:
  // failed_precondition when the archive changed meanwhile or has no checkpoint; key errors for the log key.
  struct CosignOptions {
    std::vector<std::string> urls;              // witness submission prefixes; POST <url>/add-checkpoint
    std::chrono::seconds timeout{30};           // per request
    crypto::PassphraseSource passphrase;        // for the log key
    std::chrono::milliseconds lock_timeout{10000};
  };
  struct CosignOutcome {
    std::string url;
    std::string witness;                        // the key name that cosigned (or that the reply named), else empty
    bool cosigned = false;
    bool unreachable = false;                   // no HTTP answer at all
    bool conflict = false;                      // the witness holds a checkpoint this log does not extend
    std::string detail;                         // why it failed, with the witness's answer
  };
  struct CosignResult {
    std::vector<CosignOutcome> witnesses;       // in the order of the URLs
    std::uint64_t tree_size = 0;
    std::string commit;                         // empty when no cosignature was added
    std::vector<std::string> cosigned_by;       // names of the witnesses whose cosignatures were added, sorted
  };
  Expected<CosignResult> cosign(const CosignOptions& options);

  // Entries matching `filter`, from the derived index (brought up to date first; notices say when it was rebuilt,
  // and, when nothing matches, why). filter.archivist may be a unique prefix (8+ hex digits, either case) of a key id
  // the log names; invalid_input when it is malformed or ambiguous.
  Expected<std::vector<index::Row>> log(const index::Filter& filter, std::vector<std::string>& notices) const;
  // Like log(), streamed: `row` is called for each matching entry in order, as it is read (memory stays flat however
  // many match); returns their number.
  Expected<std::uint64_t> log_each(const index::Filter& filter, std::vector<std::string>& notices,
                                   const std::function<void(const index::Row&)>& row) const;
  // Rebuild the derived index from the archive; returns the number of entries indexed.
  Expected<std::uint64_t> reindex(std::vector<std::string>& notices, const Progress& progress = {}) const;
  // Merge the archive's packs outside writes (`avow repack`), so that reads stay fast as it grows; see
  // store::GitStore::repack. Nothing recorded changes: not a commit, not an object id.
  Expected<store::RepackReport> repack(const store::RepackOptions& options);

  // Is this text in the archive? Byte-identical matches (the bytes are a stored canonical text or original) and
  // canonically identical ones; when there is none and `source` is given, the closest version of that source with a
  // word-level diff from it to the given text; without `source`, the closest of up to 20 statements that share the
  // most telling words with it (full-text shortlist). An empty, filtered answer (log, audit, history, check --source)
  // adds a notice that says why: "no entries match ..." naming the filter, or the near source meant. With `encoding`,
  // the bytes are decoded from it first (as append does); a decoding that looks wrong is a notice, not an error.
  struct CheckMatch {
    index::Row row;
    bool byte_identical = false;
  };
  struct CheckResult {
    std::vector<CheckMatch> matches;
    std::optional<index::Row> closest;
    std::vector<text::DiffRun> diff;
    double similarity = 0;
  };
  Expected<CheckResult> check(std::string_view bytes, const std::optional<std::string>& source,
                              std::vector<std::string>& notices,
                              const std::optional<std::string>& encoding = std::nullopt) const;

  // Every captured version of `source`, oldest first, each with the word-level diff from the one before.
  struct Version {
    index::Row row;
    std::vector<text::DiffRun> diff; // empty for the first version and for a recapture
    bool same_as_previous = false;   // the same text as the version before (a recapture): no diff
  };
  Expected<std::vector<Version>> history(std::string_view source, std::vector<std::string>& notices) const;

  // RFC 3161 trusted time over checkpoints (archive/archive_time.cpp; docs/FORMAT.md "Time-stamp tokens"). A token
  // covers a checkpoint body: its imprint is SHA-256 of the checkpoint note's text; it is stored as the DER
  // TimeStampResp at log/timestamps/<size>.tsr by a commit of its own.
  struct TimestampRequest {
    std::string der;              // DER TimeStampReq: SHA-256 imprint, random nonce, certReq
    std::uint64_t tree_size = 0;  // of the checkpoint it asks about
    std::string body_sha256;      // hex imprint
  };
  struct Timestamp {
    std::uint64_t tree_size = 0;
    std::string path;             // log/timestamps/<size>.tsr
    crypto::TimestampInfo info;
    bool verified = false;        // checked against the TSA certificate given
    std::string commit;           // the commit that stored it (attach/fetch only)
  };
  struct TimestampOptions {
    std::optional<std::string> tsa_cert_pem; // CA certificate(s): refuse a token that does not verify under it
    crypto::PassphraseSource passphrase;     // for the log key
    std::chrono::milliseconds lock_timeout{10000};
  };
  // A time-stamp request for the current checkpoint.
  Expected<TimestampRequest> timestamp_request() const;
  // Check the DER TimeStampResp `tsr` and store it: invalid_input when it is not granted or covers no checkpoint of
  // this history (naming the current size and body hash); key when it does not verify under the given TSA
  // certificate; failed_precondition when a token for that size is already stored, or the local clock is behind.
  Expected<Timestamp> timestamp_attach(std::string_view tsr, const TimestampOptions& options);
  // timestamp_request, POST it to `url` (application/timestamp-query), timestamp_attach the reply; io naming the
  // reason when the TSA cannot be reached or answers with an HTTP error.
  Expected<Timestamp> timestamp_fetch(std::string_view url, const TimestampOptions& options);
  // The stored tokens that match their checkpoint, smallest size first (with `tsa_cert_pem`: those that verify).
  Expected<std::vector<Timestamp>> timestamps(const std::optional<std::string>& tsa_cert_pem) const;

  // The audit report over the entries `filter` selects, with what verify --quick finds: in the whole archive when
  // `whole_check`, else only in what was added since the last commit this build of avow verified on this machine
  // without problems (.git/avow/verified, written by verify and audit), when main extends it.
  // `progress`: entries checked of the tree size, while the whole archive is checked.
  Expected<AuditReport> audit(const index::Filter& filter, std::vector<std::string>& notices,
                              bool whole_check = false, const Progress& progress = {}) const;

  // The static web archive (archive/archive_site.cpp; docs/FORMAT.md §20): write to `outdir` a site for any static
  // host: index.html, one page per statement (r/<record id>.html) with its versions and word diffs, a page per source
  // and per publisher, a client-side search, the checkpoint, tiles and entry bundles byte for byte under their
  // tlog-tiles paths, avow.json, the key state (keys.json), the texts, the same log files as data/<path>.js for
  // pages opened from file://, and the assets of the in-browser Verify. The same archive always gives byte-identical
  // files. The site is built in a temporary sibling folder and renamed into place (exchanged with a previous site),
  // so a failed run leaves `outdir` as it was. failed_precondition when `outdir` is a file, or a non-empty folder
  // that is not a site avow wrote (no .avow-site marker); io when writing fails.
  struct SiteOptions {
    std::filesystem::path outdir;
    std::size_t latest = 50; // records listed on the home page, newest first
  };
  struct SiteResult {
    std::filesystem::path outdir;
    std::uint64_t tree_size = 0;
    std::size_t records = 0;     // statement pages
    std::size_t sources = 0;
    std::size_t publishers = 0;
    std::size_t files = 0;
    std::uint64_t bytes = 0;
    bool replaced = false;       // a previous site was replaced
  };
  Expected<SiteResult> site(const SiteOptions& options) const;

  // --- Web captures (archive/archive_capture.cpp; docs/FORMAT.md §21) ---

  // Fetch `request.url` (every redirect hop kept), keep the exchange as a WARC/1.1 file, extract the page's main text
  // and metadata, and append it as one statement whose original is that WARC (source.uri: the final URL). Errors:
  // io ("GET <url>: ...") when it cannot be fetched, times out, loops, is too big, fails TLS, or answers 4xx/5xx
  // without allow_status; invalid_input for a URL that is not http(s), a body that is not HTML without `text`, an
  // unknown or wrong charset, a page with no text; then append's errors. Nothing is written on any error.
  Expected<CaptureResult> capture(const CaptureRequest& request, const CaptureOptions& options);
  // Capture every request, `options.jobs` fetches at a time; the pages that succeed are appended in one commit
  // (none with options.all_or_nothing when one failed). Per-page failures are in the result, not errors; the
  // error is append's (then nothing was written).
  Expected<CaptureResult> capture_batch(const std::vector<CaptureRequest>& requests, const CaptureOptions& options);
  // Fetch again the http(s) sources of the archive (the latest version of each, filtered by `options`), extract each
  // as its last capture was, and append a new version of every one whose text changed (one commit); see WatchResult.
  Expected<WatchResult> watch(const WatchOptions& options);

  // --- Replication (archive/archive_remote.cpp; docs/FORMAT.md §18) ---

  // Add the git remote `name` with `url` (remote.<name>.url in .git/config; a path, file://, git://, ssh:// or
  // https:// URL). invalid_input for a bad name; already_exists for a remote already there.
  Expected<void> remote_add(std::string_view name, std::string_view url);
  // The configured remotes, by name.
  Expected<std::vector<RemoteEntry>> remotes() const;
  // Fetch the main of remote `name` into refs/avow/quarantine/<name>, check it is this archive (avow.json's origin and
  // genesis log key, else failed_precondition and the quarantine ref removed), verify only what it adds to our main
  // (verify::verify_extension), then move main to it by compare-and-swap under the writer lock and remember its
  // checkpoint. A remote whose log does not extend ours is a split_view result with evidence written (FORMAT.md
  // §18.3); new entries that fail verification are a refused result; either way main does not move. io when the
  // remote cannot be reached (nothing in .git changes); failed_precondition for an unknown remote.
  Expected<PullResult> pull(std::string_view name, const PullOptions& options);
  // Fetch remote `name` first, then push our main to it as a fast-forward of what was fetched (a lease: refused if
  // the remote moved meanwhile). failed_precondition "remote is ahead: run avow pull" when the remote's main extends
  // ours; split_view (evidence written) when the two logs fork; io when it cannot be reached. An empty remote (no
  // main) accepts the push.
  Expected<PushResult> push(std::string_view name, const PullOptions& options);
  // Fetch `options.url` into a new archive folder `options.dir` (the layout init creates), run the full verify on what
  // was fetched, and only then set main and add the remote `origin`. On a failed verify the folder is removed and the
  // result is not ok; failed_precondition (folder removed) when the remote is not an avow archive; already_exists when
  // `dir` is not empty; io when the remote cannot be reached. The clone has no private keys: it verifies, pulls,
  // pushes and proves, but cannot archive.
  static Expected<CloneResult> clone(const CloneOptions& options);

  const std::filesystem::path& dir() const;
  const std::string& origin() const;

  // The state behind an Archive (archive/archive_impl.hpp, private to the façade's sources).
  struct Impl;

private:
  explicit Archive(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace avow

#include <archive/capture.hpp>
