#include <archive/text/key_material.hpp>

#include <fmt/format.h>

namespace avow::text {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The label of an armour line "-----BEGIN LABEL-----" or "---- BEGIN LABEL ----" anywhere in `line`; empty if none.
std::string_view armour_label(std::string_view line) {
  const auto begin = line.find("BEGIN ");
  if (begin == std::string_view::npos || begin < 4) return {};
  const std::string_view before = line.substr(begin - 4, 4); // "-----BEGIN " or the SSH2 "---- BEGIN "
  if (before != "----" && before != "--- ") return {};
  std::string_view rest = line.substr(begin + 6);
  const auto end = rest.find("----");
  if (end == std::string_view::npos) return {};
  return trim(rest.substr(0, end));
}

} // namespace

std::optional<std::string> private_key_material(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    const std::string_view label = armour_label(line);
    if (label.ends_with("PRIVATE KEY") || label == "PGP PRIVATE KEY BLOCK")
      return fmt::format("a PEM '{}' block", label);
    if (trim(line).starts_with("PuTTY-User-Key-File-")) return std::string("a PuTTY private key file");
  }
  // base64("openssh-key-v1\0") begins every OpenSSH private key body, whatever its armour.
  if (text.find("b3BlbnNzaC1rZXktdjEA") != std::string_view::npos) return std::string("an OpenSSH private key");
  return std::nullopt;
}

} // namespace avow::text
