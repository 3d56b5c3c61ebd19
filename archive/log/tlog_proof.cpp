#include <archive/log/tlog_proof.hpp>

#include <algorithm>

namespace avow::log {

namespace {

// Split off the next line of `rest` (without its '\n'); false if there is no '\n'.
bool next_line(std::string_view& rest, std::string_view& line) {
  const std::size_t eol = rest.find('\n');
  if (eol == std::string_view::npos) return false;
  line = rest.substr(0, eol);
  rest.remove_prefix(eol + 1);
  return true;
}

bool parse_decimal(std::string_view s, std::uint64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const auto digit = std::uint64_t(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return false;
    n = n * 10 + digit;
  }
  out = n;
  return true;
}

} // namespace

std::string format_tlog_proof(const TlogProof& proof) {
  std::string out(k_tlog_proof_header);
  out += '\n';
  if (proof.extra) out += fmt::format("extra {}\n", base64_encode(*proof.extra));
  out += fmt::format("index {}\n", proof.index);
  for (const Hash& h : proof.path) {
    out += base64_encode(h);
    out += '\n';
  }
  out += '\n';
  out += proof.checkpoint;
  return out;
}

Expected<TlogProof> parse_tlog_proof(std::string_view text) {
  auto bad = [](std::string_view why) { return fail(ErrorCode::invalid_input, "malformed tlog-proof: {}", why); };
  std::string_view rest = text;
  std::string_view line;
  if (!next_line(rest, line) || line != k_tlog_proof_header) return bad("missing the c2sp.org/tlog-proof@v1 header");

  TlogProof out;
  if (!next_line(rest, line)) return bad("missing the index line");
  if (line.starts_with("extra ")) {
    auto extra = base64_decode(line.substr(6));
    if (!extra) return bad("extra data is not base64");
    out.extra = std::move(*extra);
    if (!next_line(rest, line)) return bad("missing the index line");
  }
  if (!line.starts_with("index ")) return bad("missing the index line");
  if (!parse_decimal(line.substr(6), out.index)) return bad("index is not a decimal number without leading zeros");

  while (true) {
    if (!next_line(rest, line)) return bad("missing the empty line before the checkpoint");
    if (line.empty()) break;
    if (out.path.size() == k_max_tlog_proof_hashes)
      return bad(fmt::format("more than {} proof hashes", k_max_tlog_proof_hashes));
    auto hash = base64_decode(line);
    if (!hash || hash->size() != Hash{}.size()) return bad("proof hash is not base64 of 32 bytes");
    Hash& h = out.path.emplace_back();
    std::copy(hash->begin(), hash->end(), h.begin());
  }

  auto note = parse_note(rest);
  if (!note) return bad(fmt::format("checkpoint: {}", note.error().message));
  auto checkpoint = parse_checkpoint_text(note->text);
  if (!checkpoint) return bad(fmt::format("checkpoint: {}", checkpoint.error().message));
  out.checkpoint = std::string(rest);
  return out;
}

Expected<Checkpoint> verify_tlog_proof(const TlogProof& proof, const Hash& leaf, const Policy& policy,
                                       std::vector<std::string>* cosigned) {
  auto checkpoint = verify_checkpoint_with_policy(proof.checkpoint, policy, cosigned);
  if (!checkpoint) return std::unexpected(checkpoint.error());
  std::vector<Bytes> path;
  path.reserve(proof.path.size());
  for (const Hash& h : proof.path) path.emplace_back(h.begin(), h.end());
  if (auto ok = verify_inclusion(proof.index, checkpoint->size, leaf, path, checkpoint->root); !ok)
    return std::unexpected(ok.error());
  return checkpoint;
}

} // namespace avow::log
