#pragma once

// C2SP tlog-policy (https://c2sp.org/tlog-policy, C2SP/C2SP tlog-policy.md; the grammar of Sigsum's
// policy files, sigsum/sigsum-go doc/policy.md): which logs and witnesses a verifier trusts, and the
// quorum of witness cosignatures a checkpoint needs.
//
//   log <vkey> [<url>]                     a log; its key name is its origin (type 0x01 key)
//   witness <name> <vkey> [<url>]          a witness; cosignatures are tlog-cosignature type 0x04
//   group <name> <k|any|all> <name>...     k of the members (witnesses or earlier groups), 1 <= k <= n
//   quorum <name|none>                     exactly once; `none` needs no cosignature
//
// Items are separated by spaces and tabs; blank lines and lines whose first non-blank character is
// '#' are ignored. Witnesses and groups share one namespace in which `none` is reserved; a group or
// the quorum can only name things defined on earlier lines (so there are no cycles).

#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <archive/util/error.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace avow::log {

struct PolicyLog {
  Verifier verifier; // type 0x01; verifier.name is the log's origin
  std::string url;   // empty when absent
};

struct PolicyWitness {
  Verifier verifier; // type 0x04 (cosignature/v1)
  std::string url;   // empty when absent
};

struct PolicyGroup {
  std::string name;
  std::size_t threshold = 1;        // k: how many members must be satisfied, 1 <= k <= members.size()
  std::vector<std::string> members; // names of witnesses or of groups defined before this one
};

struct Policy {
  std::vector<PolicyLog> logs;
  std::map<std::string, PolicyWitness> witnesses; // by policy name
  std::vector<PolicyGroup> groups;                // in definition order
  std::string quorum;                             // "none", a witness or a group name
};

constexpr std::string_view k_quorum_none = "none";

// Parse a tlog-policy file. The last line may lack its '\n'. invalid_input "policy line N: why" for
// a byte outside tab, '\n', 0x20-0x7e and 0x80-0xff, an unknown keyword, a wrong number of items, a
// vkey that does not parse or has the wrong type (logs 0x01, witnesses 0x04), a duplicate log or
// witness key (same public key, whatever its name), a duplicate or reserved name, a group member
// that is undefined, `none` or listed twice, a threshold that is not decimal, `any` or `all` or is
// outside 1..n, a quorum naming something undefined, a second quorum line; invalid_input "policy has
// no quorum line" if there is none.
Expected<Policy> parse_policy(std::string_view text);

// Return `policy` as a policy file that parse_policy reads back to an equal policy: logs, witnesses
// (by name), groups in order, the quorum; thresholds are written `all` when k = n, `any` when k = 1,
// else as k.
std::string format_policy(const Policy& policy);

// Verify the signed checkpoint `note` against `policy` and return it. The checkpoint must carry a
// verifying signature by a policy log whose key name is the checkpoint's origin, and the witnesses
// whose cosignatures verify must satisfy the quorum (cosignature timestamps are not otherwise
// used). Signature lines by keys the policy does not know are ignored, but a known key whose
// signature does not verify rejects the note. invalid_input on a malformed note or checkpoint,
// "checkpoint origin 'O' is not a log of the policy", "checkpoint has no signature by log 'O'",
// "signature by log 'O' does not verify", "cosignature by witness 'W' does not verify" or "quorum
// not reached: ..." naming what is missing. When `cosigned` is not null it receives the policy names
// of the witnesses whose cosignatures verified, sorted.
Expected<Checkpoint> verify_checkpoint_with_policy(std::string_view note, const Policy& policy,
                                                   std::vector<std::string>* cosigned = nullptr);

} // namespace avow::log
