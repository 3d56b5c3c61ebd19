#include <archive/text/date.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>

using avow::ErrorCode;
using avow::text::DateOptions;
using avow::text::DateOrder;
using avow::text::effective_date_order;
using avow::text::parse_published;
using avow::text::PublishedTime;

namespace {

// "understood|utc|local|tz" with "-" for an absent field: one string compares every output at once.
std::string summary(std::string_view text, std::optional<std::string_view> zone = std::nullopt) {
  auto r = parse_published(text, zone);
  if (!r) return "error: " + r.error().message;
  EXPECT_EQ(r->as_written, text);
  return std::string(r->understood ? "yes" : "no") + "|" + r->utc.value_or("-") + "|" + r->local.value_or("-") + "|" +
         r->tz.value_or("-");
}

} // namespace

TEST(TextDate, Rfc3339) {
  EXPECT_EQ(summary("2019-03-29T15:36:00Z"), "yes|2019-03-29T15:36:00Z|2019-03-29T15:36:00|Z");
  EXPECT_EQ(summary("2019-03-29T18:36:00+03:00"), "yes|2019-03-29T15:36:00Z|2019-03-29T18:36:00|+03:00");
  EXPECT_EQ(summary("2019-03-29T18:36:00.79+03:00"), "yes|2019-03-29T15:36:00.79Z|2019-03-29T18:36:00.79|+03:00");
  EXPECT_EQ(summary("2019-12-31T22:30:00-05:30"), "yes|2020-01-01T04:00:00Z|2019-12-31T22:30:00|-05:30");
  EXPECT_EQ(summary("2019-01-01T01:00:00+02:00"), "yes|2018-12-31T23:00:00Z|2019-01-01T01:00:00|+02:00");
  EXPECT_EQ(summary("2019-03-29t15:36:00z"), "yes|2019-03-29T15:36:00Z|2019-03-29T15:36:00|z");
  // Without an offset it is local time only.
  EXPECT_EQ(summary("2019-03-29T18:36:00"), "yes|-|2019-03-29T18:36:00|-");
  EXPECT_EQ(summary("2019-03-29T18:36"), "yes|-|2019-03-29T18:36:00|-");
}

TEST(TextDate, Rfc3339OffsetWinsOverZone) {
  EXPECT_EQ(summary("2019-03-29T18:36:00+01:00", "Europe/Istanbul"),
            "yes|2019-03-29T17:36:00Z|2019-03-29T18:36:00|+01:00");
  EXPECT_EQ(summary("2019-03-29T18:36:00Z", "America/New_York"), "yes|2019-03-29T18:36:00Z|2019-03-29T18:36:00|Z");
}

TEST(TextDate, Rfc2822) {
  EXPECT_EQ(summary("Fri, 29 Mar 2019 18:36:00 +0300"), "yes|2019-03-29T15:36:00Z|2019-03-29T18:36:00|+0300");
  EXPECT_EQ(summary("Fri, 29 Mar 2019 18:36:00 GMT"), "yes|2019-03-29T18:36:00Z|2019-03-29T18:36:00|GMT");
  EXPECT_EQ(summary("29 Mar 2019 18:36 -0500"), "yes|2019-03-29T23:36:00Z|2019-03-29T18:36:00|-0500");
  EXPECT_EQ(summary("Thu, 1 Jan 1970 00:00:00 EST"), "yes|1970-01-01T05:00:00Z|1970-01-01T00:00:00|EST");
  EXPECT_EQ(summary("Thu, 01 Jan 1970 00:00:00 EST"), summary("Thu, 1 Jan 1970 00:00:00 EST"));
  EXPECT_EQ(summary("Mon, 29 Mar 2019 18:36:00 +0300"), "no|-|-|-");  // wrong weekday
}

TEST(TextDate, HumanDateline) {
  EXPECT_EQ(summary("Friday, 29 March 2019 18:36"), "yes|-|2019-03-29T18:36:00|-");
  EXPECT_EQ(summary("friday 29 march 2019 18:36"), "yes|-|2019-03-29T18:36:00|-");
  EXPECT_EQ(summary("29 March 2019 18:36"), "yes|-|2019-03-29T18:36:00|-");
  EXPECT_EQ(summary("29 March 2019"), "yes|-|2019-03-29|-");
  EXPECT_EQ(summary("Friday, 29 March 2019"), "yes|-|2019-03-29|-");
  EXPECT_EQ(summary("Friday, March 29, 2019 6:36"), "yes|-|2019-03-29T06:36:00|-");
  EXPECT_EQ(summary("Thursday, 29 March 2019 18:36"), "no|-|-|-");  // weekday does not match
  EXPECT_EQ(summary("Fryday, 29 March 2019 18:36"), "no|-|-|-");
}

TEST(TextDate, IstanbulUsesHistoricalRules) {
  // Turkey has kept UTC+3 all year since September 2016; in March 2019 18:36 local was 15:36 UTC.
  EXPECT_EQ(summary("Friday, 29 March 2019 18:36", "Europe/Istanbul"),
            "yes|2019-03-29T15:36:00Z|2019-03-29T18:36:00|Europe/Istanbul");
  // In January 2015 Turkey was on EET (UTC+2).
  EXPECT_EQ(summary("2015-01-15 12:00:00", "Europe/Istanbul"),
            "yes|2015-01-15T10:00:00Z|2015-01-15T12:00:00|Europe/Istanbul");
}

TEST(TextDate, NewYorkDaylightSavingTime) {
  EXPECT_EQ(summary("2019-07-04 12:00:00", "America/New_York"),
            "yes|2019-07-04T16:00:00Z|2019-07-04T12:00:00|America/New_York");  // EDT, UTC-4
  EXPECT_EQ(summary("2019-01-04 12:00:00", "America/New_York"),
            "yes|2019-01-04T17:00:00Z|2019-01-04T12:00:00|America/New_York");  // EST, UTC-5
  // 1987 rules: DST began on the first Sunday of April (5 April 1987).
  EXPECT_EQ(summary(" 4-APR-1987 12:00:00.00", "America/New_York"),
            "yes|1987-04-04T17:00:00.00Z|1987-04-04T12:00:00.00|America/New_York");
  EXPECT_EQ(summary(" 6-APR-1987 12:00:00.00", "America/New_York"),
            "yes|1987-04-06T16:00:00.00Z|1987-04-06T12:00:00.00|America/New_York");
}

TEST(TextDate, NonexistentAndRepeatedLocalTimesDoNotFail) {
  // 2:30 on 8 March 2015 never happened in New York; ICU's Calendar default reads it with the offset before (EST).
  EXPECT_EQ(summary("2015-03-08 02:30:00", "America/New_York"),
            "yes|2015-03-08T07:30:00Z|2015-03-08T02:30:00|America/New_York");
  // 1:30 on 1 November 2015 happened twice; ICU's Calendar default takes the later one (EST).
  EXPECT_EQ(summary("2015-11-01 01:30:00", "America/New_York"),
            "yes|2015-11-01T06:30:00Z|2015-11-01T01:30:00|America/New_York");
}

TEST(TextDate, ReutersForms) {
  EXPECT_EQ(summary("26-FEB-1987 15:01:01.79"), "yes|-|1987-02-26T15:01:01.79|-");
  EXPECT_EQ(summary(" 9-APR-1987 01:02:03.45"), "yes|-|1987-04-09T01:02:03.45|-");
  EXPECT_EQ(summary("  9-MAR-1987 00:14:46.66"), "yes|-|1987-03-09T00:14:46.66|-");
  EXPECT_EQ(summary("3-MAR-1987  09:15:05.40"), "yes|-|1987-03-03T09:15:05.40|-");
  EXPECT_EQ(summary("26-FEB-1987 15:01:01.79", "UTC"), "yes|1987-02-26T15:01:01.79Z|1987-02-26T15:01:01.79|UTC");
  EXPECT_EQ(summary("26-FEB-1987 15:01:01.79", "America/New_York"),
            "yes|1987-02-26T20:01:01.79Z|1987-02-26T15:01:01.79|America/New_York");
}

TEST(TextDate, ReutersWireCodesAreToleratedAndKept) {
  EXPECT_EQ(summary("27-MAR-1987 00:03:35.68&#5;&#5;&#5;F"), "yes|-|1987-03-27T00:03:35.68|-");
  EXPECT_EQ(summary("27-MAR-1987 02:17:09.88&#5;&#5;&#5;T C"), "yes|-|1987-03-27T02:17:09.88|-");
  EXPECT_EQ(summary("26-FEB-1987 15:01:01.79&#9;&#9;&#9;F"), "yes|-|1987-02-26T15:01:01.79|-");
  auto r = parse_published(" 9-APR-1987 01:02:03.45&#9;&#9;&#9;RM V Y", std::nullopt);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->as_written, " 9-APR-1987 01:02:03.45&#9;&#9;&#9;RM V Y");
  EXPECT_TRUE(r->understood);
  EXPECT_EQ(r->local, "1987-04-09T01:02:03.45");
  // Anything else after the time is not understood.
  EXPECT_EQ(summary("26-FEB-1987 15:01:01.79 junk"), "no|-|-|-");
}

TEST(TextDate, SpaceSeparatedLocal) {
  EXPECT_EQ(summary("2015-08-01 10:00:00"), "yes|-|2015-08-01T10:00:00|-");
  EXPECT_EQ(summary("2015-08-01 10:00:00", "Asia/Riyadh"), "yes|2015-08-01T07:00:00Z|2015-08-01T10:00:00|Asia/Riyadh");
}

TEST(TextDate, DateOnlyNeverGetsUtc) {
  EXPECT_EQ(summary("20080916"), "yes|-|2008-09-16|-");
  EXPECT_EQ(summary("20080916", "America/New_York"), "yes|-|2008-09-16|America/New_York");
  EXPECT_EQ(summary("2019-03-29"), "yes|-|2019-03-29|-");
  EXPECT_EQ(summary("2019-03-29", "Europe/Istanbul"), "yes|-|2019-03-29|Europe/Istanbul");
  EXPECT_EQ(summary("26-FEB-1987"), "yes|-|1987-02-26|-");
}

TEST(TextDate, ImpossibleDatesAreNotUnderstood) {
  for (const std::string_view text :
       {"2019-02-31", "2019-02-29", "20190231", "2019-13-01", "2019-00-10", "2019-03-29T25:00:00", "2019-03-29T24:00:00",
        "2019-03-29T23:60:00", "2019-03-29T23:59:60Z", "31 February 2019 10:00", "30-FEB-1987 10:00:00.00",
        "2019-03-29T18:36:00+24:00", "0000-01-01", "20191301"}) {
    EXPECT_EQ(summary(text), "no|-|-|-") << text;
  }
  EXPECT_EQ(summary("2020-02-29"), "yes|-|2020-02-29|-");  // leap year
  EXPECT_EQ(summary("1900-02-29"), "no|-|-|-");           // not a leap year
}

TEST(TextDate, GarbageIsKeptAsWritten) {
  for (const std::string_view text : {"garbage", "yesterday", "2019", "2019-03", "201903291", "12/03/19",
                                      "\xD8\xA7\xD9\x84\xD8\xAC\xD9\x85\xD8\xB9\xD8\xA9", "2019-03-29 18:36:00 Europe/Istanbul",
                                      "--", "\xFF\xFE"}) {
    auto r = parse_published(text, std::nullopt);
    ASSERT_TRUE(r.has_value()) << text;
    EXPECT_FALSE(r->understood) << text;
    EXPECT_EQ(r->as_written, text);
    EXPECT_FALSE(r->utc || r->local || r->tz) << text;
  }
  auto zoned = parse_published("garbage", "Europe/Istanbul");
  ASSERT_TRUE(zoned.has_value());
  EXPECT_FALSE(zoned->understood);
  EXPECT_FALSE(zoned->tz.has_value());
}

TEST(TextDate, SurroundingSpaceIsToleratedAndKept) {
  auto r = parse_published("  2019-03-29 \t", std::nullopt);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->understood);
  EXPECT_EQ(r->as_written, "  2019-03-29 \t");
  EXPECT_EQ(r->local, "2019-03-29");
}

TEST(TextDate, UnknownZoneIsAnError) {
  for (const std::string_view zone : {"Nowhere/Land", "", "Etc/Unknown", "europe/istanbul\n"}) {
    auto r = parse_published("2019-03-29 10:00:00", zone);
    ASSERT_FALSE(r.has_value()) << zone;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
  }
  EXPECT_EQ(parse_published("2019-03-29", "Nowhere/Land").error().message, "unknown time zone 'Nowhere/Land'");
  EXPECT_EQ(parse_published("2019-03-29", "Mars/Olympus\n").error().message, "unknown time zone 'Mars/Olympus\\x0A'");
}

TEST(TextDate, EmptyIsAnError) {
  auto r = parse_published("", std::nullopt);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(r.error().message, "published time is empty");
  EXPECT_FALSE(parse_published("   ", "UTC").has_value());
}

TEST(TextDate, EveryCorpusDateIsUnderstood) {
  const auto path = std::filesystem::path(AVOW_SHARED_DIR) / "corpus" / "statements.jsonl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path << "; skipping corpus dates";
  std::ifstream in(path);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    const auto item = nlohmann::json::parse(line);
    if (!item.contains("published") || !item["published"].is_string()) continue;
    const std::string published = item["published"].get<std::string>();
    auto r = parse_published(published, "UTC");
    ASSERT_TRUE(r.has_value()) << published;
    EXPECT_TRUE(r->understood) << item.at("id") << ": '" << published << "'";
    EXPECT_TRUE(r->local.has_value());
    ++count;
  }
  EXPECT_GT(count, 0);
}

TEST(TextDate, HostileInputNeverCrashes) {
  const std::string alphabet = "0123456789-:.+ ,TZFridayMarchAPRGMT&#;\t\xFF";
  std::mt19937 rng(1987);
  for (int round = 0; round < 20000; ++round) {
    std::string text(1 + rng() % 30, ' ');
    for (auto& c : text) c = alphabet[rng() % alphabet.size()];
    auto r = parse_published(text, round % 2 ? std::optional<std::string_view>("Europe/Istanbul") : std::nullopt);
    if (!r) continue;  // only whitespace-only text
    ASSERT_EQ(r->as_written, text);
    if (r->understood) {
      ASSERT_TRUE(r->local.has_value()) << text;
    } else {
      ASSERT_FALSE(r->utc || r->local || r->tz) << text;
    }
  }
}

// ---- Dates as people write them ----

namespace {

DateOptions lang(std::string tag) { return DateOptions{std::nullopt, std::move(tag), std::string("C")}; }
DateOptions order(DateOrder o) { return DateOptions{o, std::nullopt, std::string("C")}; }
DateOptions c_locale() { return DateOptions{std::nullopt, std::nullopt, std::string("C")}; }

// As summary(), plus "|calendar" and "|warn" when a warning was given.
std::string read(std::string_view text, std::optional<std::string_view> zone = std::nullopt,
                 const DateOptions& options = c_locale()) {
  auto r = parse_published(text, zone, options);
  if (!r) return "error: " + r.error().message;
  EXPECT_EQ(r->as_written, text);
  if (!r->understood) {
    EXPECT_FALSE(r->utc || r->local || r->tz || r->calendar) << text;
  }
  return std::string(r->understood ? "yes" : "no") + "|" + r->utc.value_or("-") + "|" + r->local.value_or("-") + "|" +
         r->tz.value_or("-") + "|" + r->calendar.value_or("-") + (r->warnings.empty() ? "" : "|warn");
}

} // namespace

TEST(TextDatePeople, NumericDayMonthYear) {
  EXPECT_EQ(read("29/03/2019"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("29-03-2019"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("29.03.2019"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("9/3/2019"), "yes|-|2019-03-09|-|-|warn");
  EXPECT_EQ(read("29.03.2019 18:36"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("29.03.2019 18:36:05"), "yes|-|2019-03-29T18:36:05|-|-");
  // Syria moved to UTC+3 at midnight that very Friday (last Friday of March).
  EXPECT_EQ(read("29.03.2019 18:36", "Asia/Damascus"), "yes|2019-03-29T15:36:00Z|2019-03-29T18:36:00|Asia/Damascus|-");
  EXPECT_EQ(read("29/03/2019 18:36", "Europe/Istanbul"),
            "yes|2019-03-29T15:36:00Z|2019-03-29T18:36:00|Europe/Istanbul|-");
  EXPECT_EQ(read("29/03/2019", "Europe/Istanbul"), "yes|-|2019-03-29|Europe/Istanbul|-");
  // Mixed separators, two-digit years and stray text are not dates.
  for (const std::string_view text : {"29/03-2019", "29/03/19", "29/03/2019/", "29/03/2019 junk", "29 / 03 /", "1/2/3/4"})
    EXPECT_EQ(read(text), "no|-|-|-|-") << text;
}

TEST(TextDatePeople, NumericYearFirstIsAlwaysYearMonthDay) {
  for (const auto& options : {c_locale(), lang("en-US"), lang("zh"), order(DateOrder::dmy), order(DateOrder::mdy)}) {
    EXPECT_EQ(read("2019/03/29", std::nullopt, options), "yes|-|2019-03-29|-|-");
    EXPECT_EQ(read("2019/3/29", std::nullopt, options), "yes|-|2019-03-29|-|-");
    EXPECT_EQ(read("2019.03.29", std::nullopt, options), "yes|-|2019-03-29|-|-");
    EXPECT_EQ(read("2019-3-9 18:36", std::nullopt, options), "yes|-|2019-03-09T18:36:00|-|-");
    EXPECT_EQ(read("2019/03/04", std::nullopt, options), "yes|-|2019-03-04|-|-");  // never ambiguous
  }
  EXPECT_EQ(read("2019. 3. 29.", std::nullopt, lang("ko")), "yes|-|2019-03-29|-|-");
}

TEST(TextDatePeople, MonthDayYearByLanguageOrOrder) {
  EXPECT_EQ(read("03/29/2019", std::nullopt, lang("en-US")), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("03/29/2019 6:36 pm", "America/New_York", lang("en-US")),
            "yes|2019-03-29T22:36:00Z|2019-03-29T18:36:00|America/New_York|-");
  EXPECT_EQ(read("03/29/2019", std::nullopt, order(DateOrder::mdy)), "yes|-|2019-03-29|-|-");
  // Read day-first, 03/29 has no month 29.
  EXPECT_EQ(read("03/29/2019", std::nullopt, order(DateOrder::dmy)), "no|-|-|-|-");
  EXPECT_EQ(read("03/29/2019", std::nullopt, lang("fr")), "no|-|-|-|-|warn");
}

TEST(TextDatePeople, AmbiguousDatesAreWarnedOnlyUnderADefaultOrder) {
  EXPECT_EQ(read("04/03/2019", std::nullopt, lang("fr")), "yes|-|2019-03-04|-|-|warn");
  EXPECT_EQ(read("04/03/2019", std::nullopt, lang("en-US")), "yes|-|2019-04-03|-|-|warn");
  EXPECT_EQ(read("04/03/2019", std::nullopt, lang("en")), "yes|-|2019-03-04|-|-|warn");
  EXPECT_EQ(read("04/03/2019", std::nullopt, order(DateOrder::dmy)), "yes|-|2019-03-04|-|-");
  EXPECT_EQ(read("04/03/2019", std::nullopt, order(DateOrder::mdy)), "yes|-|2019-04-03|-|-");
  // Explicit order wins over the language.
  EXPECT_EQ(read("04/03/2019", std::nullopt, DateOptions{DateOrder::mdy, "fr", "C"}), "yes|-|2019-04-03|-|-");
  EXPECT_EQ(read("03/03/2019", std::nullopt, lang("fr")), "yes|-|2019-03-03|-|-");  // same either way
  EXPECT_EQ(read("13/03/2019", std::nullopt, lang("fr")), "yes|-|2019-03-13|-|-");  // 13 cannot be a month
  auto r = parse_published("04/03/2019", std::nullopt, lang("fr"));
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "published '04/03/2019' is ambiguous: read as 2019-03-04 (day-month-year, the order from "
                            "language 'fr'); give --date-order to read it otherwise");
  r = parse_published("04/03/2019", std::nullopt, DateOptions{std::nullopt, std::nullopt, "en_US.UTF-8"});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "published '04/03/2019' is ambiguous: read as 2019-04-03 (month-day-year, the order from "
                            "locale en_US); give --date-order to read it otherwise");
  r = parse_published("29/03/2019", std::nullopt, lang("en-US"));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->understood);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "published '29/03/2019' is no date when read month-day-year (the order from language "
                            "'en-US'); give --date-order to read it otherwise");
}

TEST(TextDatePeople, ImpossibleNumericDatesAreRejected) {
  for (const auto& options : {c_locale(), order(DateOrder::dmy), order(DateOrder::mdy), lang("ar")})
    for (const std::string_view text : {"31/02/2019", "13/13/2019", "00/03/2019", "29/02/2019", "32.01.2019",
                                        "29.03.2019 24:00", "29.03.2019 18:60", "2019/02/30", "2019/13/01"})
      EXPECT_TRUE(read(text, std::nullopt, options).starts_with("no|-|-|-|-")) << text;
  EXPECT_EQ(read("29/02/2020"), "yes|-|2020-02-29|-|-");
  // Under year-month-day (Chinese) a year-last date is not read at all.
  EXPECT_EQ(read("29/03/2019", std::nullopt, lang("zh")), "no|-|-|-|-|warn");
  EXPECT_EQ(read("29/03/2019", std::nullopt, order(DateOrder::ymd)), "no|-|-|-|-");
}

TEST(TextDatePeople, DefaultOrderComesFromIcuPatterns) {
  const auto from = [](DateOptions o) {
    const auto [order_, why] = effective_date_order(o);
    return std::string(order_ == DateOrder::dmy ? "dmy" : order_ == DateOrder::mdy ? "mdy" : "ymd") + " " + why;
  };
  EXPECT_EQ(from(lang("en-US")), "mdy language 'en-US'");
  EXPECT_EQ(from(lang("en")), "dmy language 'en'");
  EXPECT_EQ(from(lang("en-GB")), "dmy language 'en-GB'");
  for (const char* tag : {"fr", "ar", "ar-SY", "es", "ru", "de", "tr"}) EXPECT_EQ(from(lang(tag)), fmt::format("dmy language '{}'", tag));
  for (const char* tag : {"zh", "zh-TW", "ja", "ko"}) EXPECT_EQ(from(lang(tag)), fmt::format("ymd language '{}'", tag));
  EXPECT_EQ(from(DateOptions{std::nullopt, std::nullopt, "en_US.UTF-8"}), "mdy locale en_US");
  EXPECT_EQ(from(DateOptions{std::nullopt, std::nullopt, "de_DE.UTF-8@euro"}), "dmy locale de_DE");
  EXPECT_EQ(from(DateOptions{std::nullopt, std::nullopt, "ja_JP.UTF-8"}), "ymd locale ja_JP");
  EXPECT_EQ(from(DateOptions{std::nullopt, std::nullopt, "C"}), "dmy the C locale");
  EXPECT_EQ(from(DateOptions{std::nullopt, std::nullopt, "POSIX"}), "dmy the C locale");
  EXPECT_EQ(from(DateOptions{std::nullopt, std::nullopt, "C.UTF-8"}), "dmy the C locale");
  EXPECT_EQ(from(DateOptions{std::nullopt, "", "en_US"}), "mdy locale en_US");  // an empty tag is no tag
  EXPECT_EQ(from(DateOptions{DateOrder::ymd, "en-US", "en_US"}), "ymd --date-order");
  EXPECT_EQ(avow::text::date_order_from_name("mdy"), DateOrder::mdy);
  EXPECT_EQ(avow::text::date_order_from_name("MDY"), std::nullopt);
}

TEST(TextDatePeople, TwelveHourClocks) {
  EXPECT_EQ(read("29 March 2019, 6:36 pm"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("29 March 2019, 6:36 pm", "Europe/Istanbul"),
            "yes|2019-03-29T15:36:00Z|2019-03-29T18:36:00|Europe/Istanbul|-");
  EXPECT_EQ(read("29 March 2019 6:36 PM"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("29 March 2019 6.36 p.m."), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("29 March 2019 6:36pm"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("29 March 2019 6:36:07 a.m."), "yes|-|2019-03-29T06:36:07|-|-");
  EXPECT_EQ(read("29 March 2019 at 6 pm"), "yes|-|2019-03-29T18:00:00|-|-");
  EXPECT_EQ(read("29 March 2019 12:05 am"), "yes|-|2019-03-29T00:05:00|-|-");
  EXPECT_EQ(read("29 March 2019 12:05 pm"), "yes|-|2019-03-29T12:05:00|-|-");
  EXPECT_EQ(read("Friday, March 29, 2019 6:36 pm"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("March 29th, 2019"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("29/03/2019 6:36 pm"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("29 آذار 2019 6:36 م"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("29 آذار 2019 6:36 ص"), "yes|-|2019-03-29T06:36:00|-|-");
  EXPECT_EQ(read("29 آذار 2019 6:36 مساءً"), "yes|-|2019-03-29T18:36:00|-|-");
  for (const std::string_view text : {"29 March 2019 13:00 pm", "29 March 2019 0:30 am", "29 March 2019 6", "29 March 2019 6:36 xm"})
    EXPECT_EQ(read(text), "no|-|-|-|-") << text;
}

TEST(TextDatePeople, ArabicLevantineAndEgyptianMonths) {
  const std::array<std::string_view, 12> levantine = {"كانون الثاني", "شباط", "آذار",  "نيسان",       "أيار",         "حزيران",
                                                      "تموز",         "آب",   "أيلول", "تشرين الأول", "تشرين الثاني", "كانون الأول"};
  const std::array<std::string_view, 12> egyptian = {"يناير", "فبراير", "مارس",   "أبريل",  "مايو",   "يونيو",
                                                     "يوليو", "أغسطس",  "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"};
  for (int m = 1; m <= 12; ++m) {
    const std::string expected = fmt::format("yes|-|2019-{:02}-01|-|-", m);
    EXPECT_EQ(read(fmt::format("1 {} 2019", levantine[m - 1])), expected) << levantine[m - 1];
    EXPECT_EQ(read(fmt::format("1 {} 2019", egyptian[m - 1])), expected) << egyptian[m - 1];
  }
  EXPECT_EQ(read("29 آذار 2019"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("29 اذار 2019"), "yes|-|2019-03-29|-|-");  // without the madda
  EXPECT_EQ(read("1 ابريل 2019"), "yes|-|2019-04-01|-|-");   // without the hamza
  EXPECT_EQ(read("1 إبريل 2019"), "yes|-|2019-04-01|-|-");   // hamza below, as in Egypt
  EXPECT_EQ(read("1 ايار 2019"), "yes|-|2019-05-01|-|-");
  EXPECT_EQ(read("٢٩ مارس ٢٠١٩"), "yes|-|2019-03-29|-|-");   // Arabic-Indic digits
  EXPECT_EQ(read("۲۹ مارس ۲۰۱۹"), "yes|-|2019-03-29|-|-");   // Eastern (Persian) digits
  EXPECT_EQ(read("٢٩/٠٣/٢٠١٩"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("\u200F29\u200F/03\u200F/2019"), "yes|-|2019-03-29|-|-");  // RLM, as ICU formats it
  EXPECT_EQ(read("٢٩ مارس ٢٠١٩ ١٨:٣٦", "Asia/Riyadh"), "yes|2019-03-29T15:36:00Z|2019-03-29T18:36:00|Asia/Riyadh|-");
  EXPECT_EQ(read("الجمعة 29 آذار 2019 الساعة 6:36 م", "Asia/Damascus"),
            "yes|2019-03-29T15:36:00Z|2019-03-29T18:36:00|Asia/Damascus|-");
  EXPECT_EQ(read("الجمعة، ٢٩ مارس ٢٠١٩"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("يوم الجمعة 29 آذار 2019"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("الخميس ٢٩ مارس ٢٠١٩"), "no|-|-|-|-");  // 29 March 2019 was a Friday
  EXPECT_EQ(read("29 آذار 2019 م"), "yes|-|2019-03-29|-|-");  // م after the year: AD
  EXPECT_EQ(read("1 جانفي 2019"), "yes|-|2019-01-01|-|-");    // Algeria, Tunisia
  EXPECT_EQ(read("30 شباط 2019"), "no|-|-|-|-");
}

TEST(TextDatePeople, FrenchSpanishRussian) {
  EXPECT_EQ(read("29 mars 2019"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("vendredi 29 mars 2019 à 18h36", "Europe/Paris"),
            "yes|2019-03-29T17:36:00Z|2019-03-29T18:36:00|Europe/Paris|-");
  EXPECT_EQ(read("Vendredi 29 Mars 2019, 18 h 36"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("1er avril 2019"), "yes|-|2019-04-01|-|-");
  EXPECT_EQ(read("28 févr. 2019"), "yes|-|2019-02-28|-|-");
  EXPECT_EQ(read("28 fevrier 2019"), "yes|-|2019-02-28|-|-");
  EXPECT_EQ(read("3 août 2019"), "yes|-|2019-08-03|-|-");
  EXPECT_EQ(read("29 de marzo de 2019"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("viernes, 29 de marzo de 2019 18:36", "America/Mexico_City"),
            "yes|2019-03-30T00:36:00Z|2019-03-29T18:36:00|America/Mexico_City|-");
  EXPECT_EQ(read("29 de marzo de 2019, 6:36 p. m."), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("29 марта 2019 г."), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("29 марта 2019 года, 18:36", "Europe/Moscow"),
            "yes|2019-03-29T15:36:00Z|2019-03-29T18:36:00|Europe/Moscow|-");
  EXPECT_EQ(read("пятница, 29 марта 2019 г. в 18:36"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("1 мая 2019"), "yes|-|2019-05-01|-|-");
  EXPECT_EQ(read("1 май 2019"), "yes|-|2019-05-01|-|-");
  EXPECT_EQ(read("четверг, 29 марта 2019 г."), "no|-|-|-|-");  // wrong weekday
  EXPECT_EQ(read("29 mars 2019 à"), "no|-|-|-|-");
}

TEST(TextDatePeople, ChineseJapaneseKorean) {
  EXPECT_EQ(read("2019年3月29日"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("２０１９年３月２９日"), "yes|-|2019-03-29|-|-");  // fullwidth digits
  EXPECT_EQ(read("2019年3月29日 18時36分", "Asia/Tokyo"), "yes|2019-03-29T09:36:00Z|2019-03-29T18:36:00|Asia/Tokyo|-");
  EXPECT_EQ(read("2019年3月29日 18時36分05秒"), "yes|-|2019-03-29T18:36:05|-|-");
  EXPECT_EQ(read("2019年3月29日 18:36", "Asia/Shanghai"),
            "yes|2019-03-29T10:36:00Z|2019-03-29T18:36:00|Asia/Shanghai|-");
  EXPECT_EQ(read("2019年3月29日 下午6:36"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("2019年3月29日 下午6点36分"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("2019年3月29日(金) 18:36"), "yes|-|2019-03-29T18:36:00|-|-");
  EXPECT_EQ(read("2019年3月29日 星期五"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("2019年3月29日(木)"), "no|-|-|-|-");  // a Thursday it was not
  EXPECT_EQ(read("2019년 3월 29일"), "yes|-|2019-03-29|-|-");
  EXPECT_EQ(read("2019年2月30日"), "no|-|-|-|-");
  EXPECT_EQ(read("2019年3月"), "no|-|-|-|-");
}

// Expected Gregorian days cross-checked with an independent Umm al-Qura table (the hijri-converter package, from the
// Umm al-Qura data of King Abdulaziz City for Science and Technology), not with ICU.
TEST(TextDatePeople, HijriUmmAlQura) {
  EXPECT_EQ(read("22 رجب 1440 هـ"), "yes|-|2019-03-29|-|islamic-umalqura");
  EXPECT_EQ(read("22 رجب 1440"), "yes|-|2019-03-29|-|islamic-umalqura");
  EXPECT_EQ(read("٢٢ رجب ١٤٤٠ هـ"), "yes|-|2019-03-29|-|islamic-umalqura");
  EXPECT_EQ(read("1440-07-22 AH"), "yes|-|2019-03-29|-|islamic-umalqura");
  EXPECT_EQ(read("22/07/1440 هـ"), "yes|-|2019-03-29|-|islamic-umalqura");
  EXPECT_EQ(read("1 رمضان 1440 هـ"), "yes|-|2019-05-06|-|islamic-umalqura");
  EXPECT_EQ(read("1 محرم 1440 هـ"), "yes|-|2018-09-11|-|islamic-umalqura");
  EXPECT_EQ(read("1 Ramadan 1445 AH"), "yes|-|2024-03-11|-|islamic-umalqura");
  EXPECT_EQ(read("10 ذو الحجة 1444 هـ"), "yes|-|2023-06-28|-|islamic-umalqura");
  EXPECT_EQ(read("30 شعبان 1440 هـ"), "yes|-|2019-05-05|-|islamic-umalqura");
  EXPECT_EQ(read("الجمعة 22 رجب 1440 هـ"), "yes|-|2019-03-29|-|islamic-umalqura");
  EXPECT_EQ(read("22 رجب 1440 هـ 18:36", "Asia/Riyadh"),
            "yes|2019-03-29T15:36:00Z|2019-03-29T18:36:00|Asia/Riyadh|islamic-umalqura");
  EXPECT_EQ(read("30 رجب 1440 هـ"), "no|-|-|-|-");       // Rajab 1440 had 29 days
  EXPECT_EQ(read("22 رجب 1440 م"), "no|-|-|-|-");        // a Hijri month with the Gregorian era
  EXPECT_EQ(read("السبت 22 رجب 1440 هـ"), "no|-|-|-|-");  // wrong weekday
  EXPECT_EQ(read("1440-07-22"), "yes|-|1440-07-22|-|-");   // no era: a Gregorian ISO date
  // Both names of Rabi' II and of Jumada II (ICU gives one of each; the other is a listed spelling).
  EXPECT_EQ(read("1 ربيع الآخر 1440 هـ"), "yes|-|2018-12-08|-|islamic-umalqura");
  EXPECT_EQ(read("1 ربيع الثاني 1440 هـ"), "yes|-|2018-12-08|-|islamic-umalqura");
  EXPECT_EQ(read("1 جمادى الأولى 1440 هـ"), "yes|-|2019-01-07|-|islamic-umalqura");
  EXPECT_EQ(read("1 جمادى الآخرة 1440 هـ"), "yes|-|2019-02-06|-|islamic-umalqura");
  EXPECT_EQ(read("1 جمادى الثانية 1440 هـ"), "yes|-|2019-02-06|-|islamic-umalqura");
}

TEST(TextDatePeople, FixedFormsAreUnchanged) {
  for (const std::string_view text : {"26-FEB-1987 15:01:01.79", "Friday, 29 March 2019 18:36", "2019-03-29", "20080916",
                                      "Fri, 29 Mar 2019 18:36:00 +0300"}) {
    auto r = parse_published(text, "UTC", lang("en-US"));
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->understood) << text;
    EXPECT_FALSE(r->calendar) << text;
    EXPECT_TRUE(r->warnings.empty()) << text;
    EXPECT_EQ(summary(text, "UTC"), read(text, "UTC", lang("en-US")).substr(0, summary(text, "UTC").size()));
  }
}

TEST(TextDatePeople, HostileInputNeverCrashes) {
  const std::array<std::string_view, 32> pieces = {
      "29", "03", "2019", "1440", "٢٩", "۲۰۱۹", "/", ".", "-", ":", ",", "،", " ", " ", "آذار", "مارس", "رجب", "هـ",
      "م", "p.m.", "am", "年", "月", "日", "時", "分", "(", "金", "de", "марта", "г.", "\xE2\x80\x8F"};
  std::mt19937 rng(1440);
  int understood = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    for (int k = 1 + static_cast<int>(rng() % 9); k > 0; --k) text += pieces[rng() % pieces.size()];
    const DateOptions options{round % 3 == 0 ? std::optional<DateOrder>(DateOrder::mdy) : std::nullopt,
                              round % 2 ? std::optional<std::string>("ar") : std::optional<std::string>("zh"), "C"};
    auto r = parse_published(text, round % 2 ? std::optional<std::string_view>("Asia/Riyadh") : std::nullopt, options);
    if (!r) continue; // only white space
    ASSERT_EQ(r->as_written, text);
    if (r->understood) {
      ++understood;
      ASSERT_TRUE(r->local.has_value()) << text;
      ASSERT_TRUE(r->local->size() == 10 || r->local->size() == 19) << text << " -> " << *r->local;
    } else {
      ASSERT_FALSE(r->utc || r->local || r->tz || r->calendar) << text;
    }
  }
  EXPECT_GT(understood, 0); // the pieces do make dates now and then
}
