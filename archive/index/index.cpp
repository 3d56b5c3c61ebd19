#include <archive/index/index.hpp>

#include <archive/json/jcs.hpp>

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <chrono>
#include <map>
#include <cstdio>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace avow::index {
namespace {

namespace fs = std::filesystem;

// Bump when the schema changes: an index of another version is refused by open() and rebuilt by the caller.
constexpr int k_schema_version = 6; // 2: (publisher, pub_key) index for publisher + time queries; 3: source_key;
                                     // 4: pub_calendar; 5: one (source_key, source) index for both columns;
                                     // 6: the kind and original indexes hold only key events and originals

// Tokens are letters, numbers, private-use characters and combining marks (so Arabic harakat do not split a word;
// they are removed before indexing, see fold_for_search). remove_diacritics 2 folds Latin diacritics (café = cafe).
constexpr const char* k_schema_tables = R"sql(
CREATE TABLE info(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE entries(
  idx INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT, publisher TEXT, title TEXT, lang TEXT,
  archivist TEXT NOT NULL,
  captured TEXT NOT NULL,
  captured_key TEXT,
  pub_as_written TEXT, pub_utc TEXT, pub_local TEXT, pub_tz TEXT,
  pub_key TEXT,
  pub_exact INTEGER,
  text_sha256 TEXT, text_bytes INTEGER,
  original_sha256 TEXT, original_bytes INTEGER, original_encoding TEXT,
  supersedes TEXT, meta_json TEXT,
  key_id TEXT, role TEXT, reason TEXT,
  source_key TEXT,
  pub_calendar TEXT);
CREATE VIRTUAL TABLE texts USING fts5(body, content='',
  tokenize="unicode61 remove_diacritics 2 categories 'L* N* Co M*'");
)sql";

// The secondary indexes, created with the tables by open() and after the rows by IndexBuilder (one sort each instead
// of a B-tree insert per row). A source is looked up by (source_key, source), source_key(source) being a function of
// the source (see k_source_match): one index serves the exact match and "did you mean", where two indexes cost every
// rebuild two scans of the table and two sorts. Changing source_key() therefore changes the schema (k_schema_version).
// The kind and original indexes are partial: nearly every entry is a statement and few have an original, and a full
// index would cost every rebuild two sorts of a million rows for the handful a look-up wants (and every append two
// B-tree inserts). SQLite uses a partial index only for a query whose WHERE holds the index's own condition (for
// `x IS NOT NULL`, any comparison x = ? does): a query for key events therefore says k_key_event as written here.
constexpr const char* k_schema_indexes = R"sql(
CREATE INDEX entries_id ON entries(id);
CREATE INDEX entries_kind ON entries(kind) WHERE kind <> 'statement';
CREATE INDEX entries_source ON entries(source_key, source);
CREATE INDEX entries_publisher ON entries(publisher, pub_key);
CREATE INDEX entries_archivist ON entries(archivist);
CREATE INDEX entries_lang ON entries(lang COLLATE NOCASE);
CREATE INDEX entries_captured ON entries(captured_key);
CREATE INDEX entries_published ON entries(pub_key);
CREATE INDEX entries_text ON entries(text_sha256);
CREATE INDEX entries_original ON entries(original_sha256) WHERE original_sha256 IS NOT NULL;
)sql";

// The index's page cache (16 MiB) and a sort thread's while the secondary indexes are sorted (IndexBuilder::finish,
// Index::add): the eleven sorts at 1,000,000 entries took 9.3 s with 16 MiB each, 8.2 s with 4 MiB (smaller runs sort
// within the processor's caches; 64 MiB took 19 s), and less memory.
constexpr int k_cache_kib = 16384;
constexpr int k_sort_cache_kib = 4096;

// Helper threads for those sorts.
unsigned sort_threads() { return std::clamp(std::thread::hardware_concurrency(), 1u, 8u); }

// The condition of the kind index (see above), which every query for key events carries.
constexpr std::string_view k_key_event = "kind <> 'statement'";

// FTS5's in-memory term buffer (its "hashsize" setting): its default, and what a rebuild uses (IndexBuilder::create).
constexpr int k_fts_hash_bytes = 1 << 20;
constexpr int k_build_fts_hash_bytes = 8 << 20;

// The columns every row query selects, in the order read_row reads them.
constexpr const char* k_columns =
    "idx, id, kind, source, publisher, title, lang, archivist, captured, pub_as_written, pub_utc, pub_local, pub_tz, "
    "text_sha256, original_sha256, original_encoding, supersedes, text_bytes, original_bytes, meta_json, key_id, role, "
    "reason, pub_calendar";

// SQLite counts every allocation under one process-wide mutex, for memory statistics avow never reads; turned off
// before the library's first use (sqlite3_config refuses once it is initialised). The inserts of a rebuild spent 1.2
// of their 17 s of CPU taking and releasing mutexes.
void configure_sqlite() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

// The rows of one source, by the index on (source_key, source): bind source_key(source), then source.
constexpr const char* k_source_match = "(source_key = ? AND source = ?)";

struct DbClose {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbClose>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

using Param = std::variant<std::string, std::int64_t>;

// A WHERE clause made of fixed SQL text and the parameters it binds, in order.
struct Where {
  std::string sql = "1";
  std::vector<Param> params;
  void add(std::string_view clause, std::vector<Param> values) {
    sql += " AND ";
    sql += clause;
    for (auto& v : values) params.push_back(std::move(v));
  }
};

bool is_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// A moment as a sort key: "YYYY-MM-DDTHH:MM:SS.fffffffff" in UTC (fraction padded or cut to 9 digits), so that
// string order is time order. `date` is its first 10 characters.
struct Instant {
  std::string key;
  std::string date() const { return key.substr(0, 10); }
};

std::optional<std::chrono::year_month_day> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (!is_digits(s.substr(0, 4)) || !is_digits(s.substr(5, 2)) || !is_digits(s.substr(8, 2))) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{to_int(s.substr(0, 4))},
                                        std::chrono::month{static_cast<unsigned>(to_int(s.substr(5, 2)))},
                                        std::chrono::day{static_cast<unsigned>(to_int(s.substr(8, 2)))}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

// Parse RFC 3339 "YYYY-MM-DD(T|t| )HH:MM:SS[.frac](Z|z|+HH:MM|-HH:MM)" into a UTC sort key; nullopt otherwise.
std::optional<Instant> parse_instant(std::string_view s) {
  using namespace std::chrono;
  if (s.size() < 20) return std::nullopt;
  const auto ymd = parse_date(s.substr(0, 10));
  if (!ymd || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')) return std::nullopt;
  const std::string_view t = s.substr(11);
  if (t.size() < 9 || t[2] != ':' || t[5] != ':' || !is_digits(t.substr(0, 2)) || !is_digits(t.substr(3, 2)) ||
      !is_digits(t.substr(6, 2)))
    return std::nullopt;
  const int hh = to_int(t.substr(0, 2)), mi = to_int(t.substr(3, 2)), ss = to_int(t.substr(6, 2));
  if (hh > 23 || mi > 59 || ss > 59) return std::nullopt;
  std::size_t pos = 8;
  std::string frac;
  if (t[pos] == '.') {
    ++pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') frac += t[pos++];
    if (frac.empty()) return std::nullopt;
  }
  const std::string_view zone = t.substr(pos);
  int offset_minutes = 0;
  if (zone == "Z" || zone == "z") {
    offset_minutes = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
             is_digits(zone.substr(1, 2)) && is_digits(zone.substr(4, 2))) {
    const int oh = to_int(zone.substr(1, 2)), om = to_int(zone.substr(4, 2));
    if (oh > 23 || om > 59) return std::nullopt;
    offset_minutes = (oh * 60 + om) * (zone[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  const sys_seconds local_as_utc = sys_days{*ymd} + hours{hh} + minutes{mi} + seconds{ss};
  const sys_seconds utc = local_as_utc - minutes{offset_minutes};
  const sys_days day = floor<days>(utc);
  const year_month_day d{day};
  const hh_mm_ss<seconds> tod{utc - day};
  if (static_cast<int>(d.year()) < 0 || static_cast<int>(d.year()) > 9999) return std::nullopt;
  frac.resize(9, '0');
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()), static_cast<int>(tod.hours().count()),
                static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()));
  return Instant{std::string(buf) + frac};
}

// A --since/--until bound: an instant, or a whole day ("YYYY-MM-DD": since its first instant, until its last).
Expected<Instant> parse_bound(std::string_view name, std::string_view s, bool is_until) {
  if (parse_date(s)) return Instant{std::string(s) + (is_until ? "T23:59:59.999999999" : "T00:00:00.000000000")};
  if (auto i = parse_instant(s)) return *i;
  return fail(ErrorCode::invalid_input, "cannot parse {} '{}': expected YYYY-MM-DD or RFC 3339 with Z or an offset",
              name, s);
}

// Remove Arabic harakat, Quranic annotation marks and tatweel (U+0640): searching "محمد" finds "مُحَمَّد". Applied to
// indexed texts and to query words alike. Bytes that are not such a character are copied unchanged.
std::string fold_for_search(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 >= 0xD8 && b0 <= 0xDB && i + 1 < s.size()) { // two-byte sequences for U+0600..U+06FF
      const auto b1 = static_cast<unsigned char>(s[i + 1]);
      if ((b1 & 0xC0) == 0x80) {
        const unsigned cp = ((b0 & 0x1Fu) << 6) | (b1 & 0x3Fu);
        const bool strip = (cp >= 0x0610 && cp <= 0x061A) || (cp >= 0x064B && cp <= 0x065F) || cp == 0x0640 ||
                           cp == 0x0670 || (cp >= 0x06D6 && cp <= 0x06DC) || (cp >= 0x06DF && cp <= 0x06E4) ||
                           cp == 0x06E7 || cp == 0x06E8 || (cp >= 0x06EA && cp <= 0x06ED);
        if (strip) {
          ++i;
          continue;
        }
      }
    }
    out += s[i];
  }
  return out;
}

// Turn the user's words into an FTS5 expression in which every word is a string literal ("..." with " doubled), so
// no word can act as an FTS5 operator, column filter or syntax error. Words are separated by ASCII spaces and control
// characters (NUL included, which would otherwise end the expression early); all words are required.
Expected<std::string> fts_query(std::string_view grep) {
  const auto is_separator = [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; };
  std::string out;
  std::size_t i = 0;
  while (i < grep.size()) {
    while (i < grep.size() && is_separator(grep[i])) ++i;
    const std::size_t start = i;
    while (i < grep.size() && !is_separator(grep[i])) ++i;
    if (i == start) break;
    const std::string word = fold_for_search(grep.substr(start, i - start));
    if (word.empty()) continue;
    if (!out.empty()) out += " AND ";
    out += '"';
    for (char c : word) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  if (out.empty()) return fail(ErrorCode::invalid_input, "--grep needs at least one word");
  return out;
}

Expected<Where> build_where(const Filter& f) {
  Where w;
  if (f.source) w.add(k_source_match, {source_key(*f.source), *f.source});
  if (f.publisher) w.add("publisher = ?", {*f.publisher});
  if (f.archivist) w.add("archivist = ?", {*f.archivist});
  // BCP 47 tags compare case-insensitively (ASCII), and a tag matches itself and its extensions by subtag:
  // "en" matches en, EN, en-GB, en-us; "en-GB" matches en-GB and en-GB-oxendict, never en.
  // Under NOCASE the tags in ["en-", "en.") are exactly those starting with "en-" in any case ('.' follows '-').
  if (f.lang)
    w.add("(lang = ? COLLATE NOCASE OR (lang >= ? COLLATE NOCASE AND lang < ? COLLATE NOCASE))",
          {*f.lang, *f.lang + "-", *f.lang + "."});
  if (f.kind) {
    if (*f.kind == record::k_kind_statement) w.add("kind = ?", {*f.kind});
    else w.add(fmt::format("kind = ? AND {}", k_key_event), {*f.kind});
  }
  if (f.since) {
    auto b = parse_bound("--since", *f.since, false);
    if (!b) return std::unexpected(b.error());
    if (f.time_field == TimeField::captured) {
      w.add("captured_key >= ?", {b->key});
    } else { // exact: pub_key >= instant; date-only: pub_key >= date. The date is a prefix of the instant.
      w.add("pub_key >= ? AND (pub_exact = 0 OR pub_key >= ?)", {b->date(), b->key});
    }
  }
  if (f.until) {
    auto b = parse_bound("--until", *f.until, true);
    if (!b) return std::unexpected(b.error());
    if (f.time_field == TimeField::captured) {
      w.add("captured_key <= ?", {b->key});
    } else { // a date-only key (10 characters) sorts before every instant of its day
      w.add("pub_key <= ? AND (pub_exact = 1 OR pub_key <= ?)", {b->key, b->date()});
    }
  }
  if (f.grep) {
    auto q = fts_query(*f.grep);
    if (!q) return std::unexpected(q.error());
    w.add("idx IN (SELECT rowid FROM texts WHERE texts MATCH ?)", {*q});
  }
  return w;
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}

Row read_row(sqlite3_stmt* s) {
  Row r;
  int i = 0;
  r.index = static_cast<std::uint64_t>(sqlite3_column_int64(s, i++));
  for (std::string* field : {&r.id, &r.kind, &r.source, &r.publisher, &r.title, &r.lang, &r.archivist, &r.captured,
                             &r.published_as_written, &r.published_utc, &r.published_local, &r.published_tz,
                             &r.text_sha256, &r.original_sha256, &r.original_encoding, &r.supersedes})
    *field = column_text(s, i++);
  r.text_bytes = static_cast<std::uint64_t>(sqlite3_column_int64(s, i++));
  r.original_bytes = static_cast<std::uint64_t>(sqlite3_column_int64(s, i++));
  for (std::string* field : {&r.meta_json, &r.key_id, &r.role, &r.reason, &r.published_calendar})
    *field = column_text(s, i++);
  return r;
}

} // namespace

std::string source_key(std::string_view uri) {
  const auto lower = [](std::string_view v) {
    std::string out(v);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  };
  std::string_view s = uri.substr(0, uri.find('#'));
  std::string out;
  const std::size_t colon = s.find(':');
  bool has_scheme = colon != std::string_view::npos && colon > 0;
  for (std::size_t i = 0; has_scheme && i < colon; ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) has_scheme = false;
  }
  std::string_view rest = s;
  if (has_scheme) {
    const std::string scheme = lower(s.substr(0, colon));
    out = scheme + ":";
    rest = s.substr(colon + 1);
    if (rest.starts_with("//")) {
      rest.remove_prefix(2);
      const std::size_t end = rest.find_first_of("/?");
      const std::string_view authority = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
      const std::size_t at = authority.rfind('@');
      const std::string_view userinfo = at == std::string_view::npos ? std::string_view{} : authority.substr(0, at + 1);
      const std::string_view hostport = at == std::string_view::npos ? authority : authority.substr(at + 1);
      std::string_view host = hostport, port;
      const std::size_t bracket = hostport.rfind(']'), port_colon = hostport.rfind(':');
      if (port_colon != std::string_view::npos && (bracket == std::string_view::npos || port_colon > bracket)) {
        host = hostport.substr(0, port_colon);
        port = hostport.substr(port_colon + 1);
      }
      const bool default_port = port.empty() || ((scheme == "http" || scheme == "ws") && port == "80") ||
                                ((scheme == "https" || scheme == "wss") && port == "443") ||
                                (scheme == "ftp" && port == "21");
      out += "//";
      out += userinfo;
      out += lower(host);
      if (!default_port) out += ":" + std::string(port);
    }
  }
  const std::size_t q = rest.find('?');
  std::string_view path = rest.substr(0, q);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out += path;
  if (q != std::string_view::npos) out += rest.substr(q);
  return out;
}

Expected<std::string> resolve_key_prefix(std::string_view given, std::span<const std::string> key_ids) {
  std::string prefix;
  for (char c : given) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      prefix.clear();
      break;
    }
    prefix += c;
  }
  if (prefix.size() < 8 || prefix.size() > 64)
    return fail(ErrorCode::invalid_input, "--archivist '{}' is not a key id: expected 8 to 64 hex digits", given);
  if (prefix.size() == 64) return prefix;
  std::vector<std::string> candidates;
  for (const auto& id : key_ids)
    if (id.starts_with(prefix) && std::find(candidates.begin(), candidates.end(), id) == candidates.end())
      candidates.push_back(id);
  std::sort(candidates.begin(), candidates.end());
  if (candidates.size() > 1) {
    std::string list;
    for (const auto& c : candidates) list += (list.empty() ? "" : ", ") + c;
    return fail(ErrorCode::invalid_input, "--archivist '{}' is ambiguous: {} key ids start with it: {}", given,
                candidates.size(), list);
  }
  return candidates.empty() ? prefix : candidates.front();
}

struct Index::Impl {
  fs::path file;
  DbPtr db;
  // Declared after db, so statements are finalized before the connection closes.
  std::unordered_map<std::string, StmtPtr> cache;

  std::unexpected<Error> sql_error(std::string_view what) const {
    const int saved_errno = errno; // of the failed call, when SQLite did not record it
    const int primary = sqlite3_extended_errcode(db.get()) & 0xFF;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
      return fail(ErrorCode::failed_precondition, "index '{}' is damaged: {}", file.string(), sqlite3_errmsg(db.get()));
    // A failed write (a full disk, a file size limit): name the system error, which SQLite's message does not.
    int sys = sqlite3_system_errno(db.get());
    if (sys == 0) sys = primary == SQLITE_FULL ? ENOSPC : saved_errno;
    if (sys != 0 && (primary == SQLITE_IOERR || primary == SQLITE_FULL))
      return fail(ErrorCode::io, "cannot write index '{}': {}: {}", file.string(), sqlite3_errmsg(db.get()),
                  std::strerror(sys));
    return fail(ErrorCode::io, "index '{}': {}: {}", file.string(), what, sqlite3_errmsg(db.get()));
  }

  Expected<void> exec(const char* sql) {
    if (sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) return sql_error("cannot run statement");
    return {};
  }

  // Drop the secondary indexes of `entries` (those k_schema_indexes creates; the caller's transaction re-creates them).
  Expected<void> drop_secondary_indexes() {
    std::vector<std::string> names;
    {
      auto s = prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries' AND sql IS NOT NULL");
      if (!s) return std::unexpected(s.error());
      Query q(*s);
      int rc;
      while ((rc = sqlite3_step(*s)) == SQLITE_ROW) names.push_back(column_text(*s, 0));
      if (rc != SQLITE_DONE) return sql_error("cannot list the indexes");
    }
    for (const auto& name : names) {
      // Names are spliced into the statement: only this schema's own (a damaged file may hold anything).
      if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; }))
        return fail(ErrorCode::failed_precondition, "index '{}' is damaged: an unexpected index", file.string());
      if (auto r = exec(fmt::format("DROP INDEX {}", name).c_str()); !r) return r;
    }
    return {};
  }

  // A cached prepared statement, reset and unbound when the guard ends.
  class Query {
  public:
    explicit Query(sqlite3_stmt* s) : m_stmt(s) {}
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    ~Query() {
      sqlite3_reset(m_stmt);
      sqlite3_clear_bindings(m_stmt);
    }
    sqlite3_stmt* get() const { return m_stmt; }

  private:
    sqlite3_stmt* m_stmt;
  };

  Expected<sqlite3_stmt*> prepare(const std::string& sql) {
    if (auto it = cache.find(sql); it != cache.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db.get(), sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                           nullptr) != SQLITE_OK) {
      sqlite3_finalize(raw);
      return sql_error("cannot prepare query");
    }
    cache.emplace(sql, StmtPtr(raw));
    return raw;
  }

  Expected<void> bind(sqlite3_stmt* s, const std::vector<Param>& params) const {
    int i = 1;
    for (const Param& p : params) {
      int rc;
      if (const auto* str = std::get_if<std::string>(&p))
        rc = sqlite3_bind_text64(s, i++, str->data(), str->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      else
        rc = sqlite3_bind_int64(s, i++, std::get<std::int64_t>(p));
      if (rc != SQLITE_OK) return sql_error("cannot bind parameter");
    }
    return {};
  }

  Expected<std::vector<Row>> rows(const std::string& sql, const std::vector<Param>& params) {
    auto s = prepare(sql);
    if (!s) return std::unexpected(s.error());
    Query q(*s);
    if (auto b = bind(*s, params); !b) return std::unexpected(b.error());
    std::vector<Row> out;
    for (;;) {
      const int rc = sqlite3_step(*s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return sql_error("query failed");
      out.push_back(read_row(*s));
    }
    return out;
  }

  Expected<std::vector<Count>> counts(const std::string& sql, const std::vector<Param>& params) {
    auto s = prepare(sql);
    if (!s) return std::unexpected(s.error());
    Query q(*s);
    if (auto b = bind(*s, params); !b) return std::unexpected(b.error());
    std::vector<Count> out;
    for (;;) {
      const int rc = sqlite3_step(*s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return sql_error("query failed");
      out.push_back(Count{column_text(*s, 0), static_cast<std::uint64_t>(sqlite3_column_int64(*s, 1))});
    }
    return out;
  }

  // Run a statement that returns at most one row with one integer column (nullopt: no row or NULL).
  Expected<std::optional<std::int64_t>> scalar(const std::string& sql, const std::vector<Param>& params = {}) {
    auto s = prepare(sql);
    if (!s) return std::unexpected(s.error());
    Query q(*s);
    if (auto b = bind(*s, params); !b) return std::unexpected(b.error());
    const int rc = sqlite3_step(*s);
    if (rc == SQLITE_DONE) return std::optional<std::int64_t>{};
    if (rc != SQLITE_ROW) return sql_error("query failed");
    if (sqlite3_column_type(*s, 0) == SQLITE_NULL) return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>{sqlite3_column_int64(*s, 0)};
  }

  Expected<void> run(const std::string& sql, const std::vector<Param>& params) {
    auto s = prepare(sql);
    if (!s) return std::unexpected(s.error());
    Query q(*s);
    if (auto b = bind(*s, params); !b) return std::unexpected(b.error());
    if (sqlite3_step(*s) != SQLITE_DONE) return sql_error("cannot write");
    return {};
  }

  Expected<std::uint64_t> size() {
    auto v = scalar("SELECT max(idx) FROM entries");
    if (!v) return std::unexpected(v.error());
    return *v ? static_cast<std::uint64_t>(**v) + 1 : 0;
  }

  Expected<void> insert(const IndexEntry& e) {
    static const std::string k_insert =
        "INSERT INTO entries(idx, id, kind, source, publisher, title, lang, archivist, captured, captured_key, "
        "pub_as_written, pub_utc, pub_local, pub_tz, pub_key, pub_exact, text_sha256, text_bytes, original_sha256, "
        "original_bytes, original_encoding, supersedes, meta_json, key_id, role, reason, source_key, pub_calendar) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    auto s = prepare(k_insert);
    if (!s) return std::unexpected(s.error());
    Query q(*s);
    sqlite3_stmt* st = *s;
    int col = 1;
    bool ok = true;
    auto text = [&](const std::optional<std::string>& v) {
      ok = ok && (v ? sqlite3_bind_text64(st, col, v->data(), v->size(), SQLITE_TRANSIENT, SQLITE_UTF8)
                    : sqlite3_bind_null(st, col)) == SQLITE_OK;
      ++col;
    };
    auto integer = [&](std::optional<std::int64_t> v) {
      ok = ok && (v ? sqlite3_bind_int64(st, col, *v) : sqlite3_bind_null(st, col)) == SQLITE_OK;
      ++col;
    };
    integer(static_cast<std::int64_t>(e.index));
    text(e.id);
    if (const auto* st_rec = std::get_if<record::Statement>(&e.record)) {
      const record::Statement& r = *st_rec;
      std::optional<std::string> pub_key;
      std::optional<std::int64_t> pub_exact;
      if (r.published && r.published->utc) {
        if (auto i = parse_instant(*r.published->utc)) pub_key = i->key, pub_exact = 1;
      }
      if (!pub_key && r.published && r.published->local && r.published->local->size() >= 10 &&
          parse_date(r.published->local->substr(0, 10)))
        pub_key = r.published->local->substr(0, 10), pub_exact = 0;
      json::Value meta = json::Value::object();
      for (const auto& [k, v] : r.meta) meta[k] = v;
      auto meta_json = json::canonicalize(meta);
      if (!meta_json) return std::unexpected(meta_json.error());
      const auto captured_key = parse_instant(r.captured);
      text(std::string(record::k_kind_statement));
      text(r.source.uri);
      text(r.source.publisher);
      text(r.title);
      text(r.text.lang);
      text(r.archivist);
      text(r.captured);
      text(captured_key ? std::optional<std::string>(captured_key->key) : std::nullopt);
      text(r.published ? std::optional<std::string>(r.published->as_written) : std::nullopt);
      text(r.published ? r.published->utc : std::nullopt);
      text(r.published ? r.published->local : std::nullopt);
      text(r.published ? r.published->tz : std::nullopt);
      text(pub_key);
      integer(pub_exact);
      text(r.text.sha256);
      integer(static_cast<std::int64_t>(r.text.bytes));
      text(r.original ? std::optional<std::string>(r.original->sha256) : std::nullopt);
      integer(r.original ? std::optional<std::int64_t>(static_cast<std::int64_t>(r.original->bytes)) : std::nullopt);
      text(r.original ? std::optional<std::string>(r.original->encoding) : std::nullopt);
      text(r.supersedes);
      text(*meta_json);
      text(std::nullopt);
      text(std::nullopt);
      text(std::nullopt);
      text(source_key(r.source.uri));
      text(r.published ? r.published->calendar : std::nullopt);
    } else {
      const auto& k = std::get<record::KeyEvent>(e.record);
      const auto captured_key = parse_instant(k.captured);
      text(k.kind);
      for (int i = 0; i < 4; ++i) text(std::nullopt); // source, publisher, title, lang
      text(k.archivist);
      text(k.captured);
      text(captured_key ? std::optional<std::string>(captured_key->key) : std::nullopt);
      for (int i = 0; i < 5; ++i) text(std::nullopt); // as_written, utc, local, tz, pub_key
      integer(std::nullopt);                          // pub_exact
      text(std::nullopt);                             // text_sha256
      integer(std::nullopt);                          // text_bytes
      text(std::nullopt);                             // original_sha256
      integer(std::nullopt);                          // original_bytes
      for (int i = 0; i < 3; ++i) text(std::nullopt); // original_encoding, supersedes, meta_json
      text(k.key_id);
      text(k.role);
      text(k.reason);
      text(std::nullopt); // source_key
      text(std::nullopt); // pub_calendar
    }
    if (!ok) return sql_error("cannot bind parameter");
    if (sqlite3_step(st) != SQLITE_DONE) return sql_error(fmt::format("cannot add entry {}", e.index));
    if (std::holds_alternative<record::Statement>(e.record) && !e.text.empty()) {
      static const std::string k_insert_text = "INSERT INTO texts(rowid, body) VALUES(?, ?)";
      auto t = prepare(k_insert_text);
      if (!t) return std::unexpected(t.error());
      Query tq(*t);
      const std::string body = fold_for_search(e.text);
      if (sqlite3_bind_int64(*t, 1, static_cast<std::int64_t>(e.index)) != SQLITE_OK ||
          sqlite3_bind_text64(*t, 2, body.data(), body.size(), SQLITE_STATIC, SQLITE_UTF8) != SQLITE_OK)
        return sql_error("cannot bind parameter");
      if (sqlite3_step(*t) != SQLITE_DONE) return sql_error(fmt::format("cannot add the text of entry {}", e.index));
    }
    return {};
  }

  // Insert `entries`, whose indexes must be `next`, `next` + 1, ... (advanced past them), inside the caller's
  // transaction.
  Expected<void> insert_all(std::span<const IndexEntry> entries, std::uint64_t& next) {
    const std::uint64_t had = next;
    for (const IndexEntry& e : entries) {
      if (e.index != next)
        return fail(ErrorCode::failed_precondition, "index '{}' holds {} entries; cannot add entry {} (expected {})",
                    file.string(), had, e.index, next);
      if (e.id.empty()) return fail(ErrorCode::invalid_input, "entry {} has no record id", e.index);
      if (auto r = insert(e); !r) return r;
      ++next;
    }
    return {};
  }
};

Index::Index(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Index::Index(Index&&) noexcept = default;
Index& Index::operator=(Index&&) noexcept = default;
Index::~Index() = default;

Expected<Index> Index::open(const fs::path& file) {
  configure_sqlite();
  auto impl = std::make_unique<Impl>();
  impl->file = file;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  impl->db.reset(raw);
  if (rc != SQLITE_OK) {
    if (raw == nullptr) return fail(ErrorCode::io, "cannot open index '{}': out of memory", file.string());
    return fail(ErrorCode::io, "cannot open index '{}': {}", file.string(), sqlite3_errmsg(raw));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 10000);

  // Reading the header is the first thing that notices a file that is not a SQLite database.
  auto version = impl->scalar("PRAGMA user_version");
  if (!version) return std::unexpected(version.error());
  if (auto r = impl->exec("PRAGMA journal_mode=WAL"); !r) return std::unexpected(r.error());
  // Derived data: after a crash the index may lose its last transaction (then it is stale and caught up), never
  // its consistency. A 16 MiB page cache: a batch of 100,000 statements into 100,000 entries filled 64 MiB of it (its
  // revision look-ups and its rows land on random pages of the id and hash indexes) at the same speed; rebuilds have
  // a cache of their own (IndexBuilder).
  if (auto r = impl->exec(fmt::format("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-{}; PRAGMA temp_store=MEMORY; "
                                      "PRAGMA analysis_limit=1000",
                                      k_cache_kib)
                              .c_str());
      !r)
    return std::unexpected(r.error());
  // The schema is created under the write lock; an index that has it is opened without taking that lock, so that
  // opening it never waits for a writer (a write feeds the index in one transaction while it writes its packs).
  const auto create_schema = [&]() -> Expected<void> {
    if (auto r = impl->exec("BEGIN IMMEDIATE"); !r) return r;
    auto create = [&]() -> Expected<void> {
      version = impl->scalar("PRAGMA user_version"); // again, under the write lock: another process may have created it
      if (!version) return std::unexpected(version.error());
      const std::int64_t v = version->value_or(0);
      if (v == k_schema_version) return {};
      if (v != 0)
        return fail(ErrorCode::failed_precondition, "index '{}' has schema version {}, expected {}", file.string(), v,
                    k_schema_version);
      auto tables = impl->scalar("SELECT count(*) FROM sqlite_master");
      if (!tables) return std::unexpected(tables.error());
      if (tables->value_or(0) != 0)
        return fail(ErrorCode::failed_precondition, "'{}' is a SQLite database but not an avow index", file.string());
      if (auto r = impl->exec(k_schema_tables); !r) return r;
      if (auto r = impl->exec(k_schema_indexes); !r) return r;
      return impl->exec(fmt::format("PRAGMA user_version={}", k_schema_version).c_str());
    };
    if (auto r = create(); !r) {
      (void)impl->exec("ROLLBACK");
      return r;
    }
    return impl->exec("COMMIT");
  };
  if (version->value_or(0) != k_schema_version)
    if (auto r = create_schema(); !r) return std::unexpected(r.error());
  // Touch the tables once: a damaged schema or a missing table shows here rather than in the first command.
  if (auto r = impl->size(); !r) return std::unexpected(r.error());
  if (auto r = impl->scalar("SELECT count(*) FROM info"); !r) return std::unexpected(r.error());
  return Index(std::move(impl));
}

Expected<void> Index::remove(const fs::path& file) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const fs::path p = file.string() + suffix;
    std::error_code ec;
    fs::remove(p, ec);
    if (ec) return fail(ErrorCode::io, "cannot remove index file '{}': {}", p.string(), ec.message());
  }
  return {};
}

Expected<std::optional<std::string>> Index::indexed_checkpoint() const {
  auto s = m_impl->prepare("SELECT value FROM info WHERE key = 'checkpoint'");
  if (!s) return std::unexpected(s.error());
  Impl::Query q(*s);
  const int rc = sqlite3_step(*s);
  if (rc == SQLITE_DONE) return std::optional<std::string>{};
  if (rc != SQLITE_ROW) return m_impl->sql_error("query failed");
  return std::optional<std::string>{column_text(*s, 0)};
}

Expected<std::uint64_t> Index::size() const { return m_impl->size(); }

Expected<void> Index::add(std::span<const IndexEntry> entries, std::string_view checkpoint_note) {
  return add([&](const EntrySink& sink) { return sink(entries); }, checkpoint_note);
}

Expected<void> Index::add(const EntryBatches& batches, std::string_view checkpoint_note, std::uint64_t incoming) {
  return add(batches, [&]() -> Expected<std::string> { return std::string(checkpoint_note); }, incoming);
}

Expected<void> Index::add(const EntryBatches& batches, const NoteAfter& checkpoint_note, std::uint64_t incoming) {
  Impl& d = *m_impl;
  // Whether to sort the indexes anew is decided before the transaction (the sorts' settings cannot change inside one);
  // another writer adding meanwhile (none does: writers hold the IndexLock) would only make the choice less apt.
  bool sorted = false;
  if (incoming >= k_sorted_add_min) {
    auto size = d.size();
    if (!size) return std::unexpected(size.error());
    sorted = sorts_indexes(*size, incoming);
  }
  // As IndexBuilder::finish sorts them: spilled to temporary files (with temp_store=MEMORY SQLite's sorter keeps
  // every key in memory), on helper threads, with a small cache a sort thread. Put back whatever happens.
  if (sorted) {
    auto r = d.exec(fmt::format("PRAGMA temp_store=FILE; PRAGMA threads={}", sort_threads()).c_str());
    if (!r) return r;
  }
  const auto restore = [&] {
    if (sorted)
      (void)d.exec(fmt::format("PRAGMA temp_store=MEMORY; PRAGMA threads=0; PRAGMA cache_size=-{}", k_cache_kib).c_str());
  };
  if (auto r = d.exec("BEGIN IMMEDIATE"); !r) {
    restore();
    return r;
  }
  std::uint64_t added = 0;
  auto body = [&]() -> Expected<void> {
    auto next = d.size();
    if (!next) return std::unexpected(next.error());
    // In this one transaction: a reader sees the index before or after, never without its secondary indexes.
    if (sorted)
      if (auto r = d.drop_secondary_indexes(); !r) return r;
    std::uint64_t expected_index = *next;
    const auto ok = batches([&](std::span<const IndexEntry> batch) -> Expected<void> {
      added += batch.size();
      return d.insert_all(batch, expected_index);
    });
    if (!ok) return ok;
    if (sorted) {
      if (auto r = d.exec(fmt::format("PRAGMA cache_size=-{}", k_sort_cache_kib).c_str()); !r) return r;
      if (auto r = d.exec(k_schema_indexes); !r) return r;
    }
    auto note = checkpoint_note();
    if (!note) return std::unexpected(note.error());
    return d.run("INSERT OR REPLACE INTO info(key, value) VALUES('checkpoint', ?)", {std::move(*note)});
  };
  auto done = body();
  if (done) done = d.exec("COMMIT");
  if (!done) (void)d.exec("ROLLBACK");
  restore();
  if (!done) return done;
  // Keep the planner's statistics current after large additions (cheap; a no-op when nothing changed much).
  if (added >= 1000) (void)d.exec("PRAGMA optimize");
  return {};
}

Expected<void> Index::limit_cache(std::size_t kib) {
  return m_impl->exec(fmt::format("PRAGMA cache_size=-{}", kib).c_str());
}

Expected<void> Index::clear() {
  Impl& d = *m_impl;
  if (auto r = d.exec("BEGIN IMMEDIATE"); !r) return r;
  auto r = d.exec("DELETE FROM entries; INSERT INTO texts(texts) VALUES('delete-all'); DELETE FROM info;");
  if (!r) {
    (void)d.exec("ROLLBACK");
    return r;
  }
  return d.exec("COMMIT");
}

Expected<std::uint64_t> Index::log_each(const Filter& filter, const std::function<void(const Row&)>& row) const {
  auto w = build_where(filter);
  if (!w) return std::unexpected(w.error());
  std::string sql = fmt::format("SELECT {} FROM entries WHERE {} ORDER BY idx {}", k_columns, w->sql,
                                filter.oldest_first ? "ASC" : "DESC");
  if (filter.limit != 0) {
    sql += " LIMIT ?";
    const auto limit = filter.limit > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX
                                                                             : static_cast<std::int64_t>(filter.limit);
    w->params.emplace_back(limit);
  }
  Impl& d = *m_impl;
  auto s = d.prepare(sql);
  if (!s) return std::unexpected(s.error());
  Impl::Query q(*s);
  if (auto b = d.bind(*s, w->params); !b) return std::unexpected(b.error());
  std::uint64_t n = 0;
  for (;;) {
    const int rc = sqlite3_step(*s);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return d.sql_error("query failed");
    row(read_row(*s));
    ++n;
  }
  return n;
}

Expected<std::vector<Row>> Index::log(const Filter& filter) const {
  std::vector<Row> rows;
  auto n = log_each(filter, [&rows](const Row& r) { rows.push_back(r); });
  if (!n) return std::unexpected(n.error());
  return rows;
}

Expected<std::vector<Row>> Index::by_id_prefix(std::string_view prefix) const {
  if (prefix.empty() || prefix.size() > 64)
    return fail(ErrorCode::invalid_input, "record id prefix '{}' must be 1 to 64 hex digits", prefix);
  std::string lower;
  for (char c : prefix) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return fail(ErrorCode::invalid_input, "record id prefix '{}' is not hex", prefix);
    lower += c;
  }
  // Ids are lowercase hex, so those starting with `lower` are exactly those in [lower, lower + "g").
  return m_impl->rows(fmt::format("SELECT {} FROM entries WHERE id >= ? AND id < ? ORDER BY idx", k_columns),
                      {lower, lower + "g"});
}

Expected<std::vector<Row>> Index::by_text(std::string_view text_sha256) const {
  return m_impl->rows(fmt::format("SELECT {} FROM entries WHERE text_sha256 = ? ORDER BY idx", k_columns),
                      {std::string(text_sha256)});
}

Expected<std::vector<Row>> Index::by_original(std::string_view original_sha256) const {
  return m_impl->rows(fmt::format("SELECT {} FROM entries WHERE original_sha256 = ? ORDER BY idx", k_columns),
                      {std::string(original_sha256)});
}

Expected<std::vector<Row>> Index::versions(std::string_view source) const {
  return m_impl->rows(
      fmt::format("SELECT {} FROM entries WHERE {} AND kind = 'statement' ORDER BY idx", k_columns, k_source_match),
      {source_key(source), std::string(source)});
}

Expected<std::optional<Row>> Index::latest_version(std::string_view source) const {
  auto r = m_impl->rows(
      fmt::format("SELECT {} FROM entries WHERE {} AND kind = 'statement' ORDER BY idx DESC LIMIT 1", k_columns,
                  k_source_match),
      {source_key(source), std::string(source)});
  if (!r) return std::unexpected(r.error());
  if (r->empty()) return std::optional<Row>{};
  return std::optional<Row>{std::move(r->front())};
}

Expected<std::uint64_t> Index::count(const Filter& filter) const {
  auto w = build_where(filter);
  if (!w) return std::unexpected(w.error());
  auto n = m_impl->scalar(fmt::format("SELECT count(*) FROM entries WHERE {}", w->sql), w->params);
  if (!n) return std::unexpected(n.error());
  return static_cast<std::uint64_t>(n->value_or(0));
}

Expected<std::vector<Count>> Index::near_sources(std::string_view source, std::size_t limit) const {
  return m_impl->counts("SELECT source, count(*) FROM entries WHERE source_key = ? AND source != ? AND kind = "
                        "'statement' GROUP BY source ORDER BY 2 DESC, 1 ASC LIMIT ?",
                        {source_key(source), std::string(source), static_cast<std::int64_t>(limit)});
}

Expected<std::vector<std::string>> Index::key_ids() const {
  auto counts = m_impl->counts(fmt::format("SELECT key_id, 0 FROM entries WHERE kind = 'key.add' AND {0} UNION "
                                           "SELECT archivist, 0 FROM entries WHERE kind IN ('key.add', 'key.revoke') "
                                           "AND {0} ORDER BY 1",
                                           k_key_event),
                               {});
  if (!counts) return std::unexpected(counts.error());
  std::vector<std::string> out;
  for (auto& c : *counts) out.push_back(std::move(c.key));
  return out;
}

Expected<std::vector<Row>> Index::similar_texts(std::string_view text, std::size_t limit) const {
  // The longest distinct words are the most telling and the cheapest to look up (they are rare); at most 32.
  const auto is_separator = [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; };
  std::vector<std::string> words;
  for (std::size_t i = 0; i < text.size();) {
    while (i < text.size() && is_separator(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_separator(text[i])) ++i;
    std::string word = fold_for_search(text.substr(start, i - start));
    const bool has_letter = std::any_of(word.begin(), word.end(), [](char c) {
      return static_cast<unsigned char>(c) >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
             (c >= 'A' && c <= 'Z');
    });
    if (has_letter) words.push_back(std::move(word));
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  std::stable_sort(words.begin(), words.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  if (words.size() > 32) words.resize(32);
  if (words.empty() || limit == 0) return std::vector<Row>{};
  std::string match;
  for (const auto& word : words) {
    if (!match.empty()) match += " OR ";
    match += '"';
    for (char c : word) {
      if (c == '"') match += '"';
      match += c;
    }
    match += '"';
  }
  return m_impl->rows(fmt::format("SELECT {} FROM entries JOIN (SELECT rowid AS hit, rank AS hit_rank FROM texts "
                                  "WHERE texts MATCH ? ORDER BY rank LIMIT ?) ON idx = hit ORDER BY hit_rank, idx",
                                  k_columns),
                      {match, static_cast<std::int64_t>(limit)});
}

Expected<Audit> Index::audit(const Filter& filter, std::size_t top_sources) const {
  auto w = build_where(filter);
  if (!w) return std::unexpected(w.error());
  Impl& d = *m_impl;
  Audit a;
  // One read transaction, so every aggregate sees the same state.
  if (auto r = d.exec("BEGIN"); !r) return std::unexpected(r.error());
  auto body = [&]() -> Expected<void> {
    // One pass over the matching statements for the small groups (publishers, archivists, languages, months).
    std::map<std::string, std::uint64_t> publishers, archivists, langs, months;
    {
      const char* month =
          filter.time_field == TimeField::captured ? "substr(captured_key, 1, 7)" : "substr(pub_key, 1, 7)";
      // "+kind": statements are nearly all entries, so a table scan beats walking the kind index.
      auto s = d.prepare(fmt::format("SELECT publisher, archivist, lang, {} FROM entries WHERE {} AND +kind = 'statement'",
                                     month, w->sql));
      if (!s) return std::unexpected(s.error());
      Impl::Query q(*s);
      if (auto b = d.bind(*s, w->params); !b) return b;
      for (;;) {
        const int rc = sqlite3_step(*s);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) return d.sql_error("query failed");
        ++publishers[column_text(*s, 0)];
        ++archivists[column_text(*s, 1)];
        ++langs[column_text(*s, 2)];
        ++months[column_text(*s, 3)];
        ++a.statements;
      }
    }
    auto by_count = [](const std::map<std::string, std::uint64_t>& m) {
      std::vector<Count> out;
      for (const auto& [k, n] : m) out.push_back(Count{k, n});
      std::stable_sort(out.begin(), out.end(), [](const Count& x, const Count& y) { return x.count > y.count; });
      return out;
    };
    a.publishers = by_count(publishers);
    a.archivists = by_count(archivists);
    a.langs = by_count(langs);
    for (const auto& [k, n] : months) a.months.push_back(Count{k, n});
    // Sources can be as many as statements: let SQLite group and cut them. Only statements have a source (a key
    // event's is NULL): "source IS NOT NULL" selects them from the source index alone, where "kind = 'statement'"
    // read every row of the table too (0.41 s against 0.2 s at 1M entries); grouped in the index's order (a source
    // has one source_key, so the groups are the sources').
    auto sources = d.counts(fmt::format("SELECT source, count(*) FROM entries WHERE {} AND source IS NOT NULL "
                                        "GROUP BY source_key, source ORDER BY 2 DESC, 1 ASC LIMIT ?",
                                        w->sql),
                            [&] {
                              auto p = w->params;
                              p.emplace_back(static_cast<std::int64_t>(top_sources));
                              return p;
                            }());
    if (!sources) return std::unexpected(sources.error());
    a.top_sources = std::move(*sources);
    // Distinct texts of the statements the filter selects, whatever its kind (as `log` would list them). Only
    // statements have a text (a key event's text_sha256 is NULL, which count(DISTINCT) skips), so the kind is left
    // out: unfiltered, the count is then one pass over the text index (0.08 s at 1M entries) instead of a temporary
    // B-tree of every hash (3.3 s).
    Filter statements = filter;
    statements.kind.reset();
    auto ws = build_where(statements);
    if (!ws) return std::unexpected(ws.error());
    auto texts = d.scalar(fmt::format("SELECT count(DISTINCT text_sha256) FROM entries WHERE {}", ws->sql), ws->params);
    if (!texts) return std::unexpected(texts.error());
    a.texts = static_cast<std::uint64_t>(texts->value_or(0));
    auto keys = d.rows(
        fmt::format("SELECT {} FROM entries WHERE {} AND kind IN ('key.add', 'key.revoke') AND {} ORDER BY idx",
                    k_columns, w->sql, k_key_event),
        w->params);
    if (!keys) return std::unexpected(keys.error());
    a.key_event_rows = std::move(*keys);
    a.key_events = a.key_event_rows.size();
    a.entries = a.statements + a.key_events;
    return {};
  };
  auto r = body();
  (void)d.exec(r ? "COMMIT" : "ROLLBACK");
  if (!r) return std::unexpected(r.error());
  return a;
}

// ---------------------------------------------------------------------------------------------------------------------

struct IndexBuilder::Impl {
  fs::path file;
  fs::path temp; // "<file>.new"; empty once it has been renamed into place
  std::unique_ptr<Index::Impl> db;
  std::uint64_t next = 0; // the index of the next entry (the worker's, until it has stopped)

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::vector<IndexEntry>> queue; // batches waiting for the worker
  bool closing = false;                      // no more batches: the worker drains the queue and returns
  std::optional<Error> error;                // the first failure; later batches are dropped
  std::thread worker;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    stop();
    db.reset(); // close the connection before removing its file
    if (!temp.empty()) (void)Index::remove(temp);
  }

  void run() {
    for (;;) {
      std::vector<IndexEntry> batch;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return !queue.empty() || closing; });
        if (queue.empty()) return;
        batch = std::move(queue.front());
        queue.pop_front();
        changed.notify_all(); // room for the next batch
        if (error) continue;
      }
      auto r = db->insert_all(batch, next);
      if (!r) {
        std::lock_guard lock(mutex);
        error = r.error();
        changed.notify_all();
      }
    }
  }

  void stop() {
    {
      std::lock_guard lock(mutex);
      closing = true;
    }
    changed.notify_all();
    if (worker.joinable()) worker.join();
  }
};

IndexBuilder::IndexBuilder(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
IndexBuilder::IndexBuilder(IndexBuilder&&) noexcept = default;
IndexBuilder& IndexBuilder::operator=(IndexBuilder&&) noexcept = default;
IndexBuilder::~IndexBuilder() = default;

Expected<IndexBuilder> IndexBuilder::create(const fs::path& file) {
  configure_sqlite();
  auto impl = std::make_unique<Impl>();
  impl->file = file;
  const fs::path temp = file.string() + ".new";
  if (auto r = Index::remove(temp); !r) return std::unexpected(r.error()); // left by a build that was killed
  impl->temp = temp;
  impl->db = std::make_unique<Index::Impl>();
  Index::Impl& d = *impl->db;
  d.file = temp;
  sqlite3* raw = nullptr;
  // One thread at a time uses this connection (the builder's, then finish() after it has joined): no mutex needed.
  const int rc =
      sqlite3_open_v2(temp.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  d.db.reset(raw);
  if (rc != SQLITE_OK) {
    if (raw == nullptr) return fail(ErrorCode::io, "cannot create index '{}': out of memory", temp.string());
    return fail(ErrorCode::io, "cannot create index '{}': {}", temp.string(), sqlite3_errmsg(raw));
  }
  sqlite3_extended_result_codes(raw, 1);
  // Nothing reads this file before finish() has synced it and renamed it into place, so it needs no journal and no
  // fsync per transaction. Sorts for the indexes spill to temporary files (not memory), on helper threads.
  if (auto r = d.exec(fmt::format("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; "
                                  "PRAGMA cache_size=-32768; PRAGMA temp_store=FILE; PRAGMA threads={}",
                                  sort_threads())
                          .c_str());
      !r)
    return std::unexpected(r.error());
  if (auto r = d.exec(k_schema_tables); !r) return std::unexpected(r.error());
  // FTS5 writes the terms it holds in memory as a new segment of the full-text index each time they pass its hash
  // size, and merges segments as they pile up. Fewer, larger segments: 500,000 texts took 6.2 s to insert with the
  // default 1 MiB, 4.4 s with 8 MiB (some 12 MB more memory). finish() puts the default back for the index's later
  // updates, whose memory stays as it was.
  if (auto r = d.exec(fmt::format("INSERT INTO texts(texts, rank) VALUES('hashsize', {})", k_build_fts_hash_bytes).c_str());
      !r)
    return std::unexpected(r.error());
  if (auto r = d.exec("BEGIN"); !r) return std::unexpected(r.error());
  Impl* p = impl.get();
  impl->worker = std::thread([p] { p->run(); });
  return IndexBuilder(std::move(impl));
}

Expected<void> IndexBuilder::add(std::vector<IndexEntry> entries) {
  Impl& m = *m_impl;
  std::unique_lock lock(m.mutex);
  m.changed.wait(lock, [&] { return m.queue.size() < 2 || m.error; });
  if (m.error) return std::unexpected(*m.error);
  if (m.closing) return fail(ErrorCode::internal, "index build already finished");
  m.queue.push_back(std::move(entries));
  m.changed.notify_all();
  return {};
}

Expected<std::uint64_t> IndexBuilder::finish(std::string_view checkpoint_note) {
  Impl& m = *m_impl;
  m.stop();
  if (m.error) return std::unexpected(*m.error);
  if (!m.db) return fail(ErrorCode::internal, "index build already finished");
  Index::Impl& d = *m.db;
  // Each sort thread may hold cache_size bytes (k_sort_cache_kib).
  if (auto r = d.exec(fmt::format("PRAGMA cache_size=-{}", k_sort_cache_kib).c_str()); !r)
    return std::unexpected(r.error());
  if (auto r = d.exec(k_schema_indexes); !r) return std::unexpected(r.error());
  if (auto r = d.exec(fmt::format("INSERT INTO texts(texts, rank) VALUES('hashsize', {})", k_fts_hash_bytes).c_str()); !r)
    return std::unexpected(r.error());
  if (auto r = d.run("INSERT OR REPLACE INTO info(key, value) VALUES('checkpoint', ?)", {std::string(checkpoint_note)});
      !r)
    return std::unexpected(r.error());
  if (auto r = d.exec(fmt::format("PRAGMA user_version={}", k_schema_version).c_str()); !r)
    return std::unexpected(r.error());
  if (auto r = d.exec("COMMIT"); !r) return std::unexpected(r.error());
  m.db.reset();
  // On disk before it replaces anything: a crash must not leave a renamed file whose pages never reached the disk.
  const int fd = ::open(m.temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::io, "cannot open index '{}': {}", m.temp.string(), std::strerror(errno));
  const int synced = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (synced != 0) return fail(ErrorCode::io, "cannot write index '{}': {}", m.temp.string(), std::strerror(saved));
  // The old file's -wal and -shm go with it: a WAL left next to the new file would be read as part of it.
  if (auto r = Index::remove(m.file); !r) return std::unexpected(r.error());
  std::error_code ec;
  fs::rename(m.temp, m.file, ec);
  if (ec) return fail(ErrorCode::io, "cannot rename '{}' to '{}': {}", m.temp.string(), m.file.string(), ec.message());
  m.temp.clear();
  return m.next;
}

fs::path IndexLock::lock_path(const fs::path& file) { return fs::path(file).replace_extension(".lock"); }

Expected<IndexLock> IndexLock::acquire(const fs::path& file, std::chrono::milliseconds timeout) {
  const fs::path path = lock_path(file);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(ErrorCode::io, "cannot open index lock '{}': {}", path.string(), std::strerror(errno));
  IndexLock lock(fd);
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return lock;
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return fail(ErrorCode::io, "cannot lock '{}': {}", path.string(), std::strerror(errno));
    const auto now = std::chrono::steady_clock::now();
    if (now - start >= timeout)
      return fail(ErrorCode::failed_precondition, "the index is being updated by another process (waited {:.1f} s)",
                  std::chrono::duration<double>(now - start).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

IndexLock::IndexLock(IndexLock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

IndexLock& IndexLock::operator=(IndexLock&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = std::exchange(other.m_fd, -1);
  }
  return *this;
}

IndexLock::~IndexLock() {
  if (m_fd >= 0) ::close(m_fd);
}

} // namespace avow::index
