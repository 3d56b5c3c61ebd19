#pragma once

// Checks of one commit, one entry or one text, shared by the full verifier (verify.cpp) and the incremental one
// (incremental.cpp), so that both apply exactly the same rules.

#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/key_state.hpp>
#include <archive/record/record.hpp>
#include <archive/store/git_store.hpp>
#include <archive/verify/verify.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace avow::verify {

// A raw commit object split into the payload git signs (the object without its gpgsig header) and the armored
// signature; nullopt signature when the commit is unsigned.
struct SplitCommit {
  std::string payload;
  std::optional<std::string> signature;
};
SplitCommit split_signature(std::string_view raw);

// The tree size the commit message `message` names in its Avow-Tree-Size trailer; nullopt when it names none.
std::optional<std::uint64_t> tree_size_trailer(std::string_view message);

// What the append-only rule says of one change between a commit and its parent.
enum class ChangeRule {
  allowed,                // a new file, a replaced checkpoint or key state, a superseded partial tile removed
  allowed_signers_change, // keys/allowed_signers modified: allowed in a log-key rotation's commit only
  forbidden,              // anything else changes or deletes a file
};
ChangeRule change_rule(const store::Change& change);
// The problem message for a forbidden change of commit `id`.
std::string forbidden_change_message(std::string_view id, const store::Change& change);

// One log entry parsed: the DSSE envelope, its canonical payload, its kind and its schema.
struct ParsedEntry {
  bool ok = false;
  std::string kind;
  record::Envelope envelope;
  std::optional<record::Statement> statement;
  std::optional<record::KeyEvent> key_event;
};
// Parse entry `i` (`data`, the leaf bytes); on failure `problem` holds the problem (entry_invalid or record_invalid)
// and the result is not ok.
ParsedEntry parse_entry(std::uint64_t i, std::string_view data, std::optional<Problem>& problem);

// Which key entry `i` (`p`, parsed) must be signed with, given `state`, the key state before it: a key event the log
// key in force, a statement an archivist key added before it and not revoked (record::apply, the writer's rule). A
// trusted key event is applied to `state`. Each problem (signature_invalid, signature_untrusted, key_event_invalid)
// goes to `problem`; `key` is then nullopt when the signature cannot be checked at all.
struct EntryKey {
  std::optional<crypto::PublicKey> key;
  bool applied = false; // a key event changed `state`
};
EntryKey entry_key(record::KeyState& state, const ParsedEntry& p, std::uint64_t i,
                   const std::function<void(Problem&&)>& problem);

// One claim a statement makes about its text (and original).
struct TextClaim {
  std::uint64_t entry = 0;
  std::string text_sha;
  std::uint64_t text_bytes = 0;
  std::optional<record::OriginalRef> original;
  std::optional<std::string> payload_sha256; // a web capture's meta "capture.payload_sha256", when the record has it
};
// Return the claim statement `st` (entry `entry`) makes about its text and original.
TextClaim text_claim(std::uint64_t entry, const record::Statement& st);
// Return a key that is equal for two claims exactly when checking one checks the other.
std::string claim_key(const TextClaim& claim);
// Check `claim` against the tree of `head`: the text is present, hashes to its name, has the claimed length and is
// canonical; the original, if any, is present, hashes to its name and decodes and canonicalizes to the text, or, for
// a WARC original (type application/warc), parses as WARC with every record's digests right and, when the claim has
// a payload_sha256, its final response's payload has that SHA-256. With `quick`, only presence and the text's
// length. Returns the first problem found, if any.
std::optional<Problem> check_text_claim(const store::GitStore& store, const store::Oid& head, const TextClaim& claim,
                                        bool quick);
// A blob found in a listing of head's tree: its object id.
struct ListedBlob {
  store::Oid id;
};
// Find the blob at a path of head's tree (nullopt when there is none, or the path names a gitlink).
using FindBlob = std::function<std::optional<ListedBlob>(const std::string& path)>;
// The same check with the blobs found by `find` (verify's compact listing of a large tree): contents are read by
// object id, and with `quick` a text's length comes from its object header (GitStore::blob_size) instead of reading
// the blob. The result is what the overload above returns.
std::optional<Problem> check_text_claim(const store::GitStore& store, const FindBlob& find, const TextClaim& claim,
                                        bool quick);

} // namespace avow::verify
