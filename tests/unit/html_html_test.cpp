// Web pages as avow capture reads them (archive/html/html.hpp): the HTML5 encoding sniffing and strict decoding,
// the metadata and where each value came from, the main-text extraction (scoring and --selector) compared byte for
// byte with the fixtures' expected texts (tests/data/capture/), and hostile pages.

#include <archive/html/depth.hpp>
#include <archive/html/html.hpp>
#include <archive/text/canonical.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <ctime>
#include <random>
#include <string>

namespace {

using avow::ErrorCode;
using avow::html::charset_of;
using avow::html::decode;
using avow::html::ExtractOptions;
using avow::html::extract;
using avow::html::Page;

std::string fixture(const std::string& name) {
  std::string bytes = avow::test::test_data("capture/" + name);
  EXPECT_FALSE(bytes.empty()) << "missing fixture " << name;
  return bytes;
}

// Decode as a browser would with no Content-Type charset, extract, and return the canonical text.
struct Extracted {
  avow::html::Decoded decoded;
  Page page;
  std::string canonical;
};
Extracted extract_fixture(const std::string& name, std::optional<std::string> selector = std::nullopt) {
  auto decoded = decode(fixture(name), std::nullopt);
  EXPECT_TRUE(decoded.has_value()) << name << ": " << decoded.error().message;
  if (!decoded) return {};
  auto page = extract(decoded->utf8, ExtractOptions{selector});
  EXPECT_TRUE(page.has_value()) << name << ": " << page.error().message;
  if (!page) return {};
  auto canonical = avow::text::canonicalize(page->text);
  EXPECT_TRUE(canonical.has_value()) << name;
  return {*decoded, *page, canonical ? canonical->text : std::string()};
}

// The text of `html` (UTF-8) with `selector`, or the error message.
std::string text_of(const std::string& html, const std::string& selector) {
  auto page = extract(html, ExtractOptions{selector});
  if (!page) return "error: " + page.error().message;
  return page->text;
}

std::string error_of(const std::string& html, std::optional<std::string> selector = std::nullopt) {
  auto page = extract(html, ExtractOptions{std::move(selector)});
  if (page) return "no error: " + page->text;
  EXPECT_EQ(page.error().code, ErrorCode::invalid_input);
  return page.error().message;
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// CPU seconds this process has used since `t0` (std::clock): the bound holds on a loaded machine too.
using CpuTime = std::clock_t;
CpuTime cpu_now() { return std::clock(); }
double seconds_since(CpuTime t0) { return static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC; }

// ---------------------------------------------------------------------------------------------------------------
// Fixtures: every extraction byte for byte

TEST(HtmlFixtures, PressReleaseIsExactlyTheArticle) {
  const auto e = extract_fixture("press-release.html");
  EXPECT_EQ(e.canonical, fixture("press-release.txt"));
  EXPECT_EQ(e.page.extractor, "avow-main-text/1");
  EXPECT_EQ(e.decoded.encoding, "UTF-8");
  EXPECT_EQ(e.decoded.how, "meta");
  // None of the page's chrome.
  for (const char* chrome : {"Skip to content", "cookies", "About us", "Port services", "Press releases", "Facebook",
                             "Related news", "Most read", "Stay informed", "Subscribe", "All rights reserved",
                             "Tags:", "Last updated", "written by a script", "logo", "Search"})
    EXPECT_EQ(e.canonical.find(chrome), std::string::npos) << chrome;
  // The headline, dateline, quote, list and the lines of the notes are there, as paragraphs.
  EXPECT_NE(e.canonical.find("\n\nHarbour authority publishes independent review of the March flooding\n\n"
                             "14 March 2026 · Northport\n\n"),
            std::string::npos);
  EXPECT_NE(e.canonical.find("\n\n— Maria Okafor, Chief Executive\n\n"), std::string::npos);
  EXPECT_NE(e.canonical.find("\n\nreplace both east basin pumps by 30 April 2026;\n\n"), std::string::npos);
  EXPECT_NE(e.canonical.find("port of Northport.\nPress office: press@northport.example\nTelephone:"),
            std::string::npos);
}

TEST(HtmlFixtures, PressReleaseMetadataComesFromJsonLd) {
  const auto e = extract_fixture("press-release.html");
  const auto& m = e.page.metadata;
  ASSERT_TRUE(m.title && m.published && m.publisher && m.lang);
  EXPECT_EQ(m.title->value, "Harbour authority publishes independent review of the March flooding");
  EXPECT_EQ(m.title->from, "json-ld");
  EXPECT_EQ(m.published->value, "2026-03-14T09:30:00+02:00");
  EXPECT_EQ(m.published->from, "json-ld");
  EXPECT_EQ(m.publisher->value, "Northport Harbour Authority");
  EXPECT_EQ(m.publisher->from, "json-ld");
  EXPECT_EQ(m.lang->value, "en-GB");
  EXPECT_EQ(m.lang->from, "json-ld");
}

TEST(HtmlFixtures, Arabic1256DecodesToTheExpectedNfcText) {
  const std::string bytes = fixture("arabic-1256.html");
  const auto e = extract_fixture("arabic-1256.html");
  EXPECT_EQ(e.decoded.encoding, "windows-1256");
  EXPECT_EQ(e.decoded.how, "meta");
  EXPECT_EQ(e.canonical, fixture("arabic-1256.txt"));
  // The page as decoded is the UTF-8 source it was made from.
  EXPECT_EQ(e.decoded.utf8, fixture("arabic-1256.utf8.html"));
  // The source types a shadda before a fatha; NFC puts the fatha first, so the raw text is not yet canonical.
  EXPECT_NE(e.page.text, e.canonical);
  EXPECT_NE(e.canonical.find("\xD9\x8A\xD9\x8F\xD9\x82\xD8\xAF\xD9\x8E\xD9\x91\xD9\x85"), std::string::npos); // يُقدَّم
  // Characters windows-1256 has and ISO-8859-6 has not, and letters at other byte values there.
  for (const char* s : {"«", "»", "گلپايگاني", "Genève", "،"}) EXPECT_NE(e.canonical.find(s), std::string::npos) << s;
  EXPECT_FALSE(avow::html::decode(bytes, "iso-8859-6").has_value());
  // Nothing of the masthead, menu, breadcrumb, share links or footer.
  for (const char* s : {"الرئيسية", "اتصل بنا", "فيسبوك", "جميع الحقوق"})
    EXPECT_EQ(e.canonical.find(s), std::string::npos) << s;
}

TEST(HtmlFixtures, Arabic1256MetadataFromOpenGraphAndHtmlLang) {
  const auto e = extract_fixture("arabic-1256.html");
  const auto& m = e.page.metadata;
  ASSERT_TRUE(m.title && m.published && m.lang);
  EXPECT_EQ(m.title->value, "بيان وزارة الصحة بشأن الحملة الوطنية للتطعيم ضد الحصبة");
  EXPECT_EQ(m.title->from, "opengraph");
  EXPECT_EQ(m.published->value, "2026-03-12T10:00:00+03:00");
  EXPECT_EQ(m.published->from, "opengraph");
  EXPECT_FALSE(m.publisher.has_value());
  EXPECT_EQ(m.lang->value, "ar"); // not og:locale's ar_AR
  EXPECT_EQ(m.lang->from, "html-lang");
}

TEST(HtmlFixtures, JsonLdGraphWithTypeArray) {
  const auto e = extract_fixture("jsonld-graph.html");
  EXPECT_EQ(e.canonical, fixture("jsonld-graph.txt"));
  EXPECT_EQ(e.canonical.find("comment"), std::string::npos);
  EXPECT_EQ(e.canonical.find("Sign in"), std::string::npos);
  const auto& m = e.page.metadata;
  ASSERT_TRUE(m.title && m.published && m.publisher && m.lang);
  EXPECT_EQ(m.title->value, "Council statement on the river crossing"); // line breaks and spaces collapsed
  EXPECT_EQ(m.title->from, "json-ld");
  EXPECT_EQ(m.published->value, "2026-02-03T16:45:00Z");
  EXPECT_EQ(m.publisher->value, "Riverside Borough Council");
  EXPECT_EQ(m.publisher->from, "json-ld");
  EXPECT_EQ(m.lang->value, "en-GB");
}

TEST(HtmlFixtures, OpenGraphOnly) {
  const auto e = extract_fixture("opengraph-only.html");
  EXPECT_EQ(e.canonical, fixture("opengraph-only.txt"));
  // No-break spaces are kept as they are; a paragraph of only &nbsp; is left out.
  EXPECT_NE(e.canonical.find("1.\xC2\xA0" "April 2026"), std::string::npos);
  EXPECT_EQ(e.canonical.find("\n\n\xC2\xA0"), std::string::npos);
  const auto& m = e.page.metadata;
  ASSERT_TRUE(m.title && m.published && m.publisher && m.lang);
  EXPECT_EQ(m.title->value, "Stadtwerke Lindental senken die Wasserpreise");
  EXPECT_EQ(m.title->from, "opengraph");
  EXPECT_EQ(m.published->value, "2026-02-20T08:00:00+01:00");
  EXPECT_EQ(m.published->from, "opengraph");
  EXPECT_EQ(m.publisher->value, "Stadtwerke Lindental");
  EXPECT_EQ(m.publisher->from, "opengraph");
  EXPECT_EQ(m.lang->value, "de");
  EXPECT_EQ(m.lang->from, "html-lang");
}

TEST(HtmlFixtures, TitleOnly) {
  const auto e = extract_fixture("title-only.html");
  EXPECT_EQ(e.canonical, fixture("title-only.txt"));
  const auto& m = e.page.metadata;
  ASSERT_TRUE(m.title && m.lang);
  EXPECT_EQ(m.title->value, "Comunicado de la Asociación de Vecinos del Barrio Alto");
  EXPECT_EQ(m.title->from, "title");
  EXPECT_FALSE(m.published.has_value());
  EXPECT_FALSE(m.publisher.has_value());
  EXPECT_EQ(m.lang->value, "es");
  EXPECT_EQ(m.lang->from, "html-lang");
}

TEST(HtmlFixtures, SelectorPicksWhatScoringMisses) {
  const auto scored = extract_fixture("selector.html");
  EXPECT_NE(scored.canonical, fixture("selector.txt"));
  EXPECT_EQ(scored.canonical.find("resignation"), std::string::npos);
  EXPECT_NE(scored.canonical.find("About Eastway Rail"), std::string::npos);
  const auto chosen = extract_fixture("selector.html", "#statement");
  EXPECT_EQ(chosen.canonical, fixture("selector.txt"));
  EXPECT_EQ(chosen.page.extractor, "selector");
}

TEST(HtmlFixtures, ChangingVersions) {
  const auto v1 = extract_fixture("changing-v1.html");
  const auto v2 = extract_fixture("changing-v2.html");
  EXPECT_EQ(v1.canonical, fixture("changing-v1.txt"));
  EXPECT_EQ(v2.canonical, fixture("changing-v2.txt"));
  EXPECT_NE(v1.canonical, v2.canonical);
  EXPECT_NE(v1.canonical.find("30 September 2026"), std::string::npos);
  EXPECT_NE(v2.canonical.find("31 October 2026"), std::string::npos);
  ASSERT_TRUE(v1.page.metadata.publisher);
  EXPECT_EQ(v1.page.metadata.publisher->value, "City Museum"); // publisher given as a plain string
}

TEST(HtmlFixtures, Latin1IsReadAsWindows1252) {
  const auto e = extract_fixture("latin1.html");
  EXPECT_EQ(e.decoded.encoding, "windows-1252");
  EXPECT_EQ(e.decoded.how, "meta");
  EXPECT_EQ(e.canonical, "Communiqué de la mairie\n\n"
                         "Le conseil municipal a adopté hier soir le budget de l’année 2026, après un débat de trois "
                         "heures.\n\n"
                         "Le maire a déclaré : “Ce budget protège les services publics sans augmenter les impôts.”\n");
}

TEST(HtmlFixtures, EmptyPageIsRefusedSuggestingSelector) {
  auto decoded = decode(fixture("empty.html"), std::nullopt);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(error_of(decoded->utf8), "no text could be extracted from the page; name the element with --selector");
}

TEST(HtmlFixtures, UnknownCharsetIsRefused) {
  auto decoded = decode(fixture("unknown-charset.html"), std::nullopt);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(decoded.error().message, "unknown charset 'x-klingon' declared by <meta charset>");
}

TEST(HtmlFixtures, BadUtf8IsRefused) {
  auto decoded = decode(fixture("bad-utf8.html"), std::nullopt);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(decoded.error().message,
            "the page is not valid UTF-8 as declared by <meta charset>: invalid UTF-8 at byte offset 123");
  EXPECT_EQ(static_cast<unsigned char>(fixture("bad-utf8.html")[123]), 0xFF);
}

TEST(HtmlFixtures, ExpectedTextsAreCanonical) {
  for (const char* name : {"press-release", "arabic-1256", "jsonld-graph", "opengraph-only", "title-only", "selector",
                           "changing-v1", "changing-v2"})
    EXPECT_TRUE(avow::text::is_canonical(fixture(std::string(name) + ".txt"))) << name;
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding sniffing: BOM, then Content-Type, then the <meta> prescan, then windows-1252

TEST(HtmlSniffing, BomBeatsContentTypeAndMeta) {
  const std::string page = "\xEF\xBB\xBF<meta charset=\"windows-1256\"><p>caf\xC3\xA9</p>";
  auto d = decode(page, "windows-1252");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->encoding, "UTF-8");
  EXPECT_EQ(d->how, "BOM");
  EXPECT_EQ(d->utf8, page.substr(3)); // the BOM removed, nothing else changed
}

TEST(HtmlSniffing, ContentTypeBeatsMeta) {
  auto d = decode("<meta charset=\"windows-1256\"><p>caf\xE9</p>", "iso-8859-1");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->encoding, "windows-1252");
  EXPECT_EQ(d->how, "Content-Type");
  EXPECT_EQ(d->utf8, "<meta charset=\"windows-1256\"><p>café</p>");
}

TEST(HtmlSniffing, MetaBeatsDefault) {
  auto d = decode("<meta charset=\"windows-1256\"><p>\xC7\xE1\xD3\xE1\xC7\xE3</p>", std::nullopt);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->encoding, "windows-1256");
  EXPECT_EQ(d->how, "meta");
  EXPECT_EQ(d->utf8, "<meta charset=\"windows-1256\"><p>السلام</p>");
}

TEST(HtmlSniffing, DefaultIsWindows1252) {
  auto d = decode("<p>\x93quoted\x94 \x80 \x81</p>", std::nullopt);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->encoding, "windows-1252");
  EXPECT_EQ(d->how, "default");
  EXPECT_EQ(d->utf8, "<p>“quoted” € \xC2\x81</p>"); // 0x81 is U+0081 in WHATWG's windows-1252, as in ICU's
}

TEST(HtmlSniffing, HttpEquivContentType) {
  auto d = decode("<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=windows-1251\"><p>\xC0</p>",
                  std::nullopt);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->encoding, "windows-1251");
  EXPECT_EQ(d->how, "meta");
  EXPECT_NE(d->utf8.find("<p>А</p>"), std::string::npos); // U+0410 CYRILLIC CAPITAL LETTER A
  // The quoted form and spaces around '=' in content.
  d = decode("<meta http-equiv=content-type content='text/html;charset = \"KOI8-R\"'><p>\xE1</p>", std::nullopt);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->encoding, "KOI8-R");
}

TEST(HtmlSniffing, ContentWithoutHttpEquivIsIgnored) {
  auto d = decode("<meta content=\"text/html; charset=windows-1251\"><p>\xC0</p>", std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->how, "default");
  EXPECT_EQ(d->encoding, "windows-1252");
}

TEST(HtmlSniffing, MetaAfterTheFirst1024BytesIsIgnored) {
  const std::string padding = "<!--" + std::string(1100, 'x') + "-->";
  auto d = decode(padding + "<meta charset=\"windows-1256\"><p>\xC7</p>", std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->how, "default");
  EXPECT_EQ(d->encoding, "windows-1252");
  // Just inside the window it counts.
  const std::string short_padding = "<!--" + std::string(900, 'x') + "-->";
  d = decode(short_padding + "<meta charset=\"windows-1256\"><p>\xC7</p>", std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->how, "meta");
  EXPECT_EQ(d->encoding, "windows-1256");
  // A <meta> cut by the 1024-byte boundary does not count.
  const std::string cut = "<!--" + std::string(1024 - 7 - 10, 'x') + "-->";
  ASSERT_LT(cut.size(), 1024U);
  d = decode(cut + "<meta charset=\"windows-1256\">", std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->how, "default");
}

TEST(HtmlSniffing, MetaInCommentsAndAttributeValuesIsIgnored) {
  auto d = decode("<!-- <meta charset=\"windows-1256\"> --><p>x</p>", std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->how, "default");
  d = decode("<div title='<meta charset=\"koi8-r\">'>x</div>", std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->how, "default");
  // The first declaring <meta> wins; a later one is not read.
  d = decode("<meta charset=\"koi8-r\"><meta charset=\"windows-1256\">", std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->encoding, "KOI8-R");
}

TEST(HtmlSniffing, LabelsMapAsTheEncodingStandardSays) {
  const std::pair<const char*, const char*> cases[] = {
      {"latin1", "windows-1252"},   {"ISO-8859-1", "windows-1252"}, {"ascii", "windows-1252"},
      {"us-ascii", "windows-1252"}, {" UTF8 ", "UTF-8"},            {"unicode-1-1-utf-8", "UTF-8"},
      {"cp1256", "windows-1256"},   {"x-cp1256", "windows-1256"},   {"iso-8859-9", "windows-1254"},
      {"tis-620", "windows-874"},   {"gbk", "gb18030"},             {"gb2312", "gb18030"},
      {"euc-kr", "windows-949"},    {"sjis", "Shift_JIS"},          {"utf-16", "UTF-16LE"},
      {"unicodefffe", "UTF-16BE"},  {"koi8-u", "KOI8-U"},           {"mac", "macintosh"},
      {"arabic", "ISO-8859-6"},     {"logical", "ISO-8859-8-I"},    {"l9", "ISO-8859-15"},
  };
  for (const auto& [label, name] : cases) {
    auto d = decode("abcd", label);
    ASSERT_TRUE(d) << label << ": " << d.error().message;
    EXPECT_EQ(d->encoding, name) << label;
  }
}

TEST(HtmlSniffing, EveryEncodingNamedIsOneIcuDecodes) {
  for (const char* name :
       {"UTF-8", "IBM866", "ISO-8859-2", "ISO-8859-3", "ISO-8859-4", "ISO-8859-5", "ISO-8859-6", "ISO-8859-7",
        "ISO-8859-8", "ISO-8859-8-I", "ISO-8859-10", "ISO-8859-13", "ISO-8859-14", "ISO-8859-15", "KOI8-R", "KOI8-U",
        "macintosh", "windows-874", "windows-1250", "windows-1251", "windows-1252", "windows-1253", "windows-1254",
        "windows-1255", "windows-1256", "windows-1257", "windows-1258", "x-mac-cyrillic", "gb18030", "Big5",
        "EUC-JP", "ISO-2022-JP", "Shift_JIS", "windows-949", "UTF-16BE", "UTF-16LE"}) {
    // Each name is also a label of itself (ASCII case aside) except the two decoded by a superset.
    auto d = decode(std::string("ab", 2), name);
    if (std::string_view(name) == "UTF-16BE" || std::string_view(name) == "UTF-16LE") {
      ASSERT_TRUE(d) << name << ": " << d.error().message;
      continue;
    }
    ASSERT_TRUE(d) << name << ": " << d.error().message;
    EXPECT_EQ(d->encoding, name);
    EXPECT_EQ(d->utf8, "ab");
  }
}

TEST(HtmlSniffing, MetaDeclaringUtf16MeansUtf8AndUserDefinedWindows1252) {
  auto d = decode("<meta charset=\"utf-16le\"><p>caf\xC3\xA9</p>", std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->encoding, "UTF-8");
  EXPECT_EQ(d->how, "meta");
  d = decode("<meta charset=\"x-user-defined\"><p>\xE9</p>", std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->encoding, "windows-1252");
}

TEST(HtmlSniffing, Utf16ByBomAndByContentType) {
  const std::string le("\xFF\xFE<\0p\0>\0\xE9\0<\0/\0p\0>\0", 18);
  auto d = decode(le, "windows-1252");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->encoding, "UTF-16LE");
  EXPECT_EQ(d->how, "BOM");
  EXPECT_EQ(d->utf8, "<p>é</p>");
  const std::string be("\xFE\xFF\0<\0p\0>\x06\x27\0<\0/\0p\0>", 18);
  d = decode(be, std::nullopt);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->encoding, "UTF-16BE");
  EXPECT_EQ(d->utf8, "<p>ا</p>");
  d = decode(le.substr(2), "utf-16");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->encoding, "UTF-16LE");
  EXPECT_EQ(d->how, "Content-Type");
  EXPECT_EQ(d->utf8, "<p>é</p>");
  // An unpaired surrogate is not UTF-16.
  d = decode(std::string("\xFF\xFE<\0\x00\xD8<\0", 8), std::nullopt);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::invalid_input);
  EXPECT_TRUE(d.error().message.starts_with("the page is not valid UTF-16LE as its byte order mark says: "))
      << d.error().message;
}

TEST(HtmlSniffing, UnknownLabelsAreRefusedNamingWhoDeclaredThem) {
  auto d = decode("<p>x</p>", "x-klingon");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(d.error().message, "unknown charset 'x-klingon' declared by Content-Type");
  d = decode("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=elvish\">", std::nullopt);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "unknown charset 'elvish' declared by <meta http-equiv>");
  // Labels WHATWG maps to its "replacement" encoding, and one ICU here cannot decode, are refused too.
  d = decode("<meta charset=\"iso-2022-kr\">", std::nullopt);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "unknown charset 'iso-2022-kr' declared by <meta charset>");
  d = decode("<p>x</p>", "iso-8859-16");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "unknown charset 'iso-8859-16' declared by Content-Type");
  // A label with control characters is quoted safely.
  d = decode("<p>x</p>", "bad\nlabel'");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "unknown charset 'bad\\x0Alabel\\x27' declared by Content-Type");
}

TEST(HtmlSniffing, BytesInvalidInTheDeclaredCharsetAreRefused) {
  auto d = decode("<p>abc\xA1</p>", "iso-8859-6"); // 0xA1 has no character in ISO-8859-6
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(d.error().message,
            "the page is not valid ISO-8859-6 as declared by Content-Type: unmappable byte sequence A1 at byte "
            "offset 6");
  d = decode("<p>\xC3\xA9\xED\xA0\x80</p>", "utf-8"); // a surrogate encoded in UTF-8
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message,
            "the page is not valid UTF-8 as declared by Content-Type: invalid UTF-8 at byte offset 5");
  d = decode("\xEF\xBB\xBF<p>\xC3</p>", std::nullopt);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message,
            "the page is not valid UTF-8 as its byte order mark says: invalid UTF-8 at byte offset 6");
  d = decode(std::string("<p>a\0b</p>", 10), std::nullopt);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "the page has a NUL character at byte offset 4");
}

TEST(HtmlSniffing, CharsetOfContentType) {
  EXPECT_EQ(charset_of("text/html; charset=UTF-8"), "UTF-8");
  EXPECT_EQ(charset_of("text/html;charset=\"windows-1256\""), "windows-1256");
  EXPECT_EQ(charset_of("text/html; foo=bar; CHARSET=koi8-r"), "koi8-r");
  EXPECT_EQ(charset_of("text/html; foo=\"a;charset=x\"; charset=utf-8"), "utf-8");
  EXPECT_EQ(charset_of("text/html"), std::nullopt);
  EXPECT_EQ(charset_of("text/html; charset="), std::nullopt);
  EXPECT_EQ(charset_of("text/html; charset"), std::nullopt);
  EXPECT_EQ(charset_of(""), std::nullopt);
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata

TEST(HtmlMetadata, JsonLdVariants) {
  auto meta = [](const std::string& json) {
    auto page = extract("<html lang=fr><head><title>T</title><script type=\"application/ld+json\">" + json +
                        "</script></head><body><p>Some text for the page body, long enough.</p></body></html>");
    EXPECT_TRUE(page);
    return page ? page->metadata : avow::html::Metadata{};
  };
  // Publisher as a string; headline missing so name; a prefixed @type.
  auto m = meta(R"({"@type": "schema:Article", "name": "From name", "publisher": "Plain Publisher"})");
  ASSERT_TRUE(m.title && m.publisher);
  EXPECT_EQ(m.title->value, "From name");
  EXPECT_EQ(m.title->from, "json-ld");
  EXPECT_EQ(m.publisher->value, "Plain Publisher");
  // A publisher referenced by @id in the @graph.
  m = meta(R"({"@graph": [{"@type": "Organization", "@id": "#org", "name": "Graph Org"},
               {"@type": ["WebPage"], "name": "Not an article"},
               {"@type": ["Thing", "http://schema.org/ReportageNewsArticle"], "headline": "H",
                "publisher": {"@id": "#org"}, "inLanguage": "nl", "datePublished": "2026-01-02"}]})");
  ASSERT_TRUE(m.title && m.publisher && m.lang && m.published);
  EXPECT_EQ(m.title->value, "H");
  EXPECT_EQ(m.publisher->value, "Graph Org");
  EXPECT_EQ(m.lang->value, "nl");
  EXPECT_EQ(m.lang->from, "json-ld");
  EXPECT_EQ(m.published->value, "2026-01-02");
  // A top-level array; only article types count.
  m = meta(R"([{"@type": "WebPage", "headline": "No"}, {"@type": "BlogPosting", "headline": "Yes"}])");
  ASSERT_TRUE(m.title);
  EXPECT_EQ(m.title->value, "Yes");
  // No article: fall back to <title> and <html lang>.
  m = meta(R"({"@type": "WebPage", "headline": "No"})");
  ASSERT_TRUE(m.title && m.lang);
  EXPECT_EQ(m.title->value, "T");
  EXPECT_EQ(m.title->from, "title");
  EXPECT_EQ(m.lang->value, "fr");
  EXPECT_FALSE(m.published);
  // Values of the wrong type are ignored; control characters and line separators become single spaces.
  m = meta("{\"@type\": \"NewsArticle\", \"headline\": 42, \"name\": \"A\\tB\\n\\u2028C  \", "
           "\"datePublished\": [\"2026-03-01\"], \"publisher\": {\"name\": {\"x\": 1}}}");
  ASSERT_TRUE(m.title && m.published);
  EXPECT_EQ(m.title->value, "A B C");
  EXPECT_EQ(m.published->value, "2026-03-01");
  EXPECT_FALSE(m.publisher);
}

TEST(HtmlMetadata, BrokenJsonLdIsSkipped) {
  auto page = extract("<title>Fallback</title><script type=\"application/ld+json\">{\"@type\": \"NewsArticle\", "
                      "\"headline\": </script><script type='application/ld+json; charset=utf-8'>"
                      "{\"@type\": \"NewsArticle\", \"headline\": \"Second script\"}</script>"
                      "<p>Some text for the page body, long enough.</p>");
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_TRUE(page->metadata.title);
  EXPECT_EQ(page->metadata.title->value, "Second script");
  page = extract("<title>Fallback</title><script type=\"application/ld+json\">" + repeat("[", 100000) +
                 "</script><p>Text of the page.</p>");
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_TRUE(page->metadata.title);
  EXPECT_EQ(page->metadata.title->value, "Fallback");
}

TEST(HtmlMetadata, EmptyValuesAreNotFound) {
  auto page = extract("<html lang=\"  \"><head><title> \n </title><meta property=\"og:title\" content=\"  \">"
                      "<meta property=\"og:site_name\" content=\"Site\"></head><body><p>Body text.</p></body></html>");
  ASSERT_TRUE(page);
  EXPECT_FALSE(page->metadata.title);
  EXPECT_FALSE(page->metadata.lang);
  ASSERT_TRUE(page->metadata.publisher);
  EXPECT_EQ(page->metadata.publisher->value, "Site");
}

TEST(HtmlMetadata, SvgTitleIsNotThePageTitle) {
  auto page = extract("<body><svg><title>Icon</title></svg><p>Text.</p></body>");
  ASSERT_TRUE(page);
  EXPECT_FALSE(page->metadata.title);
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering (through --selector, so the element is the one named)

TEST(HtmlRender, WhitespaceCollapsesAsABrowserShowsIt) {
  EXPECT_EQ(text_of("<div id=s><p>  a \n\t b  <b> c </b> d</p></div>", "#s"), "a b c d\n");
  EXPECT_EQ(text_of("<div id=s><p>a<span>b</span>c</p><p>a <span> b</span></p></div>", "#s"), "abc\n\na b\n");
}

TEST(HtmlRender, BreaksAndParagraphs) {
  EXPECT_EQ(text_of("<div id=s><p>a<br>b<br><br>c<br><br><br>d</p></div>", "#s"), "a\nb\n\nc\n\nd\n");
  EXPECT_EQ(text_of("<div id=s><p>a <br> b </p></div>", "#s"), "a\nb\n");
  EXPECT_EQ(text_of("<div id=s>loose text<div>block</div>more<p></p><p>&nbsp;</p><p>end</p></div>", "#s"),
            "loose text\n\nblock\n\nmore\n\nend\n");
}

TEST(HtmlRender, PreIsKept) {
  EXPECT_EQ(text_of("<div id=s><pre>\n  x  y   \n    z\n\n</pre><p>after</p></div>", "#s"), "  x  y\n    z\n\nafter\n");
  EXPECT_EQ(text_of("<div id=s><pre>a<b>b</b><br>c</pre></div>", "#s"), "ab\nc\n");
}

TEST(HtmlRender, ListsHeadingsTablesAndImages) {
  EXPECT_EQ(text_of("<div id=s><h2>Head</h2><ul><li>one</li><li>two <a href=x>link</a></li></ul></div>", "#s"),
            "Head\n\none\n\ntwo link\n");
  EXPECT_EQ(text_of("<div id=s><table><tr><td>x</td><td>y</td></tr></table></div>", "#s"), "x\n\ny\n");
  EXPECT_EQ(text_of("<div id=s><p>a <img alt='ALT TEXT' src=i.png> b</p></div>", "#s"), "a b\n");
}

TEST(HtmlRender, HiddenAndNonTextElementsAreLeftOut) {
  EXPECT_EQ(text_of("<div id=s><p hidden>h</p><p style='DISPLAY : none'>n</p><p style='visibility:hidden'>v</p>"
                    "<script>s()</script><style>p{}</style><noscript>ns</noscript><template>t</template>"
                    "<button>b</button><select><option>o</option></select><textarea>ta</textarea>"
                    "<svg><text>svg</text></svg><iframe>if</iframe><p>kept <span class='x sr-only'>sr</span>"
                    "<span class=visually-hidden>vh</span><span class=hidden-xs>shown</span></p></div>",
                    "#s"),
            "kept shown\n");
  // What the user named is taken as it is: nav, footer and forms in it stay.
  EXPECT_EQ(text_of("<div id=s><nav>N</nav><form>F</form><footer>Foot</footer><p class=share>S</p></div>", "#s"),
            "N\n\nF\n\nFoot\n\nS\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Selectors

const std::string k_selector_page =
    "<div id=a class='x y'><p class=lead>A1</p><section><p>A2</p></section></div>"
    "<div id=b data-role=main><p>B1</p><span title=t>B2</span></div>"
    "<ul><li>L1</li></ul><div id=123>N</div><div id=e></div>";

TEST(HtmlSelector, Matching) {
  EXPECT_EQ(text_of(k_selector_page, "p"), "A1\n\nA2\n\nB1\n");
  EXPECT_EQ(text_of(k_selector_page, "#a"), "A1\n\nA2\n");
  EXPECT_EQ(text_of(k_selector_page, ".y"), "A1\n\nA2\n");
  EXPECT_EQ(text_of(k_selector_page, "div.x.y"), "A1\n\nA2\n");
  EXPECT_EQ(text_of(k_selector_page, "div.x > p"), "A1\n");
  EXPECT_EQ(text_of(k_selector_page, "div.x p"), "A1\n\nA2\n");
  EXPECT_EQ(text_of(k_selector_page, "#a>section>p"), "A2\n");
  EXPECT_EQ(text_of(k_selector_page, "body > div p.lead"), "A1\n");
  EXPECT_EQ(text_of(k_selector_page, "[data-role]"), "B1\n\nB2\n");
  EXPECT_EQ(text_of(k_selector_page, "[data-role=main]"), "B1\n\nB2\n");
  EXPECT_EQ(text_of(k_selector_page, "div[ data-role = 'main' ]"), "B1\n\nB2\n");
  EXPECT_EQ(text_of(k_selector_page, "[DATA-ROLE=\"main\"]"), "B1\n\nB2\n"); // attribute names ignore case
  EXPECT_EQ(text_of(k_selector_page, "li, #b"), "B1\n\nB2\n\nL1\n"); // document order, not list order
  EXPECT_EQ(text_of(k_selector_page, "DIV#a"), "A1\n\nA2\n");        // type names ignore case
  EXPECT_EQ(text_of(k_selector_page, "#\\31 23"), "N\n");            // CSS escapes
  EXPECT_EQ(text_of(k_selector_page, "#a, #a p"), "A1\n\nA2\n");     // nested matches are not repeated
  EXPECT_EQ(text_of(k_selector_page, "*"), "A1\n\nA2\n\nB1\n\nB2\n\nL1\n\nN\n");
}

TEST(HtmlSelector, NoMatchAndNoText) {
  EXPECT_EQ(error_of(k_selector_page, "#A"), "selector '#A' matches no element"); // ids are case-sensitive
  EXPECT_EQ(error_of(k_selector_page, ".z"), "selector '.z' matches no element");
  EXPECT_EQ(error_of(k_selector_page, "[data-role=other]"), "selector '[data-role=other]' matches no element");
  EXPECT_EQ(error_of(k_selector_page, "section > div"), "selector 'section > div' matches no element");
  EXPECT_EQ(error_of(k_selector_page, "#e"), "the elements selector '#e' matches have no text");
  EXPECT_EQ(error_of(k_selector_page, "#a\n#zz"), "selector '#a\\x0A#zz' matches no element");
}

TEST(HtmlSelector, SyntaxErrors) {
  EXPECT_EQ(error_of(k_selector_page, "p:first-child"), "selector 'p:first-child': pseudo-classes are not supported at offset 1");
  EXPECT_EQ(error_of(k_selector_page, "a + b"), "selector 'a + b': unexpected '+' at offset 2");
  EXPECT_EQ(error_of(k_selector_page, "a ~ b"), "selector 'a ~ b': unexpected '~' at offset 2");
  EXPECT_EQ(error_of(k_selector_page, ""), "selector '': expected a selector at offset 0");
  EXPECT_EQ(error_of(k_selector_page, "div >"), "selector 'div >': expected a selector at offset 5");
  EXPECT_EQ(error_of(k_selector_page, "p,"), "selector 'p,': expected a selector at offset 2");
  EXPECT_EQ(error_of(k_selector_page, "#"), "selector '#': expected a name at offset 1");
  EXPECT_EQ(error_of(k_selector_page, "[x~=y]"), "selector '[x~=y]': unsupported attribute operator '~' at offset 2");
  EXPECT_EQ(error_of(k_selector_page, "[x=y"), "selector '[x=y': expected ']' at offset 4");
  EXPECT_EQ(error_of(k_selector_page, "[x='y]"), "selector '[x='y]': unterminated string at offset 6");
  EXPECT_EQ(error_of(k_selector_page, "p\n:x"), "selector 'p\\x0A:x': pseudo-classes are not supported at offset 2");
  EXPECT_EQ(error_of(k_selector_page, std::string(2000, 'p')), "selector is longer than 1024 characters");
}

// ---------------------------------------------------------------------------------------------------------------
// Scoring

TEST(HtmlScoring, ArticleHeaderKeptChromeDropped) {
  const std::string page =
      "<body><header><a href=/>Site name</a><nav><a href=/a>Menu item</a></nav></header>"
      "<div class=breadcrumbs><a href=/>Home</a> / News</div>"
      "<article><header><h1>The headline</h1><p class=byline>By the press office</p></header>"
      "<div class=article-share><a href=#>Facebook</a> <a href=#>Email</a></div>"
      "<div class=body-text><p>The first paragraph of the statement, which is long enough to be scored, and has "
      "commas.</p><p>The second paragraph of the statement, also long enough to be scored by the extractor.</p>"
      "<ul class=more-stories><li><a href=/1>Another story</a></li><li><a href=/2>Yet another story</a></li></ul>"
      "</div><footer>Filed under: news</footer></article>"
      "<aside><p>A sidebar paragraph that is long, with commas, commas, commas, commas, and more commas.</p></aside>"
      "<div id=comments><p>A comment that is long enough to be scored, with, many, commas, in, it, really.</p></div>"
      "<footer>Copyright</footer></body>";
  auto p = extract(page);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->text,
            "The headline\n\nBy the press office\n\n"
            "The first paragraph of the statement, which is long enough to be scored, and has commas.\n\n"
            "The second paragraph of the statement, also long enough to be scored by the extractor.\n");
}

TEST(HtmlScoring, SiblingParagraphsJoinTheWinner) {
  const std::string page =
      "<body><div><div class=story><p>First paragraph of the story, long enough, with a comma or two, to score.</p>"
      "<p>Second paragraph of the story, long enough, with a comma or two, to score well.</p></div>"
      "<p>A sibling paragraph longer than eighty characters, with no links at all in it, so it is joined.</p>"
      "<p>Short one, no links.</p>"
      "<p>Short, no end</p>"
      "<p><a href=/x>A sibling paragraph that is mostly a link, longer than eighty characters in total</a> ok</p>"
      "</div></body>";
  auto p = extract(page);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->text,
            "First paragraph of the story, long enough, with a comma or two, to score.\n\n"
            "Second paragraph of the story, long enough, with a comma or two, to score well.\n\n"
            "A sibling paragraph longer than eighty characters, with no links at all in it, so it is joined.\n\n"
            "Short one, no links.\n");
}

TEST(HtmlScoring, FormsWrappingThePageAndFalseFriendsAreKept) {
  // ASP.NET pages wrap everything in one form; a search form is dropped.
  const std::string para = "<p>A paragraph of the statement, long enough to be scored, with a comma.</p>";
  auto p = extract("<body><form id=aspnetForm><form role=none><input name=q>Search</form><div class=navy-box>" +
                   repeat(para, 8) + "</div></form></body>");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->text, repeat("A paragraph of the statement, long enough to be scored, with a comma.\n\n", 7) +
                         "A paragraph of the statement, long enough to be scored, with a comma.\n");
  // Words that merely start like a negative hint.
  for (const char* cls : {"shareholder-letter", "commentary", "bg-navy"}) {
    p = extract(std::string("<body><div class=") + cls + "><p>The text of this page, long enough, with commas.</p>"
                "</div><div class=share-tools><p>Share this page with friends, colleagues, family, everyone.</p>"
                "</div></body>");
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->text, "The text of this page, long enough, with commas.\n") << cls;
  }
  // A <title> in the body is not text either.
  p = extract("<body><p>Body text.</p><title>Not text</title></body>");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->text, "Body text.\n");
}

TEST(HtmlScoring, FragmentLinksWeighLessThanLinks) {
  // A heading that links to itself is not a link list.
  auto p = extract("<body><div class=content><main><h1><a href='#t'>Only a heading</a></h1></main></div></body>");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->text, "Only a heading\n");
}

TEST(HtmlScoring, PageWithoutScoredParagraphsFallsBackToTheBody) {
  auto p = extract("<body><nav>Menu</nav><div>Short.</div><div>Also short.</div></body>");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->text, "Short.\n\nAlso short.\n");
  EXPECT_EQ(p->extractor, "avow-main-text/1");
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile pages: no crash, bounded time

TEST(HtmlHostile, DeepNestingIsRefusedQuickly) {
  const std::string refused = "the page nests elements more than 400 levels deep; avow does not parse it";
  for (const std::string_view unit : {"<div>", "<b><p>x", "<span>", "<svg><style><div>", "<td><div>",
                                      "<table><td>", "<b><div></b>", "<a><div>", "<noscript><div>", "<div/>"}) {
    const CpuTime t0 = cpu_now();
    EXPECT_EQ(error_of(repeat(unit, 100000)), refused) << unit;
    EXPECT_LT(seconds_since(t0), 2.0) << unit;
  }
}

TEST(HtmlHostile, DeepButRealNestingIsParsed) {
  auto p = extract(repeat("<div>", 300) + "<p>Deep text, still well within the limit of the parser.</p>");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->text, "Deep text, still well within the limit of the parser.\n");
  // Unclosed paragraphs, list items, cells and options do not nest.
  for (const auto& [outer, unit] : {std::pair{"<div>", "<p>para"}, std::pair{"<ul>", "<li>item"},
                                     std::pair{"<dl>", "<dt>t<dd>d"}, std::pair{"<p>", "<select><option>o"}}) {
    auto q = extract(outer + repeat(unit, 20000));
    EXPECT_TRUE(q || q.error().message.starts_with("no text")) << unit << ": " << q.error().message;
  }
  auto t = extract("<table>" + repeat("<tr><td>cell", 20000) + "</table>");
  EXPECT_TRUE(t) << t.error().message;
}

TEST(HtmlHostile, ManyEndTagsUnderDeepNestingTakeBoundedTime) {
  const CpuTime t0 = cpu_now();
  auto p = extract(repeat("<div>", 390) + repeat("</x>", 1000000) + "<p>A paragraph at the end of the page.</p>");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->text, "A paragraph at the end of the page.\n");
  EXPECT_LT(seconds_since(t0), 10.0);
}

TEST(HtmlHostile, HugeAttributesAndBrokenMarkup) {
  const CpuTime t0 = cpu_now();
  auto p = extract("<p title=\"" + std::string(10'000'000, 'a') + "\">text after a huge attribute</p>");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->text, "text after a huge attribute\n");
  EXPECT_EQ(error_of("<p title=\"" + std::string(1'000'000, 'a')),
            "no text could be extracted from the page; name the element with --selector");
  EXPECT_LT(seconds_since(t0), 10.0);
  for (const char* broken : {"<", "<!--", "</", "<p", "<![CDATA[", "<script>", "<plaintext>x", "<table><td",
                             "<svg><p>x</svg>", "<math><mi><div>x", "</p></br></div>x"})
    (void)extract(broken); // anything but a crash
}

TEST(HtmlHostile, RandomTagSoupNeverCrashes) {
  const std::vector<std::string> tokens = {
      "<div>", "</div>", "<p>", "</p>", "<b>", "</b>", "<a href=x>", "</a>", "<table>", "<tr>", "<td>", "</td>",
      "<li>", "<ul>", "text, ", "<svg>", "</svg>", "<math>", "<select>", "<option>", "<template>", "</template>",
      "<!--", "-->", "<style>", "</style>", "<br>", "<pre>", "<h1>", "<nav>", "<article>", "<script>", "</script>",
      "<noscript>", "<iframe>", "&amp;", "&#0;", "\xC3\xA9", "<p class=share>", "<div id=main>", "<header>"};
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string page;
    const int n = 1 + static_cast<int>(rng() % 400);
    for (int k = 0; k < n; ++k) page += tokens[rng() % tokens.size()];
    (void)extract(page);
    (void)extract(page, ExtractOptions{std::string("div p, #main")});
    (void)decode(page, std::nullopt);
  }
}

TEST(HtmlHostile, NestingEstimateFollowsTheTreeBuilder) {
  using avow::html::check_nesting;
  EXPECT_TRUE(check_nesting(repeat("<p>x", 1000), 4));
  EXPECT_TRUE(check_nesting(repeat("<div></div>", 1000), 4));
  EXPECT_TRUE(check_nesting("<script>" + repeat("<div>", 1000) + "</script>", 4));
  EXPECT_TRUE(check_nesting("<!--" + repeat("<div>", 1000) + "-->", 4));
  EXPECT_TRUE(check_nesting("<textarea>" + repeat("<div>", 1000) + "</TEXTAREA >", 4));
  EXPECT_TRUE(check_nesting(repeat("<img><br><hr><input>", 1000), 4));
  EXPECT_FALSE(check_nesting(repeat("<td><div>", 1000), 4)); // <td> outside a table is ignored: the divs nest
  EXPECT_FALSE(check_nesting(repeat("<div>", 5), 4));
  EXPECT_FALSE(check_nesting("<svg><style>" + repeat("<div>", 5), 4)); // no raw text in svg
  EXPECT_FALSE(check_nesting(repeat("<i id=1><p>", 5), 4));            // formatting elements reopen
  EXPECT_FALSE(check_nesting(repeat("<i><p>", 1000), 8)); // unclosed, they nest
}

} // namespace
