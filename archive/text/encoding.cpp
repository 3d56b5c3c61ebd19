#include <archive/text/encoding.hpp>

#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>
#include <unicode/unistr.h>
#include <unicode/utypes.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <memory>
#include <vector>

namespace avow::text {

namespace {

template <auto Free> struct CFree {
  template <class T> void operator()(T* p) const noexcept { Free(p); }
};
using ConverterPtr = std::unique_ptr<UConverter, CFree<&ucnv_close>>;
using DetectorPtr = std::unique_ptr<UCharsetDetector, CFree<&ucsdet_close>>;

// Quote an encoding name for a one-line message: printable ASCII kept, anything else as \xNN, long names cut.
std::string printable(std::string_view name) {
  std::string out;
  for (const char c : name.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F && c != '\\')
      out += c;
    else
      out += fmt::format("\\x{:02X}", u);
  }
  if (name.size() > 64) out += "...";
  return out;
}

Expected<ConverterPtr> open_converter(std::string_view encoding) {
  // An empty name would open ICU's default converter, and a NUL would cut the name: neither names an encoding.
  // ICU matches aliases loosely (it skips punctuation), so only plain ASCII name characters are let through.
  const bool plain = std::all_of(encoding.begin(), encoding.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':' || c == '+' || c == '(' || c == ')';
  });
  if (encoding.empty() || encoding.size() > 100 || !plain)
    return fail(ErrorCode::invalid_input, "unknown encoding '{}'", printable(encoding));
  const std::string name(encoding);
  UErrorCode status = U_ZERO_ERROR;
  ConverterPtr converter{ucnv_open(name.c_str(), &status)};
  if (U_FAILURE(status) || converter == nullptr)
    return fail(ErrorCode::invalid_input, "unknown encoding '{}'", printable(encoding));
  return converter;
}

} // namespace

Expected<std::string> to_utf8(std::string_view bytes, std::string_view encoding) {
  auto converter = open_converter(encoding);
  if (!converter) return std::unexpected(converter.error());
  UConverter* cnv = converter->get();
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX))
    return fail(ErrorCode::invalid_input, "input is too large to transcode ({} bytes)", bytes.size());

  UErrorCode status = U_ZERO_ERROR;
  ucnv_setToUCallBack(cnv, UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &status);
  if (U_FAILURE(status)) return fail(ErrorCode::internal, "cannot configure converter: {}", u_errorName(status));

  constexpr std::size_t k_chunk = 4096;
  std::vector<UChar> units(k_chunk);
  std::vector<std::int32_t> offsets(k_chunk);
  icu::UnicodeString utf16;
  const char* const begin = bytes.data();
  const char* source = begin;
  const char* const limit = begin + bytes.size();
  for (;;) {
    UChar* target = units.data();
    const char* const call_source = source;
    status = U_ZERO_ERROR;
    ucnv_toUnicode(cnv, &target, units.data() + units.size(), &source, limit, offsets.data(), /*flush=*/true, &status);
    const auto produced = static_cast<std::size_t>(target - units.data());
    for (std::size_t k = 0; k < produced; ++k) {
      if (units[k] == 0) {
        // offsets[k] is relative to this call's source, or -1 when the unit came from an earlier call's state.
        const std::size_t at =
            offsets[k] >= 0 ? static_cast<std::size_t>(call_source - begin) + static_cast<std::size_t>(offsets[k])
                            : static_cast<std::size_t>(call_source - begin);
        return fail(ErrorCode::invalid_input, "NUL character at byte offset {}", at);
      }
    }
    utf16.append(units.data(), static_cast<std::int32_t>(produced));
    if (status == U_BUFFER_OVERFLOW_ERROR) continue;
    if (U_FAILURE(status)) {
      // The STOP callback leaves `source` just past the offending bytes; they are the last `bad_len` consumed.
      char bad[32];
      std::int8_t bad_len = sizeof bad;
      UErrorCode ignored = U_ZERO_ERROR;
      ucnv_getInvalidChars(cnv, bad, &bad_len, &ignored);
      if (U_FAILURE(ignored)) bad_len = 0;
      const std::size_t consumed = static_cast<std::size_t>(source - begin);
      const std::size_t at = consumed >= static_cast<std::size_t>(bad_len) ? consumed - bad_len : 0;
      std::string hex;
      for (std::int8_t k = 0; k < bad_len; ++k)
        hex += fmt::format("{}{:02X}", k == 0 ? "" : " ", static_cast<unsigned char>(bad[k]));
      const char* why = status == U_INVALID_CHAR_FOUND    ? "unmappable"
                        : status == U_TRUNCATED_CHAR_FOUND ? "truncated"
                                                           : "illegal";
      if (hex.empty())
        return fail(ErrorCode::invalid_input, "cannot decode {}: {} byte sequence at byte offset {}",
                    printable(encoding), why, at);
      return fail(ErrorCode::invalid_input, "cannot decode {}: {} byte sequence {} at byte offset {}",
                  printable(encoding), why, hex, at);
    }
    break;
  }
  std::string out;
  out.reserve(static_cast<std::size_t>(utf16.length()) * 2);
  utf16.toUTF8String(out);
  return out;
}

Expected<std::string> encoding_name(std::string_view encoding) {
  auto converter = open_converter(encoding);
  if (!converter) return std::unexpected(converter.error());
  UErrorCode status = U_ZERO_ERROR;
  const char* internal = ucnv_getName(converter->get(), &status);
  if (U_FAILURE(status) || internal == nullptr)
    return fail(ErrorCode::internal, "cannot name encoding '{}': {}", printable(encoding), u_errorName(status));
  for (const char* standard : {"MIME", "IANA"}) {
    status = U_ZERO_ERROR;
    const char* name = ucnv_getStandardName(internal, standard, &status);
    if (U_SUCCESS(status) && name != nullptr && *name != '\0') return std::string(name);
  }
  return std::string(internal);
}

namespace {

// Below this, a detection is noise; at or above it, ICU's best guess is taken seriously.
constexpr int k_hint_confidence = 20;
constexpr int k_doubt_confidence = 50;
// Guesses this close to the best one are as good as it.
constexpr int k_close_confidence = 10;
// Two decodings that differ in at most this share of the non-ASCII characters are the same family
// (ISO-8859-1 / ISO-8859-15 / windows-1252), not another text.
constexpr double k_same_family = 0.25;

std::u32string code_points(std::string_view utf8) {
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<std::int32_t>(utf8.size())));
  std::u32string out;
  out.reserve(static_cast<std::size_t>(u.length()));
  for (std::int32_t i = 0; i < u.length(); i = u.moveIndex32(i, 1)) out.push_back(static_cast<char32_t>(u.char32At(i)));
  return out;
}

enum class Reading { same, other, unreadable };

// How `guess` reads `bytes` compared with `decoded` (what `encoding` made of them).
Reading compare_reading(std::string_view bytes, std::string_view encoding, std::string_view decoded,
                        std::string_view guess) {
  auto given = encoding_name(encoding);
  auto guessed = encoding_name(guess);
  if (!guessed) return Reading::unreadable;
  if (given && *given == *guessed) return Reading::same;
  auto other = to_utf8(bytes, guess);
  if (!other) return Reading::unreadable;
  if (*other == decoded) return Reading::same;
  // A leading BOM kept by one converter (UTF-16LE) and consumed by another (UTF-16) is no difference: the
  // canonical form removes it.
  std::u32string a = code_points(decoded);
  std::u32string b = code_points(*other);
  if (!a.empty() && a.front() == 0xFEFF) a.erase(0, 1);
  if (!b.empty() && b.front() == 0xFEFF) b.erase(0, 1);
  if (a == b) return Reading::same;
  if (a.size() != b.size()) return Reading::other;
  std::size_t non_ascii = 0, differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] >= 0x80 || b[i] >= 0x80) ++non_ascii;
    if (a[i] != b[i]) ++differ;
  }
  return static_cast<double>(differ) <= k_same_family * static_cast<double>(std::max<std::size_t>(non_ascii, 1))
             ? Reading::same
             : Reading::other;
}

} // namespace

std::vector<EncodingGuess> detect_encodings(std::string_view bytes) {
  std::vector<EncodingGuess> out;
  UErrorCode status = U_ZERO_ERROR;
  DetectorPtr detector{ucsdet_open(&status)};
  if (U_FAILURE(status) || detector == nullptr) return out;
  // The detector reads at most this much; a statement's first 64 KiB says enough about its encoding.
  const auto length = static_cast<std::int32_t>(std::min<std::size_t>(bytes.size(), 64 * 1024));
  ucsdet_setText(detector.get(), bytes.data(), length, &status);
  if (U_FAILURE(status)) return out;
  std::int32_t count = 0;
  const UCharsetMatch** matches = ucsdet_detectAll(detector.get(), &count, &status);
  if (U_FAILURE(status) || matches == nullptr) return out;
  for (std::int32_t k = 0; k < count && out.size() < 5; ++k) {
    UErrorCode st = U_ZERO_ERROR;
    const char* name = ucsdet_getName(matches[k], &st);
    const char* lang = ucsdet_getLanguage(matches[k], &st);
    const std::int32_t confidence = ucsdet_getConfidence(matches[k], &st);
    if (U_FAILURE(st) || name == nullptr) continue;
    out.push_back({name, lang ? lang : "", static_cast<int>(confidence)});
  }
  return out;
}

std::optional<std::string> encoding_hint(std::string_view bytes) {
  std::vector<std::string> names;
  int best = 0;
  for (const auto& g : detect_encodings(bytes)) {
    if (g.confidence < k_hint_confidence || g.name == "UTF-8") continue;
    if (!to_utf8(bytes, g.name)) continue; // it cannot even read these bytes
    if (names.empty()) best = g.confidence;
    else if (g.confidence < best - 2 * k_close_confidence) break;
    names.push_back(g.name);
    if (names.size() == 2) break;
  }
  if (names.empty()) return std::nullopt;
  if (names.size() == 1) return fmt::format("it looks like {}: try --encoding {}", names[0], names[0]);
  return fmt::format("it looks like {} (or {}): try --encoding {}", names[0], names[1], names[0]);
}

std::optional<std::string> decoding_doubt(std::string_view bytes, std::string_view encoding, std::string_view decoded) {
  const auto name = encoding_name(encoding);
  const std::string shown = name ? *name : std::string(printable(encoding));
  // U+FFFD is EF BF BD in UTF-8; the C1 controls U+0080..U+009F are C2 80..C2 9F.
  if (decoded.find("\xEF\xBF\xBD") != std::string_view::npos)
    return fmt::format("decoded as {} it holds U+FFFD replacement characters", shown);
  for (std::size_t i = 0; i + 1 < decoded.size(); ++i) {
    const auto lead = static_cast<unsigned char>(decoded[i]);
    const auto next = static_cast<unsigned char>(decoded[i + 1]);
    if (lead == 0xC2 && next >= 0x80 && next <= 0x9F)
      return fmt::format("decoded as {} it holds the C1 control character U+{:04X}, which a wrong decoding produces",
                         shown, next);
  }
  const auto guesses = detect_encodings(bytes);
  for (std::size_t k = 0; k < guesses.size(); ++k) {
    const auto& top = guesses[k];
    if (top.confidence < k_doubt_confidence) return std::nullopt;
    const Reading r = compare_reading(bytes, encoding, decoded, top.name);
    if (r == Reading::unreadable) continue;
    if (r == Reading::same) return std::nullopt;
    // The best readable guess reads another text: a doubt, unless a guess about as confident reads ours.
    for (const auto& g : guesses)
      if (&g != &top && g.confidence >= top.confidence - k_close_confidence &&
          compare_reading(bytes, encoding, decoded, g.name) == Reading::same)
        return std::nullopt;
    return fmt::format("decoded as {} it does not look right: ICU charset detection says {}{} (confidence {}%)", shown,
                       top.name, top.language.empty() ? "" : fmt::format(", language '{}'", top.language),
                       top.confidence);
  }
  return std::nullopt;
}

} // namespace avow::text
