#include <archive/json/jcs.hpp>
#include <archive/util/bytes.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace avow::json {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path jcs_dir() { return fs::path(AVOW_VECTORS_DIR) / "jcs"; }

std::string canon(const Value& v) {
  auto out = canonicalize(v);
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().message);
  return out ? *out : std::string("<error>");
}

std::string canon_text(std::string_view text) {
  auto v = parse_strict(text);
  EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().message);
  return v ? canon(*v) : std::string("<error>");
}

double from_bits(std::uint64_t bits) { return std::bit_cast<double>(bits); }

// ---- cyberphone/json-canonicalization testdata ----

TEST(JsonJcs, UpstreamVectorsMatchByteForByte) {
  ASSERT_TRUE(fs::is_directory(jcs_dir())) << "no JCS vectors at " << jcs_dir();
  int cases = 0;
  for (const char* name : {"arrays", "french", "structures", "unicode", "values", "weird"}) {
    SCOPED_TRACE(name);
    const std::string input = read_all(jcs_dir() / "input" / (std::string(name) + ".json"));
    const std::string expected = read_all(jcs_dir() / "output" / (std::string(name) + ".json"));
    ASSERT_FALSE(input.empty());
    ASSERT_FALSE(expected.empty());

    // outhex holds the same bytes as output.
    std::string hex;
    for (char c : read_all(jcs_dir() / "outhex" / (std::string(name) + ".txt")))
      if (!std::isspace(static_cast<unsigned char>(c))) hex.push_back(c);
    auto decoded = from_hex(hex);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(to_string(*decoded), expected);

    EXPECT_EQ(canon_text(input), expected);
    // The canonical output is a fixed point, and parse_canonical accepts it.
    EXPECT_EQ(canon_text(expected), expected);
    auto again = parse_canonical(expected);
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_EQ(*again, *parse_strict(input));
    // The input (with whitespace) is not canonical.
    EXPECT_FALSE(parse_canonical(input).has_value());
    ++cases;
  }
  EXPECT_EQ(cases, 6);
}

TEST(JsonJcs, WeirdVectorSortsBySurrogatesNotCodePoints) {
  ASSERT_TRUE(fs::is_directory(jcs_dir())) << "no JCS vectors at " << jcs_dir();
  const std::string out = canon_text(read_all(jcs_dir() / "input" / "weird.json"));
  // U+1F602 (D83D DE02) sorts before U+FB33 in UTF-16 order, after it in code point order.
  EXPECT_LT(out.find("\xF0\x9F\x98\x82"), out.find("\xEF\xAC\xB3"));
}

// ---- numbers: ES6 Number.prototype.toString ----

struct NumberCase {
  std::uint64_t bits;
  const char* expected;
};

TEST(JsonJcs, NumgenAndRfc8785AppendixBNumbers) {
  // standards.md numgen samples, then RFC 8785 Appendix B.
  const NumberCase cases[] = {
      {0x4340000000000001, "9007199254740994"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x8000000000000000, "0"},
      {0x0000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.expected);
    EXPECT_EQ(canon(Value(from_bits(c.bits))), c.expected);
  }
}

TEST(JsonJcs, NumberLayoutBoundaries) {
  EXPECT_EQ(canon(Value(1e21)), "1e+21");
  EXPECT_EQ(canon(Value(1e20)), "100000000000000000000");
  EXPECT_EQ(canon(Value(1e-6)), "0.000001");
  EXPECT_EQ(canon(Value(1e-7)), "1e-7");
  EXPECT_EQ(canon(Value(1.5e-7)), "1.5e-7");
  EXPECT_EQ(canon(Value(-0.0)), "0");
  EXPECT_EQ(canon(Value(1.0)), "1");
  EXPECT_EQ(canon(Value(-1.25)), "-1.25");
  EXPECT_EQ(canon(Value(123456.789)), "123456.789");
  EXPECT_EQ(canon_text("[1E30,4.50,2e-3,1e-27,-0,-0.0,0.0,10.0,1e0]"), "[1e+30,4.5,0.002,1e-27,0,0,0,10,1]");
}

TEST(JsonJcs, IntegersExactUpTo2Pow53ThenAsDoubles) {
  EXPECT_EQ(canon(Value(std::uint64_t{9007199254740992})), "9007199254740992");
  EXPECT_EQ(canon(Value(std::int64_t{-9007199254740992})), "-9007199254740992");
  EXPECT_EQ(canon(Value(std::uint64_t{9007199254740993})), "9007199254740992");
  EXPECT_EQ(canon(Value(std::numeric_limits<std::uint64_t>::max())), "18446744073709552000");
  EXPECT_EQ(canon(Value(std::numeric_limits<std::int64_t>::min())), "-9223372036854776000");
  EXPECT_EQ(canon(Value(0)), "0");
  EXPECT_EQ(canon(Value(-7)), "-7");
  EXPECT_EQ(canon_text("[9007199254740993,123456789012345678901234567890]"), "[9007199254740992,1.2345678901234568e+29]");
}

TEST(JsonJcs, NonFiniteNumbersAreRejected) {
  for (double d : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()}) {
    auto out = canonicalize(Value::array({1, d}));
    ASSERT_FALSE(out.has_value());
    EXPECT_EQ(out.error().code, ErrorCode::invalid_input);
    EXPECT_NE(out.error().message.find("not finite"), std::string::npos) << out.error().message;
  }
  auto big = parse_strict("[1e400]");
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().message, "invalid JSON at byte 5: number overflow parsing '1e400'");
}

// ---- strings ----

TEST(JsonJcs, MinimalEscaping) {
  EXPECT_EQ(canon(Value(std::string("\"\\/\b\f\n\r\t\x01\x1f\x7f", 11))), R"("\"\\/\b\f\n\r\t\u0001\u001f)" "\x7f\"");
  EXPECT_EQ(canon(Value(std::string("a\0b", 3))), R"("a\u0000b")");
  EXPECT_EQ(canon_text(R"("\u00e9\u20ac\ud83d\ude02\u0041\/")"), "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x82" "A/\"");
  // No Unicode normalization: A + combining ring stays two code points.
  EXPECT_EQ(canon_text(R"("A\u030a")"), "\"A\xCC\x8A\"");
}

TEST(JsonJcs, InvalidUtf8InMemoryIsRejected) {
  for (std::string bad : {std::string("\xff"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"), std::string("\xe2\x82"),
                          std::string("\xf4\x90\x80\x80"), std::string("\x80")}) {
    EXPECT_FALSE(canonicalize(Value(bad)).has_value());
    Value obj = Value::object();
    obj[bad] = 1;
    auto out = canonicalize(obj);
    ASSERT_FALSE(out.has_value());
    EXPECT_NE(out.error().message.find("member name is not valid UTF-8"), std::string::npos);
    std::string sink;
    EXPECT_FALSE(append_string(sink, bad).has_value());
    EXPECT_FALSE(is_valid_utf8(bad));
  }
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));
  EXPECT_TRUE(is_valid_utf8(std::string("\0", 1)));
}

TEST(JsonJcs, InvalidUtf8InTextIsRejected) {
  for (std::string bad : {std::string("\"\xff\""), std::string("\"\xc0\xaf\""), std::string("\"\xed\xa0\x80\""),
                          std::string("\"\xe2\x82\""), std::string("{\"\xff\":1}"), std::string(R"("\ud800")"),
                          std::string(R"("\udc00")"), std::string(R"("\ud800\u0041")")}) {
    auto v = parse_strict(bad);
    ASSERT_FALSE(v.has_value()) << bad;
    EXPECT_EQ(v.error().code, ErrorCode::invalid_input);
    EXPECT_TRUE(v.error().message.starts_with("invalid JSON at byte ")) << v.error().message;
    EXPECT_EQ(v.error().message.find('\n'), std::string::npos);
  }
}

// ---- member order ----

TEST(JsonJcs, MembersSortByUtf16CodeUnits) {
  Value v = Value::object();
  v["\xEE\x80\x80"] = 1;       // U+E000
  v["\xF0\x9F\x98\x82"] = 2;   // U+1F602 = D83D DE02
  v["a"] = 3;
  v["\xEF\xAC\xB3"] = 4;       // U+FB33
  v["\xF4\x8F\xBF\xBF"] = 5;   // U+10FFFF = DBFF DFFF
  v["\xED\x9F\xBF"] = 6;       // U+D7FF
  EXPECT_EQ(canon(v), "{\"a\":3,\"\xED\x9F\xBF\":6,\"\xF0\x9F\x98\x82\":2,\"\xF4\x8F\xBF\xBF\":5,\"\xEE\x80\x80\":1,"
                      "\"\xEF\xAC\xB3\":4}");
  // Prefixes sort first; arrays keep their order; nested objects are sorted too.
  EXPECT_EQ(canon_text(R"({"b":[3,1,2],"a":{"z":1,"y":{"d":0,"c":0}},"ab":1,"":0})"),
            R"({"":0,"a":{"y":{"c":0,"d":0},"z":1},"ab":1,"b":[3,1,2]})");
}

// ---- strict parsing ----

TEST(JsonJcs, DuplicateMemberNamesAreRejected) {
  auto top = parse_strict(R"({"a":1,"a":2})");
  ASSERT_FALSE(top.has_value());
  EXPECT_EQ(top.error().message, "invalid JSON at byte 7: duplicate member name \"a\"");

  auto nested = parse_strict(R"({"x":{"b":1,"b":2}})");
  ASSERT_FALSE(nested.has_value());
  EXPECT_EQ(nested.error().message, "invalid JSON at byte 12: duplicate member name \"b\"");

  auto in_array = parse_strict(R"([{"k":1},{"k":1,"z":{},"k":2}])");
  ASSERT_FALSE(in_array.has_value());
  EXPECT_NE(in_array.error().message.find("duplicate member name \"k\""), std::string::npos);

  // The same name spelled with an escape is still a duplicate.
  auto escaped = parse_strict(R"({"a":1,"\u0061":2})");
  ASSERT_FALSE(escaped.has_value());
  EXPECT_EQ(escaped.error().message, "invalid JSON at byte 7: duplicate member name \"a\"");
  auto quoted = parse_strict(R"({"q\\\"":1,"q\\\"":2})");
  ASSERT_FALSE(quoted.has_value());
  EXPECT_EQ(quoted.error().message, "invalid JSON at byte 11: duplicate member name \"q\\\"\"");

  // Same names in sibling objects are fine.
  EXPECT_TRUE(parse_strict(R"([{"a":1},{"a":2}])").has_value());
}

TEST(JsonJcs, GrammarViolationsAreRejected) {
  for (const char* bad : {"", " ", "{} x", "{}{}", "[1,]", "{\"a\":1,}", "01", "+1", ".5", "1.", "NaN", "Infinity",
                          "[1 2]", "{'a':1}", "{\"a\" 1}", "/* c */ 1", "[1] // c", "\"a\tb\"", "\"\\x41\"", "tru",
                          "[", "{\"a\":", "\xEF\xBB\xBF{}", "{a:1}", "\"\\u12\""}) {
    auto v = parse_strict(bad);
    EXPECT_FALSE(v.has_value()) << "accepted: " << bad;
    if (!v) {
      EXPECT_EQ(v.error().code, ErrorCode::invalid_input);
      EXPECT_TRUE(v.error().message.starts_with("invalid JSON at byte ")) << v.error().message;
    }
  }
  auto trailing = parse_strict("{} x");
  ASSERT_FALSE(trailing.has_value());
  EXPECT_TRUE(trailing.error().message.starts_with("invalid JSON at byte 3: ")) << trailing.error().message;
  // Whitespace around a value is fine for parse_strict.
  EXPECT_TRUE(parse_strict(" \t\r\n{ \"a\" : [ 1 , 2 ] }\n").has_value());
}

TEST(JsonJcs, NestingDepthIsLimitedTo64) {
  const auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  ASSERT_TRUE(parse_strict(nested(64)).has_value());
  auto deep = parse_strict(nested(65));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().message, "invalid JSON at byte 64: nesting deeper than 64");
  EXPECT_FALSE(parse_strict(nested(100000)).has_value());

  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"a\":";
  objects += "1" + std::string(65, '}');
  EXPECT_FALSE(parse_strict(objects).has_value());

  // canonicalize enforces the same limit on values built in memory.
  Value v = Value::array();
  for (int i = 0; i < 64; ++i) v = Value::array({std::move(v)});
  EXPECT_FALSE(canonicalize(v).has_value());
  EXPECT_TRUE(canonicalize(v[0]).has_value());
}

TEST(JsonJcs, ParseCanonicalRejectsEveryNonCanonicalSpelling) {
  auto ok = parse_canonical(R"({"a":1,"b":[true,null,"x",-2.5,{}],"c":"\u001f"})");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ((*ok)["b"][3], -2.5);

  for (const char* bad : {R"({"a": 1})", "{\"a\":1}\n", " {}", R"({"b":1,"a":2})", R"("\u0041")", R"("\/")",
                          R"("\u001F")", R"("\u00e9")", "1.0", "1E2", "1e2", "-0", "0.50", "[1, 2]", R"("\u000a")"}) {
    auto v = parse_canonical(bad);
    ASSERT_FALSE(v.has_value()) << "accepted: " << bad;
    EXPECT_EQ(v.error().code, ErrorCode::invalid_input);
    EXPECT_TRUE(v.error().message.starts_with("JSON is not canonical (RFC 8785)")) << v.error().message;
  }
  // Parse errors stay parse errors.
  auto dup = parse_canonical(R"({"a":1,"a":1})");
  ASSERT_FALSE(dup.has_value());
  EXPECT_TRUE(dup.error().message.starts_with("invalid JSON at byte 7")) << dup.error().message;
}

TEST(JsonJcs, BinaryValuesHaveNoJsonForm) {
  EXPECT_FALSE(canonicalize(Value::binary({1, 2, 3})).has_value());
}

TEST(JsonJcs, AppendStringWritesCanonicalStrings) {
  std::string out = "x";
  ASSERT_TRUE(append_string(out, "a\"b\n\xE2\x82\xAC").has_value());
  EXPECT_EQ(out, "x\"a\\\"b\\n\xE2\x82\xAC\"");
}

} // namespace
} // namespace avow::json
