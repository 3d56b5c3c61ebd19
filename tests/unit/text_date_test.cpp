#include <archive/text/date.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>

using avow::ErrorCode;
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
  for (const std::string_view text : {"garbage", "yesterday", "2019", "2019-03", "201903291", "12/03/2019",
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
