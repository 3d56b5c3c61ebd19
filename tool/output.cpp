#include "output.hpp"

#include <archive/util/bytes.hpp>
#include <unicode/brkiter.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace avow::tool {
namespace {

constexpr char32_t k_replacement = 0xFFFD;
constexpr std::string_view k_ellipsis = "\xE2\x80\xA6";       // U+2026
constexpr std::string_view k_first_strong_isolate = "\xE2\x81\xA8"; // U+2068
constexpr std::string_view k_pop_isolate = "\xE2\x81\xA9";          // U+2069
constexpr std::string_view k_separator = "  ";

struct Decoded {
  char32_t cp;        // k_replacement when ill-formed
  std::size_t length; // bytes consumed (at least 1)
  bool ok;
};

// Decode one code point of strict UTF-8 at `s[i]` (no overlongs, no surrogates, nothing above U+10FFFF); an
// ill-formed sequence consumes its maximal subpart (at least one byte), as U+FFFD.
Decoded decode(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1, true};
  std::size_t need = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {k_replacement, 1, false};
  }
  std::size_t n = 1;
  for (; n <= need; ++n) {
    if (i + n >= s.size()) return {k_replacement, n, false};
    const auto b = static_cast<unsigned char>(s[i + n]);
    if (b < lo || b > hi) return {k_replacement, n, false};
    lo = 0x80;
    hi = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, n, true};
}

std::size_t code_point_width(char32_t cp) {
  const auto c = static_cast<UChar32>(cp);
  if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return 0;
  const auto type = u_charType(c);
  if (type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK || type == U_FORMAT_CHAR) return 0;
  // Conjoining Hangul vowels and final consonants join the preceding leading consonant into one wide cell.
  const auto hst = u_getIntPropertyValue(c, UCHAR_HANGUL_SYLLABLE_TYPE);
  if (hst == U_HST_VOWEL_JAMO || hst == U_HST_TRAILING_JAMO) return 0;
  const auto ea = u_getIntPropertyValue(c, UCHAR_EAST_ASIAN_WIDTH);
  if (ea == U_EA_WIDE || ea == U_EA_FULLWIDTH) return 2;
  return 1;
}

bool is_isolate_initiator(char32_t c) { return c == 0x2066 || c == 0x2067 || c == 0x2068; }

// Return `s` as valid UTF-8 that is safe to print on one terminal line: whitespace that breaks lines or jumps
// becomes a space, other controls become visible.
std::string sanitize_cell(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto d = decode(s, i);
    i += d.length;
    const char32_t c = d.cp;
    if (c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x85 || c == 0x2028 || c == 0x2029)
      out += ' ';
    else if (c < 0x20)
      append_utf8(out, 0x2400 + c); // control pictures: NUL as ␀, ESC as ␛
    else if (c == 0x7F)
      append_utf8(out, 0x2421);     // ␡
    else if (c >= 0x80 && c < 0xA0)
      append_utf8(out, k_replacement);
    else
      append_utf8(out, c);
  }
  return out;
}

// Return the width of valid UTF-8 `s` (as display_width, for text that sanitize_cell produced).
std::size_t width_of(std::string_view s) { return display_width(s); }

class GraphemeCutter {
public:
  GraphemeCutter() {
    UErrorCode status = U_ZERO_ERROR;
    m_iter.reset(icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status)) m_iter.reset();
  }

  // Return valid UTF-8 `s` cut to at most `width` columns: unchanged when it fits, else the longest prefix of whole
  // graphemes that leaves room for "…", then "…".
  std::string cut(const std::string& s, std::size_t width) const {
    if (width_of(s) <= width) return s;
    if (width == 0) return {};
    const std::size_t budget = width - 1;
    std::size_t end = 0, used = 0;
    for (std::size_t next : boundaries(s)) {
      const std::size_t w = width_of(std::string_view(s).substr(end, next - end));
      if (used + w > budget) break;
      used += w;
      end = next;
    }
    return s.substr(0, end) + std::string(k_ellipsis);
  }

private:
  // Return the grapheme boundaries of `s` after offset 0, ending with s.size(); code point boundaries when ICU's
  // break rules are unavailable.
  std::vector<std::size_t> boundaries(const std::string& s) const {
    std::vector<std::size_t> out;
    if (m_iter && s.size() <= static_cast<std::size_t>(INT32_MAX)) {
      UErrorCode status = U_ZERO_ERROR;
      UText* text = utext_openUTF8(nullptr, s.data(), static_cast<int64_t>(s.size()), &status);
      if (U_SUCCESS(status)) {
        m_iter->setText(text, status);
        if (U_SUCCESS(status)) {
          for (int32_t b = m_iter->next(); b != icu::BreakIterator::DONE; b = m_iter->next())
            out.push_back(static_cast<std::size_t>(b));
        }
        utext_close(text); // the iterator keeps its own shallow clone; the next call replaces it
        if (U_SUCCESS(status) && !out.empty() && out.back() == s.size()) return out;
      }
      out.clear();
    }
    for (std::size_t i = 0; i < s.size();) {
      i += decode(s, i).length;
      out.push_back(i);
    }
    return out;
  }

  std::unique_ptr<icu::BreakIterator> m_iter;
};

// Return valid UTF-8 `s` ready for its column: isolates it opens are closed, a PDI that would close the enclosing
// isolate is dropped, and the whole is wrapped in FSI ... PDI when it holds right-to-left text, Arabic digits or bidi
// controls. The closing PDI also ends every embedding and override opened inside (UAX #9, X6a).
std::string isolate_cell(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 8);
  std::size_t depth = 0;
  bool needs_isolate = false;
  for (std::size_t i = 0; i < s.size();) {
    const auto d = decode(s, i);
    const char32_t c = d.cp;
    const std::string_view bytes = std::string_view(s).substr(i, d.length);
    i += d.length;
    if (c == 0x2069) {
      needs_isolate = true;
      if (depth == 0) continue;
      --depth;
    } else if (is_isolate_initiator(c)) {
      needs_isolate = true;
      ++depth;
    } else {
      switch (u_charDirection(static_cast<UChar32>(c))) {
      case U_RIGHT_TO_LEFT:
      case U_RIGHT_TO_LEFT_ARABIC:
      case U_ARABIC_NUMBER:
      case U_LEFT_TO_RIGHT_EMBEDDING:
      case U_LEFT_TO_RIGHT_OVERRIDE:
      case U_RIGHT_TO_LEFT_EMBEDDING:
      case U_RIGHT_TO_LEFT_OVERRIDE:
      case U_POP_DIRECTIONAL_FORMAT:
        needs_isolate = true;
        break;
      default:
        break;
      }
    }
    out += bytes;
  }
  for (; depth > 0; --depth) out += k_pop_isolate;
  if (!needs_isolate) return out;
  return std::string(k_first_strong_isolate) + out + std::string(k_pop_isolate);
}

// Return the widths of columns with natural widths `natural` so that they and the separators fit in `width`: the
// widest shrink first, down to one column each.
std::vector<std::size_t> fit_columns(const std::vector<std::size_t>& natural, std::size_t width) {
  const std::size_t n = natural.size();
  const std::size_t separators = n > 1 ? k_separator.size() * (n - 1) : 0;
  const std::size_t avail = width > separators ? width - separators : 0;
  auto capped_sum = [&](std::size_t cap) {
    std::size_t sum = 0;
    for (auto w : natural) sum += std::min(w, cap);
    return sum;
  };
  const std::size_t widest = natural.empty() ? 0 : *std::max_element(natural.begin(), natural.end());
  if (capped_sum(widest) <= avail) return natural;
  // The largest cap whose capped sum fits; at least 1 so every cell keeps a mark.
  std::size_t lo = 1, hi = widest;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo + 1) / 2;
    if (capped_sum(mid) <= avail)
      lo = mid;
    else
      hi = mid - 1;
  }
  std::vector<std::size_t> out(n);
  std::size_t used = 0;
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = std::min(natural[i], lo);
    used += out[i];
  }
  // Hand out what is left, one column each, to the leftmost columns that were cut.
  for (std::size_t i = 0; i < n && used < avail; ++i) {
    if (natural[i] > out[i]) {
      ++out[i];
      ++used;
    }
  }
  return out;
}

} // namespace

std::size_t display_width(std::string_view s) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto d = decode(s, i);
    i += d.length;
    width += d.ok ? code_point_width(d.cp) : 1;
  }
  return width;
}

std::string render_table(const Table& t, std::size_t width) {
  std::size_t n = t.headers.size();
  for (const auto& row : t.rows) n = std::max(n, row.size());
  if (n == 0) return {};

  std::vector<std::vector<std::string>> lines;
  lines.reserve(t.rows.size() + 1);
  auto add = [&](const std::vector<std::string>& cells) {
    std::vector<std::string> line(n);
    for (std::size_t i = 0; i < cells.size(); ++i) line[i] = sanitize_cell(cells[i]);
    lines.push_back(std::move(line));
  };
  if (!t.headers.empty()) add(t.headers);
  for (const auto& row : t.rows) add(row);

  std::vector<std::size_t> natural(n, 0);
  for (const auto& line : lines)
    for (std::size_t i = 0; i < n; ++i) natural[i] = std::max(natural[i], width_of(line[i]));
  const auto widths = fit_columns(natural, width);

  const GraphemeCutter cutter;
  std::string out;
  for (const auto& line : lines) {
    std::string text;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) text += k_separator;
      const std::string cell = isolate_cell(cutter.cut(line[i], widths[i]));
      const std::size_t w = width_of(cell);
      const std::size_t pad = widths[i] > w ? widths[i] - w : 0;
      const bool right = i < t.align.size() && t.align[i] == Align::right;
      if (right) text.append(pad, ' ');
      text += cell;
      if (!right) text.append(pad, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  }
  return out;
}

std::string render_csv(const Table& t) {
  std::size_t n = t.headers.size();
  for (const auto& row : t.rows) n = std::max(n, row.size());
  std::string out;
  auto record = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) out += ',';
      if (i >= cells.size()) continue;
      const std::string& f = cells[i];
      if (f.find_first_of("\",\r\n") == std::string::npos) {
        out += f;
        continue;
      }
      out += '"';
      for (char c : f) {
        if (c == '"') out += '"';
        out += c;
      }
      out += '"';
    }
    out += "\r\n";
  };
  if (!t.headers.empty()) record(t.headers);
  for (const auto& row : t.rows) record(row);
  return out;
}

std::string terminal_field(std::string_view s) { return isolate_cell(sanitize_cell(s)); }

std::size_t output_width() {
  if (::isatty(STDOUT_FILENO) == 0) return SIZE_MAX;
  return terminal_width();
}

std::size_t terminal_width() {
  if (::isatty(STDOUT_FILENO)) {
    struct winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  }
  if (const char* columns = std::getenv("COLUMNS"); columns != nullptr) {
    std::size_t value = 0;
    const char* end = columns + std::strlen(columns);
    const auto [ptr, ec] = std::from_chars(columns, end, value);
    if (ec == std::errc{} && ptr == end && value > 0 && value <= 100000) return value;
  }
  return 120;
}

} // namespace avow::tool
