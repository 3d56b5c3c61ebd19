#include <archive/text/metadata.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

using avow::ErrorCode;
using avow::text::check_iri;
using avow::text::check_lang;
using avow::text::check_single_line;

namespace {

template <class E> std::string message(const E& r) {
  if (r) return "<ok>";
  EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
  return r.error().message;
}

} // namespace

TEST(TextMetadata, SingleLineAccepts) {
  EXPECT_TRUE(check_single_line("title", "Statement on the events of 29 March").has_value());
  EXPECT_TRUE(check_single_line("title", "").has_value());
  EXPECT_TRUE(check_single_line("title", "a\tb").has_value());
  // Arabic with ZWNJ, RLM, typographic quotes, NBSP.
  EXPECT_TRUE(check_single_line("publisher", "\xD9\x88\xD8\xA7\xD8\xB3\xE2\x80\x8C\xE2\x80\x8F \xE2\x80\x9Cx\xE2\x80\x9D\xC2\xA0").has_value());
}

TEST(TextMetadata, SingleLineRefusesLineBreaks) {
  EXPECT_EQ(message(check_single_line("title", "ab\ncd")), "title contains a line break at byte 2");
  EXPECT_EQ(message(check_single_line("title", "\rx")), "title contains a line break at byte 0");
  EXPECT_EQ(message(check_single_line("publisher", "x\xC2\x85")), "publisher contains a line break at byte 1");
  EXPECT_EQ(message(check_single_line("title", "xyz\xE2\x80\xA8")), "title contains a line break at byte 3");
  EXPECT_EQ(message(check_single_line("title", "\xD8\xA7\xE2\x80\xA9")), "title contains a line break at byte 2");
}

TEST(TextMetadata, SingleLineRefusesControls) {
  using namespace std::string_literals;
  EXPECT_EQ(message(check_single_line("title", "a\x07")), "title contains a control character (U+0007) at byte 1");
  EXPECT_EQ(message(check_single_line("title", "a\0"s)), "title contains a control character (U+0000) at byte 1");
  EXPECT_EQ(message(check_single_line("title", "\x7F")), "title contains a control character (U+007F) at byte 0");
  EXPECT_EQ(message(check_single_line("title", "ab\xC2\x9B")), "title contains a control character (U+009B) at byte 2");
  EXPECT_EQ(message(check_single_line("lang", "\x1B[31m")), "lang contains a control character (U+001B) at byte 0");
}

TEST(TextMetadata, SingleLineRefusesInvalidUtf8) {
  EXPECT_EQ(message(check_single_line("title", "abc\xC0\x80")), "title is not valid UTF-8 at byte 3");
  EXPECT_EQ(message(check_single_line("title", "\xED\xA0\x80")), "title is not valid UTF-8 at byte 0");
}

TEST(TextMetadata, IriAccepts) {
  for (const std::string_view uri :
       {"https://example.org/press/2019-03-29", "urn:dataset:fomc-statements:statement-19940204",
        "https://www.spa.gov.sa/\xD8\xA7\xD9\x84\xD8\xA3\xD8\xAE\xD8\xA8\xD8\xA7\xD8\xB1", "mailto:press@example.org",
        "file:///tmp/x", "x-custom+v1.2:thing", "https://example.org/a%20b?q=1#frag", "doi:10.1000/182",
        "https://\xD9\x85\xD8\xAB\xD8\xA7\xD9\x84.\xD8\xA5\xD8\xAE\xD8\xAA\xD8\xA8\xD8\xA7\xD8\xB1/"}) {
    EXPECT_TRUE(check_iri(uri).has_value()) << uri << ": " << message(check_iri(uri));
  }
}

TEST(TextMetadata, IriRefusesMissingScheme) {
  EXPECT_EQ(message(check_iri("example.org/press")), "source 'example.org/press' has no URI scheme (e.g. https://...)");
  EXPECT_EQ(message(check_iri("/tmp/file.txt")), "source '/tmp/file.txt' has no URI scheme (e.g. https://...)");
  EXPECT_EQ(message(check_iri("1http://x")), "source '1http://x' has no URI scheme (e.g. https://...)");
  EXPECT_EQ(message(check_iri(":x")), "source ':x' has no URI scheme (e.g. https://...)");
  EXPECT_EQ(message(check_iri("ht_tp://x")), "source 'ht_tp://x' has no URI scheme (e.g. https://...)");
  EXPECT_EQ(message(check_iri("https:")), "source 'https:' has nothing after its scheme");
  EXPECT_EQ(message(check_iri("")), "source is empty (e.g. https://...)");
}

TEST(TextMetadata, IriRefusesSpacesAndControlsButKeepsBidi) {
  EXPECT_EQ(message(check_iri("https://example.org/a b")),
            "source 'https://example.org/a b' contains a space at byte 21 (write it as %20)");
  EXPECT_EQ(message(check_iri("https://x/\xC2\xA0")), "source 'https://x/\xC2\xA0' contains a space at byte 10 (write it as %20)");
  EXPECT_EQ(message(check_iri("https://x/\n")), "source 'https://x/\\x0A' contains a control character (U+000A) at byte 10");
  EXPECT_EQ(message(check_iri("https://x/\x7F")), "source 'https://x/\\x7F' contains a control character (U+007F) at byte 10");
  // Bidi formatting characters are kept (real crawled sources carry them), with a warning.
  EXPECT_TRUE(check_iri("https://x/\xE2\x80\xAB-1970\xE2\x80\xAC"));
  EXPECT_EQ(avow::text::iri_bidi_warning("https://x/\xE2\x80\xAB-1970\xE2\x80\xAC"),
            "source contains 2 bidirectional formatting characters (U+202B at byte 10); kept as given, but it can make "
            "two sources look alike");
  EXPECT_EQ(avow::text::iri_bidi_warning("https://example.org/\xD8\xA7"), std::nullopt);
  EXPECT_EQ(message(check_iri("https://x/\xFF")), "source 'https://x/\\xFF' is not valid UTF-8 at byte 10");
}

TEST(TextMetadata, IriMessageIsOneLineAndShort) {
  const std::string long_uri = std::string(300, 'a');
  const std::string m = message(check_iri(long_uri));
  EXPECT_EQ(m, "source '" + std::string(100, 'a') + "...' has no URI scheme (e.g. https://...)");
  EXPECT_EQ(message(check_iri("no scheme\n")).find('\n'), std::string::npos);
}

TEST(TextMetadata, Lang) {
  for (const std::string_view tag : {"en", "ar", "pt-BR", "zh-Hant-TW", "x-klingon", "sr-Latn-RS", "de-CH-1996", "abcdefgh"})
    EXPECT_TRUE(check_lang(tag).has_value()) << tag;
  for (const std::string_view tag : {"", "e n", "en-", "-en", "en--US", "abcdefghi", "en-abcdefghi", "1en", "en_US", "ar\n",
                                     "\xD8\xB9"})
    EXPECT_FALSE(check_lang(tag).has_value()) << tag;
  EXPECT_EQ(message(check_lang("en_US")), "language tag 'en_US' is not a BCP 47 tag (e.g. en, ar, pt-BR)");
}

TEST(TextMetadata, CorpusSourcesAndMetadataPass) {
  const auto path = std::filesystem::path(AVOW_SHARED_DIR) / "corpus" / "statements.jsonl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path << "; skipping corpus metadata";
  std::ifstream in(path);
  std::string line;
  int count = 0;
  while (std::getline(in, line) && count < 2000) {
    const auto item = nlohmann::json::parse(line);
    const std::string source = item.at("source").get<std::string>();
    EXPECT_TRUE(check_iri(source).has_value()) << message(check_iri(source));
    for (const char* field : {"title", "publisher"})
      if (item.contains(field)) {
        const std::string value = item[field].get<std::string>();
        EXPECT_TRUE(check_single_line(field, value).has_value()) << message(check_single_line(field, value));
      }
    EXPECT_TRUE(check_lang(item.at("lang").get<std::string>()).has_value());
    ++count;
  }
  EXPECT_GT(count, 0);
}
