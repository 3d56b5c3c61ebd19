#include <archive/record/record.hpp>

#include <archive/crypto/sha256.hpp>
#include <archive/record/layout.hpp>
#include <archive/text/metadata.hpp>
#include <archive/util/bytes.hpp>
#include <archive/util/time.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <initializer_list>

namespace avow::record {
namespace {

// Quote a hostile name for a one-line message: controls escaped, cut after 64 bytes.
std::string printable(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (out.size() >= 64) {
      out.append("...");
      break;
    }
    if (c < 0x20 || c == 0x7f || c == '\\' || c >= 0x80)
      out += fmt::format("\\x{:02x}", c);
    else
      out.push_back(static_cast<char>(c));
  }
  return out;
}

template <class... Args> std::unexpected<Error> bad(fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected<Error>(
      Error{ErrorCode::invalid_input, "record: " + fmt::format(format, std::forward<Args>(args)...)});
}

std::unexpected<Error> rewrap(const Error& e) { return std::unexpected<Error>(Error{e.code, "record: " + e.message}); }

bool is_digits(std::string_view s, std::size_t pos, std::size_t len) {
  if (pos + len > s.size()) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(pos), s.begin() + static_cast<std::ptrdiff_t>(pos + len),
                     [](char c) { return c >= '0' && c <= '9'; });
}

int number_at(std::string_view s, std::size_t pos, std::size_t len) {
  int v = 0;
  std::from_chars(s.data() + pos, s.data() + pos + len, v);
  return v;
}

// A BCP 47 calendar name ("islamic-umalqura"): 1..4 lowercase alphanumeric subtags of 3..8, joined by '-', not the
// Gregorian "gregory" (which is said by leaving the member out).
bool is_calendar(std::string_view s) {
  if (s.empty() || s.size() > 35 || s == "gregory") return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = std::min(s.find('-', start), s.size());
    const std::string_view part = s.substr(start, end - start);
    if (part.size() < 3 || part.size() > 8) return false;
    for (const char c : part)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
    if (end == s.size()) return true;
    start = end + 1;
  }
}

// "YYYY-MM-DD", a real calendar date.
bool is_date(std::string_view s) {
  if (s.size() != 10 || !is_digits(s, 0, 4) || s[4] != '-' || !is_digits(s, 5, 2) || s[7] != '-' || !is_digits(s, 8, 2))
    return false;
  const std::chrono::year_month_day ymd{std::chrono::year{number_at(s, 0, 4)},
                                        std::chrono::month{static_cast<unsigned>(number_at(s, 5, 2))},
                                        std::chrono::day{static_cast<unsigned>(number_at(s, 8, 2))}};
  return ymd.ok();
}

// "YYYY-MM-DDTHH:MM:SS" with an optional fraction of 1..9 digits; returns the length used, 0 if not one.
std::size_t date_time_length(std::string_view s) {
  if (s.size() < 19 || !is_date(s.substr(0, 10)) || s[10] != 'T' || !is_digits(s, 11, 2) || s[13] != ':' ||
      !is_digits(s, 14, 2) || s[16] != ':' || !is_digits(s, 17, 2))
    return 0;
  if (number_at(s, 11, 2) > 23 || number_at(s, 14, 2) > 59 || number_at(s, 17, 2) > 59) return 0;
  std::size_t n = 19;
  if (n < s.size() && s[n] == '.') {
    std::size_t digits = 0;
    while (n + 1 + digits < s.size() && s[n + 1 + digits] >= '0' && s[n + 1 + digits] <= '9') ++digits;
    if (digits == 0 || digits > 9) return 0;
    n += 1 + digits;
  }
  return n;
}

bool is_utc_time(std::string_view s) {
  const std::size_t n = date_time_length(s);
  return n != 0 && n + 1 == s.size() && s[n] == 'Z';
}

bool is_local_time(std::string_view s) {
  if (s.size() == 10) return is_date(s);
  const std::size_t n = date_time_length(s);
  return n != 0 && n == s.size();
}

bool is_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A zone as the date parser reports it: an IANA name ("Europe/Istanbul", "Etc/GMT+3") or an offset as written
// ("+03:00", "+0300", "Z", "GMT").
bool is_zone(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (!is_alnum(s[0]) && s[0] != '+' && s[0] != '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '_' || c == '+' || c == '-' || c == '/' || c == ':'; });
}

// A charset name (IANA registry style): ASCII letters, digits and . _ : + -, starting with a letter or digit.
bool is_encoding_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || !is_alnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == ':' || c == '+' || c == '-'; });
}

Expected<void> check_hex(std::string_view field, std::string_view value) {
  if (!is_sha256_hex(value)) return bad("{} '{}' is not 64 lowercase hex digits", field, printable(value));
  return {};
}

Expected<void> check_count(std::string_view field, std::uint64_t value) {
  if (value == 0 || value > k_max_json_integer) return bad("{} {} is out of range (1..2^53-1)", field, value);
  return {};
}

Expected<void> check_line(std::string_view field, std::string_view value) {
  if (value.empty()) return bad("{} is empty", field);
  if (auto ok = text::check_single_line(field, value); !ok) return rewrap(ok.error());
  return {};
}

// ---- reading JSON ----

Expected<void> check_members(const json::Value& object, std::string_view where, std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, _] : object.get_ref<const json::Value::object_t&>()) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      if (where.empty()) return bad("unknown field '{}'", printable(name));
      return bad("unknown field '{}.{}'", where, printable(name));
    }
  }
  return {};
}

std::string path_of(std::string_view where, std::string_view name) {
  return where.empty() ? std::string(name) : fmt::format("{}.{}", where, name);
}

// Return the member `name` of `object` if present, or nullptr.
const json::Value* member(const json::Value& object, std::string_view name) {
  const auto& o = object.get_ref<const json::Value::object_t&>();
  const auto it = o.find(std::string(name));
  return it == o.end() ? nullptr : &it->second;
}

Expected<std::optional<std::string>> optional_string(const json::Value& object, std::string_view where, std::string_view name) {
  const json::Value* m = member(object, name);
  if (m == nullptr) return std::optional<std::string>{};
  if (!m->is_string()) return bad("field '{}' must be a string", path_of(where, name));
  return std::optional<std::string>{m->get_ref<const std::string&>()};
}

Expected<std::string> required_string(const json::Value& object, std::string_view where, std::string_view name) {
  auto s = optional_string(object, where, name);
  if (!s) return std::unexpected(s.error());
  if (!*s) return bad("missing field '{}'", path_of(where, name));
  return std::move(**s);
}

Expected<std::uint64_t> required_count(const json::Value& object, std::string_view where, std::string_view name) {
  const json::Value* m = member(object, name);
  if (m == nullptr) return bad("missing field '{}'", path_of(where, name));
  if (m->is_number_unsigned()) return m->get<std::uint64_t>();
  if (m->is_number_integer()) {
    const auto i = m->get<std::int64_t>();
    if (i < 0) return bad("field '{}' must not be negative", path_of(where, name));
    return static_cast<std::uint64_t>(i);
  }
  return bad("field '{}' must be an integer", path_of(where, name));
}

Expected<const json::Value*> object_member(const json::Value& object, std::string_view name, bool required) {
  const json::Value* m = member(object, name);
  if (m == nullptr) {
    if (required) return bad("missing field '{}'", name);
    return nullptr;
  }
  if (!m->is_object()) return bad("field '{}' must be an object", name);
  return m;
}

// ---- writing JSON ----

// Writes the members of one object; the caller passes names in UTF-16 order (all names here are ASCII and sorted).
class ObjectWriter {
public:
  explicit ObjectWriter(std::string& out) : m_out(out) { m_out.push_back('{'); }
  void name(std::string_view n) {
    if (!m_first) m_out.push_back(',');
    m_first = false;
    m_out.push_back('"');
    m_out.append(n);
    m_out.append("\":");
  }
  Expected<void> string(std::string_view n, std::string_view value) {
    name(n);
    return json::append_string(m_out, value);
  }
  Expected<void> optional(std::string_view n, const std::optional<std::string>& value) {
    if (!value) return {};
    return string(n, *value);
  }
  void integer(std::string_view n, std::uint64_t value) {
    name(n);
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    m_out.append(buf, r.ptr);
  }
  void close() { m_out.push_back('}'); }

private:
  std::string& m_out;
  bool m_first = true;
};

#define AVOW_TRY(expr)                                                                                                 \
  do {                                                                                                                 \
    if (auto avow_try_result = (expr); !avow_try_result) return std::unexpected(avow_try_result.error());            \
  } while (false)

Expected<void> write_meta(std::string& out, const std::map<std::string, std::string>& meta) {
  // std::map orders by bytes = code points; UTF-16 order differs only with supplementary characters in names.
  const bool supplementary = std::any_of(meta.begin(), meta.end(), [](const auto& kv) {
    return std::any_of(kv.first.begin(), kv.first.end(), [](char c) { return static_cast<unsigned char>(c) >= 0xf0; });
  });
  if (supplementary) {
    json::Value v = json::Value::object();
    for (const auto& [k, value] : meta) v[k] = value;
    auto text = json::canonicalize(v);
    if (!text) return std::unexpected(text.error());
    out.append(*text);
    return {};
  }
  out.push_back('{');
  bool first = true;
  for (const auto& [k, value] : meta) {
    if (!first) out.push_back(',');
    first = false;
    AVOW_TRY(json::append_string(out, k));
    out.push_back(':');
    AVOW_TRY(json::append_string(out, value));
  }
  out.push_back('}');
  return {};
}

} // namespace

Expected<void> validate(const Statement& s) {
  AVOW_TRY(check_hex("text.sha256", s.text.sha256));
  AVOW_TRY(check_count("text.bytes", s.text.bytes));
  if (s.text.lang) {
    if (auto ok = text::check_lang(*s.text.lang); !ok) return rewrap(ok.error());
  }
  if (s.original) {
    AVOW_TRY(check_hex("original.sha256", s.original->sha256));
    AVOW_TRY(check_count("original.bytes", s.original->bytes));
    if (!is_encoding_name(s.original->encoding))
      return bad("original.encoding '{}' is not a charset name", printable(s.original->encoding));
    if (s.original->sha256 == s.text.sha256) return bad("original equals the canonical text; omit it");
    if (s.original->type && *s.original->type != "application/warc")
      return bad("original.type '{}' is not application/warc", printable(*s.original->type));
  }
  if (s.title) {
    AVOW_TRY(check_line("title", *s.title));
    if (s.title->size() > k_max_title_bytes)
      return bad("title is {} bytes, more than the limit of {}", s.title->size(), k_max_title_bytes);
  }
  if (auto ok = text::check_iri(s.source.uri); !ok) return rewrap(ok.error());
  if (s.source.publisher) AVOW_TRY(check_line("source.publisher", *s.source.publisher));
  if (s.published) {
    AVOW_TRY(check_line("published.as_written", s.published->as_written));
    if (s.published->utc && !is_utc_time(*s.published->utc))
      return bad("published.utc '{}' is not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SS[.frac]Z)", printable(*s.published->utc));
    if (s.published->local && !is_local_time(*s.published->local))
      return bad("published.local '{}' is not YYYY-MM-DD[THH:MM:SS[.frac]]", printable(*s.published->local));
    if (s.published->tz && !is_zone(*s.published->tz))
      return bad("published.tz '{}' is not a time zone name or offset", printable(*s.published->tz));
    if (s.published->calendar && !is_calendar(*s.published->calendar))
      return bad("published.calendar '{}' is not a calendar name other than gregory (e.g. islamic-umalqura)",
                 printable(*s.published->calendar));
    if (s.published->calendar && !s.published->local) return bad("published.calendar is given without published.local");
  }
  if (!parse_rfc3339_utc(s.captured))
    return bad("captured '{}' is not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)", printable(s.captured));
  AVOW_TRY(check_hex("archivist", s.archivist));
  if (s.supersedes) AVOW_TRY(check_hex("supersedes", *s.supersedes));
  std::size_t meta_bytes = 0;
  for (const auto& [k, v] : s.meta) {
    if (k.empty()) return bad("meta has an empty key");
    if (k.size() > k_max_meta_key_bytes) return bad("meta key '{}' is longer than {} bytes", printable(k), k_max_meta_key_bytes);
    if (auto ok = text::check_single_line("meta key", k); !ok) return rewrap(ok.error());
    if (!json::is_valid_utf8(v)) return bad("meta value of '{}' is not valid UTF-8", printable(k));
    meta_bytes += k.size() + v.size();
  }
  if (meta_bytes > k_max_meta_bytes)
    return bad("meta is {} bytes, more than the limit of {}", meta_bytes, k_max_meta_bytes);
  return {};
}

Expected<json::Value> to_json(const Statement& s) {
  AVOW_TRY(validate(s));
  json::Value v = json::Value::object();
  v["format"] = k_format;
  v["kind"] = k_kind_statement;
  json::Value text = {{"sha256", s.text.sha256}, {"bytes", s.text.bytes}};
  if (s.text.lang) text["lang"] = *s.text.lang;
  v["text"] = std::move(text);
  if (s.original) {
    v["original"] = {{"sha256", s.original->sha256}, {"bytes", s.original->bytes}, {"encoding", s.original->encoding}};
    if (s.original->type) v["original"]["type"] = *s.original->type;
  }
  if (s.title) v["title"] = *s.title;
  json::Value source = {{"uri", s.source.uri}};
  if (s.source.publisher) source["publisher"] = *s.source.publisher;
  v["source"] = std::move(source);
  if (s.published) {
    json::Value p = {{"as_written", s.published->as_written}};
    if (s.published->utc) p["utc"] = *s.published->utc;
    if (s.published->local) p["local"] = *s.published->local;
    if (s.published->tz) p["tz"] = *s.published->tz;
    if (s.published->calendar) p["calendar"] = *s.published->calendar;
    v["published"] = std::move(p);
  }
  v["captured"] = s.captured;
  v["archivist"] = s.archivist;
  if (s.supersedes) v["supersedes"] = *s.supersedes;
  if (!s.meta.empty()) {
    json::Value meta = json::Value::object();
    for (const auto& [k, value] : s.meta) meta[k] = value;
    v["meta"] = std::move(meta);
  }
  return v;
}

Expected<Statement> from_json(const json::Value& v) {
  if (!v.is_object()) return bad("not a JSON object");
  AVOW_TRY(check_members(v, "", {"archivist", "captured", "format", "kind", "meta", "original", "published", "source",
                                  "supersedes", "text", "title"}));
  auto format = required_string(v, "", "format");
  if (!format) return std::unexpected(format.error());
  if (*format != k_format) return bad("unknown format '{}' (want {})", printable(*format), k_format);
  auto kind = required_string(v, "", "kind");
  if (!kind) return std::unexpected(kind.error());
  if (*kind != k_kind_statement) return bad("kind '{}' is not a statement", printable(*kind));

  Statement s;
  auto text = object_member(v, "text", true);
  if (!text) return std::unexpected(text.error());
  AVOW_TRY(check_members(**text, "text", {"bytes", "lang", "sha256"}));
  auto text_sha = required_string(**text, "text", "sha256");
  if (!text_sha) return std::unexpected(text_sha.error());
  s.text.sha256 = std::move(*text_sha);
  auto text_bytes = required_count(**text, "text", "bytes");
  if (!text_bytes) return std::unexpected(text_bytes.error());
  s.text.bytes = *text_bytes;
  auto lang = optional_string(**text, "text", "lang");
  if (!lang) return std::unexpected(lang.error());
  s.text.lang = std::move(*lang);

  auto original = object_member(v, "original", false);
  if (!original) return std::unexpected(original.error());
  if (*original != nullptr) {
    AVOW_TRY(check_members(**original, "original", {"bytes", "encoding", "sha256", "type"}));
    OriginalRef o;
    auto sha = required_string(**original, "original", "sha256");
    if (!sha) return std::unexpected(sha.error());
    o.sha256 = std::move(*sha);
    auto bytes = required_count(**original, "original", "bytes");
    if (!bytes) return std::unexpected(bytes.error());
    o.bytes = *bytes;
    auto encoding = required_string(**original, "original", "encoding");
    if (!encoding) return std::unexpected(encoding.error());
    o.encoding = std::move(*encoding);
    auto type = optional_string(**original, "original", "type");
    if (!type) return std::unexpected(type.error());
    o.type = std::move(*type);
    s.original = std::move(o);
  }

  auto title = optional_string(v, "", "title");
  if (!title) return std::unexpected(title.error());
  s.title = std::move(*title);

  auto source = object_member(v, "source", true);
  if (!source) return std::unexpected(source.error());
  AVOW_TRY(check_members(**source, "source", {"publisher", "uri"}));
  auto uri = required_string(**source, "source", "uri");
  if (!uri) return std::unexpected(uri.error());
  s.source.uri = std::move(*uri);
  auto publisher = optional_string(**source, "source", "publisher");
  if (!publisher) return std::unexpected(publisher.error());
  s.source.publisher = std::move(*publisher);

  auto published = object_member(v, "published", false);
  if (!published) return std::unexpected(published.error());
  if (*published != nullptr) {
    AVOW_TRY(check_members(**published, "published", {"as_written", "calendar", "local", "tz", "utc"}));
    Published p;
    auto as_written = required_string(**published, "published", "as_written");
    if (!as_written) return std::unexpected(as_written.error());
    p.as_written = std::move(*as_written);
    for (auto [name, target] : {std::pair{"utc", &p.utc}, std::pair{"local", &p.local}, std::pair{"tz", &p.tz},
                                std::pair{"calendar", &p.calendar}}) {
      auto value = optional_string(**published, "published", name);
      if (!value) return std::unexpected(value.error());
      *target = std::move(*value);
    }
    s.published = std::move(p);
  }

  auto captured = required_string(v, "", "captured");
  if (!captured) return std::unexpected(captured.error());
  s.captured = std::move(*captured);
  auto archivist = required_string(v, "", "archivist");
  if (!archivist) return std::unexpected(archivist.error());
  s.archivist = std::move(*archivist);
  auto supersedes = optional_string(v, "", "supersedes");
  if (!supersedes) return std::unexpected(supersedes.error());
  s.supersedes = std::move(*supersedes);

  auto meta = object_member(v, "meta", false);
  if (!meta) return std::unexpected(meta.error());
  if (*meta != nullptr) {
    // An empty meta is written by omitting it, so `"meta":{}` would be a second spelling of the same record.
    if ((*meta)->empty()) return bad("field 'meta' is empty (omit it instead)");
    for (const auto& [k, value] : (*meta)->get_ref<const json::Value::object_t&>()) {
      if (!value.is_string()) return bad("field 'meta.{}' must be a string", printable(k));
      s.meta.emplace(k, value.get_ref<const std::string&>());
    }
  }

  AVOW_TRY(validate(s));
  return s;
}

Expected<std::string> payload(const Statement& s) {
  AVOW_TRY(validate(s));
  std::string out;
  out.reserve(512 + (s.title ? s.title->size() : 0) + s.source.uri.size());
  // Top-level members in UTF-16 (here: ASCII) order.
  ObjectWriter top(out);
  AVOW_TRY(top.string("archivist", s.archivist));
  AVOW_TRY(top.string("captured", s.captured));
  AVOW_TRY(top.string("format", k_format));
  AVOW_TRY(top.string("kind", k_kind_statement));
  if (!s.meta.empty()) {
    top.name("meta");
    AVOW_TRY(write_meta(out, s.meta));
  }
  if (s.original) {
    top.name("original");
    ObjectWriter o(out);
    o.integer("bytes", s.original->bytes);
    AVOW_TRY(o.string("encoding", s.original->encoding));
    AVOW_TRY(o.string("sha256", s.original->sha256));
    AVOW_TRY(o.optional("type", s.original->type));
    o.close();
  }
  if (s.published) {
    top.name("published");
    ObjectWriter p(out);
    AVOW_TRY(p.string("as_written", s.published->as_written));
    AVOW_TRY(p.optional("calendar", s.published->calendar));
    AVOW_TRY(p.optional("local", s.published->local));
    AVOW_TRY(p.optional("tz", s.published->tz));
    AVOW_TRY(p.optional("utc", s.published->utc));
    p.close();
  }
  {
    top.name("source");
    ObjectWriter src(out);
    AVOW_TRY(src.optional("publisher", s.source.publisher));
    AVOW_TRY(src.string("uri", s.source.uri));
    src.close();
  }
  AVOW_TRY(top.optional("supersedes", s.supersedes));
  {
    top.name("text");
    ObjectWriter t(out);
    t.integer("bytes", s.text.bytes);
    AVOW_TRY(t.optional("lang", s.text.lang));
    AVOW_TRY(t.string("sha256", s.text.sha256));
    t.close();
  }
  AVOW_TRY(top.optional("title", s.title));
  top.close();
  return out;
}

Expected<Statement> parse_payload(std::string_view bytes) {
  auto v = json::parse_canonical(bytes);
  if (!v) return rewrap(v.error());
  return from_json(*v);
}

std::string record_id(std::string_view bytes) { return to_hex(crypto::sha256(bytes)); }

} // namespace avow::record
