#pragma once

#include <archive/util/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace avow::text {

// A publication time as the source wrote it, and what could be understood of it.
struct PublishedTime {
  std::string as_written;            // verbatim input, always
  std::optional<std::string> utc;    // "2019-03-29T15:36:00Z" (RFC 3339 UTC, fractional seconds kept if given e.g. ".79")
  std::optional<std::string> local;  // local wall time as RFC 3339 without offset, "2019-03-29T18:36:00", or "2008-09-16" for date-only
  std::optional<std::string> tz;     // the IANA zone name given with --tz (e.g. "Europe/Istanbul"), or the offset as written "+03:00"
  bool understood = false;           // false: no parser understood it (as_written alone; caller warns or, when strict, errors)
  std::optional<std::string> calendar = std::nullopt; // "islamic-umalqura" when read as a Hijri date; local/utc are Gregorian
  std::vector<std::string> warnings = {};             // e.g. an ambiguous numeric date read by a default order
};

// The order of a numeric date whose year is last or first: 29/03/2019 (dmy), 03/29/2019 (mdy), 2019/03/29 (ymd).
enum class DateOrder { dmy, mdy, ymd };

// Return the order named "dmy", "mdy" or "ymd"; nullopt otherwise.
std::optional<DateOrder> date_order_from_name(std::string_view name);

// How to read the numeric forms. `order` is an explicit choice (--date-order); without it the default comes from ICU's
// short date pattern for `lang` (a BCP 47 tag; a tag without region is read as its world form, so "en" is en-001,
// day-month-year), else for `locale` (a POSIX locale name such as "en_US.UTF-8"; when absent, LC_ALL, LC_TIME or LANG
// of the process), else day-month-year (also for the C/POSIX locale).
struct DateOptions {
  std::optional<DateOrder> order;
  std::optional<std::string> lang;
  std::optional<std::string> locale;
};

// Return the order `options` gives and where it came from ("--date-order", "language 'fr'", "locale en_US", "the C
// locale").
std::pair<DateOrder, std::string> effective_date_order(const DateOptions& options);

// Parse a publication time as written. Forms: RFC 3339 (with Z or offset -> utc filled; without offset -> local),
// RFC 2822 ("Fri, 29 Mar 2019 18:36:00 +0300"), "Friday, 29 March 2019 18:36" (English day/month names, optional weekday,
// weekday must match the date if present else not understood), "26-FEB-1987 15:01:01.79" (also " 9-APR-1987 ..." with a
// leading space, and tolerate trailing Reuters wire codes like "&#9;&#9;&#9;F" after the time: keep as_written verbatim),
// "2015-08-01 10:00:00", "20080916" (date only: local = "2008-09-16", never utc), "2019-03-29" (date only).
// `zone`: an IANA zone name (from --tz); when given and the text carries no offset, local time is converted to utc with ICU
// TimeZone/Calendar (historical rules! Europe/Istanbul was UTC+3 in March 2019, so "Friday, 29 March 2019 18:36" -> utc
// "2019-03-29T15:36:00Z"); a nonexistent/ambiguous local time: pick the ICU default and do not fail. Unknown zone name ->
// invalid_input "unknown time zone 'X'". When the text carries an offset AND a zone is given, the text's offset wins for utc.
// Impossible dates (31 February, hour 25) are not understood. Empty string -> invalid_input.
// Details: `tz` is the offset as written ("+03:00", "+0300", "Z", "GMT") when the text has one, else `zone` as given (also for
// a date-only text, which still gets no utc). A skipped local time (spring forward) is read with the offset before the
// transition and a repeated one (fall back) as the later occurrence, as ICU's Calendar does by default. Leap seconds (":60")
// are not understood. `as_written` is not checked here; check it with check_single_line().
//
// Dates as people write them, read with ICU's names (DateFormatSymbols) when none of the forms above matches; digits of
// any script (Arabic-Indic, Persian...) count as digits, format characters (RLM) are ignored, names compare without
// case, accents, hamza or tatweel:
// - numeric "29/03/2019", "29.03.2019 18:36", "03/29/2019", "2019/3/29" ('/', '-' or '.'; the same separator twice);
//   year-last forms are read in `options`' order (year-first ones are always year-month-day); when that order is a
//   default (not options.order) and day and month could be swapped (both <= 12 and different), a warning says how it
//   was read; under ymd a year-last form is not understood.
// - month names (and optional weekday names) of English, French, Spanish, Russian (genitive "29 марта 2019 г."), and
//   Arabic (both "29 آذار 2019" and "29 مارس 2019" series, Maghreb names too): "29 March 2019, 6:36 pm",
//   "vendredi 29 mars 2019 à 18h36", "29 de marzo de 2019", "الجمعة ٢٩ مارس ٢٠١٩ الساعة ٦:٣٦ م", "March 29th, 2019".
// - Chinese, Japanese and Korean "2019年3月29日", "2019年3月29日 18時36分", "2019年3月29日 18:36", "2019년 3월 29일".
// - 12-hour clocks: "6:36 pm", "6:36 PM", "6.36 p.m.", "6:36 م", "下午6:36"; hour 1-12.
// - Hijri dates in the Umm al-Qura calendar, marked by a Hijri month name or era: "22 رجب 1440 هـ", "1440-07-22 AH";
//   `calendar` is then "islamic-umalqura" and `local`/`utc` the Gregorian day (converted with ICU's calendar).
Expected<PublishedTime> parse_published(std::string_view as_written, std::optional<std::string_view> zone,
                                        const DateOptions& options = {});

} // namespace avow::text
