#include <archive/text/date.hpp>

#include <unicode/basictz.h>
#include <unicode/calendar.h>
#include <unicode/coll.h>
#include <unicode/datefmt.h>
#include <unicode/dtfmtsym.h>
#include <unicode/localebuilder.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/smpdtfmt.h>
#include <unicode/timezone.h>
#include <unicode/uchar.h>
#include <unicode/ucal.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <map>
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


// ---- Dates as people write them: names from ICU, digits of any script ----

// One token of a date as written: a run of digits of any script (folded to ASCII), a word (letters with their marks;
// each ideograph on its own, since CJK writes "2019年3月29日" without spaces), or one other character.
struct Token {
  enum class Kind { number, word, other };
  Kind kind = Kind::other;
  icu::UnicodeString text; // the word as written; the number's ASCII digits
  int value = 0;           // number: its value (digits past the ninth are counted, not added)
  int length = 0;          // number: how many digits
  UChar32 ch = 0;          // other: the character
};

// Split `s` into tokens; nullopt when it is not valid UTF-8. White space separates; format characters (RLM, ALM, ZWJ)
// are dropped, as ICU's own Arabic date patterns hold them.
std::optional<std::vector<Token>> tokenize(std::string_view s) {
  std::vector<Token> out;
  bool joinable = false; // the last token may be extended by the next character
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  const auto size = static_cast<int32_t>(s.size());
  for (int32_t k = 0; k < size;) {
    UChar32 c = 0;
    U8_NEXT(bytes, k, size, c);
    if (c < 0) return std::nullopt;
    const auto type = static_cast<UCharCategory>(u_charType(c));
    if (type == U_FORMAT_CHAR) continue;
    if (u_isUWhiteSpace(c)) {
      joinable = false;
      continue;
    }
    if (type == U_DECIMAL_DIGIT_NUMBER) {
      const int digit = u_charDigitValue(c);
      if (!(joinable && out.back().kind == Token::Kind::number)) out.push_back(Token{Token::Kind::number, {}, 0, 0, 0});
      Token& t = out.back();
      if (t.length < 9) t.value = t.value * 10 + digit;
      ++t.length;
      t.text.append(static_cast<char16_t>(u'0' + digit));
      joinable = true;
      continue;
    }
    const bool mark = type == U_NON_SPACING_MARK || type == U_COMBINING_SPACING_MARK || type == U_ENCLOSING_MARK;
    if (u_isalpha(c) || mark) {
      const bool ideograph = u_hasBinaryProperty(c, UCHAR_IDEOGRAPHIC);
      if (!(joinable && out.back().kind == Token::Kind::word) || (ideograph && !mark))
        out.push_back(Token{Token::Kind::word, {}, 0, 0, 0});
      out.back().text.append(c);
      joinable = !ideograph;
      continue;
    }
    out.push_back(Token{Token::Kind::other, {}, 0, 0, c});
    joinable = false;
  }
  return out;
}

// The names a date may use, keyed by how they compare: ICU root collation at primary strength with punctuation and
// spaces ignorable (so case, "p.m." against "PM", and tatweel do not matter), after dropping the nonspacing marks of
// the NFD form (so accents, harakat and the hamza/madda on alef do not: "اذار" is "آذار", "ابريل" is "أبريل").
struct Names {
  std::unique_ptr<icu::Collator> collator;
  const icu::Normalizer2* nfd = nullptr;
  std::map<std::string, int> months;       // 1..12, Gregorian; -1 where two languages disagree
  std::map<std::string, int> hijri_months; // 1..12, Islamic
  std::map<std::string, int> weekdays;     // 0 = Sunday
  std::map<std::string, int> day_periods;  // 0 = before noon, 1 = after
  std::map<std::string, int> eras;         // 0 = Hijri (AH), 1 = common era or a word for "year"
  std::map<std::string, int> fillers;      // words that may stand between the parts ("de", "at", "الساعة")
  std::map<std::string, int> ordinals;     // "29th", "1er"
  std::map<std::string, int> hour_letters; // "18h36"

  std::string key(const icu::UnicodeString& s) const {
    UErrorCode status = U_ZERO_ERROR;
    const icu::UnicodeString decomposed = nfd->normalize(s, status);
    if (U_FAILURE(status)) return {};
    icu::UnicodeString bare;
    for (int32_t k = 0; k < decomposed.length();) {
      const UChar32 c = decomposed.char32At(k);
      if (u_charType(c) != U_NON_SPACING_MARK) bare.append(c);
      k += U16_LENGTH(c);
    }
    std::string out(64, '\0');
    int32_t n = collator->getSortKey(bare, reinterpret_cast<uint8_t*>(out.data()), static_cast<int32_t>(out.size()));
    if (n > static_cast<int32_t>(out.size())) {
      out.resize(static_cast<std::size_t>(n));
      n = collator->getSortKey(bare, reinterpret_cast<uint8_t*>(out.data()), n);
    }
    out.resize(static_cast<std::size_t>(std::max(n, 0)));
    return out;
  }
  void add(std::map<std::string, int>& table, const icu::UnicodeString& name, int value) const {
    if (name.isEmpty()) return;
    auto [it, inserted] = table.emplace(key(name), value);
    if (!inserted && it->second != value) it->second = -1;
  }
  void add(std::map<std::string, int>& table, const char* utf8, int value) const {
    add(table, icu::UnicodeString::fromUTF8(utf8), value);
  }
};

// Languages whose Gregorian month, weekday, day-period and era names are read: en-001 adds "Sept"; ar-SY and ar-IQ give
// the Levantine series (كانون الثاني ... آذار), ar the Egyptian one (يناير ... مارس), ar-MA/ar-DZ/ar-TN the Maghreb ones.
constexpr std::array<const char*, 14> k_name_locales = {"en",    "en_001", "fr",    "es",    "ru", "ar", "ar_SY",
                                                        "ar_IQ", "ar_MA",  "ar_DZ", "ar_TN", "zh", "ja", "ko"};

Names build_names() {
  Names n;
  UErrorCode status = U_ZERO_ERROR;
  n.nfd = icu::Normalizer2::getNFDInstance(status);
  n.collator.reset(icu::Collator::createInstance(icu::Locale::getRoot(), status));
  if (U_FAILURE(status) || n.collator == nullptr || n.nfd == nullptr) return n;
  n.collator->setStrength(icu::Collator::PRIMARY);
  n.collator->setAttribute(UCOL_ALTERNATE_HANDLING, UCOL_SHIFTED, status);
  using Sym = icu::DateFormatSymbols;
  const auto add_symbols = [&n](const Sym& sy, std::map<std::string, int>& months, bool hijri) {
    for (const auto context : {Sym::FORMAT, Sym::STANDALONE})
      for (const auto width : {Sym::WIDE, Sym::ABBREVIATED}) {
        int32_t count = 0;
        const icu::UnicodeString* m = sy.getMonths(count, context, width);
        for (int32_t k = 0; k < count && k < 12; ++k) n.add(months, m[k], k + 1);
        if (hijri) continue;
        const icu::UnicodeString* w = sy.getWeekdays(count, context, width);
        for (int32_t k = 1; k < count && k <= 7; ++k) n.add(n.weekdays, w[k], k - 1);
      }
    int32_t count = 0;
    for (const bool wide : {false, true}) {
      const icu::UnicodeString* eras = wide ? sy.getEraNames(count) : sy.getEras(count);
      if (hijri && count >= 1) n.add(n.eras, eras[0], 0);
      if (!hijri && count >= 2) n.add(n.eras, eras[1], 1);
    }
    if (hijri) return;
    const icu::UnicodeString* periods = sy.getAmPmStrings(count);
    for (int32_t k = 0; k < count && k < 2; ++k) n.add(n.day_periods, periods[k], k);
  };
  for (const char* name : k_name_locales) {
    UErrorCode st = U_ZERO_ERROR;
    const Sym sy(icu::Locale(name), st);
    if (U_SUCCESS(st)) add_symbols(sy, n.months, /*hijri=*/false);
  }
  for (const char* name : {"ar", "en"}) {
    UErrorCode st = U_ZERO_ERROR;
    icu::Locale locale(name);
    locale.setKeywordValue("calendar", "islamic-umalqura", st);
    std::unique_ptr<icu::DateFormat> df(icu::DateFormat::createDateInstance(icu::DateFormat::kLong, locale));
    if (const auto* sdf = dynamic_cast<const icu::SimpleDateFormat*>(df.get()); U_SUCCESS(st) && sdf != nullptr)
      add_symbols(*sdf->getDateFormatSymbols(), n.hijri_months, /*hijri=*/true);
  }
  // Spellings ICU's DateFormatSymbols does not give (CLDR holds them as day periods or not at all): the Arabic words
  // for morning and evening, the second names of Rabi' II and Jumada II, "هجري" for AH, "CE", the Russian word for year
  // ("29 марта 2019 г.", "2019 года"), and the small words that join the parts of a date.
  n.add(n.day_periods, "صباحا", 0);
  n.add(n.day_periods, "مساء", 1);
  n.add(n.hijri_months, "ربيع الثاني", 4);
  n.add(n.hijri_months, "جمادى الأولى", 5);
  n.add(n.hijri_months, "جمادى الثانية", 6);
  for (const char* era : {"هجري", "هجرية"}) n.add(n.eras, era, 0);
  for (const char* era : {"CE", "г", "год", "года", "ميلادي", "ميلادية"}) n.add(n.eras, era, 1);
  for (const char* w : {"at", "on", "à", "a", "las", "la", "le", "el", "de", "del", "в", "الساعة", "في", "يوم"})
    n.add(n.fillers, w, 0);
  for (const char* w : {"st", "nd", "rd", "th", "er"}) n.add(n.ordinals, w, 0);
  n.add(n.hour_letters, "h", 0);
  return n;
}

const Names& names() {
  thread_local const Names n = build_names();
  return n;
}

// CJK date and time markers, as in ICU's zh/ja/ko patterns "y年M月d日", "H時m分s秒", "y년 M월 d일".
bool is_marker(const Token& t, std::initializer_list<const char16_t*> spellings) {
  if (t.kind != Token::Kind::word) return false;
  for (const char16_t* s : spellings)
    if (t.text == icu::UnicodeString(s)) return true;
  return false;
}
constexpr std::initializer_list<const char16_t*> k_year_marks = {u"年", u"년"};
constexpr std::initializer_list<const char16_t*> k_month_marks = {u"月", u"월"};
constexpr std::initializer_list<const char16_t*> k_day_marks = {u"日", u"일"};
constexpr std::initializer_list<const char16_t*> k_hour_marks = {u"時", u"时", u"点", u"點", u"시"};
constexpr std::initializer_list<const char16_t*> k_minute_marks = {u"分", u"분"};
constexpr std::initializer_list<const char16_t*> k_second_marks = {u"秒", u"초"};

// What a reading found beyond the fields.
struct Notes {
  bool hijri = false;          // a Hijri month name or era: the fields are Islamic until converted
  bool common_era = false;     // an explicit AD/CE/"م"
  bool year_last = false;      // a numeric year-last date, read in the given order
  bool swappable = false;      // ... whose day and month could be swapped
  bool ymd_year_last = false;  // a numeric year-last date under order ymd: not read
};

struct Reader {
  const std::vector<Token>& t;
  const Names& n;
  std::size_t i = 0;

  bool end() const { return i >= t.size(); }
  bool other(UChar32 c) {
    if (end() || t[i].kind != Token::Kind::other || t[i].ch != c) return false;
    ++i;
    return true;
  }
  bool comma() { return other(u',') || other(0x060C) || other(0x3001) || other(0xFF0C); }
  bool number(int min_len, int max_len, int& value) {
    if (end() || t[i].kind != Token::Kind::number || t[i].length < min_len || t[i].length > max_len) return false;
    value = t[i++].value;
    return true;
  }
  bool marker(std::initializer_list<const char16_t*> spellings) {
    if (end() || !is_marker(t[i], spellings)) return false;
    ++i;
    return true;
  }
  // Match the longest run of up to four words (with '.' or '-' between or '.' after them: "p.m.", "ap. J.-C.",
  // "كانون الثاني", "星期五") that `table` names; move past it and return its value.
  std::optional<int> match(const std::map<std::string, int>& table) {
    if (end() || t[i].kind != Token::Kind::word) return std::nullopt;
    icu::UnicodeString joined;
    std::optional<int> best;
    std::size_t best_end = i;
    int words = 0;
    for (std::size_t j = i; j < t.size() && words < 4; ++j) {
      if (t[j].kind == Token::Kind::word) {
        joined.append(u' ').append(t[j].text);
        ++words;
      } else if (t[j].kind == Token::Kind::other && (t[j].ch == u'.' || t[j].ch == u'-')) {
        joined.append(t[j].ch);
        if (t[j].ch == u'-') continue;
      } else {
        break;
      }
      if (auto it = table.find(n.key(joined)); it != table.end() && it->second >= 0) {
        best = it->second;
        best_end = j + 1;
      }
    }
    if (best) i = best_end;
    return best;
  }
  void fillers() {
    while (match(n.fillers)) {
    }
  }
  // A Gregorian or Hijri month name, whichever is longer.
  std::optional<int> month(Notes& notes) {
    Reader g = *this, h = *this;
    const auto gm = g.match(n.months);
    const auto hm = h.match(n.hijri_months);
    if (hm && (!gm || h.i > g.i)) {
      i = h.i;
      notes.hijri = true;
      return hm;
    }
    if (gm) i = g.i;
    return gm;
  }
  // An era or year word after the year: "هـ", "AH", "م", "AD", "г.".
  void era(Notes& notes) {
    if (const auto e = match(n.eras)) (*e == 0 ? notes.hijri : notes.common_era) = true;
  }
};

// "2019年3月29日", "2019년 3월 29일".
bool read_cjk_date(Reader& r, Fields& f) {
  return r.number(4, 4, f.year) && r.marker(k_year_marks) && r.number(1, 2, f.month) && r.marker(k_month_marks) &&
         r.number(1, 2, f.day) && r.marker(k_day_marks);
}

// "29/03/2019", "03-29-2019", "29.03.2019", "2019/3/29", "1440-07-22 AH".
bool read_numeric_date(Reader& r, Fields& f, Notes& notes, DateOrder order) {
  int a = 0, b = 0, c = 0;
  const std::size_t first = r.i;
  if (!r.number(1, 4, a) || r.end() || r.t[r.i].kind != Token::Kind::other) return false;
  const UChar32 sep = r.t[r.i].ch;
  if (sep != u'/' && sep != u'-' && sep != u'.') return false;
  ++r.i;
  if (!r.number(1, 2, b) || !r.other(sep) || !r.number(1, 4, c)) return false;
  const int a_len = r.t[first].length, c_len = r.t[r.i - 1].length;
  if (a_len == 4 && c_len <= 2) {
    f.year = a, f.month = b, f.day = c;
    if (sep == u'.') r.other(u'.'); // "2019. 3. 29." as Korean writes it
  } else if (a_len <= 2 && c_len == 4) {
    f.year = c;
    notes.year_last = true;
    notes.swappable = a <= 12 && b <= 12 && a != b;
    if (order == DateOrder::ymd) {
      notes.ymd_year_last = true;
      return false;
    }
    f.day = order == DateOrder::dmy ? a : b;
    f.month = order == DateOrder::dmy ? b : a;
  } else {
    return false;
  }
  r.era(notes);
  return true;
}

// "29 March 2019", "29 de marzo de 2019", "29 марта 2019 г.", "٢٩ آذار ٢٠١٩", "22 رجب 1440 هـ", "1. März 2019".
bool read_day_month_year(Reader& r, Fields& f, Notes& notes) {
  if (!r.number(1, 2, f.day)) return false;
  if (!r.match(r.n.ordinals)) r.other(u'.');
  r.fillers();
  const auto m = r.month(notes);
  if (!m) return false;
  f.month = *m;
  r.comma();
  r.fillers();
  if (!r.number(4, 4, f.year)) return false;
  r.era(notes);
  return true;
}

// "March 29, 2019", "March 29th 2019".
bool read_month_day_year(Reader& r, Fields& f, Notes& notes) {
  const auto m = r.month(notes);
  if (!m) return false;
  f.month = *m;
  if (!r.number(1, 2, f.day)) return false;
  r.match(r.n.ordinals);
  r.comma();
  if (!r.number(4, 4, f.year)) return false;
  r.era(notes);
  return true;
}

// Optional time after the date: "18:36", "18:36:05", "6:36 pm", "6.36 p.m.", "18h36", "下午6:36", "18時36分", "6 pm".
bool read_clock(Reader& r, Fields& f) {
  const std::size_t start = r.i;
  r.comma();
  r.fillers();
  if (r.end()) return r.i == start; // no dangling "," or "at"
  auto period = r.match(r.n.day_periods);
  int hour = 0, minute = 0, second = 0;
  if (!r.number(1, 2, hour)) return false;
  bool hour_only = false;
  if (r.marker(k_hour_marks)) {
    if (r.number(1, 2, minute)) {
      if (!r.marker(k_minute_marks)) return false;
      if (r.number(1, 2, second) && !r.marker(k_second_marks)) return false;
    }
  } else if (r.match(r.n.hour_letters)) {
    r.number(2, 2, minute);
  } else if (r.other(u':') || r.other(u'.')) {
    if (!r.number(2, 2, minute)) return false;
    if ((r.other(u':') || r.other(u'.')) && !r.number(2, 2, second)) return false;
  } else {
    hour_only = true;
  }
  if (!period) period = r.match(r.n.day_periods);
  if (hour_only && !period) return false;
  if (period) {
    if (hour < 1 || hour > 12) return false;
    hour = hour % 12 + (*period == 1 ? 12 : 0);
  }
  f.has_time = true;
  f.hour = hour, f.minute = minute, f.second = second;
  return r.end();
}

// Convert the Umm al-Qura date in `f` to the Gregorian one with ICU's islamic-umalqura calendar; false if it is no day
// of that calendar (the 30th of a 29-day month).
bool hijri_to_gregorian(Fields& f) {
  if (f.year < 1 || f.year > 9999 || f.month < 1 || f.month > 12 || f.day < 1 || f.day > 30) return false;
  thread_local std::unique_ptr<icu::Calendar> calendar = [] {
    UErrorCode status = U_ZERO_ERROR;
    icu::Locale locale("und");
    locale.setKeywordValue("calendar", "islamic-umalqura", status);
    std::unique_ptr<icu::Calendar> c(icu::Calendar::createInstance(icu::TimeZone::getGMT()->clone(), locale, status));
    if (U_FAILURE(status) || c == nullptr || std::string_view(c->getType()) != "islamic-umalqura") c.reset();
    return c;
  }();
  if (calendar == nullptr) return false;
  UErrorCode status = U_ZERO_ERROR;
  calendar->clear();
  calendar->setLenient(false);
  calendar->set(UCAL_ERA, 0);
  calendar->set(UCAL_YEAR, f.year);
  calendar->set(UCAL_MONTH, f.month - 1);
  calendar->set(UCAL_DATE, f.day);
  const UDate ms = calendar->getTime(status);
  if (U_FAILURE(status)) return false;
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{static_cast<std::int64_t>(std::floor(ms / 86400000.0))}}};
  f.year = static_cast<int>(ymd.year());
  f.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  f.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  return true;
}

// Read a date as people write it from `tokens`, with or without a leading weekday.
bool read_people_date(const std::vector<Token>& tokens, const Names& n, DateOrder order, bool with_weekday, Fields& f,
                      Notes& notes) {
  Reader r{tokens, n};
  r.fillers();
  if (with_weekday) {
    const auto wd = r.match(n.weekdays);
    if (!wd) return false;
    f.weekday = *wd;
    r.comma();
    r.fillers();
  }
  const Reader start = r;
  bool cjk = false;
  if (read_cjk_date(r, f)) {
    cjk = true;
  } else {
    const Fields before = f;
    bool found = false;
    for (int form = 0; form < 3 && !found; ++form) {
      r.i = start.i;
      f = before;
      Notes tried;
      found = form == 0   ? read_numeric_date(r, f, tried, order)
              : form == 1 ? read_day_month_year(r, f, tried)
                          : read_month_day_year(r, f, tried);
      if (form == 0) notes = tried;
      if (found) notes = tried;
    }
    if (!found) return false;
  }
  if (cjk && !with_weekday) { // "2019年3月29日(金)", "2019年3月29日 星期五"
    Reader probe = r;
    const bool paren = probe.other(u'(') || probe.other(0xFF08);
    if (const auto wd = probe.match(n.weekdays); wd && (!paren || probe.other(u')') || probe.other(0xFF09))) {
      f.weekday = *wd;
      r.i = probe.i;
    }
  }
  if (notes.hijri && notes.common_era) return false;
  if (!read_clock(r, f)) return false;
  return !notes.hijri || hijri_to_gregorian(f);
}

std::string_view order_words(DateOrder order) {
  switch (order) {
  case DateOrder::dmy: return "day-month-year";
  case DateOrder::mdy: return "month-day-year";
  case DateOrder::ymd: return "year-month-day";
  }
  return "";
}

// Return the order of day, month and year in ICU's short date pattern for `locale` ("dd/MM/y" -> dmy, "M/d/yy" -> mdy,
// "y/M/d" -> ymd), cached per thread.
DateOrder order_of_locale(const icu::Locale& locale) {
  thread_local std::map<std::string, DateOrder> cache;
  const std::string name = locale.getName();
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  DateOrder order = DateOrder::dmy;
  std::unique_ptr<icu::DateFormat> df(icu::DateFormat::createDateInstance(icu::DateFormat::kShort, locale));
  if (const auto* sdf = dynamic_cast<const icu::SimpleDateFormat*>(df.get())) {
    icu::UnicodeString pattern;
    sdf->toPattern(pattern);
    int32_t day = -1, month = -1, year = -1;
    bool quoted = false;
    for (int32_t k = 0; k < pattern.length(); ++k) {
      const char16_t c = pattern[k];
      if (c == u'\'') quoted = !quoted;
      if (quoted) continue;
      if (c == u'd' && day < 0) day = k;
      if ((c == u'M' || c == u'L') && month < 0) month = k;
      if ((c == u'y' || c == u'Y' || c == u'u' || c == u'r') && year < 0) year = k;
    }
    if (year >= 0 && month >= 0 && year < month) order = DateOrder::ymd;
    else if (month >= 0 && day >= 0 && month < day) order = DateOrder::mdy;
  }
  if (cache.size() > 256) cache.clear();
  cache.emplace(name, order);
  return order;
}

} // namespace

std::optional<DateOrder> date_order_from_name(std::string_view name) {
  if (name == "dmy") return DateOrder::dmy;
  if (name == "mdy") return DateOrder::mdy;
  if (name == "ymd") return DateOrder::ymd;
  return std::nullopt;
}

std::pair<DateOrder, std::string> effective_date_order(const DateOptions& options) {
  if (options.order) return {*options.order, "--date-order"};
  if (options.lang && !options.lang->empty()) {
    UErrorCode status = U_ZERO_ERROR;
    icu::Locale locale = icu::Locale::forLanguageTag(*options.lang, status);
    if (U_SUCCESS(status) && !locale.isBogus() && *locale.getLanguage() != '\0') {
      // A tag without a region means the language as written anywhere: ICU's "en" is US English (M/d/yy), its
      // world English en-001 writes dd/MM/y; languages without a 001 form fall back to their own patterns.
      if (*locale.getCountry() == '\0') {
        icu::LocaleBuilder builder;
        UErrorCode st = U_ZERO_ERROR;
        const icu::Locale world = builder.setLocale(locale).setRegion("001").build(st);
        if (U_SUCCESS(st) && !world.isBogus()) locale = world;
      }
      return {order_of_locale(locale), fmt::format("language '{}'", printable(*options.lang))};
    }
  }
  std::string name;
  if (options.locale) {
    name = *options.locale;
  } else {
    for (const char* var : {"LC_ALL", "LC_TIME", "LANG"})
      if (const char* value = std::getenv(var); value != nullptr && *value != '\0') {
        name = value;
        break;
      }
  }
  name = name.substr(0, name.find_first_of(".@"));
  if (name.empty() || name == "C" || name == "POSIX") return {DateOrder::dmy, "the C locale"};
  const icu::Locale locale(name.c_str());
  if (locale.isBogus() || *locale.getLanguage() == '\0') return {DateOrder::dmy, "the C locale"};
  return {order_of_locale(locale), fmt::format("locale {}", printable(name))};
}

Expected<PublishedTime> parse_published(std::string_view as_written, std::optional<std::string_view> zone,
                                        const DateOptions& options) {
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
  // Dates as people write them, when none of the fixed forms matched.
  Notes notes;
  std::optional<std::pair<DateOrder, std::string>> order;
  if (!parsed) {
    if (auto tokens = tokenize(s); tokens && !tokens->empty()) {
      const Names& n = names();
      order = effective_date_order(options);
      for (const bool with_weekday : {true, false}) {
        Fields g;
        Notes tried;
        if (read_people_date(*tokens, n, order->first, with_weekday, g, tried)) {
          f = g, notes = tried, parsed = true;
          break;
        }
        if (tried.ymd_year_last) notes = tried;
      }
    }
  }
  if (!parsed || !valid(f)) {
    // A numeric date that is no date in the default order but would be one with day and month swapped.
    Fields swapped = f;
    std::swap(swapped.day, swapped.month);
    swapped.weekday.reset();
    const bool order_matters = parsed && notes.year_last && valid(swapped);
    if ((order_matters || notes.ymd_year_last) && !options.order)
      result.warnings.push_back(fmt::format("published '{}' is no date when read {} (the order from {}); give "
                                            "--date-order to read it otherwise",
                                            as_written, order_words(order->first), order->second));
    return result;
  }
  if (notes.hijri) result.calendar = "islamic-umalqura";
  if (notes.year_last && notes.swappable && !options.order)
    result.warnings.push_back(fmt::format("published '{}' is ambiguous: read as {} ({}, the order from {}); give "
                                          "--date-order to read it otherwise",
                                          as_written, format_date(f.year, static_cast<unsigned>(f.month),
                                                                  static_cast<unsigned>(f.day)),
                                          order_words(order->first), order->second));

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
    return PublishedTime{result.as_written, {}, {}, {}, false, {}, {}}; // the UTC time falls outside years 1-9999
  }
  result.understood = true;
  return result;
}

} // namespace avow::text
