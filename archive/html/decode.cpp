// The HTML5 encoding sniffing (WHATWG HTML "determining the character encoding", with the WHATWG Encoding
// standard's label table) and the strict decoding of a page to UTF-8.
//
// Where avow departs from a browser, it is stricter, never more lenient: a browser ignores a charset label it does
// not know and replaces bytes that do not decode with U+FFFD; avow refuses both, because the text it records must
// be exactly what those bytes say.

#include <archive/html/html.hpp>

#include <archive/text/canonical.hpp>
#include <archive/text/encoding.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <utility>

namespace avow::html {

namespace {

bool is_ascii_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

std::string_view trim_ascii_ws(std::string_view s) {
  while (!s.empty() && is_ascii_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_ws(s.back())) s.remove_suffix(1);
  return s;
}

// Quote a label for a one-line message: printable ASCII kept, anything else as \xNN, long labels cut.
std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F && c != '\\' && c != '\'')
      out += c;
    else
      out += fmt::format("\\x{:02X}", u);
  }
  if (s.size() > 64) out += "...";
  return out;
}

// The WHATWG Encoding standard's labels (https://encoding.spec.whatwg.org/#names-and-labels), each mapped to the
// name of the ICU converter that decodes as that encoding does. The name is what a record's `original.encoding`
// says. Left out, so refused as unknown: ISO-8859-16 (absent from Debian's ICU data), x-user-defined, and the
// "replacement" encoding's labels (iso-2022-kr, iso-2022-cn, hz-gb-2312, ...), which a browser decodes as one
// U+FFFD. GBK is decoded with the gb18030 converter and EUC-KR with windows-949, as the standard says.
struct Label {
  std::string_view label;
  std::string_view icu;
};
constexpr Label k_labels[] = {
    {"unicode-1-1-utf-8", "UTF-8"}, {"unicode11utf8", "UTF-8"}, {"unicode20utf8", "UTF-8"}, {"utf-8", "UTF-8"},
    {"utf8", "UTF-8"}, {"x-unicode20utf8", "UTF-8"},
    {"866", "IBM866"}, {"cp866", "IBM866"}, {"csibm866", "IBM866"}, {"ibm866", "IBM866"},
    {"csisolatin2", "ISO-8859-2"}, {"iso-8859-2", "ISO-8859-2"}, {"iso-ir-101", "ISO-8859-2"},
    {"iso8859-2", "ISO-8859-2"}, {"iso88592", "ISO-8859-2"}, {"iso_8859-2", "ISO-8859-2"},
    {"iso_8859-2:1987", "ISO-8859-2"}, {"l2", "ISO-8859-2"}, {"latin2", "ISO-8859-2"},
    {"csisolatin3", "ISO-8859-3"}, {"iso-8859-3", "ISO-8859-3"}, {"iso-ir-109", "ISO-8859-3"},
    {"iso8859-3", "ISO-8859-3"}, {"iso88593", "ISO-8859-3"}, {"iso_8859-3", "ISO-8859-3"},
    {"iso_8859-3:1988", "ISO-8859-3"}, {"l3", "ISO-8859-3"}, {"latin3", "ISO-8859-3"},
    {"csisolatin4", "ISO-8859-4"}, {"iso-8859-4", "ISO-8859-4"}, {"iso-ir-110", "ISO-8859-4"},
    {"iso8859-4", "ISO-8859-4"}, {"iso88594", "ISO-8859-4"}, {"iso_8859-4", "ISO-8859-4"},
    {"iso_8859-4:1988", "ISO-8859-4"}, {"l4", "ISO-8859-4"}, {"latin4", "ISO-8859-4"},
    {"csisolatincyrillic", "ISO-8859-5"}, {"cyrillic", "ISO-8859-5"}, {"iso-8859-5", "ISO-8859-5"},
    {"iso-ir-144", "ISO-8859-5"}, {"iso8859-5", "ISO-8859-5"}, {"iso88595", "ISO-8859-5"},
    {"iso_8859-5", "ISO-8859-5"}, {"iso_8859-5:1988", "ISO-8859-5"},
    {"arabic", "ISO-8859-6"}, {"asmo-708", "ISO-8859-6"}, {"csiso88596e", "ISO-8859-6"},
    {"csiso88596i", "ISO-8859-6"}, {"csisolatinarabic", "ISO-8859-6"}, {"ecma-114", "ISO-8859-6"},
    {"iso-8859-6", "ISO-8859-6"}, {"iso-8859-6-e", "ISO-8859-6"}, {"iso-8859-6-i", "ISO-8859-6"},
    {"iso-ir-127", "ISO-8859-6"}, {"iso8859-6", "ISO-8859-6"}, {"iso88596", "ISO-8859-6"},
    {"iso_8859-6", "ISO-8859-6"}, {"iso_8859-6:1987", "ISO-8859-6"},
    {"csisolatingreek", "ISO-8859-7"}, {"ecma-118", "ISO-8859-7"}, {"elot_928", "ISO-8859-7"},
    {"greek", "ISO-8859-7"}, {"greek8", "ISO-8859-7"}, {"iso-8859-7", "ISO-8859-7"}, {"iso-ir-126", "ISO-8859-7"},
    {"iso8859-7", "ISO-8859-7"}, {"iso88597", "ISO-8859-7"}, {"iso_8859-7", "ISO-8859-7"},
    {"iso_8859-7:1987", "ISO-8859-7"}, {"sun_eu_greek", "ISO-8859-7"},
    {"csiso88598e", "ISO-8859-8"}, {"csisolatinhebrew", "ISO-8859-8"}, {"hebrew", "ISO-8859-8"},
    {"iso-8859-8", "ISO-8859-8"}, {"iso-8859-8-e", "ISO-8859-8"}, {"iso-ir-138", "ISO-8859-8"},
    {"iso8859-8", "ISO-8859-8"}, {"iso88598", "ISO-8859-8"}, {"iso_8859-8", "ISO-8859-8"},
    {"iso_8859-8:1988", "ISO-8859-8"}, {"visual", "ISO-8859-8"},
    {"csiso88598i", "ISO-8859-8-I"}, {"iso-8859-8-i", "ISO-8859-8-I"}, {"logical", "ISO-8859-8-I"},
    {"csisolatin6", "ISO-8859-10"}, {"iso-8859-10", "ISO-8859-10"}, {"iso-ir-157", "ISO-8859-10"},
    {"iso8859-10", "ISO-8859-10"}, {"iso885910", "ISO-8859-10"}, {"l6", "ISO-8859-10"}, {"latin6", "ISO-8859-10"},
    {"iso-8859-13", "ISO-8859-13"}, {"iso8859-13", "ISO-8859-13"}, {"iso885913", "ISO-8859-13"},
    {"iso-8859-14", "ISO-8859-14"}, {"iso8859-14", "ISO-8859-14"}, {"iso885914", "ISO-8859-14"},
    {"csisolatin9", "ISO-8859-15"}, {"iso-8859-15", "ISO-8859-15"}, {"iso8859-15", "ISO-8859-15"},
    {"iso885915", "ISO-8859-15"}, {"iso_8859-15", "ISO-8859-15"}, {"l9", "ISO-8859-15"},
    {"cskoi8r", "KOI8-R"}, {"koi", "KOI8-R"}, {"koi8", "KOI8-R"}, {"koi8-r", "KOI8-R"}, {"koi8_r", "KOI8-R"},
    {"koi8-ru", "KOI8-U"}, {"koi8-u", "KOI8-U"},
    {"csmacintosh", "macintosh"}, {"mac", "macintosh"}, {"macintosh", "macintosh"}, {"x-mac-roman", "macintosh"},
    {"dos-874", "windows-874"}, {"iso-8859-11", "windows-874"}, {"iso8859-11", "windows-874"},
    {"iso885911", "windows-874"}, {"tis-620", "windows-874"}, {"windows-874", "windows-874"},
    {"cp1250", "windows-1250"}, {"windows-1250", "windows-1250"}, {"x-cp1250", "windows-1250"},
    {"cp1251", "windows-1251"}, {"windows-1251", "windows-1251"}, {"x-cp1251", "windows-1251"},
    {"ansi_x3.4-1968", "windows-1252"}, {"ascii", "windows-1252"}, {"cp1252", "windows-1252"},
    {"cp819", "windows-1252"}, {"csisolatin1", "windows-1252"}, {"ibm819", "windows-1252"},
    {"iso-8859-1", "windows-1252"}, {"iso-ir-100", "windows-1252"}, {"iso8859-1", "windows-1252"},
    {"iso88591", "windows-1252"}, {"iso_8859-1", "windows-1252"}, {"iso_8859-1:1987", "windows-1252"},
    {"l1", "windows-1252"}, {"latin1", "windows-1252"}, {"us-ascii", "windows-1252"},
    {"windows-1252", "windows-1252"}, {"x-cp1252", "windows-1252"},
    {"cp1253", "windows-1253"}, {"windows-1253", "windows-1253"}, {"x-cp1253", "windows-1253"},
    {"cp1254", "windows-1254"}, {"csisolatin5", "windows-1254"}, {"iso-8859-9", "windows-1254"},
    {"iso-ir-148", "windows-1254"}, {"iso8859-9", "windows-1254"}, {"iso88599", "windows-1254"},
    {"iso_8859-9", "windows-1254"}, {"iso_8859-9:1989", "windows-1254"}, {"l5", "windows-1254"},
    {"latin5", "windows-1254"}, {"windows-1254", "windows-1254"}, {"x-cp1254", "windows-1254"},
    {"cp1255", "windows-1255"}, {"windows-1255", "windows-1255"}, {"x-cp1255", "windows-1255"},
    {"cp1256", "windows-1256"}, {"windows-1256", "windows-1256"}, {"x-cp1256", "windows-1256"},
    {"cp1257", "windows-1257"}, {"windows-1257", "windows-1257"}, {"x-cp1257", "windows-1257"},
    {"cp1258", "windows-1258"}, {"windows-1258", "windows-1258"}, {"x-cp1258", "windows-1258"},
    {"x-mac-cyrillic", "x-mac-cyrillic"}, {"x-mac-ukrainian", "x-mac-cyrillic"},
    {"chinese", "gb18030"}, {"csgb2312", "gb18030"}, {"csiso58gb231280", "gb18030"}, {"gb2312", "gb18030"},
    {"gb_2312", "gb18030"}, {"gb_2312-80", "gb18030"}, {"gbk", "gb18030"}, {"iso-ir-58", "gb18030"},
    {"x-gbk", "gb18030"}, {"gb18030", "gb18030"},
    {"big5", "Big5"}, {"big5-hkscs", "Big5"}, {"cn-big5", "Big5"}, {"csbig5", "Big5"}, {"x-x-big5", "Big5"},
    {"cseucpkdfmtjapanese", "EUC-JP"}, {"euc-jp", "EUC-JP"}, {"x-euc-jp", "EUC-JP"},
    {"csiso2022jp", "ISO-2022-JP"}, {"iso-2022-jp", "ISO-2022-JP"},
    {"csshiftjis", "Shift_JIS"}, {"ms932", "Shift_JIS"}, {"ms_kanji", "Shift_JIS"}, {"shift-jis", "Shift_JIS"},
    {"shift_jis", "Shift_JIS"}, {"sjis", "Shift_JIS"}, {"windows-31j", "Shift_JIS"}, {"x-sjis", "Shift_JIS"},
    {"cseuckr", "windows-949"}, {"csksc56011987", "windows-949"}, {"euc-kr", "windows-949"},
    {"iso-ir-149", "windows-949"}, {"korean", "windows-949"}, {"ks_c_5601-1987", "windows-949"},
    {"ks_c_5601-1989", "windows-949"}, {"ksc5601", "windows-949"}, {"ksc_5601", "windows-949"},
    {"windows-949", "windows-949"},
    {"unicodefffe", "UTF-16BE"}, {"utf-16be", "UTF-16BE"},
    {"csunicode", "UTF-16LE"}, {"iso-10646-ucs-2", "UTF-16LE"}, {"ucs-2", "UTF-16LE"}, {"unicode", "UTF-16LE"},
    {"unicodefeff", "UTF-16LE"}, {"utf-16", "UTF-16LE"}, {"utf-16le", "UTF-16LE"},
};

// Return the encoding for `label` as the Encoding standard's "get an encoding" does (ASCII whitespace trimmed,
// ASCII case ignored), or nullopt for a label it does not list (or that avow does not decode, see above).
std::optional<std::string_view> encoding_for_label(std::string_view label) {
  const std::string key = lower(trim_ascii_ws(label));
  for (const Label& l : k_labels)
    if (l.label == key) return l.icu;
  return std::nullopt;
}

// What the <meta> prescan found: the label as written and whether it came from `charset` or `http-equiv`.
struct MetaCharset {
  std::string label;
  bool from_http_equiv = false;
};

// HTML's "extract a character encoding from a meta element" over a `content` attribute's value: the label after
// the first "charset" followed by "=", or nullopt.
std::optional<std::string> charset_from_content(std::string_view s) {
  std::size_t pos = 0;
  for (;;) {
    std::size_t found = std::string_view::npos;
    for (std::size_t i = pos; i + 7 <= s.size(); ++i) {
      if (lower(s.substr(i, 7)) == "charset") {
        found = i;
        break;
      }
    }
    if (found == std::string_view::npos) return std::nullopt;
    pos = found + 7;
    while (pos < s.size() && is_ascii_ws(s[pos])) ++pos;
    if (pos >= s.size() || s[pos] != '=') continue; // "just before that character", then loop
    ++pos;
    while (pos < s.size() && is_ascii_ws(s[pos])) ++pos;
    if (pos >= s.size()) return std::nullopt;
    if (s[pos] == '"' || s[pos] == '\'') {
      const std::size_t end = s.find(s[pos], pos + 1);
      if (end == std::string_view::npos) return std::nullopt;
      return std::string(s.substr(pos + 1, end - pos - 1));
    }
    std::size_t end = pos;
    while (end < s.size() && !is_ascii_ws(s[end]) && s[end] != ';') ++end;
    return std::string(s.substr(pos, end - pos));
  }
}

// HTML's "prescan a byte stream to determine its encoding" over the first 1024 bytes, returning the label of the
// first <meta> that declares one (the label itself is looked up by the caller, so an unknown label can be refused
// rather than skipped).
class Prescan {
public:
  explicit Prescan(std::string_view bytes) : m_s(bytes.substr(0, 1024)) {}

  std::optional<MetaCharset> run() {
    while (m_pos < m_s.size()) {
      if (starts("<!--")) {
        // The first '>' preceded by "--" after the '<': "<!-->" closes at once.
        const std::size_t end = m_s.find("-->", m_pos + 2);
        if (end == std::string_view::npos) return std::nullopt;
        m_pos = end + 3;
        continue;
      }
      if (starts_ci("<meta") && m_pos + 5 < m_s.size() && (is_ascii_ws(m_s[m_pos + 5]) || m_s[m_pos + 5] == '/')) {
        m_pos += 5;
        auto meta = meta_element();
        if (!m_ok) return std::nullopt;
        if (meta) return meta;
        ++m_pos;
        continue;
      }
      if (m_s[m_pos] == '<' && m_pos + 1 < m_s.size() &&
          (is_ascii_alpha(m_s[m_pos + 1]) ||
           (m_s[m_pos + 1] == '/' && m_pos + 2 < m_s.size() && is_ascii_alpha(m_s[m_pos + 2])))) {
        while (m_pos < m_s.size() && !is_ascii_ws(m_s[m_pos]) && m_s[m_pos] != '>') ++m_pos;
        while (attribute()) {
        }
        if (!m_ok) return std::nullopt;
        ++m_pos;
        continue;
      }
      if (starts("<!") || starts("</") || starts("<?")) {
        const std::size_t end = m_s.find('>', m_pos + 2);
        if (end == std::string_view::npos) return std::nullopt;
        m_pos = end + 1;
        continue;
      }
      ++m_pos;
    }
    return std::nullopt;
  }

private:
  bool starts(std::string_view p) const { return m_s.substr(m_pos, p.size()) == p; }
  bool starts_ci(std::string_view p) const { return lower(m_s.substr(m_pos, p.size())) == p; }

  // The attributes of a <meta>; a charset when it declares one as the prescan requires.
  std::optional<MetaCharset> meta_element() {
    std::vector<std::string> names;
    bool got_pragma = false;
    std::optional<bool> need_pragma;
    std::optional<MetaCharset> charset;
    while (attribute()) {
      if (std::find(names.begin(), names.end(), m_name) != names.end()) continue;
      names.push_back(m_name);
      if (m_name == "http-equiv") {
        if (m_value == "content-type") got_pragma = true;
      } else if (m_name == "content") {
        auto label = charset_from_content(m_value);
        if (label && !charset) {
          charset = MetaCharset{*label, true};
          need_pragma = true;
        }
      } else if (m_name == "charset") {
        charset = MetaCharset{m_value, false};
        need_pragma = false;
      }
    }
    if (!m_ok || !need_pragma || !charset) return std::nullopt;
    if (*need_pragma && !got_pragma) return std::nullopt;
    return charset;
  }

  // HTML's "get an attribute": sets m_name and m_value (both ASCII-lowercased, as the prescan compares them) and
  // returns true, or false at the tag's '>' or at the end of the 1024 bytes (then m_ok is false).
  bool attribute() {
    m_name.clear();
    m_value.clear();
    while (m_pos < m_s.size() && (is_ascii_ws(m_s[m_pos]) || m_s[m_pos] == '/')) ++m_pos;
    if (m_pos >= m_s.size()) return m_ok = false;
    if (m_s[m_pos] == '>') return false;
    for (;; ++m_pos) {
      if (m_pos >= m_s.size()) return m_ok = false;
      const char c = m_s[m_pos];
      if (c == '=' && !m_name.empty()) {
        ++m_pos;
        return value();
      }
      if (is_ascii_ws(c)) break;
      if (c == '/' || c == '>') return true;
      m_name += ascii_lower(c);
    }
    while (m_pos < m_s.size() && is_ascii_ws(m_s[m_pos])) ++m_pos;
    if (m_pos >= m_s.size()) return m_ok = false;
    if (m_s[m_pos] != '=') return true;
    ++m_pos;
    return value();
  }

  bool value() {
    while (m_pos < m_s.size() && is_ascii_ws(m_s[m_pos])) ++m_pos;
    if (m_pos >= m_s.size()) return m_ok = false;
    const char q = m_s[m_pos];
    if (q == '"' || q == '\'') {
      for (++m_pos;; ++m_pos) {
        if (m_pos >= m_s.size()) return m_ok = false;
        if (m_s[m_pos] == q) {
          ++m_pos;
          return true;
        }
        m_value += ascii_lower(m_s[m_pos]);
      }
    }
    if (q == '>') return true;
    for (;; ++m_pos) {
      if (m_pos >= m_s.size()) return m_ok = false;
      const char c = m_s[m_pos];
      if (is_ascii_ws(c) || c == '>') return true;
      m_value += ascii_lower(c);
    }
  }

  std::string_view m_s;
  std::size_t m_pos = 0;
  bool m_ok = true;
  std::string m_name;
  std::string m_value;
};

// Decode `bytes` (BOM already removed from `body`, `skipped` bytes before it) as `encoding`; the message says who
// declared it.
Expected<Decoded> decode_as(std::string_view bytes, std::size_t skipped, std::string_view encoding,
                            std::string_view how, std::string_view declared_by) {
  const std::string_view body = bytes.substr(skipped);
  auto refuse = [&](std::string_view why) {
    return fail(ErrorCode::invalid_input, "the page is not valid {} as {}: {}", encoding, declared_by, why);
  };
  if (encoding == "UTF-8") {
    // Valid UTF-8 decodes to itself: check it (overlongs, surrogates and stray bytes refused) and keep the bytes.
    if (auto bad = text::find_invalid_utf8(bytes)) return refuse(fmt::format("invalid UTF-8 at byte offset {}", *bad));
    if (const auto nul = bytes.find('\0'); nul != std::string_view::npos)
      return fail(ErrorCode::invalid_input, "the page has a NUL character at byte offset {}", nul);
    return Decoded{std::string(body), std::string(encoding), std::string(how)};
  }
  auto utf8 = text::to_utf8(body, encoding);
  if (!utf8) {
    // to_utf8's offsets count from `body`: say them from the start of the page.
    std::string why = utf8.error().message;
    const std::string prefix = fmt::format("cannot decode {}: ", encoding);
    if (why.starts_with(prefix)) why.erase(0, prefix.size());
    if (skipped != 0) why += fmt::format(" (after the {}-byte byte order mark)", skipped);
    if (why.starts_with("NUL character"))
      return fail(ErrorCode::invalid_input, "the page has a {}", why);
    return refuse(why);
  }
  return Decoded{std::move(*utf8), std::string(encoding), std::string(how)};
}

} // namespace

std::optional<std::string> charset_of(std::string_view content_type) {
  // RFC 9110 media-type parameters: `;`-separated `name=value`, the value a token or a quoted-string.
  std::size_t pos = content_type.find(';');
  while (pos != std::string_view::npos && pos < content_type.size()) {
    ++pos;
    while (pos < content_type.size() && (content_type[pos] == ' ' || content_type[pos] == '\t')) ++pos;
    const std::size_t eq = content_type.find_first_of("=;", pos);
    if (eq == std::string_view::npos) return std::nullopt;
    if (content_type[eq] == ';') {
      pos = eq;
      continue;
    }
    const std::string name = lower(trim_ascii_ws(content_type.substr(pos, eq - pos)));
    std::size_t v = eq + 1;
    std::string value;
    if (v < content_type.size() && content_type[v] == '"') {
      for (++v; v < content_type.size() && content_type[v] != '"'; ++v) {
        if (content_type[v] == '\\' && v + 1 < content_type.size()) ++v;
        value += content_type[v];
      }
      pos = content_type.find(';', v);
    } else {
      const std::size_t end = content_type.find(';', v);
      value = std::string(trim_ascii_ws(content_type.substr(v, end == std::string_view::npos ? end : end - v)));
      pos = end;
    }
    if (name == "charset") {
      if (value.empty()) return std::nullopt;
      return value;
    }
  }
  return std::nullopt;
}

Expected<Decoded> decode(std::string_view bytes, std::optional<std::string_view> content_type_charset) {
  // 1. A byte order mark decides, whatever the page or the server says.
  if (bytes.starts_with("\xEF\xBB\xBF")) return decode_as(bytes, 3, "UTF-8", "BOM", "its byte order mark says");
  if (bytes.starts_with("\xFE\xFF")) return decode_as(bytes, 2, "UTF-16BE", "BOM", "its byte order mark says");
  if (bytes.starts_with("\xFF\xFE")) return decode_as(bytes, 2, "UTF-16LE", "BOM", "its byte order mark says");

  // 2. The charset of the Content-Type header.
  if (content_type_charset) {
    const auto encoding = encoding_for_label(*content_type_charset);
    if (!encoding)
      return fail(ErrorCode::invalid_input, "unknown charset '{}' declared by Content-Type",
                  printable(*content_type_charset));
    return decode_as(bytes, 0, *encoding, "Content-Type", "declared by Content-Type");
  }

  // 3. The <meta> prescan of the first 1024 bytes. A page cannot declare itself UTF-16 from inside (the prescan
  // read it as ASCII): HTML takes UTF-8 then, and windows-1252 for x-user-defined.
  if (auto meta = Prescan(bytes).run()) {
    const std::string_view by = meta->from_http_equiv ? "<meta http-equiv>" : "<meta charset>";
    auto encoding = encoding_for_label(meta->label);
    if (!encoding) {
      if (lower(trim_ascii_ws(meta->label)) != "x-user-defined")
        return fail(ErrorCode::invalid_input, "unknown charset '{}' declared by {}", printable(meta->label), by);
      encoding = "windows-1252";
    }
    if (*encoding == "UTF-16LE" || *encoding == "UTF-16BE") encoding = "UTF-8";
    return decode_as(bytes, 0, *encoding, "meta", fmt::format("declared by {}", by));
  }

  // 4. Nothing declared: windows-1252, the default for an unlabelled page in most of the world.
  return decode_as(bytes, 0, "windows-1252", "default", "read by default (no charset declared)");
}

} // namespace avow::html
