#include <archive/text/canonical.hpp>

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>

#include <cstdint>
#include <cstring>

namespace avow::text {

namespace {

// The NFC normalizer is an ICU singleton; fetch it once (thread-safe static initialisation).
const icu::Normalizer2* nfc_instance() {
  static const icu::Normalizer2* const instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(status);
    return U_SUCCESS(status) ? n : nullptr;
  }();
  return instance;
}

bool is_ascii_word(const unsigned char* p) {
  std::uint64_t w = 0;
  std::memcpy(&w, p, sizeof w);
  return (w & 0x8080808080808080ULL) == 0;
}

constexpr std::string_view k_bom = "\xEF\xBB\xBF";

// Return the code point of a bidi override/isolate control starting at `p` (3 bytes available), or 0.
char32_t bidi_control_at(const unsigned char* p) {
  if (p[0] != 0xE2) return 0;
  if (p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) return 0x2000 + (p[2] - 0x80);        // U+202A..U+202E
  if (p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9) return 0x2040 + (p[2] - 0x80);        // U+2066..U+2069
  return 0;
}

std::optional<Warning> bidi_warning(std::string_view text) {
  constexpr std::size_t k_listed = 5;
  std::size_t count = 0;
  std::string where;
  std::size_t line = 1;
  std::size_t line_counted_to = 0; // line numbers are computed lazily up to this offset
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t pos = 0;
  while (pos + 3 <= text.size()) {
    const void* hit = std::memchr(data + pos, 0xE2, text.size() - pos - 2);
    if (hit == nullptr) break;
    pos = static_cast<std::size_t>(static_cast<const unsigned char*>(hit) - data);
    if (char32_t cp = bidi_control_at(data + pos); cp != 0) {
      ++count;
      if (count <= k_listed) {
        for (; line_counted_to < pos; ++line_counted_to)
          if (data[line_counted_to] == '\n') ++line;
        if (!where.empty()) where += ", ";
        where += fmt::format("U+{:04X} at line {}", static_cast<std::uint32_t>(cp), line);
      }
      pos += 3;
    } else {
      pos += 1;
    }
  }
  if (count == 0) return std::nullopt;
  if (count > k_listed) where += ", ...";
  return Warning{"bidi_control", fmt::format("text contains {} bidirectional control character{} ({})", count,
                                             count == 1 ? "" : "s", where)};
}

} // namespace

std::optional<std::size_t> find_invalid_utf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    if (i + 8 <= n && is_ascii_word(p + i)) {
      i += 8;
      continue;
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Unicode Table 3-7, well-formed UTF-8 byte sequences.
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      len = 3;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;
    } else {
      return i; // continuation byte without lead, C0/C1 (overlong), F5..FF
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    i += len;
  }
  return std::nullopt;
}

Expected<Canonical> canonicalize(std::string_view input) {
  // 1. Decode: well-formed UTF-8 without NUL. Offsets are into the original input.
  if (auto bad = find_invalid_utf8(input)) return fail(ErrorCode::invalid_input, "invalid UTF-8 at byte offset {}", *bad);
  if (const void* nul = std::memchr(input.data(), 0, input.size()); nul != nullptr)
    return fail(ErrorCode::invalid_input, "NUL byte at byte offset {}",
                static_cast<const char*>(nul) - input.data());
  bool non_ascii = false;
  {
    const auto* p = reinterpret_cast<const unsigned char*>(input.data());
    std::size_t i = 0;
    for (; i + 8 <= input.size(); i += 8)
      if (!is_ascii_word(p + i)) {
        non_ascii = true;
        break;
      }
    for (; !non_ascii && i < input.size(); ++i)
      if (p[i] >= 0x80) non_ascii = true;
  }

  // 2. One leading BOM.
  std::string_view s = input;
  if (s.starts_with(k_bom)) s.remove_prefix(k_bom.size());

  // 3. CRLF and lone CR become LF.
  std::string lf;
  if (std::memchr(s.data(), '\r', s.size()) != nullptr) {
    lf.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\r') {
        lf += '\n';
        if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
      } else {
        lf += s[i];
      }
    }
    s = lf;
  }

  // 4. NFC; ASCII is always NFC, and most real text already is (quick check first).
  std::string nfc;
  if (non_ascii) {
    const icu::Normalizer2* normalizer = nfc_instance();
    if (normalizer == nullptr) return fail(ErrorCode::internal, "cannot load the ICU NFC normalizer");
    UErrorCode status = U_ZERO_ERROR;
    const icu::StringPiece piece(s.data(), static_cast<std::int32_t>(s.size()));
    if (s.size() > static_cast<std::size_t>(INT32_MAX))
      return fail(ErrorCode::invalid_input, "text is too large ({} bytes)", s.size());
    const UBool normalized = normalizer->isNormalizedUTF8(piece, status);
    if (U_FAILURE(status)) return fail(ErrorCode::internal, "cannot check NFC: {}", u_errorName(status));
    if (!normalized) {
      nfc.reserve(s.size() + s.size() / 8);
      icu::StringByteSink<std::string> sink(&nfc);
      normalizer->normalizeUTF8(0, piece, sink, nullptr, status);
      if (U_FAILURE(status)) return fail(ErrorCode::internal, "cannot normalize to NFC: {}", u_errorName(status));
      s = nfc;
    }
  }

  // 5. Trailing spaces and tabs per line; leading and trailing empty lines; exactly one final LF.
  Canonical result;
  std::string& out = result.text;
  out.reserve(s.size() + 1);
  std::size_t pending_empty = 0;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find('\n', start);
    const std::size_t next = end == std::string_view::npos ? s.size() + 1 : end + 1;
    if (end == std::string_view::npos) end = s.size();
    std::size_t trimmed = end;
    while (trimmed > start && (s[trimmed - 1] == ' ' || s[trimmed - 1] == '\t')) --trimmed;
    if (trimmed == start) {
      if (!out.empty()) ++pending_empty;
    } else {
      out.append(pending_empty, '\n');
      pending_empty = 0;
      out.append(s.data() + start, trimmed - start);
      out += '\n';
    }
    start = next;
  }
  if (out.empty()) return fail(ErrorCode::invalid_input, "text is empty");
  if (std::string_view(out).starts_with(k_bom))
    return fail(ErrorCode::invalid_input,
                "text starts with U+FEFF after its byte order mark and leading empty lines are removed");

  // 6. Nothing else changes; bidi override and isolate controls are reported.
  if (non_ascii)
    if (auto warning = bidi_warning(out)) result.warnings.push_back(std::move(*warning));
  return result;
}

bool is_canonical(std::string_view text) {
  if (text.empty() || text.back() != '\n') return false;
  auto canonical = canonicalize(text);
  return canonical.has_value() && canonical->text == text;
}

} // namespace avow::text
