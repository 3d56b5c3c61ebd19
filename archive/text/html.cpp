#include <archive/text/html.hpp>

#include <cstdint>
#include <unicode/utf8.h>

namespace avow::text {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(s.data());
  const std::size_t length = s.size();
  for (std::size_t i = 0; i < length;) {
    const std::size_t start = i;
    UChar32 c = 0;
    U8_NEXT(bytes, i, length, c);
    if (c < 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x7F && c < 0xA0)) {
      out += "\xEF\xBF\xBD"; // U+FFFD
      continue;
    }
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out.append(s.data() + start, i - start); break;
    }
  }
  return out;
}

} // namespace avow::text
