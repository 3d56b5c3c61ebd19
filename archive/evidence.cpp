#include <archive/evidence.hpp>

#include <archive/json/jcs.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <archive/util/bytes.hpp>

#include <bit>
#include <set>

namespace avow {

Expected<std::string> format_evidence(const SplitViewEvidence& e) {
  json::Value proof = json::Value::array();
  for (const auto& h : e.proof) proof.push_back(base64_encode(h));
  const json::Value v = {{"format", std::string(k_split_view_format)},
                         {"origin", e.origin},
                         {"log_key", e.log_key},
                         {"a", {{"checkpoint", e.a.checkpoint}, {"source", e.a.source}}},
                         {"b", {{"checkpoint", e.b.checkpoint}, {"source", e.b.source}}},
                         {"proof", proof},
                         {"detected", e.detected},
                         {"detail", e.detail}};
  auto text = json::canonicalize(v);
  if (!text) return std::unexpected(text.error());
  return *text + "\n";
}

namespace {

Expected<std::string> string_member(const json::Value& v, const char* name, std::string_view where) {
  if (!v.contains(name) || !v[name].is_string())
    return fail(ErrorCode::invalid_input, "invalid split-view evidence: {}\"{}\" must be a string", where, name);
  return v[name].get<std::string>();
}

Expected<void> only_members(const json::Value& v, std::set<std::string> allowed, std::string_view where) {
  if (!v.is_object()) return fail(ErrorCode::invalid_input, "invalid split-view evidence: {} must be an object", where);
  for (const auto& [k, ignored] : v.items())
    if (!allowed.contains(k))
      return fail(ErrorCode::invalid_input, "invalid split-view evidence: unknown member \"{}\" in {}", k, where);
  return {};
}

Expected<SplitViewSide> side(const json::Value& v, const char* name) {
  if (!v.contains(name)) return fail(ErrorCode::invalid_input, "invalid split-view evidence: \"{}\" is missing", name);
  const std::string where = fmt::format("\"{}\"", name);
  if (auto ok = only_members(v[name], {"checkpoint", "source"}, where); !ok) return std::unexpected(ok.error());
  auto cp = string_member(v[name], "checkpoint", where + ".");
  if (!cp) return std::unexpected(cp.error());
  auto source = string_member(v[name], "source", where + ".");
  if (!source) return std::unexpected(source.error());
  return SplitViewSide{std::move(*cp), std::move(*source)};
}

} // namespace

Expected<SplitViewEvidence> parse_evidence(std::string_view text) {
  auto v = json::parse_strict(text);
  if (!v) return fail(ErrorCode::invalid_input, "invalid split-view evidence: {}", v.error().message);
  if (auto ok = only_members(*v, {"format", "origin", "log_key", "a", "b", "proof", "detected", "detail"}, "the file");
      !ok)
    return std::unexpected(ok.error());
  SplitViewEvidence e;
  auto format = string_member(*v, "format", "");
  if (!format) return std::unexpected(format.error());
  if (*format != k_split_view_format)
    return fail(ErrorCode::invalid_input, "invalid split-view evidence: format '{}' is not '{}'", *format,
                k_split_view_format);
  for (auto [name, out] : {std::pair{"origin", &e.origin}, std::pair{"log_key", &e.log_key},
                           std::pair{"detected", &e.detected}, std::pair{"detail", &e.detail}}) {
    auto s = string_member(*v, name, "");
    if (!s) return std::unexpected(s.error());
    *out = std::move(*s);
  }
  auto a = side(*v, "a");
  if (!a) return std::unexpected(a.error());
  auto b = side(*v, "b");
  if (!b) return std::unexpected(b.error());
  e.a = std::move(*a);
  e.b = std::move(*b);
  if (!v->contains("proof") || !(*v)["proof"].is_array())
    return fail(ErrorCode::invalid_input, "invalid split-view evidence: \"proof\" must be an array");
  for (const auto& h : (*v)["proof"]) {
    auto bytes = h.is_string() ? base64_decode(h.get<std::string>()) : Expected<Bytes>(std::unexpected(Error{}));
    if (!bytes || bytes->size() != log::Hash{}.size())
      return fail(ErrorCode::invalid_input, "invalid split-view evidence: \"proof\" holds something that is not a "
                                            "base64 SHA-256 hash");
    log::Hash hash{};
    std::copy(bytes->begin(), bytes->end(), hash.begin());
    e.proof.push_back(hash);
  }
  return e;
}

Expected<EvidenceVerdict> verify_evidence(const SplitViewEvidence& e, const std::optional<std::string>& pinned_vkey) {
  EvidenceVerdict out;
  out.key_pinned = pinned_vkey.has_value();
  out.log_key = pinned_vkey.value_or(e.log_key);
  auto key = log::parse_vkey(out.log_key);
  if (!key) {
    if (pinned_vkey) return fail(ErrorCode::invalid_input, "invalid log key '{}': {}", *pinned_vkey, key.error().message);
    out.reason = fmt::format("the file's log_key is not a usable vkey: {}", key.error().message);
    return out;
  }
  const auto not_proven = [&](std::string why) {
    out.reason = std::move(why);
    return out;
  };
  if (key->type != log::k_sig_ed25519) return not_proven("the log key is not an Ed25519 (type 0x01) key");
  if (key->name != e.origin) return not_proven(fmt::format("the log key is named '{}', not the origin '{}'", key->name, e.origin));
  const log::Verifier known[] = {*key};
  log::Checkpoint cps[2];
  const SplitViewSide* sides[] = {&e.a, &e.b};
  for (int k = 0; k < 2; ++k) {
    const char* which = k == 0 ? "a" : "b";
    auto cp = log::open_checkpoint(sides[k]->checkpoint, e.origin, known);
    if (!cp) return not_proven(fmt::format("checkpoint {} is not a checkpoint of '{}' signed by the log key: {}", which,
                                           e.origin, cp.error().message));
    cps[k] = *cp;
  }
  const log::Checkpoint& a = cps[0];
  const log::Checkpoint& b = cps[1];
  out.size_a = a.size;
  out.size_b = b.size;
  if (a.size > b.size) return not_proven(fmt::format("checkpoint a (size {}) is larger than b (size {})", a.size, b.size));
  if (a.size == 0) return not_proven("checkpoint a is of the empty tree, which every log extends");
  if (a.size == b.size) {
    if (!e.proof.empty()) return not_proven("the proof must be empty for checkpoints of the same size");
    if (crypto::equal_constant_time(a.root, b.root)) return not_proven("both checkpoints have the same root");
    out.proven = true;
    out.reason = fmt::format("the log key signed two different trees of size {}", a.size);
    return out;
  }
  std::vector<Bytes> proof;
  for (const auto& h : e.proof) proof.emplace_back(h.begin(), h.end());
  auto roots = log::consistency_roots(a.size, b.size, proof);
  if (!roots) return not_proven(roots.error().message);
  if (!crypto::equal_constant_time(roots->second, b.root))
    return not_proven(fmt::format("the proof does not lead to the root of checkpoint b (size {})", b.size));
  if (crypto::equal_constant_time(roots->first, a.root))
    return not_proven(fmt::format("the proof shows checkpoint b (size {}) extends checkpoint a (size {})", b.size, a.size));
  out.proven = true;
  out.reason = fmt::format("the log key signed a tree of size {} whose first {} entries are not the tree of size {} it "
                           "also signed", b.size, a.size, a.size);
  return out;
}

} // namespace avow
