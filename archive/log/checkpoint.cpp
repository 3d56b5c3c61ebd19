#include <archive/log/checkpoint.hpp>

#include <stdexcept>

namespace avow::log {

std::string checkpoint_text(const Checkpoint& checkpoint) {
  auto check = [](std::string_view line) {
    if (line.empty() || line.find('\n') != std::string_view::npos)
      throw std::invalid_argument("checkpoint line is empty or contains a newline");
  };
  check(checkpoint.origin);
  std::string out = fmt::format("{}\n{}\n{}\n", checkpoint.origin, checkpoint.size, base64_encode(checkpoint.root));
  for (const std::string& e : checkpoint.extensions) {
    check(e);
    out += e;
    out += '\n';
  }
  return out;
}

Expected<Checkpoint> parse_checkpoint_text(std::string_view text) {
  auto bad = [](std::string_view why) { return fail(ErrorCode::invalid_input, "malformed checkpoint: {}", why); };
  if (text.empty() || text.back() != '\n') return bad("text does not end in a newline");
  if (!is_valid_note_text(text)) return bad("not UTF-8 text without control characters");
  std::vector<std::string_view> lines;
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t eol = rest.find('\n');
    lines.push_back(rest.substr(0, eol));
    rest.remove_prefix(eol + 1);
  }
  if (lines.size() < 3) return bad("fewer than three lines");
  for (std::string_view line : lines)
    if (line.empty()) return bad("empty line");

  Checkpoint out;
  out.origin = std::string(lines[0]);

  const std::string_view size = lines[1];
  if (size.size() > 1 && size[0] == '0') return bad("tree size has a leading zero");
  std::uint64_t n = 0;
  for (char c : size) {
    if (c < '0' || c > '9') return bad("tree size is not decimal");
    const auto digit = std::uint64_t(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return bad("tree size does not fit in 64 bits");
    n = n * 10 + digit;
  }
  out.size = n;

  auto root = base64_decode(lines[2]);
  if (!root || root->size() != out.root.size()) return bad("root hash is not base64 of 32 bytes");
  std::copy(root->begin(), root->end(), out.root.begin());

  for (std::size_t i = 3; i < lines.size(); ++i) out.extensions.emplace_back(lines[i]);
  return out;
}

Expected<Checkpoint> open_checkpoint(std::string_view note, std::string_view origin, std::span<const Verifier> known,
                                     std::vector<std::string>* verified) {
  auto parsed = parse_note(note);
  if (!parsed) return std::unexpected(parsed.error());
  auto names = verify_note(*parsed, known);
  if (!names) return std::unexpected(names.error());
  auto checkpoint = parse_checkpoint_text(parsed->text);
  if (!checkpoint) return std::unexpected(checkpoint.error());
  if (checkpoint->origin != origin)
    return fail(ErrorCode::invalid_input, "checkpoint origin '{}' is not the expected '{}'", checkpoint->origin, origin);
  if (verified != nullptr) *verified = std::move(*names);
  return checkpoint;
}

} // namespace avow::log
