#pragma once

#include <archive/util/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace avow::text {

// A publication time as the source wrote it, and what could be understood of it.
struct PublishedTime {
  std::string as_written;            // verbatim input, always
  std::optional<std::string> utc;    // "2019-03-29T15:36:00Z" (RFC 3339 UTC, fractional seconds kept if given e.g. ".79")
  std::optional<std::string> local;  // local wall time as RFC 3339 without offset, "2019-03-29T18:36:00", or "2008-09-16" for date-only
  std::optional<std::string> tz;     // the IANA zone name given with --tz (e.g. "Europe/Istanbul"), or the offset as written "+03:00"
  bool understood = false;           // false: no parser understood it (as_written alone; caller warns or, when strict, errors)
};

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
Expected<PublishedTime> parse_published(std::string_view as_written, std::optional<std::string_view> zone);

} // namespace avow::text
