#include <archive/text/date.hpp>

#include <unicode/basictz.h>
#include <unicode/timezone.h>
#include <unicode/ucal.h>
#include <unicode/unistr.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <unordered_map>

namespace avow::text {

namespace {

// What one of the parsers read. Fields are range-checked by valid().
struct Fields {
  int year = 0, month = 0, day = 0;
  bool has_time = false;
  int hour = 0, minute = 0, second = 0;
  std::string_view fraction;          // digits after the '.', as written
  std::optional<int> offset_minutes;  // east of UTC
  std::string_view offset_text;       // as written: "+03:00", "Z", "GMT"
  std::optional<int> weekday;         // 0 = Sunday, when the text names one
};

// A cursor over ASCII text; every reader returns false and leaves the cursor unspecified on mismatch.
struct Cursor {
  std::string_view s;
  std::size_t i = 0;

  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  bool take(char c) {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  // Read exactly `n` digits (n in 1..4) or, with max_n > n, between n and max_n digits.
  bool digits(int n, int max_n, int& out) {
    int count = 0, value = 0;
    while (count < max_n && !done() && s[i] >= '0' && s[i] <= '9') {
      value = value * 10 + (s[i] - '0');
      ++i, ++count;
    }
    if (count < n) return false;
    out = value;
    return true;
  }
  bool digits(int n, int& out) { return digits(n, n, out); }
  std::string_view word() {
    const std::size_t start = i;
    while (!done() && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) ++i;
    return s.substr(start, i - start);
  }
  std::size_t spaces() {
    const std::size_t start = i;
    while (!done() && (s[i] == ' ' || s[i] == '\t')) ++i;
    return i - start;
  }
};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (lower(a[k]) != lower(b[k])) return false;
  return true;
}

constexpr std::array<std::string_view, 12> k_months = {"january", "february", "march",     "april",   "may",      "june",
                                                       "july",    "august",   "september", "october", "november", "december"};
constexpr std::array<std::string_view, 7> k_weekdays = {"sunday",   "monday", "tuesday", "wednesday",
                                                        "thursday", "friday", "saturday"};

// Return 1..12 for an English month name, its three-letter abbreviation or "Sept"; 0 otherwise.
int month_number(std::string_view w) {
  for (std::size_t k = 0; k < k_months.size(); ++k)
    if (iequals(w, k_months[k]) || iequals(w, k_months[k].substr(0, 3))) return static_cast<int>(k) + 1;
  if (iequals(w, "sept")) return 9;
  return 0;
}

// Return 0..6 (Sunday = 0) for an English weekday name or abbreviation; -1 otherwise.
int weekday_number(std::string_view w) {
  for (std::size_t k = 0; k < k_weekdays.size(); ++k)
    if (iequals(w, k_weekdays[k]) || iequals(w, k_weekdays[k].substr(0, 3))) return static_cast<int>(k);
  if (iequals(w, "tues")) return 2;
  if (iequals(w, "thur") || iequals(w, "thurs")) return 4;
  return -1;
}

// Read "HH:MM[:SS[.fff]]" (seconds required when `need_seconds`).
bool read_time(Cursor& c, Fields& f, bool need_seconds) {
  if (!c.digits(1, 2, f.hour) || !c.take(':') || !c.digits(2, f.minute)) return false;
  f.has_time = true;
  if (!c.take(':')) return !need_seconds;
  if (!c.digits(2, f.second)) return false;
  if (c.take('.') || c.take(',')) {
    const std::size_t start = c.i;
    while (!c.done() && c.peek() >= '0' && c.peek() <= '9') ++c.i;
    if (c.i == start || c.i - start > 9) return false;
    f.fraction = c.s.substr(start, c.i - start);
  }
  return true;
}

// Read a numeric offset "+03:00" / "+0300" / "-05" or "Z"; the sign must be at the cursor.
bool read_numeric_offset(Cursor& c, Fields& f) {
  const std::size_t start = c.i;
  if (c.take('Z') || c.take('z')) {
    f.offset_minutes = 0;
    f.offset_text = c.s.substr(start, 1);
    return true;
  }
  int sign = 0;
  if (c.take('+'))
    sign = 1;
  else if (c.take('-'))
    sign = -1;
  else
    return false;
  int hh = 0, mm = 0;
  if (!c.digits(2, hh)) return false;
  if (c.take(':')) {
    if (!c.digits(2, mm)) return false;
  } else if (!c.done() && c.peek() >= '0' && c.peek() <= '9') {
    if (!c.digits(2, mm)) return false;
  }
  if (hh > 23 || mm > 59) return false;
  f.offset_minutes = sign * (hh * 60 + mm);
  f.offset_text = c.s.substr(start, c.i - start);
  return true;
}

// Read an RFC 2822 zone: numeric, or one of the obsolete names with a fixed offset.
bool read_zone(Cursor& c, Fields& f) {
  if (c.peek() == '+' || c.peek() == '-') return read_numeric_offset(c, f);
  const std::size_t start = c.i;
  const std::string_view w = c.word();
  struct Named {
    std::string_view name;
    int minutes;
  };
  static constexpr std::array<Named, 12> k_named = {{{"UT", 0},
                                                     {"UTC", 0},
                                                     {"GMT", 0},
                                                     {"Z", 0},
                                                     {"EST", -300},
                                                     {"EDT", -240},
                                                     {"CST", -360},
                                                     {"CDT", -300},
                                                     {"MST", -420},
                                                     {"MDT", -360},
                                                     {"PST", -480},
                                                     {"PDT", -420}}};
  for (const auto& n : k_named)
    if (iequals(w, n.name)) {
      f.offset_minutes = n.minutes;
      f.offset_text = c.s.substr(start, c.i - start);
      return true;
    }
  return false;
}

// "2019-03-29", "2015-08-01 10:00:00", "2019-03-29T18:36:00.5+03:00" (RFC 3339 and its space-separated relative).
bool parse_iso(std::string_view s, Fields& f) {
  Cursor c{s};
  if (!c.digits(4, f.year) || !c.take('-') || !c.digits(2, f.month) || !c.take('-') || !c.digits(2, f.day)) return false;
  if (c.done()) return true;
  if (!(c.take('T') || c.take('t') || c.take(' '))) return false;
  if (!read_time(c, f, /*need_seconds=*/false)) return false;
  if (c.done()) return true;
  c.spaces();
  if (!read_numeric_offset(c, f)) return false;
  return c.done();
}

// "20080916".
bool parse_compact(std::string_view s, Fields& f) {
  Cursor c{s};
  return s.size() == 8 && c.digits(4, f.year) && c.digits(2, f.month) && c.digits(2, f.day) && c.done();
}

// "26-FEB-1987 15:01:01.79", "3-MAR-1987  09:15:05.40", "27-MAR-1987 00:03:35.68&#5;&#5;&#5;F" (Reuters-21578 DATE).
bool parse_reuters(std::string_view s, Fields& f) {
  Cursor c{s};
  if (!c.digits(1, 2, f.day) || !c.take('-')) return false;
  const std::string_view mon = c.word();
  if (mon.size() != 3 || (f.month = month_number(mon)) == 0) return false;
  if (!c.take('-') || !c.digits(4, f.year)) return false;
  if (c.done()) return true;
  if (c.spaces() == 0 || !read_time(c, f, /*need_seconds=*/false)) return false;
  if (c.done()) return true;
  // A trailing wire code: numeric character references, then printable ASCII routing letters.
  c.spaces();
  if (c.s.substr(c.i).starts_with("&#")) {
    for (; !c.done(); ++c.i)
      if (static_cast<unsigned char>(c.peek()) < 0x20 || static_cast<unsigned char>(c.peek()) >= 0x7F) return false;
    return true;
  }
  return c.done();
}

// Optional time and zone after a date in the named forms: "[,] [at] HH:MM[:SS] [zone]".
bool read_named_tail(Cursor& c, Fields& f) {
  c.spaces();
  if (c.done()) return true;
  if (c.take(',')) c.spaces();
  {
    Cursor probe = c;
    if (iequals(probe.word(), "at") && probe.spaces() > 0) c = probe;
  }
  if (!read_time(c, f, /*need_seconds=*/false)) return false;
  const std::size_t before = c.spaces();
  if (c.done()) return true;
  if (before == 0 && c.peek() != '+' && c.peek() != '-') return false;
  if (!read_zone(c, f)) return false;
  c.spaces();
  return c.done();
}

// Optional leading weekday: "Friday, " / "Fri, " / "Friday ".
bool read_weekday(Cursor& c, Fields& f) {
  Cursor probe = c;
  const std::string_view w = probe.word();
  if (w.empty()) return true;
  const int wd = weekday_number(w);
  if (wd < 0) return true; // not a weekday: maybe a month name (US order)
  f.weekday = wd;
  const bool comma = probe.take(',');
  if (probe.spaces() == 0 && !comma) return false;
  c = probe;
  return true;
}

// "Friday, 29 March 2019 18:36", "Fri, 29 Mar 2019 18:36:00 +0300" (RFC 2822), "29 March 2019".
bool parse_day_month_year(std::string_view s, Fields& f) {
  Cursor c{s};
  if (!read_weekday(c, f)) return false;
  if (!c.digits(1, 2, f.day) || c.spaces() == 0) return false;
  if ((f.month = month_number(c.word())) == 0) return false;
  c.take('.');
  if (c.spaces() == 0 || !c.digits(4, f.year)) return false;
  if (!c.done() && c.peek() >= '0' && c.peek() <= '9') return false;
  return read_named_tail(c, f);
}

// "Friday, March 29, 2019 6:36" / "March 29, 2019".
bool parse_month_day_year(std::string_view s, Fields& f) {
  Cursor c{s};
  if (!read_weekday(c, f)) return false;
  if ((f.month = month_number(c.word())) == 0) return false;
  c.take('.');
  if (c.spaces() == 0 || !c.digits(1, 2, f.day)) return false;
  if (!c.take(',')) return false;
  if (c.spaces() == 0 || !c.digits(4, f.year)) return false;
  if (!c.done() && c.peek() >= '0' && c.peek() <= '9') return false;
  return read_named_tail(c, f);
}

bool valid(const Fields& f) {
  using namespace std::chrono;
  if (f.year < 1 || f.year > 9999) return false;
  const year_month_day ymd{year{f.year}, month{static_cast<unsigned>(f.month)}, day{static_cast<unsigned>(f.day)}};
  if (!ymd.ok()) return false;
  if (f.has_time && (f.hour > 23 || f.minute > 59 || f.second > 59)) return false;
  if (f.weekday) {
    const weekday wd{sys_days{ymd}};
    if (static_cast<int>(wd.c_encoding()) != *f.weekday) return false;
  }
  return true;
}

// Seconds since the epoch of the wall time in `f`, as if it were UTC.
std::int64_t wall_seconds(const Fields& f) {
  using namespace std::chrono;
  const sys_days days{year_month_day{year{f.year}, month{static_cast<unsigned>(f.month)}, day{static_cast<unsigned>(f.day)}}};
  return static_cast<std::int64_t>(days.time_since_epoch().count()) * 86400 + f.hour * 3600 + f.minute * 60 + f.second;
}

std::string format_date(int y, unsigned m, unsigned d) { return fmt::format("{:04}-{:02}-{:02}", y, m, d); }

// Format `seconds` since the epoch as "YYYY-MM-DDTHH:MM:SS" plus the fraction as written; nullopt outside years 1-9999.
std::optional<std::string> format_seconds(std::int64_t seconds, std::string_view fraction) {
  using namespace std::chrono;
  const std::int64_t day_count = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  const std::int64_t rest = seconds - day_count * 86400;
  const year_month_day ymd{sys_days{days{day_count}}};
  const int y = static_cast<int>(ymd.year());
  if (y < 1 || y > 9999) return std::nullopt;
  std::string out = fmt::format("{}T{:02}:{:02}:{:02}", format_date(y, static_cast<unsigned>(ymd.month()),
                                                                     static_cast<unsigned>(ymd.day())),
                                rest / 3600, rest / 60 % 60, rest % 60);
  if (!fraction.empty()) {
    out += '.';
    out += fraction;
  }
  return out;
}

// Quote a zone name for a one-line message.
std::string printable(std::string_view s) {
  std::string out;
  for (const char ch : s.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(ch);
    if (u >= 0x20 && u < 0x7F && ch != '\\')
      out += ch;
    else
      out += fmt::format("\\x{:02X}", u);
  }
  if (s.size() > 64) out += "...";
  return out;
}

// Return the ICU zone for an IANA name, cached per thread (ICU time zones are costly to build); nullptr if unknown.
const icu::BasicTimeZone* find_zone(std::string_view name) {
  thread_local std::unordered_map<std::string, std::unique_ptr<icu::BasicTimeZone>> cache;
  std::string key(name);
  if (auto it = cache.find(key); it != cache.end()) return it->second.get();
  if (name.empty() || name.size() > 64) return nullptr;
  for (const char ch : name)
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7F) return nullptr;
  const icu::UnicodeString id = icu::UnicodeString::fromUTF8(icu::StringPiece(key.data(), static_cast<int32_t>(key.size())));
  icu::UnicodeString canonical;
  UBool is_system = false;
  UErrorCode status = U_ZERO_ERROR;
  icu::TimeZone::getCanonicalID(id, canonical, is_system, status);
  if (U_FAILURE(status) || !is_system || canonical == icu::UnicodeString(UCAL_UNKNOWN_ZONE_ID)) return nullptr;
  std::unique_ptr<icu::TimeZone> zone{icu::TimeZone::createTimeZone(id)};
  auto* basic = dynamic_cast<icu::BasicTimeZone*>(zone.get());
  if (basic == nullptr) return nullptr;
  zone.release();
  if (cache.size() > 1024) cache.clear(); // only real zone names get here; bound it all the same
  return cache.emplace(std::move(key), std::unique_ptr<icu::BasicTimeZone>(basic)).first->second.get();
}

} // namespace

Expected<PublishedTime> parse_published(std::string_view as_written, std::optional<std::string_view> zone) {
  std::string_view s = as_written;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return fail(ErrorCode::invalid_input, "published time is empty");

  const icu::BasicTimeZone* tz = nullptr;
  if (zone) {
    tz = find_zone(*zone);
    if (tz == nullptr) return fail(ErrorCode::invalid_input, "unknown time zone '{}'", printable(*zone));
  }

  PublishedTime result;
  result.as_written = std::string(as_written);

  Fields f;
  bool parsed = false;
  for (auto* parser : {&parse_iso, &parse_compact, &parse_reuters, &parse_day_month_year, &parse_month_day_year}) {
    f = Fields{};
    if (parser(s, f)) {
      parsed = true;
      break;
    }
  }
  if (!parsed || !valid(f)) return result;

  if (!f.has_time) {
    result.local = format_date(f.year, static_cast<unsigned>(f.month), static_cast<unsigned>(f.day));
    if (zone) result.tz = std::string(*zone);
    result.understood = true;
    return result;
  }

  const std::int64_t wall = wall_seconds(f);
  result.local = format_seconds(wall, f.fraction);
  if (!result.local) return result;
  if (f.offset_minutes) {
    result.tz = std::string(f.offset_text);
    result.utc = format_seconds(wall - std::int64_t{*f.offset_minutes} * 60, f.fraction);
  } else if (tz != nullptr) {
    result.tz = std::string(*zone);
    // ICU Calendar's defaults: a skipped wall time uses the offset before the transition, a repeated one the later.
    std::int32_t raw = 0, dst = 0;
    UErrorCode status = U_ZERO_ERROR;
    tz->getOffsetFromLocal(static_cast<UDate>(wall) * 1000.0, UCAL_TZ_LOCAL_FORMER, UCAL_TZ_LOCAL_LATTER, raw, dst, status);
    if (U_FAILURE(status)) return fail(ErrorCode::internal, "cannot convert local time in '{}': {}", printable(*zone), u_errorName(status));
    const auto offset_ms = static_cast<std::int64_t>(raw) + dst;
    const std::int64_t offset_s = offset_ms >= 0 ? offset_ms / 1000 : -((-offset_ms + 999) / 1000);
    result.utc = format_seconds(wall - offset_s, f.fraction);
  }
  if (result.utc) {
    *result.utc += 'Z';
  } else if (f.offset_minutes || tz != nullptr) {
    return PublishedTime{result.as_written, {}, {}, {}, false}; // the UTC time falls outside years 1-9999
  }
  result.understood = true;
  return result;
}

} // namespace avow::text
