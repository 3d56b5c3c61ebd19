#include <archive/text/canonical.hpp>
#include <archive/text/encoding.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using avow::ErrorCode;
using avow::text::canonicalize;
using avow::text::encoding_name;
using avow::text::find_invalid_utf8;
using avow::text::is_canonical;
using avow::text::to_utf8;

namespace {

std::string canon(std::string_view in) {
  auto r = canonicalize(in);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? r->text : std::string("<error>");
}

std::string error_of(std::string_view in) {
  auto r = canonicalize(in);
  EXPECT_FALSE(r.has_value()) << "canonicalized to '" << (r ? r->text : "") << "'";
  if (r) return "<ok>";
  EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
  return r.error().message;
}

} // namespace

TEST(TextCanonical, PlainTextGetsOneFinalLineFeed) {
  EXPECT_EQ(canon("hello"), "hello\n");
  EXPECT_EQ(canon("hello\n"), "hello\n");
  EXPECT_EQ(canon("hello\n\n\n"), "hello\n");
  EXPECT_EQ(canon("a\nb"), "a\nb\n");
}

TEST(TextCanonical, LineEndingsBecomeLineFeed) {
  EXPECT_EQ(canon("a\r\nb\r\n"), "a\nb\n");
  EXPECT_EQ(canon("a\rb\r"), "a\nb\n");
  EXPECT_EQ(canon("a\r\r\nb"), "a\n\nb\n");   // lone CR then CRLF: two line breaks
  EXPECT_EQ(canon("a\n\rb"), "a\n\nb\n");     // LF then lone CR: two line breaks, not one CRLF
  EXPECT_EQ(canon("a\r\n\r\nb"), "a\n\nb\n");
}

TEST(TextCanonical, OneLeadingBomIsRemoved) {
  EXPECT_EQ(canon("\xEF\xBB\xBFhello"), "hello\n");
  EXPECT_EQ(canon("\xEF\xBB\xBF\r\nhello\r\n"), "hello\n");
  // A U+FEFF inside the text is a character, and kept.
  EXPECT_EQ(canon("a\xEF\xBB\xBF" "b"), "a\xEF\xBB\xBF" "b\n");
  EXPECT_EQ(canon("x\n\xEF\xBB\xBFy"), "x\n\xEF\xBB\xBFy\n");
}

TEST(TextCanonical, TextThatWouldStartWithFeffIsRefused) {
  // Keeping it would make canonical(canonical(x)) != canonical(x); dropping a second one is not in the spec.
  EXPECT_EQ(error_of("\xEF\xBB\xBF\xEF\xBB\xBFhello"),
            "text starts with U+FEFF after its byte order mark and leading empty lines are removed");
  EXPECT_EQ(error_of("\n\xEF\xBB\xBFhello"),
            "text starts with U+FEFF after its byte order mark and leading empty lines are removed");
}

TEST(TextCanonical, NfdBecomesNfc) {
  EXPECT_EQ(canon("e\xCC\x81"), "\xC3\xA9\n");                       // e + U+0301 -> U+00E9
  EXPECT_EQ(canon("Cafe\xCC\x81 cre\xCC\x80me"), "Caf\xC3\xA9 cr\xC3\xA8me\n");
  EXPECT_EQ(canon("\xE1\x84\x80\xE1\x85\xA1"), "\xEA\xB0\x80\n");     // Hangul jamo -> U+AC00
  EXPECT_EQ(canon("\xE2\x84\xAB"), "\xC3\x85\n");                     // U+212B ANGSTROM SIGN -> U+00C5
  EXPECT_EQ(canon("\xEF\xAC\x81"), "\xEF\xAC\x81\n");                 // U+FB01 ligature: compatibility only, kept
  // Arabic: alef + hamza above (U+0627 U+0654) composes to U+0623.
  EXPECT_EQ(canon("\xD8\xA7\xD9\x94"), "\xD8\xA3\n");
}

TEST(TextCanonical, ArabicWithZwnjAndMarksIsUnchanged) {
  // "می‌خواهم" (Persian, with ZWNJ U+200C), Arabic with harakat, RLM U+200F, ZWJ U+200D, typographic quotes.
  const std::string persian = "\xD9\x85\xDB\x8C\xE2\x80\x8C\xD8\xAE\xD9\x88\xD8\xA7\xD9\x87\xD9\x85";
  // Arabic with harakat, shadda after fatha (the canonical order: ccc 30 before ccc 33).
  const std::string arabic = "\xD8\xA8\xD9\x90\xD8\xB3\xD9\x92\xD9\x85\xD9\x90 \xD8\xA7\xD9\x84\xD9\x84\xD9\x8E\xD9\x91\xD9\x87\xD9\x90";
  const std::string text = persian + "\n" + arabic + " \xE2\x80\x8F\xE2\x80\x8D \xE2\x80\x9Cquoted\xE2\x80\x9D  two  spaces\n";
  auto r = canonicalize(text);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->text, text);
  EXPECT_TRUE(r->warnings.empty());
  EXPECT_TRUE(is_canonical(text));
}

TEST(TextCanonical, NfcReordersArabicMarks) {
  // Typed shadda (U+0651, ccc 33) then fatha (U+064E, ccc 30): NFC puts them in canonical order. Visually identical.
  EXPECT_EQ(canon("\xD9\x84\xD9\x91\xD9\x8E"), "\xD9\x84\xD9\x8E\xD9\x91\n");
}

TEST(TextCanonical, TrailingSpacesAndTabsAreRemovedPerLine) {
  EXPECT_EQ(canon("a  \t\nb\t\n  c  "), "a\nb\n  c\n");
  EXPECT_EQ(canon("a \r\nb\t\r\n"), "a\nb\n");
  // Only ASCII space and tab: NBSP and other spaces are kept.
  EXPECT_EQ(canon("a\xC2\xA0\nb\xE3\x80\x80"), "a\xC2\xA0\nb\xE3\x80\x80\n");
  // Leading indentation and internal spacing are kept.
  EXPECT_EQ(canon("\t  a  b\t\tc"), "\t  a  b\t\tc\n");
}

TEST(TextCanonical, LeadingAndTrailingEmptyLinesAreRemoved) {
  EXPECT_EQ(canon("\n\n  \n\t\na\n\n\nb\n \n\t\n\n"), "a\n\n\nb\n");
  EXPECT_EQ(canon("\r\n\r\na\r\n  \r\nb\r\n\r\n"), "a\n\nb\n");
  EXPECT_EQ(canon("a\n  \nb"), "a\n\nb\n");   // whitespace-only inner line becomes empty, count kept
}

TEST(TextCanonical, EmptyTextIsAnError) {
  EXPECT_EQ(error_of(""), "text is empty");
  EXPECT_EQ(error_of("\n"), "text is empty");
  EXPECT_EQ(error_of(" \t \r\n\r \n"), "text is empty");
  EXPECT_EQ(error_of("\xEF\xBB\xBF"), "text is empty");
  EXPECT_EQ(error_of("\xEF\xBB\xBF  \n"), "text is empty");
}

TEST(TextCanonical, InvalidUtf8NamesTheOriginalOffset) {
  EXPECT_EQ(error_of("ab\xC0\x80"), "invalid UTF-8 at byte offset 2");         // overlong NUL
  EXPECT_EQ(error_of("a\xE0\x80\xAF"), "invalid UTF-8 at byte offset 1");      // overlong '/'
  EXPECT_EQ(error_of("abc\xED\xA0\x80x"), "invalid UTF-8 at byte offset 3");   // surrogate U+D800
  EXPECT_EQ(error_of("abcd\xE2\x82"), "invalid UTF-8 at byte offset 4");       // truncated at end
  EXPECT_EQ(error_of("\xF5\x80\x80\x80"), "invalid UTF-8 at byte offset 0");   // F5 lead byte
  EXPECT_EQ(error_of("a\xF4\x90\x80\x80"), "invalid UTF-8 at byte offset 1");  // U+110000
  EXPECT_EQ(error_of("x\x80"), "invalid UTF-8 at byte offset 1");              // stray continuation
  EXPECT_EQ(error_of("\xFF"), "invalid UTF-8 at byte offset 0");
  // The offset counts the BOM and CRs of the original input.
  EXPECT_EQ(error_of("\xEF\xBB\xBF\r\n\r\nabcdefghij\xC3"), "invalid UTF-8 at byte offset 17");
  EXPECT_EQ(error_of("0123456789abcdef0123456789abcdef\xC3("), "invalid UTF-8 at byte offset 32");
}

TEST(TextCanonical, ValidUtf8EdgesAreAccepted) {
  EXPECT_EQ(canon("\xF4\x8F\xBF\xBF"), "\xF4\x8F\xBF\xBF\n");  // U+10FFFF
  EXPECT_EQ(canon("\xED\x9F\xBF"), "\xED\x9F\xBF\n");          // U+D7FF
  EXPECT_EQ(canon("\xEE\x80\x80"), "\xEE\x80\x80\n");          // U+E000
  EXPECT_EQ(canon("\xF0\x9F\x98\x82"), "\xF0\x9F\x98\x82\n");  // U+1F602
  EXPECT_FALSE(find_invalid_utf8("\xC2\x80\xDF\xBF\xE0\xA0\x80\xF0\x90\x80\x80").has_value());
}

TEST(TextCanonical, NulIsAnError) {
  using namespace std::string_literals;
  EXPECT_EQ(error_of("abc\0def"s), "NUL byte at byte offset 3");
  EXPECT_EQ(error_of("\0"s), "NUL byte at byte offset 0");
  EXPECT_EQ(error_of("\xEF\xBB\xBF" "a\r\n\0"s), "NUL byte at byte offset 6");
}

TEST(TextCanonical, BidiControlsAreKeptWithOneWarning) {
  const std::string text = "total: 100\nuser \xE2\x80\xAE" "gnp.exe\xE2\x80\xAC\n\xE2\x81\xA6x\xE2\x81\xA9\n";
  auto r = canonicalize(text);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->text, text);
  ASSERT_EQ(r->warnings.size(), 1U);
  EXPECT_EQ(r->warnings[0].kind, "bidi_control");
  EXPECT_EQ(r->warnings[0].message,
            "text contains 4 bidirectional control characters (U+202E at line 2, U+202C at line 2, U+2066 at line 3, "
            "U+2069 at line 3)");

  auto one = canonicalize("\n\nabc\xE2\x80\xAA");
  ASSERT_TRUE(one.has_value());
  ASSERT_EQ(one->warnings.size(), 1U);
  EXPECT_EQ(one->warnings[0].message, "text contains 1 bidirectional control character (U+202A at line 1)");

  std::string many;
  for (int i = 0; i < 7; ++i) many += "\xE2\x80\xAB" "a\n";
  auto seven = canonicalize(many);
  ASSERT_TRUE(seven.has_value());
  EXPECT_EQ(seven->warnings.at(0).message,
            "text contains 7 bidirectional control characters (U+202B at line 1, U+202B at line 2, U+202B at line 3, "
            "U+202B at line 4, U+202B at line 5, ...)");
}

TEST(TextCanonical, MarksThatAreNotOverridesGiveNoWarning) {
  // LRM U+200E, RLM U+200F, ALM U+061C, ZWJ, ZWNJ, and neighbours of the ranges (U+2029, U+202F, U+2065, U+206A).
  auto r = canonicalize("\xE2\x80\x8E\xE2\x80\x8F\xD8\x9C\xE2\x80\x8D\xE2\x80\x8C\xE2\x80\xA9\xE2\x80\xAF\xE2\x81\xA5\xE2\x81\xAA");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->warnings.empty());
}

TEST(TextCanonical, IsCanonical) {
  EXPECT_TRUE(is_canonical("a\n"));
  EXPECT_TRUE(is_canonical("a\n\nb\n"));
  EXPECT_FALSE(is_canonical(""));
  EXPECT_FALSE(is_canonical("\n"));
  EXPECT_FALSE(is_canonical("a"));
  EXPECT_FALSE(is_canonical("a\n\n"));
  EXPECT_FALSE(is_canonical("\na\n"));
  EXPECT_FALSE(is_canonical("a \n"));
  EXPECT_FALSE(is_canonical("a\r\n"));
  EXPECT_FALSE(is_canonical("\xEF\xBB\xBF" "a\n"));
  EXPECT_FALSE(is_canonical("e\xCC\x81\n"));
  EXPECT_FALSE(is_canonical("a\xC0\x80\n"));
  EXPECT_FALSE(is_canonical(std::string("a\0\n", 3)));
}

TEST(TextCanonical, IdempotentOverGeneratedInputs) {
  // Pieces chosen to meet every rule: line ends, BOM, spaces, composing marks, Hangul, Arabic, bidi controls.
  const std::vector<std::string> pieces = {
      "a", "e", " ", "\t", "\n", "\r", "\r\n", "\xEF\xBB\xBF", "\xCC\x81", "\xCC\xA3", "\xCC\x88", "\xE1\x84\x80",
      "\xE1\x85\xA1", "\xE1\x86\xA8", "\xD8\xA7", "\xD9\x94", "\xD9\x8E", "\xE2\x80\x8C", "\xE2\x80\xAE", "\xC2\xA0",
      "\xE2\x80\x80", "\xCD\x84", "\xE0\xA4\xA8\xE0\xA4\xBC", "\xF0\x9D\x85\x97\xF0\x9D\x85\xA5", "\xC3\xA9", "Z", "\x0B"};
  std::mt19937 rng(20190329);
  std::size_t ok = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string input;
    const int n = static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) input += pieces[rng() % pieces.size()];
    auto first = canonicalize(input);
    if (!first) {
      EXPECT_FALSE(is_canonical(input));
      continue;
    }
    ++ok;
    auto second = canonicalize(first->text);
    ASSERT_TRUE(second.has_value()) << "input hex: " << testing::PrintToString(input);
    ASSERT_EQ(second->text, first->text) << "input: " << testing::PrintToString(input);
    ASSERT_TRUE(is_canonical(first->text));
    ASSERT_EQ(is_canonical(input), first->text == input);
  }
  EXPECT_GT(ok, 10000U);
}

TEST(TextCanonical, IdempotentOverCorpus) {
  const auto path = std::filesystem::path(AVOW_SHARED_DIR) / "corpus" / "statements.jsonl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path << "; skipping corpus idempotence";
  std::ifstream in(path);
  std::string line;
  int count = 0;
  while (count < 300 && std::getline(in, line)) {
    const auto item = nlohmann::json::parse(line);
    const std::string text = item.at("text").get<std::string>();
    auto first = canonicalize(text);
    ASSERT_TRUE(first.has_value()) << item.at("id") << ": " << first.error().message;
    EXPECT_TRUE(is_canonical(first->text)) << item.at("id");
    auto second = canonicalize(first->text);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->text, first->text) << item.at("id");
    ++count;
  }
  EXPECT_EQ(count, 300);
}

// ---- encodings ----

TEST(TextEncoding, Windows1256ArabicBytes) {
  // 0xC7 ALEF, 0xE1 LAM, 0xD3 SEEN, 0xE1 LAM, 0xC7 ALEF, 0xE3 MEEM: "السلام"
  auto r = to_utf8("\xC7\xE1\xD3\xE1\xC7\xE3", "windows-1256");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, "\xD8\xA7\xD9\x84\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85");
  auto alef = to_utf8("\xC7", "windows-1256");
  ASSERT_TRUE(alef.has_value());
  EXPECT_EQ(*alef, "\xD8\xA7");  // U+0627 ARABIC LETTER ALEF
  auto mixed = to_utf8("abc \xC7\r\n", "cp1256");
  ASSERT_TRUE(mixed.has_value());
  EXPECT_EQ(*mixed, "abc \xD8\xA7\r\n");  // nothing else changes: canonicalize does the rest
}

TEST(TextEncoding, OtherEncodings) {
  auto latin = to_utf8("caf\xE9", "ISO-8859-1");
  ASSERT_TRUE(latin.has_value());
  EXPECT_EQ(*latin, "caf\xC3\xA9");
  auto utf16 = to_utf8(std::string("\x27\x06\x41\x00", 4), "UTF-16LE");
  ASSERT_TRUE(utf16.has_value());
  EXPECT_EQ(*utf16, "\xD8\xA7" "A");
  auto big = to_utf8(std::string(10000, '\xC7'), "windows-1256");  // longer than one conversion chunk
  ASSERT_TRUE(big.has_value());
  ASSERT_EQ(big->size(), 20000U);
  EXPECT_EQ(big->substr(19998), "\xD8\xA7");
  auto empty = to_utf8("", "windows-1256");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, "");
}

TEST(TextEncoding, UnmappableByteIsAnErrorWithOffset) {
  // 0xA1 is unassigned in ISO-8859-6.
  auto r = to_utf8("\xC7\xC7\xA1\xC7", "ISO-8859-6");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(r.error().message, "cannot decode ISO-8859-6: unmappable byte sequence A1 at byte offset 2");
  auto late = to_utf8(std::string(9000, 'a') + "\xA1", "ISO-8859-6");
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().message, "cannot decode ISO-8859-6: unmappable byte sequence A1 at byte offset 9000");
}

TEST(TextEncoding, IllegalSequencesAreErrorsWithOffset) {
  auto utf8 = to_utf8("ab\xED\xA0\x80", "UTF-8");
  ASSERT_FALSE(utf8.has_value());
  EXPECT_EQ(utf8.error().message, "cannot decode UTF-8: illegal byte sequence ED at byte offset 2");
  auto odd = to_utf8("abc", "UTF-16LE");
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().message, "cannot decode UTF-16LE: truncated byte sequence 63 at byte offset 2");
  auto lone = to_utf8(std::string("A\x00\x00\xD8\x41\x00", 6), "UTF-16LE");  // unpaired high surrogate
  ASSERT_FALSE(lone.has_value());
  EXPECT_EQ(lone.error().message, "cannot decode UTF-16LE: illegal byte sequence 00 D8 at byte offset 2");
}

TEST(TextEncoding, NulIsAnErrorWithOriginalOffset) {
  auto r = to_utf8(std::string("ab\0c", 4), "windows-1256");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "NUL character at byte offset 2");
  auto w = to_utf8(std::string("A\x00\x00\x00", 4), "UTF-16LE");
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().message, "NUL character at byte offset 2");
}

TEST(TextEncoding, UnknownEncodingIsAnError) {
  for (const std::string_view name : {"no-such-encoding", "", "windows\n1256", "windows 1256"}) {
    auto r = to_utf8("abc", name);
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
  }
  EXPECT_EQ(to_utf8("abc", "no-such-encoding").error().message, "unknown encoding 'no-such-encoding'");
  EXPECT_EQ(to_utf8("abc", "").error().message, "unknown encoding ''");
  EXPECT_EQ(to_utf8("abc", std::string("utf-8\0x", 7)).error().message, "unknown encoding 'utf-8\\x00x'");
}

TEST(TextEncoding, CanonicalNames) {
  EXPECT_EQ(encoding_name("windows-1256").value(), "windows-1256");
  EXPECT_EQ(encoding_name("cp1256").value(), "windows-1256");
  EXPECT_EQ(encoding_name("ISO-8859-6").value(), "ISO-8859-6");
  EXPECT_EQ(encoding_name("utf-16le").value(), "UTF-16LE");
  EXPECT_EQ(encoding_name("latin1").value(), "ISO-8859-1");
  auto bad = encoding_name("bogus");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "unknown encoding 'bogus'");
}

TEST(TextCanonical, HostileBytesNeverCrashAndStayIdempotent) {
  std::mt19937 rng(6962);
  for (int round = 0; round < 20000; ++round) {
    std::string input(rng() % 24, '\0');
    for (auto& c : input) {
      const unsigned pick = rng() % 4;  // bias toward bytes that start or continue sequences
      c = static_cast<char>(pick == 0 ? 0x80 + rng() % 0x40 : pick == 1 ? 0xC0 + rng() % 0x40 : rng() % 0x100);
    }
    auto first = canonicalize(input);
    if (!first) {
      ASSERT_EQ(first.error().code, ErrorCode::invalid_input);
      continue;
    }
    ASSERT_FALSE(find_invalid_utf8(first->text).has_value());
    ASSERT_TRUE(is_canonical(first->text)) << testing::PrintToString(input);
  }
}
