#include <archive/text/metadata.hpp>

#include <archive/text/canonical.hpp>

#include <cstdint>
#include <string>

namespace avow::text {

namespace {

// Decode the code point at `i` of well-formed UTF-8 `s`, returning it and setting `len`.
char32_t decode_at(std::string_view s, std::size_t i, std::size_t& len) {
  const auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
  if (c < 0x80) {
    len = 1;
    return c;
  }
  if (c < 0xE0) {
    len = 2;
    return (static_cast<char32_t>(c & 0x1F) << 6) | cont(1);
  }
  if (c < 0xF0) {
    len = 3;
    return (static_cast<char32_t>(c & 0x0F) << 12) | (cont(1) << 6) | cont(2);
  }
  len = 4;
  return (static_cast<char32_t>(c & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
}

bool is_line_break(char32_t cp) { return cp == 0x0A || cp == 0x0D || cp == 0x85 || cp == 0x2028 || cp == 0x2029; }
bool is_control(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }
bool is_bidi_format(char32_t cp) {
  return cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// Quote a hostile value for a one-line message: controls and backslash escaped, cut after about 100 bytes.
std::string printable(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  const bool utf8 = !find_invalid_utf8(s).has_value();
  while (i < s.size() && out.size() < 100) {
    std::size_t len = 1;
    const char32_t cp = utf8 ? decode_at(s, i, len) : static_cast<unsigned char>(s[i]);
    if (!utf8 && cp >= 0x80)
      out += fmt::format("\\x{:02X}", static_cast<std::uint32_t>(cp));
    else if (is_control(cp) || cp == '\\' || is_line_break(cp) || is_bidi_format(cp))
      out += cp < 0x100 ? fmt::format("\\x{:02X}", static_cast<std::uint32_t>(cp))
                        : fmt::format("\\u{:04X}", static_cast<std::uint32_t>(cp));
    else
      out.append(s.substr(i, len));
    i += len;
  }
  if (i < s.size()) out += "...";
  return out;
}

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

} // namespace

Expected<void> check_single_line(std::string_view field, std::string_view value) {
  if (auto bad = find_invalid_utf8(value)) return fail(ErrorCode::invalid_input, "{} is not valid UTF-8 at byte {}", field, *bad);
  for (std::size_t i = 0; i < value.size();) {
    std::size_t len = 1;
    const char32_t cp = decode_at(value, i, len);
    if (is_line_break(cp)) return fail(ErrorCode::invalid_input, "{} contains a line break at byte {}", field, i);
    if (cp != '\t' && is_control(cp))
      return fail(ErrorCode::invalid_input, "{} contains a control character (U+{:04X}) at byte {}", field,
                  static_cast<std::uint32_t>(cp), i);
    i += len;
  }
  return {};
}

std::optional<std::string> iri_bidi_warning(std::string_view uri) {
  if (find_invalid_utf8(uri)) return std::nullopt;
  std::size_t count = 0;
  std::size_t first = 0;
  char32_t first_cp = 0;
  for (std::size_t i = 0; i < uri.size();) {
    std::size_t len = 1;
    const char32_t cp = decode_at(uri, i, len);
    if (is_bidi_format(cp) && count++ == 0) {
      first = i;
      first_cp = cp;
    }
    i += len;
  }
  if (count == 0) return std::nullopt;
  return fmt::format("source contains {} bidirectional formatting character{} (U+{:04X} at byte {}); kept as given, "
                     "but it can make two sources look alike",
                     count, count == 1 ? "" : "s", static_cast<std::uint32_t>(first_cp), first);
}

Expected<void> check_iri(std::string_view uri) {
  if (uri.empty()) return fail(ErrorCode::invalid_input, "source is empty (e.g. https://...)");
  if (auto bad = find_invalid_utf8(uri))
    return fail(ErrorCode::invalid_input, "source '{}' is not valid UTF-8 at byte {}", printable(uri), *bad);
  for (std::size_t i = 0; i < uri.size();) {
    std::size_t len = 1;
    const char32_t cp = decode_at(uri, i, len);
    if (cp == ' ' || cp == 0xA0 || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F ||
        cp == 0x1680 || cp == 0xFEFF)
      return fail(ErrorCode::invalid_input, "source '{}' contains a space at byte {} (write it as %20)", printable(uri), i);
    if (is_control(cp) || is_line_break(cp))
      return fail(ErrorCode::invalid_input, "source '{}' contains a control character (U+{:04X}) at byte {}",
                  printable(uri), static_cast<std::uint32_t>(cp), i);
    i += len;
  }
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
  std::size_t k = 0;
  if (is_alpha(uri[0])) {
    k = 1;
    while (k < uri.size() && (is_alpha(uri[k]) || is_digit(uri[k]) || uri[k] == '+' || uri[k] == '-' || uri[k] == '.')) ++k;
  }
  if (k == 0 || k >= uri.size() || uri[k] != ':')
    return fail(ErrorCode::invalid_input, "source '{}' has no URI scheme (e.g. https://...)", printable(uri));
  if (k + 1 == uri.size()) return fail(ErrorCode::invalid_input, "source '{}' has nothing after its scheme", printable(uri));
  return {};
}

Expected<void> check_lang(std::string_view lang) {
  auto bad = [&] {
    return fail(ErrorCode::invalid_input, "language tag '{}' is not a BCP 47 tag (e.g. en, ar, pt-BR)", printable(lang));
  };
  std::size_t i = 0;
  while (i < lang.size() && is_alpha(lang[i])) ++i;
  if (i == 0 || i > 8) return bad();
  while (i < lang.size()) {
    if (lang[i] != '-') return bad();
    const std::size_t start = ++i;
    while (i < lang.size() && (is_alpha(lang[i]) || is_digit(lang[i]))) ++i;
    if (i == start || i - start > 8) return bad();
  }
  return {};
}

} // namespace avow::text
