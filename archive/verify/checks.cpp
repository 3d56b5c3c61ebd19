#include <archive/verify/checks.hpp>

#include <archive/crypto/sha256.hpp>
#include <archive/json/jcs.hpp>
#include <archive/record/key_state.hpp>
#include <archive/record/layout.hpp>
#include <archive/text/canonical.hpp>
#include <archive/text/encoding.hpp>
#include <archive/warc/warc.hpp>

#include <algorithm>
#include <charconv>

namespace avow::verify {

SplitCommit split_signature(std::string_view raw) {
  SplitCommit out;
  const auto header_end = raw.find("\n\n");
  const std::string_view header = raw.substr(0, header_end == std::string_view::npos ? raw.size() : header_end + 1);
  const std::string_view rest = header_end == std::string_view::npos ? std::string_view{} : raw.substr(header_end + 1);
  std::size_t pos = 0;
  bool in_sig = false;
  std::string sig;
  while (pos < header.size()) {
    auto eol = header.find('\n', pos);
    if (eol == std::string_view::npos) eol = header.size() - 1;
    const std::string_view line = header.substr(pos, eol - pos + 1);
    pos = eol + 1;
    if (line.starts_with("gpgsig ")) {
      in_sig = true;
      sig.append(line.substr(7));
      continue;
    }
    if (in_sig && line.starts_with(" ")) {
      sig.append(line.substr(1));
      continue;
    }
    in_sig = false;
    out.payload.append(line);
  }
  out.payload.append(rest);
  if (!sig.empty()) out.signature = std::move(sig);
  return out;
}

std::optional<std::uint64_t> tree_size_trailer(std::string_view message) {
  const auto trailer = message.find("\nAvow-Tree-Size: ");
  if (trailer == std::string_view::npos) return std::nullopt;
  std::uint64_t v = 0;
  const char* b = message.data() + trailer + 17;
  const char* e = message.data() + message.size();
  if (auto [p, ec] = std::from_chars(b, e, v); ec == std::errc{} && (p == e || *p == '\n')) return v;
  return std::nullopt;
}

ChangeRule change_rule(const store::Change& ch) {
  if (ch.kind == store::ChangeKind::added) return ChangeRule::allowed;
  if (ch.kind == store::ChangeKind::modified &&
      (ch.path == record::k_checkpoint_path || ch.path == record::k_key_state_path))
    return ChangeRule::allowed;
  if (ch.kind == store::ChangeKind::modified && ch.path == record::k_allowed_signers_path)
    return ChangeRule::allowed_signers_change;
  const bool partial_tile = ch.path.starts_with(record::k_tile_prefix) && ch.path.find(".p/") != std::string::npos;
  if (ch.kind == store::ChangeKind::deleted && partial_tile) return ChangeRule::allowed;
  return ChangeRule::forbidden;
}

std::string forbidden_change_message(std::string_view id, const store::Change& ch) {
  const char* what = ch.kind == store::ChangeKind::deleted ? "deletes" : "changes";
  return fmt::format("commit {} {} '{}'; archive commits may only add files", id.substr(0, 12), what, ch.path);
}

ParsedEntry parse_entry(std::uint64_t i, std::string_view data, std::optional<Problem>& problem) {
  ParsedEntry p;
  auto env = record::parse(data);
  if (!env) {
    problem = Problem{"entry_invalid", i, std::nullopt, std::nullopt,
                      fmt::format("entry {}: {}", i, env.error().message), {}};
    return p;
  }
  p.envelope = std::move(*env);
  auto value = json::parse_canonical(p.envelope.payload);
  if (!value) {
    problem = Problem{"record_invalid", i, std::nullopt, std::nullopt,
                      fmt::format("entry {}: payload: {}", i, value.error().message), {}};
    return p;
  }
  auto kind = record::record_kind(*value);
  if (!kind) {
    problem = Problem{"record_invalid", i, std::nullopt, std::nullopt,
                      fmt::format("entry {}: {}", i, kind.error().message), {}};
    return p;
  }
  p.kind = *kind;
  if (p.kind == "statement") {
    auto st = record::from_json(*value);
    if (!st) {
      problem = Problem{"record_invalid", i, std::nullopt, std::nullopt,
                      fmt::format("entry {}: {}", i, st.error().message), {}};
      return p;
    }
    p.statement = std::move(*st);
  } else {
    auto ev = record::key_event_from_json(*value);
    if (!ev) {
      problem = Problem{"record_invalid", i, std::nullopt, std::nullopt,
                      fmt::format("entry {}: {}", i, ev.error().message), {}};
      return p;
    }
    p.key_event = std::move(*ev);
  }
  p.ok = true;
  return p;
}

EntryKey entry_key(record::KeyState& state, const ParsedEntry& p, std::uint64_t i,
                   const std::function<void(Problem&&)>& problem) {
  EntryKey out;
  const auto untrusted = [&](std::string kind, std::string message) {
    problem(Problem{std::move(kind), i, std::nullopt, std::nullopt, std::move(message), {}});
  };
  if (p.envelope.signatures.size() != 1) {
    untrusted("signature_invalid",
              fmt::format("entry {} has {} signatures; avow entries carry exactly one", i, p.envelope.signatures.size()));
    return out;
  }
  const auto& keyid = p.envelope.signatures[0].keyid;
  if (p.key_event) {
    const record::KeyEntry* log_key = state.log_key();
    if (keyid != log_key->id || p.key_event->archivist != log_key->id) {
      untrusted("signature_untrusted",
                fmt::format("entry {} ({}) is a key event signed by key {}, not by the log key in force ({}); it is "
                            "ignored", i, p.kind, keyid.substr(0, 16), log_key->id.substr(0, 16)));
      return out;
    }
    out.key = log_key->public_key;
    if (auto ok = record::apply(state, *p.key_event, keyid, i); !ok) untrusted("key_event_invalid", ok.error().message);
    else out.applied = true;
    return out;
  }
  const auto& st = *p.statement;
  if (st.archivist != keyid)
    untrusted("signature_untrusted", fmt::format("entry {}: record names archivist {} but is signed by {}", i,
                                                 st.archivist.substr(0, 16), keyid.substr(0, 16)));
  const record::KeyEntry* k = state.find(keyid);
  if (!k || k->role != record::k_role_archivist)
    untrusted("signature_untrusted",
              fmt::format("entry {} is signed by key {}, which is {} at this point of the log", i, keyid.substr(0, 16),
                          k ? fmt::format("a {} key, not an archivist key", k->role) : std::string("not added")));
  else if (!k->in_force_at(i))
    untrusted("signature_untrusted", fmt::format("entry {} is signed by key {}, which was revoked by entry {} ({})", i,
                                                 keyid.substr(0, 16), *k->revoked_at, k->reason.value_or("")));
  else out.key = k->public_key;
  return out;
}

TextClaim text_claim(std::uint64_t entry, const record::Statement& st) {
  TextClaim claim{entry, st.text.sha256, st.text.bytes, st.original, std::nullopt};
  if (st.original && st.original->type) {
    if (const auto it = st.meta.find("capture.payload_sha256"); it != st.meta.end()) claim.payload_sha256 = it->second;
  }
  return claim;
}

std::string claim_key(const TextClaim& c) {
  std::string key = fmt::format("{}/{}", c.text_sha, c.text_bytes);
  if (c.original) {
    key += fmt::format("/{}/{}/{}", c.original->sha256, c.original->bytes, c.original->encoding);
    if (c.original->type) key += "/" + *c.original->type + "/" + c.payload_sha256.value_or("-");
  }
  return key;
}

namespace {

// check_text_claim with the blobs fetched by `read(path)` (nullopt: absent or unreadable) and, in a quick check,
// their sizes by `size(path)` (nullopt likewise): the same checks in the same order for both ways of reading.
template <class Read, class Size>
std::optional<Problem> check_claim(const TextClaim& claim, bool quick, Read&& read, Size&& size) {
  const auto bad = [&](std::string kind, const std::string& path, std::string message) {
    return Problem{std::move(kind), claim.entry, std::nullopt, path, std::move(message), {}};
  };
  const std::string tpath = record::text_path(claim.text_sha);
  std::optional<std::string> text;
  if (quick) {
    const std::optional<std::uint64_t> bytes = size(tpath);
    if (!bytes) return bad("text_missing", tpath, fmt::format("text of entry {} is missing", claim.entry));
    if (*bytes != claim.text_bytes)
      return bad("text_mismatch", tpath, fmt::format("text '{}' has the wrong length", tpath));
  } else {
    text = read(tpath);
    if (!text) return bad("text_missing", tpath, fmt::format("text of entry {} is missing", claim.entry));
    const auto digest = crypto::sha256(*text);
    auto want = from_hex(claim.text_sha);
    if (!want || !crypto::equal_constant_time(digest, *want) || text->size() != claim.text_bytes) {
      return bad("text_mismatch", tpath, fmt::format("text '{}' does not hash to its name (altered)", tpath));
    }
    if (!text::is_canonical(*text))
      return bad("text_not_canonical", tpath, fmt::format("text '{}' is not in canonical form", tpath));
  }
  if (!claim.original) return std::nullopt;
  const std::string opath = record::original_path(claim.original->sha256);
  if (quick) {
    if (!size(opath)) return bad("original_missing", opath, fmt::format("original of entry {} is missing", claim.entry));
    return std::nullopt;
  }
  auto original = read(opath);
  if (!original) return bad("original_missing", opath, fmt::format("original of entry {} is missing", claim.entry));
  auto want = from_hex(claim.original->sha256);
  if (!want || !crypto::equal_constant_time(crypto::sha256(*original), *want) ||
      original->size() != claim.original->bytes) {
    return bad("original_mismatch", opath, fmt::format("original '{}' does not hash to its name (altered)", opath));
  }
  if (claim.original->type) {
    // A web capture: the text was extracted from the final response's payload (no decoder here can repeat the
    // extraction), so check what the WARC itself proves and that its payload is the one the record names.
    auto view = warc::read_capture(*original);
    if (!view)
      return bad("original_mismatch", opath,
                 fmt::format("original '{}' is not a valid WARC: {}", opath, view.error().message));
    if (claim.payload_sha256 && *claim.payload_sha256 != view->payload_sha256)
      return bad("original_mismatch", opath,
                 fmt::format("original '{}': the final response payload is sha256 {}, the record says {}", opath,
                             view->payload_sha256, *claim.payload_sha256));
    return std::nullopt;
  }
  std::string decoded = std::move(*original);
  if (claim.original->encoding != "UTF-8") {
    auto utf8 = text::to_utf8(decoded, claim.original->encoding);
    if (!utf8) {
      return bad("original_mismatch", opath, fmt::format("original '{}': {}", opath, utf8.error().message));
    }
    decoded = std::move(*utf8);
  }
  auto canon = text::canonicalize(decoded);
  if (!canon || canon->text != *text)
    return bad("original_mismatch", opath, fmt::format("original '{}' does not canonicalize to its text", opath));
  return std::nullopt;
}

} // namespace

std::optional<Problem> check_text_claim(const store::GitStore& store, const store::Oid& head, const TextClaim& claim,
                                        bool quick) {
  const auto read = [&](const std::string& path) -> std::optional<std::string> {
    auto blob = store.read(head, path);
    if (!blob) return std::nullopt;
    return std::move(*blob);
  };
  const auto size = [&](const std::string& path) -> std::optional<std::uint64_t> {
    auto blob = read(path);
    if (!blob) return std::nullopt;
    return blob->size();
  };
  return check_claim(claim, quick, read, size);
}

std::optional<Problem> check_text_claim(const store::GitStore& store, const FindBlob& find, const TextClaim& claim,
                                        bool quick) {
  const auto read = [&](const std::string& path) -> std::optional<std::string> {
    const auto e = find(path);
    if (!e) return std::nullopt;
    auto blob = store.read_object(e->id);
    if (!blob) return std::nullopt;
    return std::move(*blob);
  };
  const auto size = [&](const std::string& path) -> std::optional<std::uint64_t> {
    const auto e = find(path);
    if (!e) return std::nullopt;
    auto bytes = store.blob_size(e->id);
    if (!bytes) return std::nullopt;
    return *bytes;
  };
  return check_claim(claim, quick, read, size);
}

} // namespace avow::verify
