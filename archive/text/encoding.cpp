#include <archive/text/encoding.hpp>

#include <unicode/ucnv.h>
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

} // namespace avow::text
