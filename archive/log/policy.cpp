#include <archive/log/policy.hpp>

#include <archive/crypto/ed25519.hpp>

#include <algorithm>
#include <set>

namespace avow::log {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// tlog-policy "Character set": tab, newline, 0x20-0x7e and 0x80-0xff only.
bool is_allowed_byte(unsigned char c) { return c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7f); }

std::vector<std::string_view> split_items(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_blank(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// Parse a positive decimal without sign or leading zeros, at most `max`; false otherwise.
bool parse_count(std::string_view s, std::size_t max, std::size_t& out) {
  if (s.empty() || s.size() > 9 || s[0] == '0') return false;
  std::size_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + std::size_t(c - '0');
  }
  if (n > max) return false;
  out = n;
  return true;
}

std::string format_threshold(const PolicyGroup& g) {
  if (g.threshold == g.members.size()) return "all";
  if (g.threshold == 1) return "any";
  return fmt::format("{}", g.threshold);
}

} // namespace

Expected<Policy> parse_policy(std::string_view text) {
  Policy policy;
  bool have_quorum = false;
  std::set<std::string, std::less<>> group_names;
  std::map<crypto::PublicKey, std::string> log_keys;     // key -> log name
  std::map<crypto::PublicKey, std::string> witness_keys; // key -> witness policy name
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    auto bad = [number](std::string_view why) {
      return fail(ErrorCode::invalid_input, "policy line {}: {}", number, why);
    };
    for (char c : line)
      if (!is_allowed_byte(static_cast<unsigned char>(c)))
        return bad(fmt::format("control character 0x{:02x}", static_cast<unsigned char>(c)));
    const std::vector<std::string_view> items = split_items(line);
    if (items.empty() || items[0].starts_with('#')) continue;

    const std::string_view keyword = items[0];
    auto is_defined = [&](std::string_view name) {
      return policy.witnesses.contains(std::string(name)) || group_names.contains(name);
    };
    auto check_new_name = [&](std::string_view name) -> Expected<void> {
      if (name == k_quorum_none) return bad("the name 'none' is reserved");
      if (is_defined(name)) return bad(fmt::format("duplicate name '{}'", name));
      return {};
    };

    if (keyword == "log") {
      if (items.size() < 2 || items.size() > 3) return bad("expected 'log <vkey> [<url>]'");
      auto v = parse_vkey(items[1]);
      if (!v) return bad(fmt::format("invalid log key: {}", v.error().message));
      if (v->type != k_sig_ed25519) return bad("log key is not an ed25519 (type 0x01) key");
      if (const auto it = log_keys.find(v->key); it != log_keys.end())
        return bad(fmt::format("duplicate log key (already used by '{}')", it->second));
      log_keys.emplace(v->key, v->name);
      policy.logs.push_back(PolicyLog{std::move(*v), items.size() == 3 ? std::string(items[2]) : std::string()});
    } else if (keyword == "witness") {
      if (items.size() < 3 || items.size() > 4) return bad("expected 'witness <name> <vkey> [<url>]'");
      if (auto ok = check_new_name(items[1]); !ok) return std::unexpected(ok.error());
      auto v = parse_vkey(items[2]);
      if (!v) return bad(fmt::format("invalid witness key: {}", v.error().message));
      if (v->type != k_sig_cosignature_v1) return bad("witness key is not a cosignature/v1 (type 0x04) key");
      if (const auto it = witness_keys.find(v->key); it != witness_keys.end())
        return bad(fmt::format("duplicate witness key (already used by '{}')", it->second));
      witness_keys.emplace(v->key, std::string(items[1]));
      policy.witnesses.emplace(std::string(items[1]),
                               PolicyWitness{std::move(*v), items.size() == 4 ? std::string(items[3]) : std::string()});
    } else if (keyword == "group") {
      if (items.size() < 4) return bad("expected 'group <name> <k|any|all> <name>...'");
      if (auto ok = check_new_name(items[1]); !ok) return std::unexpected(ok.error());
      PolicyGroup group;
      group.name = std::string(items[1]);
      std::set<std::string_view> seen;
      for (std::size_t i = 3; i < items.size(); ++i) {
        if (items[i] == k_quorum_none) return bad("'none' cannot be a group member");
        if (!is_defined(items[i])) return bad(fmt::format("undefined group member '{}'", items[i]));
        if (!seen.insert(items[i]).second) return bad(fmt::format("group member '{}' is listed twice", items[i]));
        group.members.emplace_back(items[i]);
      }
      const std::size_t n = group.members.size();
      if (items[2] == "any") {
        group.threshold = 1;
      } else if (items[2] == "all") {
        group.threshold = n;
      } else if (!parse_count(items[2], n, group.threshold)) {
        return bad(fmt::format("group threshold '{}' is not 'any', 'all' or a number from 1 to {}", items[2], n));
      }
      group_names.insert(group.name);
      policy.groups.push_back(std::move(group));
    } else if (keyword == "quorum") {
      if (items.size() != 2) return bad("expected 'quorum <name>'");
      if (have_quorum) return bad("second quorum line");
      if (items[1] != k_quorum_none && !is_defined(items[1]))
        return bad(fmt::format("undefined quorum '{}'", items[1]));
      policy.quorum = std::string(items[1]);
      have_quorum = true;
    } else {
      return bad(fmt::format("unknown keyword '{}'", keyword));
    }
  }
  if (!have_quorum) return fail(ErrorCode::invalid_input, "policy has no quorum line");
  return policy;
}

std::string format_policy(const Policy& policy) {
  std::string out;
  auto with_url = [](std::string line, const std::string& url) {
    if (!url.empty()) line += " " + url;
    return line + "\n";
  };
  for (const PolicyLog& l : policy.logs)
    out += with_url("log " + vkey(l.verifier.name, l.verifier.key, l.verifier.type), l.url);
  for (const auto& [name, w] : policy.witnesses)
    out += with_url(fmt::format("witness {} {}", name, vkey(w.verifier.name, w.verifier.key, w.verifier.type)), w.url);
  for (const PolicyGroup& g : policy.groups) {
    out += fmt::format("group {} {}", g.name, format_threshold(g));
    for (const std::string& m : g.members) out += " " + m;
    out += "\n";
  }
  out += fmt::format("quorum {}\n", policy.quorum);
  return out;
}

Expected<Checkpoint> verify_checkpoint_with_policy(std::string_view note, const Policy& policy,
                                                   std::vector<std::string>* cosigned) {
  auto parsed = parse_note(note);
  if (!parsed) return std::unexpected(parsed.error());
  auto checkpoint = parse_checkpoint_text(parsed->text);
  if (!checkpoint) return std::unexpected(checkpoint.error());
  const std::string& origin = checkpoint->origin;

  // The log: a policy log whose key name is the origin must have signed the text.
  if (std::none_of(policy.logs.begin(), policy.logs.end(),
                   [&](const PolicyLog& l) { return l.verifier.name == origin; }))
    return fail(ErrorCode::invalid_input, "checkpoint origin '{}' is not a log of the policy", origin);
  bool log_signed = false;
  std::set<std::string> witnessed; // policy names
  for (const NoteSignature& s : parsed->signatures) {
    for (const PolicyLog& l : policy.logs) {
      if (l.verifier.name != s.name || l.verifier.id != s.id || l.verifier.name != origin) continue;
      if (l.verifier.type != k_sig_ed25519 || !crypto::verify(l.verifier.key, as_bytes(parsed->text), s.signature))
        return fail(ErrorCode::invalid_input, "signature by log '{}' does not verify", s.name);
      log_signed = true;
    }
    for (const auto& [name, w] : policy.witnesses) {
      if (w.verifier.name != s.name || w.verifier.id != s.id) continue;
      if (!verify_cosignature(parsed->text, s, w.verifier))
        return fail(ErrorCode::invalid_input, "cosignature by witness '{}' does not verify", name);
      witnessed.insert(name);
    }
  }
  if (!log_signed) return fail(ErrorCode::invalid_input, "checkpoint has no signature by log '{}'", origin);

  // The quorum: groups only name earlier groups and witnesses, so one pass in order settles them.
  if (policy.quorum != k_quorum_none) {
    std::map<std::string, bool, std::less<>> satisfied;
    for (const auto& [name, w] : policy.witnesses) satisfied[name] = witnessed.contains(name);
    std::size_t quorum_has = 0;
    const PolicyGroup* quorum_group = nullptr;
    for (const PolicyGroup& g : policy.groups) {
      std::size_t has = 0;
      for (const std::string& m : g.members)
        if (const auto it = satisfied.find(m); it != satisfied.end() && it->second) ++has;
      satisfied[g.name] = g.threshold >= 1 && has >= g.threshold;
      if (g.name == policy.quorum) {
        quorum_group = &g;
        quorum_has = has;
      }
    }
    const auto it = satisfied.find(policy.quorum);
    if (it == satisfied.end() || !it->second) {
      // Name who cosigned and who is missing: the witnesses of the policy (by policy name) without a valid cosignature.
      const auto names = [](const auto& list) {
        std::string out;
        for (const auto& n : list) out += (out.empty() ? "" : ", ") + n;
        return out.empty() ? std::string("none") : out;
      };
      // The witnesses the quorum names, directly or through its groups.
      std::set<std::string> under;
      std::vector<std::string> todo{policy.quorum};
      while (!todo.empty()) {
        const std::string n = todo.back();
        todo.pop_back();
        if (policy.witnesses.contains(n)) under.insert(n);
        for (const PolicyGroup& g : policy.groups)
          if (g.name == n) todo.insert(todo.end(), g.members.begin(), g.members.end());
      }
      std::vector<std::string> cosigners, missing;
      for (const std::string& n : under) (witnessed.contains(n) ? cosigners : missing).push_back(n);
      const std::string who = fmt::format("cosigned by {}; missing {}", names(cosigners), names(missing));
      if (quorum_group != nullptr)
        return fail(ErrorCode::invalid_input, "quorum not reached: {} of {} needed in group '{}'; {}",
                    quorum_has, quorum_group->threshold, policy.quorum, who);
      if (policy.witnesses.contains(policy.quorum))
        return fail(ErrorCode::invalid_input, "quorum not reached: witness '{}' did not cosign", policy.quorum);
      return fail(ErrorCode::invalid_input, "quorum not reached: '{}' is not defined in the policy", policy.quorum);
    }
  }
  if (cosigned != nullptr) *cosigned = {witnessed.begin(), witnessed.end()};
  return checkpoint;
}

} // namespace avow::log
